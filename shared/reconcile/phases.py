"""The steps of a cycle, in order. Each phase is called one unit of work at a time (a journal, a page
of rows, a whole small phase) with the resume point its previous unit returned, and returns the next
resume point or None once the phase is done. Between units the runner checks the time box and keeps
the lease, so a resume point is all a later tick needs to carry on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from shared import audit, clock, employees, health, invitations, lifecycle, membership, tenants
from shared.audit import ACTOR_RECONCILER, Target
from shared.errors import DomainError
from shared.events import delivery, endpoints
from shared.oauth import access
from shared.reconcile import integrity
from shared.store import keys
from shared.store.client import Storage
from shared.store.table import Row, timestamp_of

PAGE_SIZE = 200  # user rows per unit of the invite and purge scans: each hit costs a few calls
JOURNAL_QUIET = timedelta(minutes=5)  # longer than a request can live (the HTTP timeout is 230 s)
WEBHOOK_SECONDS = 30.0  # one unit of webhook delivery; what is left waits for the next cycle
DELIVER_BATCH = 20  # invitations per unit of the deliver phase: each may wait on the mail channel
_MORE = "more"  # resume point of phases whose own rows say what is left (finished journals are gone)


@dataclass
class Work:
    """One tenant's cycle: what the phases need and what they did (for the report)."""

    storage: Storage
    tenant: dict[str, Any]
    stale_after: timedelta
    repairs: integrity.Repairs = field(default_factory=integrity.Repairs)
    invitations: Counter = field(default_factory=Counter)
    webhooks: Counter = field(default_factory=Counter)
    purged: int = 0
    marked_stale: bool = False

    @property
    def tenant_id(self) -> str:
        return self.tenant["tenantId"]


def _stalled_journals(work: Work) -> list[str]:
    """Journals nobody has advanced for a while, so their request is gone. A younger one may still be
    progressing inside a live request, and resuming it alongside could replay a chunk over a later change."""
    quiet_since = clock.now() - JOURNAL_QUIET
    rows = work.storage.directory.query(work.tenant_id, prefix=membership.JOURNAL, select=["RowKey", "Timestamp"])
    return [keys.suffix(row["RowKey"], membership.JOURNAL) for row in rows if timestamp_of(row) <= quiet_since]


def _journals(work: Work, resume_point: str | None) -> str | None:
    """Multi-transaction work (big member changes, group and user deletes) interrupted mid-way."""
    stalled = _stalled_journals(work)
    if not stalled:
        return None
    membership.resume(work.storage, work.tenant_id, stalled[0])
    work.repairs.counts["journal"] += 1
    audit.record(work.storage, work.tenant_id, ACTOR_RECONCILER, "repair.journal", Target("Journal", stalled[0]))
    return _MORE if len(stalled) > 1 else None


def _integrity(work: Work, resume_point: str | None) -> str | None:
    """Index and membership rows of the partition, and the tenant's token rows (a token row the tenant no
    longer references must not outlive a race or a crash mid-rotation/disable; expired grace and access
    tokens are swept here too)."""
    integrity.check(work.storage, work.tenant_id, work.repairs)
    revoked = tenants.repair_tokens(work.storage, work.tenant_id) + access.sweep(work.storage, work.tenant_id)
    if revoked:
        work.repairs.counts["token"] += revoked
        audit.record(
            work.storage,
            work.tenant_id,
            ACTOR_RECONCILER,
            "repair.token",
            Target("Tenant", work.tenant_id, work.tenant["name"]),
            details={"rows": revoked},
        )
    return None


def _user_page(work: Work, resume_point: str | None, columns: list[str]) -> tuple[list[Row], str | None]:
    return work.storage.directory.query_page(
        work.tenant_id, prefix=keys.USER, select=["RowKey", *columns], page_size=PAGE_SIZE, continuation=resume_point
    )


def _user_id(row: dict[str, Any]) -> str:
    return keys.user_id(row["RowKey"])


