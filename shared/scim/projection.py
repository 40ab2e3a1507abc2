"""RFC 7644 §3.4.2.5 / §3.9: `attributes` and `excludedAttributes` on plain resource dicts."""

from __future__ import annotations

from typing import Any

from shared.scim.schema import AttrDef, ResourceSchema

_ALWAYS = {"id", "schemas"}


def parse_attribute_list(raw: str | list[str] | None) -> list[str] | None:
    if raw is None:
        return None
    parts = raw if isinstance(raw, list) else raw.split(",")
    names = [str(p).strip() for p in parts if str(p).strip()]
    return names or None


def _split(name: str, schema: ResourceSchema) -> tuple[str | None, str | None, str | None]:
    """(schema URN or None, attribute, sub-attribute) for `name`, `name.sub`, `urn:...:name.sub` or a bare URN."""
    lowered = name.lower()
    for uri in (schema.core, *schema.extensions):
        if lowered == uri.lower():
            return uri, None, None
        if lowered.startswith(uri.lower() + ":"):
            rest = name[len(uri) + 1 :]
            attr, _, sub = rest.partition(".")
            return uri, attr, sub or None
    attr, _, sub = name.partition(".")
    return None, attr, sub or None


def _key(schema: ResourceSchema, uri: str | None, attr: str) -> tuple[str, AttrDef] | None:
    """(container key, definition): container key is '' for core/common attributes, else the extension URN."""
    definition = schema.attribute(attr, uri)
    if definition is None:
        return None
    container = "" if not definition.schema or definition.schema == schema.core else definition.schema
    return container, definition


def _selection(names: list[str], schema: ResourceSchema) -> dict[tuple[str, str], set[str] | None]:
    """{(container, attribute): sub-attributes (None = whole attribute)}; whole extensions as (urn, '*')."""
    out: dict[tuple[str, str], set[str] | None] = {}
    for name in names:
        uri, attr, sub = _split(name, schema)
        if attr is None:
            if uri and uri != schema.core:
                out[(uri, "*")] = None
            continue
        found = _key(schema, uri, attr)
        if found is None:
            continue
        container, definition = found
        key = (container, definition.name)
        if sub is None:
            out[key] = None
        elif key not in out or out[key] is not None:  # a whole-attribute entry already covers its subs
            sub_def = definition.sub(sub)
            out.setdefault(key, set()).add(sub_def.name if sub_def else sub)  # type: ignore[union-attr]
    return out


def _returned(definition: AttrDef | None) -> str:
    return definition.returned if definition else "default"


def _keep_default(resource: dict[str, Any], schema: ResourceSchema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if key in schema.extensions:
            inner = {k: v for k, v in value.items() if _returned(schema.attribute(k, key)) not in ("never", "request")}
            if inner:
                out[key] = inner
            continue
        if _returned(schema.attribute(key)) in ("never", "request"):
            continue
        out[key] = value
    return out


def _pick(value: Any, subs: set[str] | None) -> Any:
    if subs is None:
        return value
    if isinstance(value, list):
        picked = [{k: v for k, v in e.items() if k in subs} for e in value if isinstance(e, dict)]
        return [p for p in picked if p] or None
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k in subs} or None
    return None


def _include(resource: dict[str, Any], schema: ResourceSchema, names: list[str]) -> dict[str, Any]:
    wanted = _selection(names, schema)
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if key in _ALWAYS:
            out[key] = value
        elif key in schema.extensions and isinstance(value, dict):
            if (key, "*") in wanted:
                out[key] = value
                continue
            inner = {}
            for k, v in value.items():
                if (key, k) in wanted:
                    picked = _pick(v, wanted[(key, k)])
                    if picked is not None:
                        inner[k] = picked
            if inner:
                out[key] = inner
        elif ("", key) in wanted:
            picked = _pick(value, wanted[("", key)])
            if picked is not None:
                out[key] = picked
    return out


def _exclude(resource: dict[str, Any], schema: ResourceSchema, names: list[str]) -> dict[str, Any]:
    unwanted = _selection(names, schema)
    out: dict[str, Any] = {}
    for key, value in _keep_default(resource, schema).items():
        if key in _ALWAYS:
            out[key] = value
        elif key in schema.extensions and isinstance(value, dict):
            if (key, "*") in unwanted:
                continue
            inner = {}
            for k, v in value.items():
                if (key, k) in unwanted and unwanted[(key, k)] is None:
                    continue
                kept = _drop(v, unwanted.get((key, k)) or set())
                if kept is not None:
                    inner[k] = kept
            if inner:
                out[key] = inner
        else:
            if ("", key) in unwanted and unwanted[("", key)] is None:
                continue
            kept = _drop(value, unwanted.get(("", key)) or set())
            if kept is not None:
                out[key] = kept
    return out


def _drop(value: Any, subs: set[str]) -> Any:
    if not subs:
        return value
    if isinstance(value, list):
        kept = [{k: v for k, v in e.items() if k not in subs} for e in value if isinstance(e, dict)]
        return [k for k in kept if k] or None
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in subs} or None
    return value


def project(resource: dict[str, Any], schema: ResourceSchema, attributes: list[str] | None, excluded: list[str] | None) -> dict[str, Any]:
    if attributes:
        out = _include(resource, schema, attributes)
    elif excluded:
        out = _exclude(resource, schema, excluded)
    else:
        out = _keep_default(resource, schema)
    if "schemas" in out:
        out["schemas"] = [s for s in out["schemas"] if s == schema.core or s in out]
    return out
