"""Per-tenant reconciliation state (`T:<tenant>` / `cycle` in the tenants table): an ETag-guarded lease
so one cycle runs per tenant at a time across instances, the cadence, and the resume point."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared import clock
from shared.store.client import Storage
from shared.store.errors import AlreadyExists, EtagMismatch
from shared.store.table import Entity, etag_of
from shared.tenants import tenant_pk

STATE_ROW = "cycle"
INSTANCE = uuid.uuid4().hex[:12]


@dataclass
class Lease:
    tenant_id: str
    row: Entity
    etag: str | None

    @property
    def continuation(self) -> dict[str, Any] | None:
        import json

        raw = self.row.get("continuation")
        return json.loads(raw) if raw else None

    @property
    def last_completed(self) -> str | None:
        return self.row.get("lastCompleted")

    @property
    def last_report(self) -> str | None:
        return self.row.get("lastReportAt")


def _state(storage: Storage, tenant_id: str) -> Entity:
    row = storage.tenants.get(tenant_pk(tenant_id), STATE_ROW)
    if row is not None:
        return row
    try:
        storage.tenants.create({"PartitionKey": tenant_pk(tenant_id), "RowKey": STATE_ROW, "created": clock.iso()})
    except AlreadyExists:
        pass  # another instance created it first: fine
    return storage.tenants.get(tenant_pk(tenant_id), STATE_ROW)  # type: ignore[return-value]


def is_due(row: Entity, interval: timedelta, now: datetime) -> bool:
    if row.get("continuation"):
        return True  # an unfinished cycle resumes on the next tick
    last = row.get("lastCompleted")
    return last is None or now - clock.parse_iso(last) >= interval


def acquire(storage: Storage, tenant_id: str, *, interval: timedelta, ttl: timedelta, force: bool) -> tuple[Lease | None, str]:
    """(lease, reason): None with a reason when the tenant is not due or another holder has it."""
    row = _state(storage, tenant_id)
    now = clock.now()
    holder_until = row.get("leaseUntil")
    if holder_until and clock.parse_iso(holder_until) > now and row.get("leaseOwner") != INSTANCE:
        return None, f"another cycle holds the lease until {holder_until}"
    if not force and not is_due(row, interval, now):
        return None, f"not due: last cycle completed at {row.get('lastCompleted')}"
    claimed = {**row, "leaseOwner": INSTANCE, "leaseUntil": clock.iso(now + ttl)}
    try:
        etag = storage.tenants.update(claimed, etag=etag_of(row))
    except EtagMismatch:
        return None, "another cycle took the lease first"
    return Lease(tenant_id, claimed, etag), ""


def release(storage: Storage, lease: Lease, *, completed: bool, continuation: str | None, report_time: str) -> None:
    row = {k: v for k, v in lease.row.items() if k not in ("leaseOwner", "leaseUntil", "continuation")}
    row["lastReportAt"] = report_time
    if completed:
        row["lastCompleted"] = report_time
    if continuation:
        row["continuation"] = continuation
    try:
        storage.tenants.update(row, etag=lease.etag)
    except EtagMismatch:
        pass  # our lease expired and someone else took over: their state wins