def _invite(work: Work, resume_point: str | None) -> str | None:
    """With automatic invitation on, employees still staged (from before it was switched on) are invited;
    ones whose invitation is on its way or was given up are left to the deliver phase and the admin."""
    if not work.tenant["autoInvite"]:
        return None
    rows, next_point = _user_page(work, resume_point, ["status", "deleted", "invitationState"])
    for row in rows:
        if (row.get("status") or lifecycle.STAGED) != lifecycle.STAGED or row.get("deleted"):
            continue
        if row.get("invitationState") in (*invitations.OPEN, invitations.GIVEN_UP):
            continue
        try:
            invited = employees.invite_employees(
                work.storage, work.tenant_id, ids=[_user_id(row)], actor=ACTOR_RECONCILER
            )
        except DomainError:
            continue  # SCIM archived or deleted the user since the page was read
        work.invitations.update(invitations.outcome(r["invitation"] or "") for r in invited)
    return next_point


def _deliver(work: Work, resume_point: str | None) -> str | None:
    """Invitations not yet delivered, when their backoff is over, and ones whose sender died mid-send
    (lease over: sent again, with the same Message-ID); given up after MAX_ATTEMPTS. A batch per unit, so
    the runner checks its time box between batches even when the channel is slow; an attempted row is no
    longer due, so the next unit takes the rest."""
    rows = invitations.due(work.storage, work.tenant_id)
    for row in rows[:DELIVER_BATCH]:
        work.invitations[invitations.outcome(invitations.deliver(work.storage, work.tenant_id, row))] += 1
    return _MORE if len(rows) > DELIVER_BATCH else None


def _webhooks(work: Work, resume_point: str | None) -> str | None:
    """Change events: the outbox fanned out, deliveries whose backoff is over (shared.events.delivery)."""
    work.webhooks.update(delivery.dispatch(work.storage, work.tenant_id, seconds=WEBHOOK_SECONDS))
    # Heals the flag a race between endpoint changes left wrong (tenants.set_webhooks). The cycle's tenant
    # row decides whether to write, so an agreeing flag costs no second tenant read.
    present = bool(endpoints.rows(work.storage, work.tenant_id))
    if bool(work.tenant.get("webhooks", False)) != present:
        tenants.set_webhooks(work.storage, work.tenant_id, present)
    return None


def _purge(work: Work, resume_point: str | None) -> str | None:
    """Archived employees (SCIM tombstones included) past the tenant's retention are deleted for good."""
    cutoff = clock.iso(clock.now() - timedelta(days=work.tenant["retentionDays"]))
    rows, next_point = _user_page(work, resume_point, ["status", "archivedAt"])
    for row in rows:
        if row.get("status") != lifecycle.ARCHIVED or not row.get("archivedAt") or row["archivedAt"] >= cutoff:
            continue
        try:
            employees.delete_employee(
                work.storage, work.tenant_id, _user_id(row), actor=ACTOR_RECONCILER, action="employee.purge"
            )
        except DomainError:
            continue  # restored or already deleted since the page was read
        work.purged += 1
    return next_point


def _health(work: Work, resume_point: str | None) -> str | None:
    """No SCIM request for more than two cycles while enabled: Entra likely quarantined the job or
    the token expired. The next SCIM request clears the mark (the HTTP edge does that)."""
    tenant = work.tenant
    if not tenant["integrationEnabled"] or tenant["syncState"] == "stale":
        return None
    last = health.summary(work.storage, work.tenant_id)["lastRequest"] or tenant["tokenCreated"] or tenant["created"]
    if clock.now() - clock.parse_iso(last) > work.stale_after:
        tenants.set_stale(work.storage, work.tenant_id, True)
        audit.record(
            work.storage,
            work.tenant_id,
            ACTOR_RECONCILER,
            "integration.stale",
            Target("Tenant", work.tenant_id, tenant["name"]),
        )
        work.marked_stale = True
    return None


Phase = Callable[[Work, "str | None"], "str | None"]
PHASES: tuple[tuple[str, Phase], ...] = (
    ("journals", _journals),
    ("integrity", _integrity),
    ("invite", _invite),
    ("deliver", _deliver),
    ("purge", _purge),
    ("health", _health),
    ("webhooks", _webhooks),  # last: the events of this cycle's own changes go out with it
)
NAMES = tuple(name for name, _ in PHASES)
