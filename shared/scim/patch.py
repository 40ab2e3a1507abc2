"""RFC 7644 §3.5.2 PATCH on plain resource dicts, in both of Entra's dialects.

Entra's default dialect capitalises ops, sends `active` as "True"/"False", removes group members by
listing them in `value`, and uses Add and Replace interchangeably; its aadOptscim062020 dialect batches
attributes into one path-less replace with dotted or URN-qualified keys. Both arrive at any tenant, so
every form is accepted. Typed paths (`emails[type eq "work"].value`) create the entry when it is missing,
and several ops on one type land in one entry. Group members never live in the document: member ops
come back as MemberChanges for the storage layer.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from scim2_models.exceptions import SCIMException
from scim2_models.path import AttrPath, CompareOperator, Comparison, FilterNode, LogicalExpr, LogicalOperator, Path, ValuePath

from shared.scim.errors import ScimError
from shared.scim.filter import entry_matches
from shared.scim.normalize import canonical_uri, check_members, check_required, clean_value, split_urn_attribute
from shared.scim.schema import AttrDef, ResourceSchema

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
_IGNORED_KEYS = {"id", "schemas", "meta"}
_IDENTITY_SUBS = {"type", "primary"}


@dataclass
class MemberChanges:
    replace_all: bool = False
    add: list[dict[str, Any]] = field(default_factory=list)
    remove: set[str] = field(default_factory=set)

    def added(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            self.remove.discard(entry["value"])
            if all(e["value"] != entry["value"] for e in self.add):
                self.add.append(entry)

    def removed(self, values: list[str]) -> None:
        for value in values:
            self.add = [e for e in self.add if e["value"] != value]
            self.remove.add(value)

    def cleared(self) -> None:
        self.replace_all, self.add, self.remove = True, [], set()


@dataclass
class PatchResult:
    resource: dict[str, Any]
    changed: list[str]
    members: MemberChanges | None


@dataclass(frozen=True)
class _Target:
    attr: AttrDef
    container: str  # "" for core/common attributes, else the extension URN holding it
    sub: AttrDef | None = None
    filter: FilterNode | None = None
    whole_extension: str | None = None


def _key(op: dict[str, Any], name: str) -> Any:
    return next((v for k, v in op.items() if isinstance(k, str) and k.lower() == name), None)


def _operations(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise ScimError(400, "invalidSyntax", "A PATCH body must be a PatchOp JSON object.")
    operations = _key(body, "operations")
    if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
        raise ScimError(400, "invalidSyntax", "A PatchOp needs an 'Operations' array of operation objects.")
    return operations


def _parse_path(path: str, schema: ResourceSchema) -> _Target | None:
    """None: a custom extension we do not store (the op is ignored, as Entra expects)."""
    uri = canonical_uri(path, schema)
    if uri is not None and uri != schema.core:
        attr = AttrDef(uri, "complex", schema=uri)
        return _Target(attr, uri, whole_extension=uri)
    qualified = split_urn_attribute(path, schema)
    if qualified is not None:
        uri, rest = qualified
        path = f"{uri}:{rest}" if uri != schema.core else rest
    elif path.lower().startswith("urn:"):
        return None
    try:
        node = Path(path).ast
    except (SCIMException, ValueError) as exc:
        raise ScimError(400, "invalidPath", f"Invalid path {path!r}: {getattr(exc, 'detail', None) or exc}.") from exc
    if isinstance(node, ValuePath):
        attr_path, value_filter, sub_name = node.attr_path, node.val_filter, node.sub_attr
    elif isinstance(node, AttrPath):
        attr_path, value_filter, sub_name = node, None, node.sub_attr
    else:
        raise ScimError(400, "invalidPath", f"Invalid path {path!r}.")
    attr = schema.attribute(attr_path.attr, attr_path.uri)
    if attr is None:
        if attr_path.uri and not schema.is_core(attr_path.uri) and schema.extension_key(attr_path.uri) is None:
            return None
        raise ScimError(400, "invalidPath", f"Unknown attribute {attr_path.attr!r} in path {path!r}.")
    sub = None
    if sub_name:
        sub = attr.sub(sub_name)
        if sub is None:
            raise ScimError(400, "invalidPath", f"{attr.name} has no sub-attribute {sub_name!r}.")
    if value_filter is not None and not (attr.multi_valued and attr.type == "complex"):
        raise ScimError(400, "invalidPath", f"{attr.name} is not a multi-valued complex attribute; it cannot be filtered.")
    container = "" if not attr.schema or attr.schema == schema.core else attr.schema
    return _Target(attr, container, sub, value_filter)


def _check_mutable(target: _Target, path: str) -> None:
    if target.attr.mutability in ("readOnly", "immutable") or (target.sub and target.sub.mutability == "readOnly"):
        raise ScimError(400, "mutability", f"{path} is read-only.")


class _Patcher:
    def __init__(self, resource: dict[str, Any], schema: ResourceSchema):
        self.doc = copy.deepcopy(resource)
        self.schema = schema
        self.members: MemberChanges | None = None

    # -- containers

    def _holder(self, target: _Target, create: bool) -> dict[str, Any] | None:
        if not target.container:
            return self.doc
        holder = self.doc.get(target.container)
        if holder is None and create:
            holder = self.doc[target.container] = {}
        return holder

    def _tidy(self, target: _Target) -> None:
        if target.container and not self.doc.get(target.container):
            self.doc.pop(target.container, None)

    # -- operations

    def apply(self, verb: str, path: Any, value: Any) -> None:
        if path in (None, ""):
            if verb == "remove":
                raise ScimError(400, "noTarget", "A remove operation needs a path.")
            if not isinstance(value, dict):
                raise ScimError(400, "invalidValue", "An operation without a path needs an object value.")
            for key, inner in value.items():
                if key.lower() in _IGNORED_KEYS:
                    continue
                self.apply(verb, key, inner)
            return
        if not isinstance(path, str):
            raise ScimError(400, "invalidPath", "path must be a string.")
        target = _parse_path(path, self.schema)
        if target is None:
            return
        if target.whole_extension:
            if verb == "remove":
                self.doc.pop(target.whole_extension, None)
            elif value is not None:
                if not isinstance(value, dict):
                    raise ScimError(400, "invalidValue", f"{path} needs an object value.")
                for key, inner in value.items():
                    if key.lower() not in _IGNORED_KEYS:
                        self.apply(verb, f"{target.whole_extension}:{key}", inner)
            return
        if target.attr.name == "members" and self.schema.resource_type == "Group":
            self._members(verb, target, value, path)
            return
        _check_mutable(target, path)
        if verb == "remove":
            self._remove(target, value, path)
        else:
            self._set(target, value, path, add=verb == "add")
        self._tidy(target)

    def _set(self, target: _Target, value: Any, path: str, add: bool) -> None:
        attr = target.attr
        if attr.multi_valued:
            self._set_multi(target, value, path, add)
            return
        holder = self._holder(target, create=True)
        assert holder is not None
        if target.sub is not None:
            current = holder.get(attr.name) if isinstance(holder.get(attr.name), dict) else {}
            cleaned = clean_value(target.sub, value, path)
            updated = {k: v for k, v in current.items() if k != target.sub.name}
            if cleaned is not None:
                updated[target.sub.name] = cleaned
            self._put(holder, attr.name, updated or None)
            return
        cleaned = clean_value(attr, value, path)
        if add and attr.type == "complex" and attr.name != "manager" and isinstance(cleaned, dict):
            cleaned = {**(holder.get(attr.name) or {}), **cleaned}
        self._put(holder, attr.name, cleaned)

    def _put(self, holder: dict[str, Any], name: str, value: Any) -> None:
        if value is None:
            holder.pop(name, None)
        else:
            holder[name] = value

    def _entries(self, target: _Target) -> list[dict[str, Any]]:
        holder = self._holder(target, create=False) or {}
        return [dict(e) for e in holder.get(target.attr.name) or [] if isinstance(e, dict)]

    def _store(self, target: _Target, entries: list[dict[str, Any]]) -> None:
        holder = self._holder(target, create=bool(entries))
        if holder is not None:
            self._put(holder, target.attr.name, entries or None)

    def _set_multi(self, target: _Target, value: Any, path: str, add: bool) -> None:
        attr = target.attr
        entries = self._entries(target)
        if target.filter is None and target.sub is None:
            cleaned = clean_value(attr, value, path) or []
            if add:
                entries += [e for e in cleaned if e not in entries]
            else:
                entries = cleaned
            self._store(target, _one_primary(entries, cleaned))
            return
        if target.sub is not None:
            new_value = clean_value(target.sub, value, path)
            piece = {target.sub.name: new_value} if new_value is not None else {}
        else:
            new_value = clean_value(AttrDef(attr.name, "complex", sub_attributes=attr.sub_attributes), value, path)
            piece = new_value or {}
        selected = [i for i, e in enumerate(entries) if target.filter is None or entry_matches(target.filter, e, attr)]
        if not selected:
            if not piece:
                return
            entries.append({**_identity(target.filter), **piece})
            selected = [len(entries) - 1]
        else:
            for i in selected:
                entry = entries[i]
                if target.sub is not None and new_value is None:
                    entry.pop(target.sub.name, None)
                else:
                    entry.update(piece)
        entries = [e for e in entries if set(e) - _IDENTITY_SUBS]
        self._store(target, _one_primary(entries, [entries[i] for i in selected if i < len(entries)]))

    def _remove(self, target: _Target, value: Any, path: str) -> None:
        attr = target.attr
        if attr.required:
            raise ScimError(400, "invalidValue", f"{attr.name} is required and cannot be removed.")
        if not attr.multi_valued:
            holder = self._holder(target, create=False)
            if holder is None:
                return
            if target.sub is None:
                holder.pop(attr.name, None)
            elif isinstance(holder.get(attr.name), dict):
                holder[attr.name].pop(target.sub.name, None)
                if not holder[attr.name]:
                    holder.pop(attr.name)
            return
        entries = self._entries(target)
        if target.filter is None and target.sub is None:
            if value is None:
                self._store(target, [])
                return
            doomed = clean_value(attr, value, path) or []
            values = {e.get("value") for e in doomed}
            self._store(target, [e for e in entries if e not in doomed and e.get("value") not in values])
            return
        kept = []
        for entry in entries:
            if target.filter is not None and not entry_matches(target.filter, entry, attr):
                kept.append(entry)
            elif target.sub is not None:
                entry.pop(target.sub.name, None)
                if set(entry) - _IDENTITY_SUBS:
                    kept.append(entry)
        self._store(target, kept)

    def _members(self, verb: str, target: _Target, value: Any, path: str) -> None:
        changes = self.members = self.members or MemberChanges()
        if target.sub is not None:
            raise ScimError(400, "mutability", "Member sub-attributes cannot be changed; add or remove members instead.")
        if target.filter is not None:
            ids = _filtered_member_ids(target.filter)
            if verb == "remove":
                changes.removed(ids)
            else:
                changes.added([{"value": i} for i in ids])
            return
        entries = clean_value(target.attr, value, path) or []
        check_members(entries)
        if verb == "add":
            changes.added(entries)
        elif verb == "replace":
            changes.cleared()
            changes.added(entries)
        elif value is None:
            changes.cleared()
        else:
            changes.removed([e["value"] for e in entries])


def _filtered_member_ids(node: FilterNode) -> list[str]:
    """`members[value eq "a"]`, also `value eq "a" or value eq "b"`: the member ids named."""
    terms = node.terms if isinstance(node, LogicalExpr) and node.op == LogicalOperator.or_ else (node,)
    ids = []
    for term in terms:
        if not (isinstance(term, Comparison) and term.op == CompareOperator.eq and term.attr_path.attr.lower() == "value" and isinstance(term.value, str)):
            raise ScimError(400, "invalidFilter", 'Members are selected by value only, e.g. members[value eq "<id>"].')
        ids.append(term.value)
    return ids


def _identity(node: FilterNode | None) -> dict[str, Any]:
    """The attributes a new entry gets from its selecting filter: `type eq "work"` -> {"type": "work"}."""
    if node is None:
        return {}
    terms = node.terms if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_ else (node,)
    identity: dict[str, Any] = {}
    for term in terms:
        if isinstance(term, Comparison) and term.op == CompareOperator.eq and not term.attr_path.sub_attr:
            identity[term.attr_path.attr] = term.value
    if not identity:
        raise ScimError(400, "noTarget", f"No entry matches {node} and it does not say how to create one.")
    return identity


def _one_primary(entries: list[dict[str, Any]], touched: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """RFC 7643 §2.4: at most one entry is primary; the one just set wins."""
    winner = next((e for e in reversed(touched) if e.get("primary") is True), None)
    if winner is None:
        return entries
    for entry in entries:
        if entry is not winner and entry.get("primary") is True and entry != winner:
            entry.pop("primary")
    return entries


def changed_attributes(before: dict[str, Any], after: dict[str, Any], schema: ResourceSchema) -> list[str]:
    """Names of the attributes that differ (extension attributes as `<URN>:<name>`), for audit events."""
    names: list[str] = []
    for key in sorted(set(before) | set(after)):
        if key == "schemas" or before.get(key) == after.get(key):
            continue
        if key in schema.extensions:
            old, new = before.get(key) or {}, after.get(key) or {}
            names += [f"{key}:{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        else:
            names.append(key)
    return names


def apply_patch(resource: dict[str, Any], body: Any, schema: ResourceSchema) -> PatchResult:
    patcher = _Patcher(resource, schema)
    for operation in _operations(body):
        verb = _key(operation, "op")
        if not isinstance(verb, str) or verb.lower() not in ("add", "replace", "remove"):
            raise ScimError(400, "invalidSyntax", f"Unknown PATCH op {verb!r}; use add, replace or remove.")
        patcher.apply(verb.lower(), _key(operation, "path"), _key(operation, "value"))
    doc = patcher.doc
    doc["schemas"] = [schema.core] + [uri for uri in schema.extensions if doc.get(uri)]
    check_required(doc, schema)
    changed = changed_attributes(resource, doc, schema)
    members = patcher.members
    if members is not None and (members.replace_all or members.add or members.remove):
        changed.append("members")
    return PatchResult(resource=doc, changed=changed, members=members)
