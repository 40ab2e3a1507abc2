"""Turning what clients send (Entra above all) into the resource we store.

Tolerant where Entra is sloppy (misspelt or missing schema URNs, client `meta`, `null`s, empty lists,
enterprise attributes at top level, `"True"`/`"False"` strings, a bare manager id), strict where data
would otherwise be lost or corrupted (wrong JSON types, missing required attributes, members without an
id). Values are kept exactly as sent: nothing is reformatted, so Entra's next comparison finds no difference.
"""

from __future__ import annotations

import json
from typing import Any

from shared.scim import limits
from shared.scim.errors import ScimError
from shared.scim.schema import ENTERPRISE_USER, AttrDef, ResourceSchema, schema_defs

ADSCIM_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
# Entra's 2019 documentation misspells the enterprise URN; its bodies still mean the enterprise extension.
_ALIASES = {"urn:ietf:params:scim:schemas:extension:enterprise:2.0user": ENTERPRISE_USER}
_IGNORED_KEYS = {"schemas", "id", "meta"}


def canonical_uri(uri: str, schema: ResourceSchema) -> str | None:
    """The schema URN a client meant (core, an extension, or a known misspelling), else None."""
    lowered = uri.lower()
    if lowered == schema.core.lower():
        return schema.core
    alias = _ALIASES.get(lowered)
    if alias and alias in schema.extensions:
        return alias
    return schema.extension_key(uri)


def split_urn_attribute(key: str, schema: ResourceSchema) -> tuple[str, str] | None:
    """`urn:...:User:employeeNumber` (or the legacy `urn:...:User.department`) -> (schema URN, rest)."""
    lowered = key.lower()
    candidates = [schema.core, *schema.extensions, *_ALIASES]
    for uri in sorted(candidates, key=len, reverse=True):
        if lowered.startswith(uri.lower()) and len(key) > len(uri) and key[len(uri)] in ":.":
            target = canonical_uri(uri, schema)
            if target:
                return target, key[len(uri) + 1 :]
    return None


def read_only_extension(uri: str) -> bool:
    """An extension the service owns entirely (the employee status): clients can neither set nor remove it."""
    return all(a.read_only for a in schema_defs()[uri].attributes)


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _invalid(path: str, expected: str, value: Any) -> ScimError:
    return ScimError(400, "invalidValue", f"{path} must be {expected}, got {type(value).__name__} {str(value)[:80]!r}.")


