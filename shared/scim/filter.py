"""RFC 7644 §3.4.2.2 filters over plain resource dicts.

Parsing is scim2-models' grammar (the whole RFC ABNF); this module adds the one tolerance Entra needs
(unquoted values, `externalId eq jyoung`) and evaluates the syntax tree on stored documents with the
schema's case and type rules. Which stored rows can answer a filter is shared.query_plan's business.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from scim2_models.exceptions import SCIMException
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ScimFilter,
    ValuePath,
)

from shared.scim.casing import fold
from shared.scim.errors import ScimError
from shared.scim.limits import MAX_FILTER_LENGTH, MAX_FILTER_TERMS, check_text
from shared.scim.normalize import as_bool
from shared.scim.schema import AttrDef, ResourceSchema

__all__ = ["FilterNode", "attribute_value", "entry_matches", "lookup", "matches", "parse_filter"]

_ORDERING = frozenset({CompareOperator.gt, CompareOperator.ge, CompareOperator.lt, CompareOperator.le})
_SUBSTRING = frozenset({CompareOperator.co, CompareOperator.sw, CompareOperator.ew})

# Quoted strings are left alone; between them, a bare token right after a comparison operator is quoted,
# unless it is true/false/null. Numbers are quoted too: every attribute we store is text, and `id eq 0123`
# must keep its digits exactly (the library would read a number).
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
_BARE_VALUE = re.compile(
    r'(?i)(?<=\s)((?:eq|ne|co|sw|ew|gt|ge|lt|le)\s+)(?!(?:true|false|null)(?:[\s()\[\]]|$))([^\s"()\[\]]+)'
)
_COLUMN = re.compile(r"column (\d+)")


def _quote(match: re.Match[str]) -> str:
    value = match.group(2).replace("\\", "\\\\")  # a bare backslash is a character, not an escape
    return f'{match.group(1)}"{value}"'


def _quote_bare_values(text: str) -> str:
    out, last = [], 0
    for literal in _STRING_LITERAL.finditer(text):
        out.append(_BARE_VALUE.sub(_quote, text[last : literal.start()]))
        out.append(literal.group())
        last = literal.end()
    out.append(_BARE_VALUE.sub(_quote, text[last:]))
    return "".join(out)


def parse_filter(text: str) -> FilterNode:
    """The syntax tree of a filter; ScimError(400, "invalidFilter") for anything that is not one."""
    if not isinstance(text, str) or not text.strip():
        raise ScimError(400, "invalidFilter", "The filter is empty.")
    if len(text) > MAX_FILTER_LENGTH:
        raise ScimError(400, "invalidFilter", f"The filter is longer than {MAX_FILTER_LENGTH} characters.")
    check_text(text, "The filter", "invalidFilter")
    try:
        tree = ScimFilter(_quote_bare_values(text)).ast  # the library also bounds nesting depth
    except (SCIMException, ValueError):
        tree = _parse_strict(text)  # reports the error at the client's own column numbers
    if _terms(tree) > MAX_FILTER_TERMS:
        raise ScimError(
            400,
            "invalidFilter",
            f"The filter has more than {MAX_FILTER_TERMS} comparisons; split it into simpler requests.",
        )
    return tree


def _terms(node: Any) -> int:
    """Comparisons and presence tests in a filter tree (value paths count their inner filter)."""
    if isinstance(node, LogicalExpr):
        return sum(_terms(term) for term in node.terms)
    if isinstance(node, Not):
        return _terms(node.expr)
    if isinstance(node, ValuePath):
        return _terms(node.val_filter)
    return 1


def _parse_strict(text: str) -> FilterNode:
    try:
        return ScimFilter(text).ast
    except (SCIMException, ValueError) as exc:
        raise ScimError(400, "invalidFilter", _syntax_detail(text, exc)) from None


def _syntax_detail(text: str, exc: Exception) -> str:
    reason = str(getattr(exc, "detail", None) or exc) or "invalid syntax"
    column = _COLUMN.search(reason)
    if column is None:
        return f"Invalid filter {text!r}: {reason}."
    at = int(column.group(1)) - 1
    near = text[at : at + 30] or "<end of filter>"
    return (
        f"Invalid filter {text!r}: {reason} (near {near!r}). Expected `attribute operator value` with operator "
        f'eq, ne, co, sw, ew, gt, ge, lt, le or pr, string values in double quotes, e.g. userName eq "alice@example.com".'
    )


# --- reading plain dicts ----------------------------------------------------------------------------


def lookup(container: Any, name: str) -> Any:
    """Case-insensitive key lookup (stored documents use canonical case; be robust anyway)."""
    if not isinstance(container, dict):
        return None
    if name in container:
        return container[name]
    lowered = name.lower()
    return next((v for k, v in container.items() if k.lower() == lowered), None)


def attribute_value(resource: dict[str, Any], attr: AttrDef, schema: ResourceSchema) -> Any:
    """The stored value of attr: at top level, or under its extension's URN key."""
    key = schema.container(attr)
    return lookup(resource if key is None else lookup(resource, key), attr.name)


