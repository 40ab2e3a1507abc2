"""Cycle reports: what SCIM changed since the previous report (from the audit log), the SCIM errors
returned (from the health counters), stored as `C:<inverted time>` rows next to the tenant, newest first."""

from __future__ import annotations

from collections import Counter
from typing import Any

from shared import audit, clock, health
from shared.store.client import Storage
from shared.store.keys import prefix_range
from shared.store.rows import get_document, put_document
from shared.tenants import tenant_pk

REPORT = "C:"
_MAX_MS = 10**13
_HOUR = len("YYYY-MM-DDTHH")


def scim_activity(storage: Storage, tenant_id: str, since: str | None) -> dict[str, int]:
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


def scim_errors(storage: Storage, tenant_id: str, since: str | None) -> int:
    """Errors are counted per hour, so the hour the previous report fell in is counted by both."""
    low, high = prefix_range(health.HEALTH)
    if since:
        low = health.HEALTH + since[:_HOUR]
    rows = storage.tenants.query(tenant_pk(tenant_id), low=low, high=high, select=["errors"])
    return sum(int(row.get("errors") or 0) for row in rows)


def store(storage: Storage, tenant_id: str, report: dict[str, Any]) -> None:
    ms = int(clock.parse_iso(report["finished"]).timestamp() * 1000)
    row = {"PartitionKey": tenant_pk(tenant_id), "RowKey": f"{REPORT}{_MAX_MS - ms:013d}"}
    storage.tenants.upsert(put_document(row, report), replace=True)


def list_reports(storage: Storage, tenant_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """Newest first."""
    reports: list[dict[str, Any]] = []
    for row in storage.tenants.query(tenant_pk(tenant_id), prefix=REPORT, page_size=limit):
        reports.append(get_document(row))
        if len(reports) == limit:
            break
    return reports
