"""The reconciliation cycle: per tenant, every 45 minutes (a 15-minute timer checks who is due).

A cycle finishes interrupted multi-transaction work, repairs index and membership rows, runs the
lifecycle chores (automatic invitations, delivery retries, retention purge), flags integrations Entra
has stopped calling, and stores a report. The phases (shared.reconcile.phases) advance one unit at a
time; a run that spends its time box stores where it stopped (phase and page token) in the lease row
and the next tick resumes there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared import clock, invitations, tenants
from shared.config import Settings, process_settings
from shared.oauth.clients import expiry_warnings
from shared.reconcile.lease import Lease, LeaseLost, acquire, keep, release
from shared.reconcile.phases import NAMES, PHASES, Work
from shared.reconcile.reports import list_reports, scim_activity, scim_errors, store
from shared.store import counter
from shared.store.client import Storage, default_storage
from shared.store.errors import StorageUnavailable

log = logging.getLogger(__name__)
_LEASE_MARGIN = timedelta(seconds=60)  # past the time box: the last unit may overrun it a little


@dataclass
class _Position:
    phase: int = 0
    point: str | None = None  # the phase's resume point (a page token, or "more")

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> _Position:
        if not doc or doc.get("phase") not in NAMES:
            return cls()  # nothing stored (or a phase this version no longer has): start over
        return cls(NAMES.index(doc["phase"]), doc.get("point"))

    def to_doc(self) -> dict[str, Any]:
        return {"phase": NAMES[self.phase], "point": self.point}

    @property
    def done(self) -> bool:
        return self.phase == len(PHASES)


def _advance(work: Work, lease: Lease, position: _Position, deadline: float) -> list[str]:
    """Run units from `position` (moved along in place) until the cycle ends or the time box is
    spent; at least one unit runs, so every tick makes progress. Returns the phases that ran."""
    ran: list[str] = []
    while not position.done and (not ran or time.monotonic() < deadline):
        name, step = PHASES[position.phase]
        if not ran or ran[-1] != name:
            ran.append(name)
        point = step(work, position.point)
        if point is None:
            position.phase, position.point = position.phase + 1, None
        else:
            position.point = point
        keep(work.storage, lease)
    return ran


def _report(
    work: Work, started: str, start: _Position, position: _Position, ran: list[str], since: str | None
) -> dict[str, Any]:
    return {
        "tenantId": work.tenant_id,
        "started": started,
        "finished": clock.iso(),
        "complete": position.done,
        "resumedFromPhase": NAMES[start.phase] if start != _Position() else None,
        "phasesRun": ran,
        "stoppedAt": None if position.done else NAMES[position.phase],
        "since": since,
        "scim": scim_activity(work.storage, work.tenant_id, since),
        "scimErrors": scim_errors(work.storage, work.tenant_id, since),
        "repairs": dict(work.repairs.counts),
        "repairsTotal": sum(work.repairs.counts.values()),
        "conflictsLeft": work.repairs.conflicts,
        "invitations": {
            "sent": work.invitations[invitations.SENT],
            "retryLater": work.invitations[invitations.PENDING],
            "givenUp": work.invitations[invitations.GIVEN_UP],
        },
        "webhooks": dict(work.webhooks),
        "purgedEmployees": work.purged,
        "markedStale": work.marked_stale,
        "warnings": expiry_warnings(tenants.get_entity(work.storage, work.tenant_id)),
    }


def reconcile_tenant(
    storage: Storage, tenant_id: str, *, force: bool, settings: Settings, deadline: float
) -> dict[str, Any]:
    """One cycle (or the rest of one) for one tenant, or the reason it did not run."""
    tenant = tenants.get_tenant(storage, tenant_id)
    interval = timedelta(minutes=settings.reconcile_interval_minutes)
    ttl = timedelta(seconds=settings.reconcile_time_budget_seconds) + _LEASE_MARGIN
    lease, reason = acquire(storage, tenant_id, interval=interval, ttl=ttl, force=force)
    if lease is None:
        return {"tenantId": tenant_id, "skipped": reason}
    start = _Position.from_doc(lease.continuation)
    position = _Position(start.phase, start.point)
    work = Work(storage, tenant, stale_after=2 * interval)
    started, started_clock = clock.iso(), time.monotonic()
    with counter.counting() as calls:
        try:
            ran = _advance(work, lease, position, deadline)
            report = _report(work, started, start, position, ran, lease.last_report)
        except LeaseLost as lost:
            return {"tenantId": tenant_id, "skipped": str(lost)}
        except StorageUnavailable:
            raise  # no release against storage that is down: the lease expires and a later tick resumes
        except Exception:
            release(storage, lease, continuation=position.to_doc(), report_time=None)  # the next tick retries this unit
            raise
    # The cost covers the whole cycle except the two writes below (the report itself, the lease release).
    report["durationSeconds"] = round(time.monotonic() - started_clock, 3)
    report["storageCalls"] = {"total": calls.total, **calls.by_kind}
    store(storage, tenant_id, report)
    release(storage, lease, continuation=None if position.done else position.to_doc(), report_time=report["finished"])
    return report


def _each_tenant(storage: Storage, run: Callable[[str], dict[str, Any]], deadline: float) -> list[dict[str, Any]]:
    """Every tenant while time remains; one tenant's failure is logged and reported, never stops the rest."""
    results = []
    for tenant in tenants.list_tenants(storage):
        if time.monotonic() >= deadline:
            break  # the rest wait for the next tick
        try:
            results.append(run(tenant["tenantId"]))
        except StorageUnavailable:
            log.warning("storage unavailable: reconciliation stops until the next tick", exc_info=True)
            break  # every other tenant would wait out the same timeouts
        except Exception as exc:
            log.exception("reconciliation of tenant %s failed", tenant["tenantId"])
            results.append({"tenantId": tenant["tenantId"], "failed": f"{type(exc).__name__}: {exc}"})
    return results


def run_now(
    storage: Storage, tenant_id: str | None = None, force: bool = False, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """Admin trigger: one tenant (errors raise) or every tenant; without force, only those that are due."""
    settings = settings or process_settings()
    deadline = time.monotonic() + settings.reconcile_time_budget_seconds

    def run(one: str) -> dict[str, Any]:
        return reconcile_tenant(storage, one, force=force, settings=settings, deadline=deadline)

    return [run(tenant_id)] if tenant_id else _each_tenant(storage, run, deadline)


def run_timer(storage: Storage | None = None, settings: Settings | None = None) -> list[dict[str, Any]]:
    """The timer tick: every due tenant within the time budget. Returns the cycles that ran or failed."""
    storage = storage or default_storage()
    settings = settings or process_settings()
    deadline = time.monotonic() + settings.reconcile_time_budget_seconds

    def run(one: str) -> dict[str, Any]:
        return reconcile_tenant(storage, one, force=False, settings=settings, deadline=deadline)

    try:
        results = [r for r in _each_tenant(storage, run, deadline) if "skipped" not in r]
    except StorageUnavailable:  # even the tenant list could not be read: nothing ran, the next tick retries
        log.warning("storage unavailable: reconciliation tick skipped", exc_info=True)
        return []
    log.info("reconciliation tick: %d tenant cycle(s) ran", len(results))
    return results


__all__ = ["run_now", "run_timer", "list_reports", "reconcile_tenant", "NAMES"]