def _values(value: Any) -> list[Any]:
    """A stored value as a list of its non-null values (multi-valued attributes hold lists)."""
    items = value if isinstance(value, list) else [value]
    return [v for v in items if v is not None]


# --- typed comparison -------------------------------------------------------------------------------


def _present(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_present(v) for v in value.values())
    if isinstance(value, list):
        return any(_present(v) for v in value)
    return value is not None and value != ""


def _as_instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # no offset: UTC, as we store


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _invalid(detail: str) -> ScimError:
    return ScimError(400, "invalidFilter", detail)


@dataclass(frozen=True)
class _Test:
    """One comparison, checked against the attribute definition once and then applied to each value."""

    op: CompareOperator
    definition: AttrDef
    expected: Any

    @classmethod
    def build(cls, op: CompareOperator, definition: AttrDef, literal: Any, label: str) -> _Test:
        kind = definition.type
        if literal is None:
            if op not in (CompareOperator.eq, CompareOperator.ne):
                raise _invalid(f"{label} {op.value} null: null can only be compared with eq or ne.")
            return cls(op, definition, None)
        unordered = kind == "binary" and op in _ORDERING
        if unordered or kind == "boolean" and op not in (CompareOperator.eq, CompareOperator.ne):
            raise _invalid(f"{label} is {kind}: operator {op.value} does not apply to it.")
        if kind == "boolean":
            expected: Any = as_bool(literal)
            if expected is None:
                raise _invalid(f"{label} is boolean: compare it with true or false, not {literal!r}.")
        elif kind == "dateTime" and op not in _SUBSTRING:
            expected = _as_instant(_text(literal))
            if expected is None:
                raise _invalid(f'{label} is a dateTime: {literal!r} is not one (use e.g. "2024-01-31T12:00:00Z").')
        elif kind in ("integer", "decimal") and op not in _SUBSTRING:
            expected = _as_number(literal)
            if expected is None:
                raise _invalid(f"{label} is a number: {literal!r} is not one.")
        else:
            expected = _text(literal)
            if not definition.case_exact:
                expected = fold(expected)
        return cls(op, definition, expected)

    def equal(self, actual: Any) -> bool:
        return self._holds(CompareOperator.eq, actual)

    def holds(self, actual: Any) -> bool:
        return self._holds(self.op, actual)

    def _holds(self, op: CompareOperator, actual: Any) -> bool:
        kind = self.definition.type
        if kind == "boolean":
            return as_bool(actual) == self.expected
        if kind == "dateTime" and op not in _SUBSTRING:
            left: Any = _as_instant(actual)
        elif kind in ("integer", "decimal") and op not in _SUBSTRING:
            left = _as_number(actual)
        else:
            left = _text(actual)
            if not self.definition.case_exact:
                left = fold(left)
        if left is None:
            return False
        right = self.expected
        if op == CompareOperator.eq:
            return bool(left == right)
        if op == CompareOperator.co:
            return right in left
        if op == CompareOperator.sw:
            return bool(left.startswith(right))
        if op == CompareOperator.ew:
            return bool(left.endswith(right))
        if op == CompareOperator.gt:
            return bool(left > right)
        if op == CompareOperator.ge:
            return bool(left >= right)
        if op == CompareOperator.lt:
            return bool(left < right)
        return bool(left <= right)


# --- evaluation -------------------------------------------------------------------------------------

Predicate = Callable[[dict[str, Any]], bool]
Reader = Callable[[dict[str, Any]], list[Any]]


def _never(_: dict[str, Any]) -> bool:
    return False


