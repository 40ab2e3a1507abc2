"""Route templates as the Functions host reads them (ASP.NET Core syntax) and the order it tries them in.

Supported: literal segments, `{name}`, `{name?}`, `{name=default}`, `{*name}` / `{**name}` catch-all and
inline constraints (`{id:int}`, `{code:regex(^\\d+$)}`, `{n:range(1,9)}`, ...). A path is matched as it
arrived: doubled slashes stay empty segments (no normalisation), only one trailing slash is tolerated,
literals compare case-insensitively and values are percent-decoded.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONSTRAINT = re.compile(r":([A-Za-z]+)")


def _integer(bits: int) -> Callable[[str, str | None], bool]:
    def accepts(value: str, _: str | None) -> bool:
        return re.fullmatch(r"[+-]?\d+", value) is not None and -(2 ** (bits - 1)) <= int(value) < 2 ** (bits - 1)

    return accepts


def _number(value: str, _: str | None) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return value.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")


def _guid(value: str, _: str | None) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _bounds(argument: str | None) -> tuple[int, int]:
    low, _, high = (argument or "").partition(",")
    return int(low), int(high or low)


def _length(value: str, argument: str | None) -> bool:
    low, high = _bounds(argument)
    return low <= len(value) <= high


def _range(value: str, argument: str | None) -> bool:
    low, high = _bounds(argument)
    return _integer(64)(value, None) and low <= int(value) <= high


# ASP.NET Core's built-in inline constraints; an unknown one fails at startup, as it does in the host.
CONSTRAINTS: dict[str, Callable[[str, str | None], bool]] = {
    "int": _integer(32),
    "long": _integer(64),
    "bool": lambda value, _: value.lower() in ("true", "false"),
    "alpha": lambda value, _: re.fullmatch(r"[A-Za-z]+", value) is not None,
    "guid": _guid,
    "decimal": _number,
    "double": _number,
    "float": _number,
    "datetime": lambda value, _: True,  # culture-dependent parsing in .NET; accepting is the honest stand-in
    "required": lambda value, _: value != "",
    "minlength": lambda value, argument: len(value) >= int(argument or 0),
    "maxlength": lambda value, argument: len(value) <= int(argument or 0),
    "length": _length,
    "min": lambda value, argument: _integer(64)(value, None) and int(value) >= int(argument or 0),
    "max": lambda value, argument: _integer(64)(value, None) and int(value) <= int(argument or 0),
    "range": _range,
    "regex": lambda value, argument: re.search(argument or "", value, re.IGNORECASE) is not None,
    "file": lambda value, _: "." in value.rsplit("/", 1)[-1],
    "nonfile": lambda value, _: "." not in value.rsplit("/", 1)[-1],
}


@dataclass(frozen=True)
class Constraint:
    name: str
    argument: str | None = None

    def accepts(self, value: str) -> bool:
        return CONSTRAINTS[self.name](value, self.argument)


@dataclass(frozen=True)
class Segment:
    literal: str | None = None
    name: str | None = None
    constraints: tuple[Constraint, ...] = ()
    optional: bool = False
    catch_all: bool = False
    default: str | None = None

    @property
    def precedence_digit(self) -> int:
        """ASP.NET Core's inbound precedence: literal 1, constrained parameter 2, parameter 3,
        constrained catch-all 4, catch-all 5 (lower is tried first)."""
        if self.literal is not None:
            return 1
        return (5 if self.catch_all else 3) - (1 if self.constraints else 0)

    def accepts(self, value: str) -> bool:
        return all(constraint.accepts(value) for constraint in self.constraints)


@dataclass(frozen=True)
class Template:
    text: str
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        stripped = text.strip("/")
        segments = tuple(_parse_segment(raw, text) for raw in stripped.split("/")) if stripped else ()
        for index, segment in enumerate(segments):
            if segment.catch_all and index != len(segments) - 1:
                raise ValueError(f"route {text!r}: a catch-all parameter must be the last segment")
            if segment.optional and not all(s.optional for s in segments[index:]):
                raise ValueError(f"route {text!r}: only trailing parameters can be optional")
        names = [s.name for s in segments if s.name]
        if len(names) != len({n.lower() for n in names}):
            raise ValueError(f"route {text!r}: a parameter name is used twice")
        return cls(text, segments)

    @property
    def precedence(self) -> Decimal:
        """RoutePrecedence.ComputeInbound: one decimal digit per segment, compared as a number."""
        return sum((Decimal(s.precedence_digit) / (Decimal(10) ** i) for i, s in enumerate(self.segments)), Decimal(0))

    def match(self, path: str) -> dict[str, str] | None:
        """Route values for `path` (as received, starting with "/"), or None when it does not match."""
        parts = _split(path)
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.catch_all:
                rest = unquote("/".join(parts[index:]))
                if rest or segment.default is not None:
                    values[segment.name or ""] = rest or segment.default or ""
                return values if not rest or segment.accepts(rest) else None
            if index >= len(parts):
                if not segment.optional:
                    return None
                if segment.default is not None:
                    values[segment.name or ""] = segment.default
                continue
            value = unquote(parts[index])
            if segment.literal is not None:
                if value.lower() != segment.literal.lower():
                    return None
            elif value == "" or not segment.accepts(value):
                return None
            else:
                values[segment.name or ""] = value
        return values if len(parts) <= len(self.segments) else None


@dataclass(frozen=True)
class Route(Generic[T]):
    template: Template
    methods: frozenset[str]  # upper case; empty means every method
    target: T

    def allows(self, method: str) -> bool:
        return not self.methods or method.upper() in self.methods


def make_route(prefix: str, route: str, methods: Iterable[str], target: T) -> Route[T]:
    """The host serves a function at `/{routePrefix}/{route}`."""
    text = "/".join(part for part in (prefix.strip("/"), route.strip("/")) if part)
    return Route(Template.parse(text), frozenset(m.upper() for m in methods), target)


def order(routes: Iterable[Route[T]]) -> list[Route[T]]:
    return sorted(routes, key=lambda r: (r.template.precedence, r.template.text.lower()))


def resolve(ordered: list[Route[T]], path: str, method: str) -> tuple[Route[T], dict[str, str]] | None:
    """The first route (in `order`) that takes this method and whose template matches the path."""
    for route in ordered:
        if route.allows(method):
            values = route.template.match(path)
            if values is not None:
                return route, values
    return None


def _split(path: str) -> list[str]:
    trimmed = path[1:] if path.startswith("/") else path
    if trimmed == "":
        return []
    parts = trimmed.split("/")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # ASP.NET Core tolerates one trailing slash
    return parts


def _parse_segment(raw: str, template: str) -> Segment:
    if not (raw.startswith("{") and raw.endswith("}")):
        if "{" in raw or "}" in raw:
            raise ValueError(f"route {template!r}: segments mixing literals and parameters are not supported")
        return Segment(literal=raw)
    inner = raw[1:-1]
    catch_all = inner.startswith("*")
    inner = inner.lstrip("*")
    name = _NAME.match(inner)
    if name is None:
        raise ValueError(f"route {template!r}: bad parameter {raw!r}")
    rest = inner[name.end() :]
    constraints: list[Constraint] = []
    while rest.startswith(":"):
        found = _CONSTRAINT.match(rest)
        if found is None or found.group(1).lower() not in CONSTRAINTS:
            raise ValueError(f"route {template!r}: unsupported constraint in {raw!r}")
        rest = rest[found.end() :]
        argument = None
        if rest.startswith("("):
            close = _argument_end(rest)
            # ASP.NET escapes braces inside templates by doubling them (`regex(^\\d{{3}}$)`)
            argument, rest = rest[1:close].replace("{{", "{").replace("}}", "}"), rest[close + 1 :]
        constraints.append(Constraint(found.group(1).lower(), argument))
    optional, default = False, None
    if rest.startswith("?"):
        optional, rest = True, rest[1:]
    elif rest.startswith("="):
        optional, default, rest = True, rest[1:], ""
    if rest:
        raise ValueError(f"route {template!r}: bad parameter {raw!r}")
    return Segment(
        name=name.group(0),
        constraints=tuple(constraints),
        optional=optional or catch_all,
        catch_all=catch_all,
        default=default,
    )


def _argument_end(rest: str) -> int:
    """Index of the `)` closing a constraint argument: the first one followed by the end, another
    constraint, `?` or `=`, so a regex may itself contain parentheses."""
    for index, char in enumerate(rest):
        if char == ")" and re.match(r"$|[?=]|:[A-Za-z]", rest[index + 1 :]):
            return index
    raise ValueError(f"unclosed constraint argument in {rest!r}")
