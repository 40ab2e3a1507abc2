"""Functions route templates (ASP.NET Core syntax) and their precedence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

_PARAM = re.compile(r"^\{(\*?)(\w+)(\?)?(?::[^}]*)?\}$")


@dataclass(frozen=True)
class Segment:
    literal: str | None = None
    name: str | None = None
    optional: bool = False
    catch_all: bool = False


@dataclass(frozen=True)
class Route:
    template: str
    methods: frozenset[str]
    target: Any
    segments: tuple[Segment, ...]

    @property
    def precedence(self) -> tuple[int, int, int]:
        """Sort key: more literal segments first, catch-all last (as ASP.NET Core orders routes)."""
        literals = sum(1 for s in self.segments if s.literal is not None)
        catch_all = any(s.catch_all for s in self.segments)
        return (int(catch_all), -literals, -len(self.segments))

    def match(self, path: str) -> dict[str, str] | None:
        parts = path.split("/") if path else []
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.catch_all:
                params[segment.name or ""] = "/".join(parts[index:])
                return params
            if index >= len(parts):
                return params if all(s.optional or s.catch_all for s in self.segments[index:]) else None
            part = parts[index]
            if segment.literal is not None:
                if part.lower() != segment.literal.lower():
                    return None
            else:
                if part == "":
                    return None
                params[segment.name or ""] = unquote(part)
        return params if len(parts) == len(self.segments) else None


def parse_template(template: str) -> tuple[Segment, ...]:
    segments = []
    for raw in template.strip("/").split("/") if template.strip("/") else []:
        found = _PARAM.match(raw)
        if found:
            segments.append(Segment(name=found.group(2), optional=bool(found.group(3)), catch_all=bool(found.group(1))))
        else:
            segments.append(Segment(literal=raw))
    return tuple(segments)


def make_route(prefix: str, template: str, methods: list[str] | None, target: Any) -> Route:
    full = "/".join(p for p in (prefix.strip("/"), template.strip("/")) if p)
    allowed = frozenset(m.upper() for m in methods) if methods else frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
    return Route(full, allowed, target, parse_template(full))


def resolve(routes: list[Route], path: str, method: str) -> tuple[Route, dict[str, str]] | None:
    """The first route by precedence whose template and method match the raw path (no slash folding)."""
    trimmed = path[1:] if path.startswith("/") else path
    for route in sorted(routes, key=lambda r: r.precedence):
        if method.upper() not in route.methods:
            continue
        params = route.match(trimmed)
        if params is not None:
            return route, params
    return None