class _Compiler(FilterVisitor[Predicate]):
    """Turns a filter into a predicate on a resource (schema set) or on one entry of a complex attribute
    (parent set). Everything that depends only on the filter and the schema (which attribute, its type, a
    misused operator) is settled here, once, so a misuse is an error whatever the data and evaluation order."""

    def __init__(self, schema: ResourceSchema | None, parent: AttrDef | None = None):
        self.schema = schema
        self.parent = parent

    def _reader(self, path: AttrPath) -> tuple[AttrDef, Reader, str] | None:
        """(definition, reader of its non-null values, label); None for a name the schema does not know."""
        if self.parent is not None:
            entry_sub = self.parent.sub(path.attr)
            if entry_sub is None or path.sub_attr:
                return None
            return (
                entry_sub,
                lambda entry: _values(lookup(entry, entry_sub.name)),
                f"{self.parent.name}.{entry_sub.name}",
            )
        assert self.schema is not None
        found = self.schema.find(path)
        if found is None:
            return None
        attr, sub = found
        label = f"{attr.name}.{sub.name}" if sub else attr.name
        schema = self.schema
        if sub is None:
            return attr, lambda resource: _values(attribute_value(resource, attr, schema)), label
        return sub, lambda resource: _sub_values(_values(attribute_value(resource, attr, schema)), sub.name), label

    def visit_logical_expr(self, node: LogicalExpr) -> Predicate:
        terms = [self.visit(term) for term in node.terms]
        if node.op == LogicalOperator.and_:
            return lambda resource: all(term(resource) for term in terms)
        return lambda resource: any(term(resource) for term in terms)

    def visit_not(self, node: Not) -> Predicate:
        inner = self.visit(node.expr)
        return lambda resource: not inner(resource)

    def visit_present(self, node: Present) -> Predicate:
        found = self._reader(node.attr_path)
        if found is None:
            return _never
        read = found[1]
        return lambda resource: _present(read(resource))

    def visit_comparison(self, node: Comparison) -> Predicate:
        found = self._reader(node.attr_path)
        if found is None:
            return _never  # unknown attributes match nothing, `ne` included
        definition, read, label = found
        if definition.type == "complex":
            # A complex attribute compares through its `value` (members eq "<id>", manager eq "<id>").
            value_def = definition.sub("value")
            if value_def is None or node.op in _ORDERING:
                example = f"{label}.{(value_def or definition.sub_attributes[0]).name}"
                raise _invalid(f"{label} is complex: compare one of its sub-attributes, e.g. {example}.")
            definition, read = value_def, _through_value(read)
        test = _Test.build(node.op, definition, node.value, label)
        if test.expected is None:  # `eq null` is absence, `ne null` presence
            wants_absent = node.op == CompareOperator.eq
            return lambda resource: (not read(resource)) == wants_absent
        if node.op == CompareOperator.ne:  # `not eq`: also true when the attribute is missing
            return lambda resource: not any(test.equal(v) for v in read(resource))
        return lambda resource: any(test.holds(v) for v in read(resource))

    def visit_value_path(self, node: ValuePath) -> Predicate:
        if self.parent is not None:
            raise _invalid(f"Value filters cannot be nested ({self.parent.name}[... {node.attr_path.attr}[...]]).")
        assert self.schema is not None
        found = self.schema.find(node.attr_path)
        if found is None:
            return _never
        attr, sub = found
        if attr.type != "complex" or sub is not None:
            raise _invalid(f"{attr.name} is not a complex attribute: it cannot take a [value filter].")
        inner = _Compiler(None, attr).visit(node.val_filter)
        schema = self.schema
        return lambda resource: any(
            inner(e) for e in _values(attribute_value(resource, attr, schema)) if isinstance(e, dict)
        )


def _sub_values(entries: list[Any], name: str) -> list[Any]:
    return _values([lookup(entry, name) for entry in entries if isinstance(entry, dict)])


def _through_value(read: Reader) -> Reader:
    return lambda resource: _sub_values(read(resource), "value")


@lru_cache(maxsize=256)
def _predicate(node: FilterNode, schema: ResourceSchema) -> Predicate:
    return _Compiler(schema).visit(node)


@lru_cache(maxsize=256)
def _entry_predicate(node: FilterNode, attribute: AttrDef) -> Predicate:
    return _Compiler(None, attribute).visit(node)


def matches(node: FilterNode, resource: dict[str, Any], schema: ResourceSchema) -> bool:
    """Whether a resource satisfies a filter. Unknown attributes match nothing; a filter that misuses a known
    attribute (ordering a boolean, a malformed dateTime) is ScimError(400, "invalidFilter") whatever the data.
    The filter is compiled once per (filter, schema), so testing many resources costs one walk each."""
    return _predicate(node, schema)(resource)


def entry_matches(node: FilterNode, entry: dict[str, Any], attribute: AttrDef) -> bool:
    """Whether one entry of a complex attribute satisfies a value filter (PATCH paths `emails[type eq "work"]`)."""
    return _entry_predicate(node, attribute)(entry)
