"""RFC 7644 §3.4.2.5 / §3.9: `attributes` and `excludedAttributes` on plain resource dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.scim.errors import ScimError
from shared.scim.schema import AttrDef, ResourceSchema

WHOLE = None  # selection of a whole attribute, as opposed to a set of its sub-attributes


def parse_attribute_list(raw: str | list[str] | None) -> list[str] | None:
    """`attributes` / `excludedAttributes` from a query string (comma-separated) or a SearchRequest (a list)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        parts = raw.split(",")
    elif isinstance(raw, list) and all(isinstance(p, str) for p in raw):
        parts = [piece for p in raw for piece in p.split(",")]
    else:
        raise ScimError(
            400,
            "invalidValue",
            "attributes and excludedAttributes take attribute names: a comma-separated string or a list of strings.",
        )
    names = [p.strip() for p in parts if p.strip()]
    return names or None


@dataclass
class _Selection:
    """Named attributes, keyed by (container, canonical name): container None for core and common
    attributes, else the extension URN; the value is WHOLE or the canonical names of chosen sub-attributes."""

    attributes: dict[tuple[str | None, str], set[str] | None] = field(default_factory=dict)
    schemas: set[str | None] = field(default_factory=set)  # whole schemas named by URN (None = core)

    def add(self, container: str | None, attr: AttrDef, sub: AttrDef | None) -> None:
        key = (container, attr.name)
        if sub is None:
            self.attributes[key] = WHOLE
        elif key not in self.attributes or self.attributes[key] is not WHOLE:
            self.attributes.setdefault(key, set()).add(sub.name)  # type: ignore[union-attr]

    def of(self, container: str | None, attr: AttrDef) -> tuple[bool, set[str] | None]:
        """(named at all, WHOLE or the sub-attributes named)."""
        if container in self.schemas:
            return True, WHOLE
        key = (container, attr.name)
        return key in self.attributes, self.attributes.get(key)


def _split(name: str, schema: ResourceSchema) -> tuple[str | None, str]:
    """(schema URN or None, the rest): `urn:...:User:name.givenName` -> (core URN, "name.givenName");
    a bare schema URN leaves the rest empty."""
    lowered = name.lower()
    for uri in sorted((schema.core, *schema.extensions), key=len, reverse=True):
        if lowered == uri.lower():
            return uri, ""
        if lowered.startswith(uri.lower() + ":"):
            return uri, name[len(uri) + 1 :]
    return None, name


def _selection(names: list[str], schema: ResourceSchema) -> _Selection:
    selection = _Selection()
    for name in names:
        uri, rest = _split(name, schema)
        if not rest:
            selection.schemas.add(None if uri == schema.core else uri)
            continue
        attr_name, _, sub_name = rest.partition(".")
        attr = schema.attribute(attr_name, uri)
        sub = attr.sub(sub_name) if attr is not None and sub_name else None
        if attr is None or (sub_name and sub is None):
            continue  # unknown names are ignored (RFC 7644 §3.9 leaves this to the provider)
        selection.add(schema.container(attr), attr, sub)
    return selection


def _named_keys(value: dict[str, Any], subs: set[str]) -> set[str]:
    lowered = {s.lower() for s in subs}
    return {k for k in value if k.lower() in lowered}


def _keep_subs(value: Any, subs: set[str], keep: bool) -> Any:
    """value with only (keep) or without (not keep) the named sub-attributes; None if nothing is left."""

    def one(entry: Any) -> Any:
        if not isinstance(entry, dict):
            return None if keep else entry
        named = _named_keys(entry, subs)
        kept = {k: v for k, v in entry.items() if (k in named) == keep}
        return kept or None

    if isinstance(value, list):
        entries = [e for e in (one(entry) for entry in value) if e is not None]
        return entries or None
    return one(value)


def _project_attribute(
    attr: AttrDef | None, value: Any, container: str | None, include: _Selection | None, exclude: _Selection
) -> Any:
    """The attribute's value in the response, or None to leave it out."""
    if attr is None:  # not in the schema (never stored by us): shown unless a list of attributes is asked for
        return None if include is not None else value
    if attr.returned == "never":
        return None
    if attr.returned == "always":
        return value
    if include is not None:
        named, subs = include.of(container, attr)
        if not named:
            return None
        return value if subs is WHOLE else _keep_subs(value, subs, keep=True)
    if attr.returned == "request":
        return None
    named, subs = exclude.of(container, attr)
    if not named:
        return value
    return None if subs is WHOLE else _keep_subs(value, subs, keep=False)


def project(
    resource: dict[str, Any], schema: ResourceSchema, attributes: list[str] | None, excluded: list[str] | None
) -> dict[str, Any]:
    """The resource as a response shows it. `attributes` wins over `excluded`; names are case-insensitive,
    dotted (`name.givenName`), URN-qualified or a whole extension URN; unknown names are ignored. Attributes
    returned `always` (id) and `schemas` are always kept; `schemas` then lists the extensions still present.
    The input is not modified (the output shares its unchanged values)."""
    include = _selection(attributes, schema) if attributes else None
    exclude = _selection(excluded or [], schema)
    out: dict[str, Any] = {}
    for key, value in resource.items():
        extension = schema.extension_key(key)
        if key == "schemas":
            out[key] = value
        elif extension is not None:
            inner = {}
            for name, inner_value in value.items() if isinstance(value, dict) else ():
                kept = _project_attribute(schema.attribute(name, extension), inner_value, extension, include, exclude)
                if kept is not None:
                    inner[name] = kept
            if inner:
                out[extension] = inner
        else:
            kept = _project_attribute(schema.attribute(key, schema.core), value, None, include, exclude)
            if kept is not None:
                out[key] = kept
    out["schemas"] = [schema.core, *(e for e in schema.extensions if e in out)]
    return out
