"""List parameters (RFC 7644 §3.4.2.3-§3.4.2.4), sorting, paging and the ListResponse message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from scim2_models.exceptions import SCIMException
from scim2_models.path import AttrPath, Path

from shared.scim.errors import ScimError
from shared.scim.filter import lookup, values_at
from shared.scim.projection import parse_attribute_list
from shared.scim.schema import ResourceSchema

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
MAX_RESULTS = 500


@dataclass(frozen=True)
class ListParams:
    filter: str | None = None
    start_index: int = 1
    count: int | None = None
    sort_by: str | None = None
    sort_order: str = "ascending"
    attributes: list[str] | None = None
    excluded_attributes: list[str] | None = None


def _int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ScimError(400, "invalidValue", f"{name} must be an integer.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScimError(400, "invalidValue", f"{name} must be an integer, got {value!r}.") from None


def parse_list_params(params: Mapping[str, Any]) -> ListParams:
    """From URL query parameters or a SearchRequest body; names are case-insensitive."""
    lowered = {str(k).lower(): v for k, v in params.items()}
    start = _int(lowered.get("startindex"), "startIndex")
    count = _int(lowered.get("count"), "count")
    order = str(lowered.get("sortorder") or "ascending").lower()
    if order not in ("ascending", "descending"):
        raise ScimError(400, "invalidValue", "sortOrder must be 'ascending' or 'descending'.")
    text = lowered.get("filter")
    if text is not None and not isinstance(text, str):
        raise ScimError(400, "invalidFilter", "filter must be a string.")
    return ListParams(
        filter=text or None,
        start_index=max(1, start) if start is not None else 1,
        count=None if count is None else min(max(0, count), MAX_RESULTS),
        sort_by=str(lowered["sortby"]) if lowered.get("sortby") else None,
        sort_order=order,
        attributes=parse_attribute_list(lowered.get("attributes")),
        excluded_attributes=parse_attribute_list(lowered.get("excludedattributes")),
    )


def _sort_path(sort_by: str) -> AttrPath:
    try:
        node = Path(sort_by).ast
    except (SCIMException, ValueError):
        node = None
    if not isinstance(node, AttrPath):
        raise ScimError(400, "invalidValue", f"Cannot sort by {sort_by!r}: not an attribute path.")
    return node


def _sort_key(resource: dict[str, Any], schema: ResourceSchema, path: AttrPath) -> tuple[int, Any]:
    definition = schema.attribute(path.attr, path.uri)
    value: Any = None
    if definition is not None and definition.multi_valued and not path.sub_attr:
        entries = lookup(resource, definition.name) or []
        primary = next((e for e in entries if isinstance(e, dict) and e.get("primary") is True), None)
        chosen = primary or (entries[0] if entries else None)
        value = lookup(chosen, "value") if isinstance(chosen, dict) else chosen
    else:
        values = values_at(path, resource, schema)
        value = values[0] if values else None
    if value is None:
        return (1, "")
    if isinstance(value, str):
        target = path.sub_attr and definition and definition.sub(path.sub_attr) or definition
        return (0, value if target and target.case_exact else value.casefold())
    return (0, value)


def sort_resources(resources: list[dict[str, Any]], schema: ResourceSchema, sort_by: str | None, sort_order: str) -> list[dict[str, Any]]:
    if not sort_by:
        return resources
    path = _sort_path(sort_by)
    keyed = [(_sort_key(r, schema, path), i, r) for i, r in enumerate(resources)]
    present = sorted((k for k in keyed if k[0][0] == 0), key=lambda k: (k[0][1], k[1]), reverse=sort_order == "descending")
    missing = [k for k in keyed if k[0][0] == 1]
    return [r for _, _, r in present + missing]


def page(resources: list[dict[str, Any]], start_index: int, count: int | None) -> list[dict[str, Any]]:
    start = start_index - 1
    return resources[start:] if count is None else resources[start : start + count]


def list_response(resources: list[dict[str, Any]], total: int, start_index: int) -> dict[str, Any]:
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