def _clean_single(attr: AttrDef, value: Any, path: str) -> Any:
    if value is None or value == "":
        return None  # both mean "no value": Microsoft's validator clears attributes with "" and with null
    if attr.type == "complex":
        if attr.name == "manager":
            # Entra sends the manager as a bare id; the 2019 documentation as a one-element list.
            if isinstance(value, str):
                return _clean_single(attr, {"value": value}, path)
            if isinstance(value, list):
                return _clean_single(attr, value[0], path) if value else None
        if not isinstance(value, dict):
            raise _invalid(path, "an object", value)
        out: dict[str, Any] = {}
        for key, sub_value in value.items():
            sub = attr.sub(key)
            if sub is None or sub.read_only:
                continue  # unknown or server-owned sub-attributes are ignored, not rejected
            cleaned = _clean_single(sub, sub_value, f"{path}.{sub.name}")
            if cleaned is not None:
                out[sub.name] = cleaned
        return out or None
    if attr.type == "boolean":
        flag = as_bool(value)
        if flag is None:
            raise _invalid(path, "a boolean", value)
        return flag
    if attr.type in ("integer", "decimal"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _invalid(path, "a number", value)
        return value
    if isinstance(value, (bool, dict, list)):
        raise _invalid(path, "a string", value)
    if isinstance(value, (int, float)):
        value = str(value)  # Entra sends strings; a client sending a bare number meant its text
    limits.check_value_length(value, path, identifier=_is_identifier(attr))
    return value


def _is_identifier(attr: AttrDef) -> bool:
    """userName, a group's displayName, externalId: looked up by filters and stored in index rows."""
    return attr.uniqueness == "server" or attr.name == "externalId"


def _entry_cap(attr: AttrDef) -> tuple[int, str]:
    if attr.name == "members":
        return limits.MAX_MEMBERS, "members"
    return limits.MAX_ENTRIES, f"{attr.name} entries"


def clean_value(attr: AttrDef, value: Any, path: str) -> Any:
    """One attribute's value, canonicalised and type-checked; None means "no value" (clear it)."""
    if value is None:
        return None
    if attr.multi_valued:
        items = value if isinstance(value, list) else [value]
        limits.check_count(len(items), *_entry_cap(attr))
        cleaned = [c for c in (_clean_single(attr, item, path) for item in items) if c is not None]
        return cleaned or None
    return _clean_single(attr, value, path)


def clean_members(attr: AttrDef, value: Any, path: str) -> list[dict[str, Any]]:
    """Group member entries; each must name a user by a non-empty string `value` (checked before cleaning,
    which would otherwise silently drop an entry whose id is empty)."""
    if value is None or value == "":
        return []
    entries = value if isinstance(value, list) else [value]
    limits.check_count(len(entries), *_entry_cap(attr))
    for entry in entries:
        if entry is None:
            continue
        member_id = (
            next((v for k, v in entry.items() if k.lower() == "value"), None) if isinstance(entry, dict) else None
        )
        if not isinstance(member_id, str) or not member_id:
            raise ScimError(
                400,
                "invalidValue",
                f"Every entry of {path} needs a string 'value' holding a user id, got {str(entry)[:80]!r}.",
            )
    return clean_value(attr, value, path) or []


def clean_resource(body: Any, schema: ResourceSchema) -> dict[str, Any]:
    """A POST/PUT body as the resource to store (without id and meta)."""
    if not isinstance(body, dict):
        raise ScimError(400, "invalidSyntax", f"A {schema.resource_type} must be a JSON object.")
    limits.check_body(body)
    core: dict[str, Any] = {}
    extensions: dict[str, dict[str, Any]] = {uri: {} for uri in schema.extensions}

    def place(attr: AttrDef, value: Any, name: str) -> None:
        if attr.read_only:
            return
        if schema.resource_type == "Group" and attr.name == "members":
            cleaned: Any = clean_members(attr, value, name) or None
        else:
            cleaned = clean_value(attr, value, name)
        if cleaned is None:
            return
        if attr.schema and attr.schema != schema.core:
            extensions[attr.schema][attr.name] = cleaned
        else:
            core[attr.name] = cleaned

    for key, value in body.items():
        if key.lower() in _IGNORED_KEYS:
            continue
        uri = canonical_uri(key, schema)
        if uri is not None:
            if value is None or read_only_extension(uri):
                continue
            if not isinstance(value, dict):
                raise _invalid(key, "an object", value)
            for name, inner in value.items():
                attr = schema.attribute(name, uri)
                if attr is not None:
                    place(attr, inner, f"{uri}:{name}")
            continue
        qualified = split_urn_attribute(key, schema)
        if qualified is not None:
            attr = schema.attribute(qualified[1], qualified[0])
            if attr is not None:
                place(attr, value, key)
            continue
        if key.lower().startswith("urn:"):
            continue  # a custom extension we do not store
        attr = schema.attribute(key)
        if attr is not None:
            place(attr, value, attr.name)

    resource: dict[str, Any] = {"schemas": [schema.core] + [uri for uri, attrs in extensions.items() if attrs]}
    resource.update(core)
    resource.update({uri: attrs for uri, attrs in extensions.items() if attrs})
    check_storable(resource, schema)
    return resource


def check_storable(resource: dict[str, Any], schema: ResourceSchema) -> None:
    """A resource about to be stored: its required name is there and its document fits a row."""
    name = "userName" if schema.resource_type == "User" else "displayName"
    value = resource.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ScimError(400, "invalidValue", f"{name} is required and must be a non-empty string.")
    stored = {k: v for k, v in resource.items() if k != "members"}  # members live in membership rows
    limits.check_document_size(json.dumps(stored, separators=(",", ":"), ensure_ascii=False), schema.resource_type)
