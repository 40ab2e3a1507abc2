"""Integration health per tenant: last SCIM request, last Test Connection, requests and errors per hour.

Counting in storage on every request would double the cost of each call, so each worker process keeps
counts in memory and flushes them at most once a minute per tenant into its own row
(`H:<hour>:<instance>`), written whole (no contention between instances). The admin view sums the rows
of the last 24 hours.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared import clock, tenants
from shared.oauth.clients import expiry_warnings
from shared.store import keys
from shared.store.client import Storage
from shared.tenants import tenant_pk

_INSTANCE = uuid.uuid4().hex[:12]
_FLUSH_SECONDS = 60
HEALTH = "H:"


@dataclass
class _Bucket:
    hour: str
    requests: int = 0
    errors: int = 0
    last_request: str | None = None
    last_test_connection: str | None = None
    last_flush: float = 0.0


_lock = threading.Lock()
_buckets: dict[str, _Bucket] = {}


def _hour(now_iso: str) -> str:
    return now_iso[:13]  # YYYY-MM-DDTHH


def observe(storage: Storage, tenant_id: str, *, error: bool, test_connection: bool) -> None:
    """Count one SCIM request; flush this instance's counters when due (then one write)."""
    now = clock.now()
    stamp = clock.iso(now)
    with _lock:
        bucket = _buckets.get(tenant_id)
        if bucket is None or bucket.hour != _hour(stamp):
            if bucket is not None:
                _write(storage, tenant_id, bucket)  # close the previous hour's row
            bucket = _buckets[tenant_id] = _Bucket(hour=_hour(stamp))
        bucket.requests += 1
        bucket.errors += int(error)
        bucket.last_request = stamp
        if test_connection:
            bucket.last_test_connection = stamp
        due = bucket.last_flush + _FLUSH_SECONDS <= now.timestamp() or bucket.requests == 1
        if due:
            bucket.last_flush = now.timestamp()
            snapshot = _Bucket(**bucket.__dict__)
    if due:
        _write(storage, tenant_id, snapshot)


def flush_all(storage: Storage) -> None:
    with _lock:
        snapshots = [(t, _Bucket(**b.__dict__)) for t, b in _buckets.items()]
    for tenant_id, bucket in snapshots:
        _write(storage, tenant_id, bucket)


def _write(storage: Storage, tenant_id: str, bucket: _Bucket) -> None:
    row: dict[str, Any] = {
        "PartitionKey": tenant_pk(tenant_id),
        "RowKey": f"{HEALTH}{bucket.hour}:{_INSTANCE}",
        "requests": bucket.requests,
        "errors": bucket.errors,
        "lastRequest": bucket.last_request,
        "lastTestConnection": bucket.last_test_connection,
    }
    storage.tenants.upsert({k: v for k, v in row.items() if v is not None}, replace=True)


def summary(storage: Storage, tenant_id: str) -> dict[str, Any]:
    flush_all(storage)
    since = _hour(clock.iso(clock.now() - timedelta(hours=24)))
    requests = errors = 0
    last_request = last_test = None
    for row in storage.tenants.query(tenant_pk(tenant_id), prefix=HEALTH):
        hour = keys.suffix(row["RowKey"], HEALTH)[:13]
        if hour > since:
            requests += int(row.get("requests", 0))
            errors += int(row.get("errors", 0))
        last_request = max(filter(None, [last_request, row.get("lastRequest")]), default=None)
        last_test = max(filter(None, [last_test, row.get("lastTestConnection")]), default=None)
    return {
        "lastRequest": last_request,
        "lastTestConnection": last_test,
        "requestsLast24h": requests,
        "errorsLast24h": errors,
        "warnings": expiry_warnings(tenants.get_entity(storage, tenant_id)),
    }


# --- recent SCIM errors -------------------------------------------------------------------------------
# The last errors returned to Entra, with the exact status, scimType and detail it was sent, so an admin
# can fix a mapping without reading logs. A bounded ring of rows `X:<slot>` next to the tenant (one write
# per error, replaced in turn; several instances share the slots, so it stays bounded, not exact): never a
# request body, and no detail for requests that carried a filter (parser messages quote filter values).
ERROR = "X:"
ERROR_SLOTS = 20
WITHHELD = "(detail withheld: the request carried a filter, whose values are not recorded)"
_slots: dict[str, int] = {}


def record_error(
    storage: Storage,
    tenant_id: str,
    *,
    method: str,
    route: str,
    status: int,
    scim_type: str | None,
    detail: str | None,
    had_filter: bool,
) -> None:
    with _lock:
        slot = _slots[tenant_id] = (_slots.get(tenant_id, int(uuid.uuid4().int % ERROR_SLOTS)) + 1) % ERROR_SLOTS
    row: dict[str, Any] = {
        "PartitionKey": tenant_pk(tenant_id),
        "RowKey": f"{ERROR}{slot:02d}",
        "time": clock.iso(),
        "method": method,
        "route": route[:200],
        "status": status,
        "scimType": scim_type or "",
        "detail": WITHHELD if had_filter else (detail or "")[:1000],
    }
    storage.tenants.upsert(row, replace=True)


def recent_errors(storage: Storage, tenant_id: str) -> list[dict[str, Any]]:
    """The ring's errors, newest first (one query)."""
    rows = storage.tenants.query(tenant_pk(tenant_id), prefix=ERROR)
    errors = [
        {k: row.get(k) or None for k in ("time", "method", "route", "scimType", "detail")} | {"status": row["status"]}
        for row in rows
    ]
    return sorted(errors, key=lambda e: e["time"] or "", reverse=True)
