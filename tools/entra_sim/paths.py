"""The few SCIM attribute path forms Entra's default mapping uses (`userName`, `name.givenName`,
`emails[type eq "work"].value`, `<extension URN>:department`): read them from a resource the way a
SCIM server returns it (names case-insensitive) and write them into a POST body."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TYPED = re.compile(r'^(?P<attr>\w+)\[type eq "(?P<type>[^"]+)"\]\.(?P<sub>\w+)$')


@dataclass(frozen=True)
class Path:
    urn: str | None
    attr: str
    type: str | None
    sub: str | None


def parse(path: str) -> Path:
    if path.startswith("urn:"):
        urn, _, attr = path.rpartition(":")
        return Path(urn, attr, None, None)
    if match := _TYPED.match(path):
        return Path(None, match["attr"], match["type"], match["sub"])
    attr, _, sub = path.partition(".")
    return Path(None, attr, None, sub or None)


def _get(container: Any, name: str) -> Any:
    if not isinstance(container, dict):
        return None
    if name in container:
        return container[name]
    lowered = name.lower()
    return next((value for key, value in container.items() if key.lower() == lowered), None)


def _typed_entry(entries: Any, type_: str) -> Any:
    if not isinstance(entries, list):
        return None
    return next(
        (e for e in entries if isinstance(_get(e, "type"), str) and _get(e, "type").lower() == type_.lower()), None
    )


def read(resource: dict, path: str) -> Any:
    p = parse(path)
    value = _get(_get(resource, p.urn) if p.urn else resource, p.attr)
    if p.type is not None:
        value = _typed_entry(value, p.type)
    return _get(value, p.sub) if p.sub is not None else value


def write(body: dict, path: str, value: Any) -> None:
    """Set `path` in a request body; sub-attributes of one `type` share a single entry, as Entra sends them."""
    p = parse(path)
    container = body.setdefault(p.urn, {}) if p.urn else body
    if p.type is not None:
        entries = container.setdefault(p.attr, [])
        entry = next((e for e in entries if e["type"] == p.type), None)
        if entry is None:
            entry = {"type": p.type}
            entries.append(entry)
        entry[p.sub] = value
    elif p.sub is not None:
        container.setdefault(p.attr, {})[p.sub] = value
    else:
        container[p.attr] = value
