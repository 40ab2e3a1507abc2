"""Groups as the admin console shows them: name, member count and members page by page.

SCIM's own group reads (shared.groups) render SCIM resources; an admin wants names and counts. Counts
come from keys-only queries of the membership rows (no member list is ever stored in one property), and
both listings page with the last id read as continuation, so a 10,000-member group is never read whole.
"""

from __future__ import annotations

from typing import Any

from shared import employees
from shared.errors import Invalid, NotFound
from shared.store import keys
from shared.store.client import Storage
from shared.store.parallel import map_parallel
from shared.store.table import ids_under


def _check(limit: int, continuation: str | None) -> None:
    if not 1 <= limit <= 1000:
        raise Invalid("limit must be between 1 and 1000.")
    if continuation is not None and not keys.is_resource_id(continuation):
        raise Invalid("continuation is not a token this API returned.")


def _member_count(storage: Storage, tenant_id: str, group_id: str) -> int:
    return len(ids_under(storage.directory, tenant_id, keys.member_prefix(group_id)))


def list_groups(
    storage: Storage, tenant_id: str, *, limit: int = 50, continuation: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Groups by id, each with its member count; the continuation is the last id returned."""
    _check(limit, continuation)
    low = keys.group_key(continuation) + "\x7f" if continuation else keys.GROUP
    rows, more = storage.directory.query_page(
        tenant_id, low=low, high=keys.prefix_range(keys.GROUP)[1], select=["RowKey", "displayName"], page_size=limit
    )
    ids = [keys.group_id(row["RowKey"]) for row in rows]
    counts = map_parallel(lambda g: _member_count(storage, tenant_id, g), ids)
    groups = [
        {"id": g, "displayName": row.get("displayName"), "memberCount": n}
        for g, row, n in zip(ids, rows, counts, strict=True)
    ]
    return groups, (ids[-1] if ids and more else None)


def group_members(
    storage: Storage, tenant_id: str, group_id: str, *, limit: int = 50, continuation: str | None = None
) -> dict[str, Any]:
    """One group and a page of its members as employees (one keys-only page and a point read per member)."""
    _check(limit, continuation)
    row = storage.directory.get(tenant_id, keys.group_key(group_id)) if keys.is_resource_id(group_id) else None
    if row is None:
        raise NotFound(f"Group {group_id!r} not found.")
    prefix = keys.member_prefix(group_id)
    low = prefix + continuation + "\x7f" if continuation else prefix
    page, more = storage.directory.query_page(
        tenant_id, low=low, high=keys.prefix_range(prefix)[1], select=["RowKey"], page_size=limit
    )
    user_ids = [keys.suffix(r["RowKey"], prefix) for r in page]
    users = map_parallel(lambda u: storage.directory.get(tenant_id, keys.user_key(u)), user_ids)
    return {
        "id": group_id,
        "displayName": row.get("displayName"),
        "memberCount": _member_count(storage, tenant_id, group_id),
        "members": [employees.view(u) for u in users if u is not None],
        "continuation": user_ids[-1] if user_ids and more else None,
    }
