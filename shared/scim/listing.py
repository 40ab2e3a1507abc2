"""List parameters (RFC 7644 §3.4.2.3-§3.4.2.4, §3.4.3), sorting, paging and the ListResponse message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from scim2_models.exceptions import SCIMException
from scim2_models.path import AttrPath, Path

from shared.scim.casing import fold
from shared.scim.errors import ScimError
from shared.scim.filter import attribute_value, lookup
from shared.scim.limits import check_body
from shared.scim.projection import parse_attribute_list
from shared.scim.schema import AttrDef, ResourceSchema

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
    invalid = ScimError(400, "invalidValue", f"{name} must be an integer, got {value!r}.")
    if isinstance(value, bool):
        raise invalid
    if isinstance(value, float):
        if not value.is_integer():
            raise invalid
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise invalid from None


def _text(value: Any, name: str, scim_type: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ScimError(400, scim_type, f"{name} must be a string, got {value!r}.")
    return value


def parse_list_params(params: Mapping[str, Any]) -> ListParams:
    """From URL query parameters or a SearchRequest body (same names, case-insensitive; attributes may be
    lists). Out-of-range paging is clamped as RFC 7644 §3.4.2.4 says; malformed values are 400 invalidValue."""
    lowered = {str(k).lower(): v for k, v in params.items()}
    check_body(
        {k: v for k, v in lowered.items() if k != "filter"}, "The list parameters"
    )  # parse_filter checks the filter
    start = _int(lowered.get("startindex"), "startIndex")
    count = _int(lowered.get("count"), "count")
    order = (_text(lowered.get("sortorder"), "sortOrder", "invalidValue") or "ascending").lower()
    if order not in ("ascending", "descending"):
        raise ScimError(400, "invalidValue", f"sortOrder must be 'ascending' or 'descending', got {order!r}.")
    return ListParams(
        filter=_text(lowered.get("filter"), "filter", "invalidFilter"),
        start_index=1 if start is None else max(1, start),
        count=None if count is None else min(max(0, count), MAX_RESULTS),
        sort_by=_text(lowered.get("sortby"), "sortBy", "invalidValue"),
        sort_order=order,
        attributes=parse_attribute_list(lowered.get("attributes")),
        excluded_attributes=parse_attribute_list(lowered.get("excludedattributes")),
    )


# --- sorting ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SortKey:
    attr: AttrDef
    compared: AttrDef  # the attribute or sub-attribute whose values are ordered
    sub: str | None  # sub-attribute read from each entry of a complex attribute


def _sort_key(sort_by: str, schema: ResourceSchema) -> _SortKey | None:
    """What sortBy designates; None for an attribute the schema does not know (the order is then kept)."""
    try:
        path = Path(sort_by.strip()).ast
    except (SCIMException, ValueError):
        path = None
    if not isinstance(path, AttrPath):
        raise ScimError(
            400, "invalidValue", f"sortBy must name an attribute, such as userName or name.familyName; got {sort_by!r}."
        )
    found = schema.find(path)
    if found is None:
        return None
    attr, sub = found
    if sub is not None:
        return _SortKey(attr, sub, sub.name)
    if attr.type != "complex":
        return _SortKey(attr, attr, None)
    value = attr.sub("value")
    if value is None:
        example = attr.sub_attributes[0].name if attr.sub_attributes else "value"
        raise ScimError(
            400,
            "invalidValue",
            f"{attr.name} is complex: sort by one of its sub-attributes, e.g. {attr.name}.{example}.",
        )
    return _SortKey(attr, value, value.name)


def _sortable(value: Any, definition: AttrDef) -> tuple[int, Any] | None:
    """An orderable form of a value; values of different kinds never meet in one comparison."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, (int, float)):
        return (1, Decimal(str(value)))
    text = str(value)
    if definition.type == "dateTime":
        try:
            instant = datetime.fromisoformat(text.strip())
            return (2, instant if instant.tzinfo else instant.replace(tzinfo=UTC))
        except ValueError:
            pass
    if definition.type in ("integer", "decimal"):
        try:
            return (1, Decimal(text.strip()))
        except InvalidOperation:
            pass
    return (3, text if definition.case_exact else fold(text))


def _value_of(resource: dict[str, Any], key: _SortKey, schema: ResourceSchema) -> tuple[int, Any] | None:
    stored = attribute_value(resource, key.attr, schema)
    if isinstance(stored, list):  # multi-valued: the primary value, else the first (RFC 7644 §3.4.2.3)
        entries = [e for e in stored if e is not None]
        stored = next(
            (e for e in entries if isinstance(e, dict) and lookup(e, "primary") is True),
            entries[0] if entries else None,
        )
    if key.sub is not None:
        stored = lookup(stored, key.sub)
    return _sortable(stored, key.compared)


def sort_resources(
    resources: list[dict[str, Any]], schema: ResourceSchema, sort_by: str | None, sort_order: str
) -> list[dict[str, Any]]:
    """Stable sort by one attribute; resources without a value come last ascending and first descending."""
    if not sort_by:
        return resources
    key = _sort_key(sort_by, schema)
    if key is None:
        return list(resources)
    keyed = [(_value_of(r, key, schema), r) for r in resources]
    present = [(k, r) for k, r in keyed if k is not None]
    missing = [r for k, r in keyed if k is None]
    descending = sort_order == "descending"
    ordered = [
        r for _, r in sorted(present, key=lambda kr: kr[0], reverse=descending)
    ]  # sorted() is stable, reversed too
    return missing + ordered if descending else ordered + missing


# --- paging -----------------------------------------------------------------------------------------


def page(resources: list[dict[str, Any]], start_index: int, count: int | None) -> list[dict[str, Any]]:
    """The slice a 1-based startIndex and an optional count select (empty past the end)."""
    start = max(1, start_index) - 1
    return resources[start:] if count is None else resources[start : start + max(0, count)]


def list_response(resources: list[dict[str, Any]], total: int, start_index: int) -> dict[str, Any]:
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
