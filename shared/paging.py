"""List pages read from where they start, not from the tenant's first row.

An unfiltered list is the live rows of one kind in RowKey order. Serving page (startIndex s, count c)
also finds the first live row after it and remembers its RowKey for startIndex s + c in a cursor row
(`P:<kind><s+c>`, one per startIndex, shared by every client). The next page in order starts reading
there: a page costs the cursor's point read, one query of about c rows and the cursor's write, whatever
the tenant's size, and walking all pages costs O(total).

Consistency (RFC 7644 §3.4.2.4: paging is not session based, a repeated request may differ): a walk that
follows its own pages never returns a row twice and never skips a row that exists throughout the walk,
because each page starts at a RowKey after the previous page's last row. Rows created or deleted before a
cursor's key since it was written shift the positions after it, as they would for any client paging by
offset while the directory changes. A cursor older than CURSOR_TTL is not trusted: the start is then
found by counting live rows from the beginning (keys only, 1,000 a call), exactly as of that moment.
"""

from __future__ import annotations

from datetime import timedelta

from shared import clock
from shared.resources import is_live
from shared.store import keys
from shared.store.client import Storage
from shared.store.table import PAGE_SIZE, Entity

CURSOR_TTL = timedelta(minutes=15)  # a walk by Entra or the console takes seconds to minutes


def _cursor_key(kind: str, start_index: int) -> str:
    return f"{keys.PAGE_CURSOR}{kind}{start_index:010d}"


def _remembered_start(storage: Storage, tenant_id: str, kind: str, start_index: int) -> str | None:
    row = storage.directory.get(tenant_id, _cursor_key(kind, start_index))
    if row is None or clock.now() - clock.parse_iso(row["written"]) > CURSOR_TTL:
        return None
    return str(row["at"])


def _counted_start(storage: Storage, tenant_id: str, kind: str, start_index: int) -> str | None:
    """The RowKey of the start_index-th live row, counted from the first (None past the end)."""
    position = 0
    for row in storage.directory.query(tenant_id, prefix=kind, select=["RowKey", "deleted"]):
        if is_live(row):
            position += 1
            if position == start_index:
                return str(row["RowKey"])
    return None


def live_page(storage: Storage, tenant_id: str, kind: str, start_index: int, count: int) -> list[Entity]:
    """Up to count live rows of kind (keys.USER, keys.GROUP) from the start_index-th, in RowKey order."""
    if count <= 0:
        return []
    if start_index == 1:
        low: str | None = kind
    else:
        low = _remembered_start(storage, tenant_id, kind, start_index) or _counted_start(
            storage, tenant_id, kind, start_index
        )
    if low is None:
        return []
    high = keys.prefix_range(kind)[1]
    page: list[Entity] = []
    continuation: str | None = None
    while True:
        # count + 1 a call, not what is missing: tombstones (SCIM-deleted users) are read past in bulk
        rows, continuation = storage.directory.query_page(
            tenant_id, low=low, high=high, page_size=min(count + 1, PAGE_SIZE), continuation=continuation
        )
        for row in filter(is_live, rows):
            if len(page) == count:  # the first live row after the page: where the next one starts
                _remember(storage, tenant_id, kind, start_index + count, row["RowKey"])
                return page
            page.append(row)
        if continuation is None:
            return page


def _remember(storage: Storage, tenant_id: str, kind: str, start_index: int, row_key: str) -> None:
    entity = {
        "PartitionKey": tenant_id,
        "RowKey": _cursor_key(kind, start_index),
        "at": row_key,
        "written": clock.iso(),
    }
    storage.directory.upsert(entity, replace=True)
