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
import json
from dataclasses import dataclass, field, replace
from typing import Any

from scim2_models.exceptions import SCIMException
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Path,
    Present,
    ValuePath,
)

from shared.scim import limits
from shared.scim.errors import ScimError
from shared.scim.filter import entry_matches
from shared.scim.normalize import (
    canonical_uri,
    check_storable,
    clean_members,
    clean_value,
    read_only_extension,
    split_urn_attribute,
)
from shared.scim.schema import AttrDef, ResourceSchema

_IGNORED_KEYS = {"id", "schemas", "meta"}
# RFC 7643 attributes this service never stores: writing them is accepted and ignored, as in a POST.
_UNSTORED = {"password"}
# Sub-attributes that only say which entry this is; an entry with nothing else carries no data.
_IDENTITY_SUBS = {"type", "primary"}


@dataclass
class MemberChanges:
    """Member changes in order; every step is constant time per member, so a PATCH stays linear."""

    replace_all: bool = False  # existing members not re-added by `add` are to be removed
    adding: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {"value": id, ...}, first wins
    remove: set[str] = field(default_factory=set)

    @property
    def add(self) -> list[dict[str, Any]]:
        return list(self.adding.values())

    def added(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            self.remove.discard(entry["value"])
            self.adding.setdefault(entry["value"], entry)

    def removed(self, values: list[str]) -> None:
        for value in values:
            self.adding.pop(value, None)
            self.remove.add(value)

    def cleared(self) -> None:
        self.replace_all, self.adding, self.remove = True, {}, set()

    def __bool__(self) -> bool:
        return self.replace_all or bool(self.adding) or bool(self.remove)


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


@dataclass(frozen=True)
class _WholeExtension:
    uri: str


@dataclass(frozen=True)
class _WholeResource:
    pass


def _key(op: dict[str, Any], name: str) -> Any:
    return next((v for k, v in op.items() if isinstance(k, str) and k.lower() == name), None)


def _operations(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise ScimError(400, "invalidSyntax", "A PATCH body must be a PatchOp JSON object.")
    operations = _key(body, "operations")
    if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
        raise ScimError(400, "invalidSyntax", "A PatchOp needs an 'Operations' array of operation objects.")
    limits.check_count(len(operations), limits.MAX_OPERATIONS, "PATCH operations")
    limits.check_body(body)
    return operations


def _parse_path(path: str, schema: ResourceSchema) -> _Target | _WholeExtension | _WholeResource | None:
    """None: an attribute we do not store, such as a custom extension's (the op is ignored, as Entra expects)."""
    uri = canonical_uri(path, schema)
    if uri is not None:
        return _WholeResource() if uri == schema.core else _WholeExtension(uri)
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
        if attr_path.attr.lower() in _UNSTORED:
            return None
        if attr_path.uri and not schema.is_core(attr_path.uri) and schema.extension_key(attr_path.uri) is None:
            return None
        raise ScimError(400, "invalidPath", f"Unknown attribute {attr_path.attr!r} in path {path!r}.")
    sub = None
    if sub_name:
        sub = attr.sub(sub_name)
        if sub is None:
            raise ScimError(400, "invalidPath", f"{attr.name} has no sub-attribute {sub_name!r}.")
    if value_filter is not None:
        if not (attr.multi_valued and attr.type == "complex"):
            raise ScimError(
                400, "invalidPath", f"{attr.name} is not a multi-valued complex attribute; it cannot be filtered."
            )
        _check_filter_names(value_filter, attr)
    container = "" if not attr.schema or attr.schema == schema.core else attr.schema
    return _Target(attr, container, sub, value_filter)


def _check_filter_names(node: FilterNode, attr: AttrDef) -> None:
    """A value filter may only name sub-attributes: an entry created from `emails[foo eq "x"]` would store junk."""
    if isinstance(node, LogicalExpr):
        for term in node.terms:
            _check_filter_names(term, attr)
    elif isinstance(node, Not):
        _check_filter_names(node.expr, attr)
    elif (
        isinstance(node, (Comparison, Present))
        and not node.attr_path.uri
        and not node.attr_path.sub_attr
        and attr.sub(node.attr_path.attr)
    ):
        return
    else:
        raise ScimError(
            400, "invalidPath", f"The filter on {attr.name} may only compare its sub-attributes, not {node}."
        )


def _check_mutable(target: _Target, path: str) -> None:
    if target.attr.mutability in ("readOnly", "immutable") or (target.sub and target.sub.mutability == "readOnly"):
        raise ScimError(400, "mutability", f"{path} is read-only.")


def _identity(node: FilterNode, attr: AttrDef) -> dict[str, Any]:
    """What a new entry takes from the filter that selected nothing: `type eq "work"` -> {"type": "work"}."""
    terms = node.terms if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_ else (node,)
    identity: dict[str, Any] = {}
    for term in terms:
        if isinstance(term, Comparison) and term.op == CompareOperator.eq:
            sub = attr.sub(term.attr_path.attr)
            assert sub is not None  # _check_filter_names
            value = clean_value(sub, term.value, f"{attr.name}.{sub.name}")
            if value is not None:
                identity[sub.name] = value
    return identity


def _new_entry(target: _Target, path: str) -> dict[str, Any]:
    if target.filter is None:
        return {}
    identity = _identity(target.filter, target.attr)
    if not identity:
        raise ScimError(400, "noTarget", f"No entry matches {path!r} and its filter does not say how to create one.")
    return identity


def _one_primary(entries: list[dict[str, Any]], touched: list[dict[str, Any]]) -> None:
    """RFC 7643 §2.4: at most one entry is primary; the one this operation made primary wins."""
    winner = next((e for e in reversed(touched) if e.get("primary") is True), None)
    if winner is None:
        return
    for entry in entries:
        if entry is not winner and entry.get("primary") is True:
            del entry["primary"]


def _carries_data(entry: dict[str, Any]) -> bool:
    return bool(set(entry) - _IDENTITY_SUBS)


def _entry_key(entry: Any) -> str:
    """A hashable stand-in for an entry: equal entries, equal keys (so matching entries is linear)."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str)


def _without(entries: list[dict[str, Any]], doomed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    chosen = {id(e) for e in doomed}
    return [e for e in entries if id(e) not in chosen]


class _Patcher:
    def __init__(self, resource: dict[str, Any], schema: ResourceSchema):
        self.doc = copy.deepcopy(resource)
        self.schema = schema
        self.members: MemberChanges | None = None
        self.member_values = 0  # member values named so far, against limits.MAX_MEMBERS
        # Multi-valued attributes this patch edited entry by entry: their data-less entries are dropped at
        # the end, not per op, so `.primary` then `.value` on a new typed entry still lands in one entry.
        self.edited: dict[tuple[str, str], _Target] = {}

    # -- containers

    def _holder(self, container: str, create: bool) -> dict[str, Any] | None:
        if not container:
            return self.doc
        holder = self.doc.get(container)
        if not isinstance(holder, dict):
            holder = None
        if holder is None and create:
            holder = self.doc[container] = {}
        return holder

    def _put(self, container: str, name: str, value: Any) -> None:
        holder = self._holder(container, create=value is not None)
        if holder is None:
            return
        if value is None:
            holder.pop(name, None)
            if container and not holder:
                del self.doc[container]
        else:
            holder[name] = value

    def _get(self, target: _Target) -> Any:
        return (self._holder(target.container, create=False) or {}).get(target.attr.name)

    def _entries(self, target: _Target) -> list[dict[str, Any]]:
        current = self._get(target)
        return [e for e in current if isinstance(e, dict)] if isinstance(current, list) else []

    def _store(self, target: _Target, entries: list[dict[str, Any]]) -> None:
        limits.check_count(len(entries), limits.MAX_ENTRIES, f"{target.attr.name} entries")
        self._put(target.container, target.attr.name, entries or None)

    # -- operations

    def apply(self, verb: str, path: Any, value: Any) -> None:
        if path in (None, ""):
            self._apply_object(verb, value, "the resource")
            return
        if not isinstance(path, str):
            raise ScimError(400, "invalidPath", "path must be a string.")
        target = _parse_path(path, self.schema)
        if target is None:
            return
        if isinstance(target, _WholeResource):
            self._apply_object(verb, value, path)
        elif isinstance(target, _WholeExtension):
            self._extension(verb, target.uri, value, path)
        elif target.attr.name == "members" and self.schema.resource_type == "Group":
            self._members(verb, target, value, path)
        else:
            _check_mutable(target, path)
            if verb == "remove":
                self._remove(target, value, path)
            else:
                self._set(target, value, path, add=verb == "add")

    def _apply_object(self, verb: str, value: Any, where: str) -> None:
        """Path-less add/replace: every key is itself a path (`name.givenName`, `urn:...:User:department`)."""
        if verb == "remove":
            raise ScimError(400, "noTarget", "A remove operation needs a path naming what to remove.")
        if not isinstance(value, dict):
            raise ScimError(400, "invalidValue", f"An add or replace of {where} needs an object value.")
        for key, inner in value.items():
            if key.lower() not in _IGNORED_KEYS:
                self.apply(verb, key, inner)

    def _extension(self, verb: str, uri: str, value: Any, path: str) -> None:
        if verb == "remove" or value is None or value == "":
            if read_only_extension(uri):
                raise ScimError(400, "mutability", f"{uri} is read-only.")
            self.doc.pop(uri, None)
            return
        if not isinstance(value, dict):
            raise ScimError(400, "invalidValue", f"{path} needs an object value.")
        for key, inner in value.items():
            if key.lower() not in _IGNORED_KEYS:
                self.apply(verb, f"{uri}:{key}", inner)

    def _set(self, target: _Target, value: Any, path: str, add: bool) -> None:
        attr = target.attr
        if attr.multi_valued:
            self._set_multi(target, value, path, add)
            return
        if target.sub is not None:
            # Entra sends `name.givenName` with Add and Replace alike: only that sub-attribute changes.
            current = self._get(target)
            updated = {k: v for k, v in (current if isinstance(current, dict) else {}).items() if k != target.sub.name}
            cleaned = clean_value(target.sub, value, path)
            if cleaned is not None:
                updated[target.sub.name] = cleaned
            self._put(target.container, attr.name, updated or None)
            return
        cleaned = clean_value(attr, value, path)
        current = self._get(target)
        if (
            add
            and attr.type == "complex"
            and attr.name != "manager"
            and isinstance(cleaned, dict)
            and isinstance(current, dict)
        ):
            cleaned = {**current, **cleaned}  # RFC 7644 §3.5.2.1: add merges sub-attributes
        self._put(target.container, attr.name, cleaned)

    def _set_multi(self, target: _Target, value: Any, path: str, add: bool) -> None:
        attr = target.attr
        entries = self._entries(target)
        if target.filter is None and target.sub is None:
            cleaned = clean_value(attr, value, path) or []
            if not add:
                entries, touched = cleaned, cleaned
            else:
                touched = []
                known = {_entry_key(e): e for e in reversed(entries)}  # the first of equal entries
                for entry in cleaned:
                    existing = known.setdefault(_entry_key(entry), entry)
                    if existing is entry:
                        entries.append(entry)
                    touched.append(existing)
            _one_primary(entries, touched)
            self._store(target, entries)
            return
        selected = [e for e in entries if target.filter is None or entry_matches(target.filter, e, attr)]
        if target.sub is not None:
            new_value = clean_value(target.sub, value, path)
            if not selected and new_value is not None:
                selected = [_new_entry(target, path)]
                entries.append(selected[0])
            for entry in selected:
                if new_value is None:
                    entry.pop(target.sub.name, None)
                else:
                    entry[target.sub.name] = new_value
        else:
            new_entry = clean_value(replace(attr, multi_valued=False), value, path)
            if new_entry is None:
                entries = _without(entries, selected)
                selected = []
            elif not selected:
                selected = [{**_new_entry(target, path), **new_entry}]
                entries.append(selected[0])
            else:
                identity = _identity(target.filter, attr) if target.filter is not None else {}
                for entry in selected:
                    # add merges into the entry; replace swaps it, keeping what the filter selected it by
                    merged = {**entry, **new_entry} if add else {**identity, **new_entry}
                    entry.clear()
                    entry.update(merged)
        _one_primary(entries, selected)
        self.edited[(target.container, attr.name)] = target
        self._store(target, entries)

    def _remove(self, target: _Target, value: Any, path: str) -> None:
        attr = target.attr
        if attr.required:
            raise ScimError(400, "invalidValue", f"{attr.name} is required and cannot be removed.")
        if not attr.multi_valued:
            if target.sub is None:
                self._put(target.container, attr.name, None)
            else:
                current = self._get(target)
                if isinstance(current, dict):
                    rest = {k: v for k, v in current.items() if k != target.sub.name}
                    self._put(target.container, attr.name, rest or None)
            return
        entries = self._entries(target)
        if target.filter is None and target.sub is None:
            if value is None:
                self._store(target, [])
                return
            # Entra's dialect: the value lists the entries to remove (roles, like members)
            doomed = clean_value(attr, value, path) or []
            values = {e.get("value") for e in doomed} - {None}
            doomed_keys = {_entry_key(e) for e in doomed}
            self._store(
                target, [e for e in entries if e.get("value") not in values and _entry_key(e) not in doomed_keys]
            )
            return
        kept = []
        for entry in entries:
            if target.filter is not None and not entry_matches(target.filter, entry, attr):
                kept.append(entry)
            elif target.sub is not None:
                entry.pop(target.sub.name, None)
                kept.append(entry)
        self.edited[(target.container, attr.name)] = target
        self._store(target, kept)

    def _members(self, verb: str, target: _Target, value: Any, path: str) -> None:
        if self.members is None:
            self.members = MemberChanges()
        changes = self.members
        if target.sub is not None:
            raise ScimError(
                400, "mutability", "Member sub-attributes cannot be changed; add or remove members instead."
            )
        if target.filter is not None:
            ids = _filtered_member_ids(target.filter)
            self._count_members(len(ids))
            if verb == "remove":
                changes.removed(ids)
            else:
                changes.added([{"value": i} for i in ids])
            return
        entries = clean_members(target.attr, value, path)
        self._count_members(len(entries))
        if verb == "add":
            changes.added(entries)
        elif verb == "replace":
            changes.cleared()
            changes.added(entries)
        elif value is None:
            changes.cleared()  # RFC 7644: remove without a value empties the list
        else:
            changes.removed([e["value"] for e in entries])  # Entra's default dialect: remove only those

    def _count_members(self, count: int) -> None:
        self.member_values += count
        limits.check_count(self.member_values, limits.MAX_MEMBERS, "member values")

    def finish(self) -> dict[str, Any]:
        for target in self.edited.values():
            self._store(target, [e for e in self._entries(target) if _carries_data(e)])
        self.doc["schemas"] = [self.schema.core] + [uri for uri in self.schema.extensions if self.doc.get(uri)]
        check_storable(self.doc, self.schema)
        return self.doc


def _filtered_member_ids(node: FilterNode) -> list[str]:
    """`members[value eq "a"]`, also `value eq "a" or value eq "b"`: the member ids named."""
    terms = node.terms if isinstance(node, LogicalExpr) and node.op == LogicalOperator.or_ else (node,)
    ids = []
    for term in terms:
        if not (
            isinstance(term, Comparison)
            and term.op == CompareOperator.eq
            and term.attr_path.attr.lower() == "value"
            and isinstance(term.value, str)
            and term.value
        ):
            raise ScimError(400, "invalidFilter", 'Members are selected by value only, e.g. members[value eq "<id>"].')
        ids.append(term.value)
    return ids


def changed_attributes(before: dict[str, Any], after: dict[str, Any], schema: ResourceSchema) -> list[str]:
    """Canonical names of the attributes that differ; extension attributes as `<URN>:<name>`."""
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
    """The patched copy of resource (never mutated), what changed, and the group member changes."""
    patcher = _Patcher(resource, schema)
    for operation in _operations(body):
        verb = _key(operation, "op")
        if not isinstance(verb, str) or verb.lower() not in ("add", "replace", "remove"):
            raise ScimError(400, "invalidSyntax", f"Unknown PATCH op {verb!r}; use add, replace or remove.")
        patcher.apply(verb.lower(), _key(operation, "path"), _key(operation, "value"))
    doc = patcher.finish()
    changed = changed_attributes(resource, doc, schema)
    if patcher.members:
        changed.append("members")
    return PatchResult(resource=doc, changed=changed, members=patcher.members)
