"""RFC 7644 §3.4.2.2 filters over plain resource dicts.

Parsing is scim2-models' grammar (the whole RFC ABNF); this module adds the one tolerance Entra needs
(unquoted values, `externalId eq jyoung`), evaluates the syntax tree on stored documents with the
schema's case rules, and tells the query engine which index can answer a filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

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

from shared.scim.errors import ScimError
from shared.scim.schema import AttrDef, ResourceSchema

MAX_FILTER_LENGTH = 4096
_OPERATORS = "eq|ne|co|sw|ew|gt|ge|lt|le"
# A bare word after a comparison operator, as in Entra's `externalId eq jyoung`; literals stay as they are.
_BARE_VALUE = re.compile(rf'(?i)(\s(?:{_OPERATORS})\s+)(?!(?:true|false|null)\b)(?![-\d.]+(?:[\s)\]]|$))([^\s"()\[\]]+)')
_ORDERING = {CompareOperator.gt, CompareOperator.ge, CompareOperator.lt, CompareOperator.le}


def parse_filter(text: str) -> FilterNode:
    if len(text) > MAX_FILTER_LENGTH:
        raise ScimError(400, "invalidFilter", f"The filter is longer than {MAX_FILTER_LENGTH} characters.")
    try:
        return ScimFilter(text).ast
    except (SCIMException, ValueError) as first:
        tolerant = _BARE_VALUE.sub(lambda m: f'{m.group(1)}"{m.group(2)}"', text)
        if tolerant != text:
            try:
                return ScimFilter(tolerant).ast
            except (SCIMException, ValueError):
                pass
        raise ScimError(400, "invalidFilter", f"Invalid filter {text!r}: {_reason(first)}.") from first


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "detail", None) or exc) or "syntax error"


# --- evaluation -------------------------------------------------------------------------------------


def lookup(container: Any, name: str) -> Any:
    """Case-insensitive key lookup (stored documents use canonical case; be robust anyway)."""
    if not isinstance(container, dict):
        return None
    if name in container:
        return container[name]
    lowered = name.lower()
    return next((v for k, v in container.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class _Target:
    values: list[Any]
    definition: AttrDef | None


def _resolve(path: AttrPath, context: dict[str, Any], schema: ResourceSchema | None, parent: AttrDef | None) -> _Target:
    """The values an attribute path designates in context (a resource, or one entry of a multi-valued
    complex attribute when parent is set), with the definition that governs their comparison."""
    if parent is not None:
        definition = parent.sub(path.attr)
        return _Target(_flatten([lookup(context, path.attr)]), definition)
    assert schema is not None
    container: Any = context
    if path.uri and not schema.is_core(path.uri):
        extension = schema.extension_key(path.uri)
        if extension is None:
            return _Target([], None)
        container = lookup(context, extension)
    definition = schema.attribute(path.attr, path.uri)
    if definition is None:
        return _Target([], None)
    if definition.schema and definition.schema not in (schema.core,) and not path.uri:
        container = lookup(context, definition.schema)  # un-qualified extension attribute (manager)
    value = lookup(container, definition.name)
    if path.sub_attr:
        sub = definition.sub(path.sub_attr)
        entries = value if isinstance(value, list) else [value]
        return _Target(_flatten([lookup(e, path.sub_attr) for e in entries if isinstance(e, dict)]), sub)
    if definition.type == "complex":
        entries = value if isinstance(value, list) else [value]
        return _Target(_flatten([lookup(e, "value") for e in entries if isinstance(e, dict)]), definition.sub("value"))
    return _Target(_flatten([value]), definition)


def _flatten(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list):
            out.extend(v for v in value if v is not None)
        elif value is not None:
            out.append(value)
    return out


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _as_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compare(op: CompareOperator, actual: Any, expected: Any, definition: AttrDef | None) -> bool:
    kind = definition.type if definition else "string"
    if expected is None:
        return op == CompareOperator.eq and actual is None or op == CompareOperator.ne and actual is not None
    if kind == "boolean" or isinstance(expected, bool):
        if op in _ORDERING:
            raise ScimError(400, "invalidFilter", f"Operator {op.value} cannot compare booleans.")
        left, right = _as_bool(actual), _as_bool(expected)
        if left is None or right is None:
            return op == CompareOperator.ne
        return (left == right) == (op == CompareOperator.eq) if op in (CompareOperator.eq, CompareOperator.ne) else False
    if kind == "complex":
        raise ScimError(400, "invalidFilter", f"Cannot compare the complex attribute {definition.name if definition else ''} to a value.")
    if kind == "dateTime":
        left_dt, right_dt = _as_datetime(actual), _as_datetime(expected)
        if left_dt is not None and right_dt is not None and op in _ORDERING | {CompareOperator.eq, CompareOperator.ne}:
            return _order(op, left_dt, right_dt)
    if kind in ("integer", "decimal") and isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return _order(op, actual, expected) if op in _ORDERING | {CompareOperator.eq, CompareOperator.ne} else False
    left, right = _text(actual), _text(expected)
    if not (definition and definition.case_exact):
        left, right = left.casefold(), right.casefold()
    if op == CompareOperator.co:
        return right in left
    if op == CompareOperator.sw:
        return left.startswith(right)
    if op == CompareOperator.ew:
        return left.endswith(right)
    return _order(op, left, right)


def _order(op: CompareOperator, left: Any, right: Any) -> bool:
    return {
        CompareOperator.eq: left == right,
        CompareOperator.ne: left != right,
        CompareOperator.gt: left > right,
        CompareOperator.ge: left >= right,
        CompareOperator.lt: left < right,
        CompareOperator.le: left <= right,
    }[op]


class _Evaluator(FilterVisitor[bool]):
    def __init__(self, context: dict[str, Any], schema: ResourceSchema | None, parent: AttrDef | None = None):
        self.context = context
        self.schema = schema
        self.parent = parent

    def visit_logical_expr(self, node: LogicalExpr) -> bool:
        results = (self.visit(term) for term in node.terms)
        return all(results) if node.op == LogicalOperator.and_ else any(results)

    def visit_not(self, node: Not) -> bool:
        return not self.visit(node.expr)

    def visit_present(self, node: Present) -> bool:
        return any(_present(v) for v in _resolve(node.attr_path, self.context, self.schema, self.parent).values)

    def visit_comparison(self, node: Comparison) -> bool:
        target = _resolve(node.attr_path, self.context, self.schema, self.parent)
        if not target.values:
            return node.op == CompareOperator.ne or (node.op == CompareOperator.eq and node.value is None)
        if node.op == CompareOperator.ne:
            return all(_compare(node.op, v, node.value, target.definition) for v in target.values)
        return any(_compare(node.op, v, node.value, target.definition) for v in target.values)

    def visit_value_path(self, node: ValuePath) -> bool:
        if self.parent is not None:
            raise ScimError(400, "invalidFilter", "Value paths cannot be nested.")
        definition, entries = self._entries(node.attr_path)
        return any(_Evaluator(entry, None, definition).visit(node.val_filter) for entry in entries)

    def _entries(self, path: AttrPath) -> tuple[AttrDef | None, list[dict[str, Any]]]:
        assert self.schema is not None
        definition = self.schema.attribute(path.attr, path.uri)
        if definition is None or definition.type != "complex":
            return definition, []
        container = self.context
        if definition.schema and definition.schema != self.schema.core:
            container = lookup(self.context, definition.schema) or {}
        value = lookup(container, definition.name)
        entries = value if isinstance(value, list) else [value]
        return definition, [e for e in entries if isinstance(e, dict)]


def values_at(path: AttrPath, resource: dict[str, Any], schema: ResourceSchema) -> list[Any]:
    """The values an attribute path designates in a resource (sorting uses the filter's resolution)."""
    return _resolve(path, resource, schema, None).values


def matches(node: FilterNode, resource: dict[str, Any], schema: ResourceSchema) -> bool:
    return _Evaluator(resource, schema).visit(node)


def entry_matches(node: FilterNode, entry: dict[str, Any], attribute: AttrDef) -> bool:
    """Whether one entry of a multi-valued complex attribute satisfies a value filter (PATCH paths)."""
    return _Evaluator(entry, None, attribute).visit(node)


# --- index selection --------------------------------------------------------------------------------

_INDEXED = {"User": ("id", "userName", "externalId"), "Group": ("id", "displayName", "externalId")}


@dataclass(frozen=True)
class IndexHint:
    attribute: str
    value: str


def _hint(node: FilterNode, schema: ResourceSchema) -> IndexHint | None:
    if not isinstance(node, Comparison) or node.op != CompareOperator.eq or node.attr_path.sub_attr:
        return None
    if node.attr_path.uri and not schema.is_core(node.attr_path.uri):
        return None
    if node.value is None or isinstance(node.value, bool):
        return None
    for name in _INDEXED[schema.resource_type]:
        if node.attr_path.attr.lower() == name.lower():
            return IndexHint(name, _text(node.value))
    return None


def index_hint(node: FilterNode, schema: ResourceSchema) -> IndexHint | None:
    """An equality the query can be answered from (the caller still applies the whole filter)."""
    terms = node.terms if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_ else (node,)
    hints = [h for h in (_hint(t, schema) for t in terms) if h is not None]
    order = _INDEXED[schema.resource_type]
    return min(hints, key=lambda h: order.index(h.attribute), default=None)


def member_values(node: FilterNode) -> frozenset[str] | None:
    """User ids a group filter tests membership of; frozenset() if it never mentions members,
    None if it uses members in a way that needs the whole member list."""
    if isinstance(node, LogicalExpr):
        parts = [member_values(t) for t in node.terms]
        return None if any(p is None for p in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
    if isinstance(node, Not):
        return member_values(node.expr)
    path = node.attr_path if isinstance(node, (Comparison, Present, ValuePath)) else None
    if path is None or path.attr.lower() != "members":
        return frozenset()
    if isinstance(node, Comparison):
        if node.op == CompareOperator.eq and (node.attr_path.sub_attr or "value").lower() == "value" and isinstance(node.value, str):
            return frozenset({node.value})
        return None
    if isinstance(node, ValuePath):
        inner = node.val_filter
        if isinstance(inner, Comparison) and inner.op == CompareOperator.eq and inner.attr_path.attr.lower() == "value" and isinstance(inner.value, str):
            return frozenset({inner.value})
    return None
