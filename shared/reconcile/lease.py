"""Per-tenant reconciliation state (`T:<tenant>` / `cycle` in the tenants table): an ETag-guarded lease
so one cycle runs per tenant at a time across instances, the cadence, and the resume point.

A holder renews its lease while it works; a holder that crashed stops renewing and its lease expires,
after which any instance may take over (and resume where the crashed one last checkpointed).
"""

from __future__ import annotations

import json
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
_LEASE_FIELDS = ("leaseOwner", "leaseUntil", "continuation")


class LeaseLost(RuntimeError):
    """Another instance took the lease over (ours had expired): stop without writing anything more."""


@dataclass
class Lease:
    tenant_id: str
    row: Entity
    etag: str | None
    ttl: timedelta

    @property
    def continuation(self) -> dict[str, Any] | None:
        raw = self.row.get("continuation")
        return json.loads(raw) if raw else None

    @property
    def last_report(self) -> str | None:
        return self.row.get("lastReportAt")

    @property
    def until(self) -> datetime:
        return clock.parse_iso(self.row["leaseUntil"])


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


def acquire(
    storage: Storage, tenant_id: str, *, interval: timedelta, ttl: timedelta, force: bool
) -> tuple[Lease | None, str]:
    """(lease, reason): None with a reason when the tenant is not due or another holder has it."""
    row = _state(storage, tenant_id)
    now = clock.now()
    holder_until = row.get("leaseUntil")
    if holder_until and clock.parse_iso(holder_until) > now:
        return None, f"another cycle holds the lease until {holder_until}"
    if not force and not is_due(row, interval, now):
        return None, f"not due: last cycle completed at {row.get('lastCompleted')}"
    claimed = {**row, "leaseOwner": INSTANCE, "leaseUntil": clock.iso(now + ttl)}
    try:
        etag = storage.tenants.update(claimed, etag=etag_of(row))
    except EtagMismatch:
        return None, "another cycle took the lease first"
    return Lease(tenant_id, claimed, etag, ttl), ""


def keep(storage: Storage, lease: Lease) -> None:
    """Extend the lease once half of it is used up (one write per half-TTL of work, not per step)."""
    now = clock.now()
    if lease.until - now > lease.ttl / 2:
        return
    renewed = {**lease.row, "leaseUntil": clock.iso(now + lease.ttl)}
    try:
        lease.etag = storage.tenants.update(renewed, etag=lease.etag)
    except EtagMismatch as exc:
        raise LeaseLost(f"the reconciliation lease of tenant {lease.tenant_id} was taken over") from exc
    lease.row = renewed


def release(storage: Storage, lease: Lease, *, continuation: dict[str, Any] | None, report_time: str | None) -> None:
    """Give the lease up. With a report: it is the newest, and without a continuation the cycle is
    complete (that starts the cadence). With a continuation the next tick resumes there."""
    row = {k: v for k, v in lease.row.items() if k not in _LEASE_FIELDS}
    if report_time:
        row["lastReportAt"] = report_time
        if continuation is None:
            row["lastCompleted"] = report_time
    if continuation is not None:
        row["continuation"] = json.dumps(continuation)
    try:
        storage.tenants.update(row, etag=lease.etag)
    except EtagMismatch:
        pass  # our lease expired and someone else took over: their state wins
