"""Query planning: which stored rows can answer a filter, so shared.query reads them by key instead of
scanning the tenant's partition. Storage knowledge (which attributes have index rows, how membership
rows answer `members eq`), kept apart from the protocol's filter evaluation in shared.scim.filter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from scim2_models.path import (
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)

from shared.scim.schema import ResourceSchema

_INDEXED = {"User": ("id", "userName", "externalId"), "Group": ("id", "displayName", "externalId")}


@dataclass(frozen=True)
class IndexHint:
    attribute: str  # canonical name: id | userName | displayName | externalId
    value: str


def _conjuncts(node: FilterNode) -> Iterator[FilterNode]:
    if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_:
        for term in node.terms:
            yield from _conjuncts(term)
    else:
        yield node


def _hint(node: FilterNode, schema: ResourceSchema) -> IndexHint | None:
    if not isinstance(node, Comparison) or node.op != CompareOperator.eq or node.attr_path.sub_attr:
        return None
    if node.value is None or isinstance(node.value, bool):
        return None
    if node.attr_path.uri and not schema.is_core(node.attr_path.uri):
        return None
    name = node.attr_path.attr.lower()
    return next((IndexHint(a, str(node.value)) for a in _INDEXED[schema.resource_type] if a.lower() == name), None)


def index_hint(node: FilterNode, schema: ResourceSchema) -> IndexHint | None:
    """An equality every match must satisfy and an index can answer (id, then userName/displayName, then
    externalId). The caller reads the candidates by key and still applies the whole filter to them."""
    hints = [h for h in (_hint(t, schema) for t in _conjuncts(node)) if h is not None]
    order = _INDEXED[schema.resource_type]
    return min(hints, key=lambda h: order.index(h.attribute), default=None)


def _member_id(node: FilterNode) -> str | None:
    """The user id of `members eq "U"`, `members.value eq "U"` or `members[value eq "U"]`, else None."""
    if isinstance(node, ValuePath):
        inner = node.val_filter
        if (
            node.sub_attr
            or not isinstance(inner, Comparison)
            or inner.attr_path.sub_attr
            or inner.attr_path.attr.lower() != "value"
        ):
            return None
        node = inner
    elif not isinstance(node, Comparison) or (node.attr_path.sub_attr or "value").lower() != "value":
        return None
    return node.value if node.op == CompareOperator.eq and isinstance(node.value, str) else None


def member_values(node: FilterNode) -> frozenset[str] | None:
    """User ids a group filter tests membership of: frozenset() if it never mentions members, None if it
    uses members in any other way than equality on an id (the caller then needs the whole member list).
    Evaluating the filter on a member list restricted to these ids gives the same answer as on the full list."""
    if isinstance(node, LogicalExpr):
        parts = [member_values(t) for t in node.terms]
        return None if any(p is None for p in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
    if isinstance(node, Not):
        return member_values(node.expr)
    path = node.attr_path if isinstance(node, (Comparison, Present, ValuePath)) else None
    if path is None or path.attr.lower() != "members":
        return frozenset()
    member = _member_id(node)
    return None if member is None else frozenset({member})
