"""The reconciliation cycle: per tenant, every 45 minutes (a 15-minute timer checks who is due).

A cycle finishes interrupted multi-transaction work, repairs index and membership rows, runs the
lifecycle chores (automatic invitations, delivery retries, retention purge), flags integrations Entra
has stopped calling, and stores a report. Each phase is a checkpoint: a run that hits its time box
stores where it stopped and the next tick resumes there.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from shared import audit, clock, employees, health, invitations, lifecycle, tenants
from shared.audit import ACTOR_RECONCILER, Target
from shared.config import Settings
from shared.reconcile import integrity
from shared.reconcile.lease import Lease, acquire, release
from shared.store import counter, keys
from shared.store.client import Storage, default_storage
from shared.store.rows import get_document, put_document
from shared.tenants import tenant_pk

REPORT = "C:"
PHASES = ("journals", "integrity", "lifecycle", "health")
_MAX_MS = 10**13


class _Cycle:
    def __init__(self, storage: Storage, tenant: dict[str, Any], settings: Settings, lease: Lease):
        self.storage = storage
        self.tenant = tenant
        self.tenant_id = tenant["tenantId"]
        self.settings = settings
        self.lease = lease
        self.repairs = integrity.Repairs()
        self.invitations: Counter = Counter()
        self.purged = 0
        self.stale_marked = False

    def phase(self, name: str) -> None:
        getattr(self, f"_{name}")()

    def _journals(self) -> None:
        integrity.finish_journals(self.storage, self.tenant_id, self.repairs)

    def _integrity(self) -> None:
        integrity.check(self.storage, self.tenant_id, self.repairs)

    def _lifecycle(self) -> None:
        if self.tenant["autoInvite"]:
            invited = employees.invite_employees(self.storage, self.tenant_id, all_staged=True, actor=ACTOR_RECONCILER)
            self.invitations.update(r["invitation"] for r in invited)
        for row in invitations.due(self.storage, self.tenant_id):
            state = invitations.deliver(self.storage, self.tenant_id, row)
            self.invitations[state] += 1
        cutoff = clock.iso(clock.now() - timedelta(days=self.tenant["retentionDays"]))
        for row in self.storage.directory.query(self.tenant_id, prefix=keys.USER, select=["RowKey", "status", "archivedAt"]):
            if row.get("status") == lifecycle.ARCHIVED and row.get("archivedAt") and row["archivedAt"] < cutoff:
                user_id = row["RowKey"][len(keys.USER) :]
                employees.delete_employee(self.storage, self.tenant_id, user_id, actor=ACTOR_RECONCILER, action="employee.purge")
                self.purged += 1

    def _health(self) -> None:
        if not self.tenant["integrationEnabled"] or self.tenant["syncState"] == "stale":
            return
        last = health.summary(self.storage, self.tenant_id)["lastRequest"] or self.tenant["tokenCreated"] or self.tenant["created"]
        silent_for = clock.now() - clock.parse_iso(last)
        if silent_for > timedelta(minutes=2 * self.settings.reconcile_interval_minutes):
            tenants.set_stale(self.storage, self.tenant_id, True)
            audit.record(self.storage, self.tenant_id, ACTOR_RECONCILER, "integration.stale", Target("Tenant", self.tenant_id, self.tenant["name"]))
            self.stale_marked = True


def _activity(storage: Storage, tenant_id: str, since: str | None) -> dict[str, int]:
    """What SCIM changed since the previous report, from the audit log."""
    counts: Counter = Counter()
    token = None
    while True:
        events, token = audit.list_events(storage, tenant_id, limit=1000, since=since, continuation=token)
        for event in events:
            if event["actor"] != audit.ACTOR_SCIM:
                continue
            counts[event["action"]] += 1
            details = event.get("details") or {}
            counts["membersAdded"] += int(details.get("added", 0))
            counts["membersRemoved"] += int(details.get("removed", 0))
        if token is None:
            break
    return {
        "usersCreated": counts["user.create"] + counts["user.restore"],
        "usersUpdated": counts["user.update"],
        "usersDeactivated": counts["user.disable"],
        "usersReactivated": counts["user.enable"],
        "usersDeleted": counts["user.delete"],
        "groupsCreated": counts["group.create"],
        "groupsUpdated": counts["group.update"],
        "groupsDeleted": counts["group.delete"],
        "membershipsAdded": counts["membersAdded"],
        "membershipsRemoved": counts["membersRemoved"],
    }


def _scim_errors(storage: Storage, tenant_id: str, since: str | None) -> int:
    floor = (since or "")[:13]
    return sum(
        int(row.get("errors", 0))
        for row in storage.tenants.query(tenant_pk(tenant_id), prefix=health.HEALTH)
        if row["RowKey"][len(health.HEALTH) : len(health.HEALTH) + 13] >= floor
    )


def _store_report(storage: Storage, tenant_id: str, report: dict[str, Any]) -> None:
    ms = int(clock.parse_iso(report["finished"]).timestamp() * 1000)
    row = {"PartitionKey": tenant_pk(tenant_id), "RowKey": f"{REPORT}{_MAX_MS - ms:013d}"}
    storage.tenants.upsert(put_document(row, report), replace=True)


def reconcile_tenant(storage: Storage, tenant_id: str, *, force: bool, settings: Settings, deadline: float) -> dict[str, Any]:
    """One cycle for one tenant (or the reason it did not run)."""
    tenant = tenants.get_tenant(storage, tenant_id)
    interval = timedelta(minutes=settings.reconcile_interval_minutes)
    lease, reason = acquire(storage, tenant_id, interval=interval, ttl=timedelta(seconds=settings.reconcile_time_budget_seconds + 60), force=force)
    if lease is None:
        return {"tenantId": tenant_id, "skipped": reason}
    started = clock.now()
    started_clock = time.monotonic()
    resume_from = (lease.continuation or {}).get("phase", 0)
    cycle = _Cycle(storage, tenant, settings, lease)
    with counter.counting() as calls:
        next_phase = resume_from
        for index in range(resume_from, len(PHASES)):
            if index > resume_from and time.monotonic() >= deadline:
                break  # time box spent: the next tick resumes at this phase
            cycle.phase(PHASES[index])
            next_phase = index + 1
        complete = next_phase == len(PHASES)
        since = lease.last_report
        report = {
            "tenantId": tenant_id,
            "started": clock.iso(started),
            "finished": clock.iso(),
            "complete": complete,
            "resumedFromPhase": PHASES[resume_from] if resume_from else None,
            "phasesRun": list(PHASES[resume_from:next_phase]),
            "since": since,
            "scim": _activity(storage, tenant_id, since),
            "scimErrors": _scim_errors(storage, tenant_id, since),
            "repairs": dict(cycle.repairs.counts),
            "repairsTotal": sum(cycle.repairs.counts.values()),
            "conflictsLeft": cycle.repairs.conflicts,
            "invitations": {"sent": cycle.invitations[invitations.SENT], "retryLater": cycle.invitations[invitations.PENDING], "givenUp": cycle.invitations[invitations.GIVEN_UP]},
            "purgedEmployees": cycle.purged,
            "markedStale": cycle.stale_marked,
        }
        continuation = None if complete else json.dumps({"phase": next_phase})
        _store_report(storage, tenant_id, report)
        release(storage, lease, completed=complete, continuation=continuation, report_time=report["finished"])
    report["durationSeconds"] = round(time.monotonic() - started_clock, 3)
    report["storageCalls"] = {"total": calls.total, **calls.by_kind}
    _store_report(storage, tenant_id, report)  # same row, now with the cycle's full cost
    return report


def run_now(storage: Storage, tenant_id: str | None = None, force: bool = False, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Admin trigger: one tenant or every tenant; without force, only those that are due."""
    settings = settings or Settings.from_env()
    deadline = time.monotonic() + settings.reconcile_time_budget_seconds
    ids = [tenant_id] if tenant_id else [t["tenantId"] for t in tenants.list_tenants(storage)]
    return [reconcile_tenant(storage, i, force=force, settings=settings, deadline=deadline) for i in ids]


def run_timer(storage: Storage | None = None, settings: Settings | None = None) -> list[dict[str, Any]]:
    """The timer tick: every due tenant, within the time budget; the rest wait for the next tick."""
    storage = storage or default_storage()
    settings = settings or Settings.from_env()
    deadline = time.monotonic() + settings.reconcile_time_budget_seconds
    reports = []
    for tenant in tenants.list_tenants(storage):
        if time.monotonic() >= deadline:
            break
        reports.append(reconcile_tenant(storage, tenant["tenantId"], force=False, settings=settings, deadline=deadline))
    return [r for r in reports if "skipped" not in r]


def list_reports(storage: Storage, tenant_id: str, limit: int = 20) -> list[dict[str, Any]]:
    rows = storage.tenants.query(tenant_pk(tenant_id), prefix=REPORT)
    out = []
    for row in rows:
        out.append(get_document(row))
        if len(out) >= limit:
            break
    return out


__all__ = ["run_now", "run_timer", "list_reports", "reconcile_tenant", "PHASES"]
