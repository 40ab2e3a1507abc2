"""Audit log: one event per SCIM mutation and admin action, newest first.

Events live in the tenant's directory partition so that a SCIM change and its event are written in the
same entity-group transaction (the change is never visible without its event). Values are never
recorded, only the names of changed attributes.

Invitation actions (shared.invitations, each in the transaction of the status change it records):
`employee.invite.queued` (staged, invitation queued), `employee.invited` (the mail channel accepted the
invitation: the employee is invited), `employee.invite.failed` (retrying), `employee.invite.givenUp`,
`employee.invite.retry` (the admin's retry); `invitation.template` (template or send rate changed).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from shared import clock
from shared.errors import Invalid
from shared.store.client import Storage
from shared.store.keys import AUDIT, prefix_range
from shared.store.table import Entity

ACTOR_SCIM = "scim"
ACTOR_ADMIN = "admin"
ACTOR_RECONCILER = "reconciler"

_MAX_MS = 10**13


@dataclass(frozen=True)
class Target:
    type: str  # User | Group | Employee | Tenant | Token | Membership
    id: str
    name: str | None = None


def event_entity(
    tenant_id: str,
    actor: str,
    action: str,
    target: Target,
    changed: list[str] | None = None,
    details: dict[str, Any] | None = None,
) -> Entity:
    moment = clock.now()
    ms = int(moment.timestamp() * 1000)
    # Inverted time first: a plain ascending RowKey scan lists the newest event first.
    row_key = f"{AUDIT}{_MAX_MS - ms:013d}:{secrets.token_hex(4)}"
    entity: Entity = {
        "PartitionKey": tenant_id,
        "RowKey": row_key,
        "time": clock.iso(moment),
        "actor": actor,
        "action": action,
        "targetType": target.type,
        "targetId": target.id,
        "targetName": (target.name or "")[:1024],
        "changed": ",".join(changed or [])[:16_000],
    }
    if details:
        entity["details"] = ",".join(f"{k}={v}" for k, v in details.items())[:16_000]
    return entity


def record(storage: Storage, tenant_id: str, actor: str, action: str, target: Target, **kwargs: Any) -> None:
    """Write one event on its own (admin actions, which touch rows outside the directory partition)."""
    storage.directory.create(event_entity(tenant_id, actor, action, target, **kwargs))


def to_event(entity: Entity) -> dict[str, Any]:
    event = {
        "time": entity["time"],
        "actor": entity["actor"],
        "action": entity["action"],
        "targetType": entity["targetType"],
        "targetId": entity["targetId"],
        "targetName": entity.get("targetName") or None,
        "changed": [c for c in (entity.get("changed") or "").split(",") if c],
    }
    if entity.get("details"):
        event["details"] = dict(part.split("=", 1) for part in entity["details"].split(",") if "=" in part)
    return event


def _epoch_ms(text: str, name: str) -> int:
    # datetime's own messages ("offset must be a timedelta strictly between ...") speak Python, not the API.
    try:
        return int(clock.parse_iso(text).timestamp() * 1000)
    except (ValueError, OverflowError):
        raise Invalid(f"{name} must be an ISO 8601 time such as 2024-01-31T12:00:00Z.") from None


def list_events(
    storage: Storage,
    tenant_id: str,
    *,
    limit: int = 100,
    since: str | None = None,
    until: str | None = None,
    action: str | None = None,
    target_id: str | None = None,
    continuation: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first. since/until are ISO times (inclusive); action matches exactly or as a dotted prefix
    ("user" matches "user.create"). The continuation is the RowKey of the last event returned."""
    low, high = prefix_range(AUDIT)
    if until:
        low = f"{AUDIT}{_MAX_MS - _epoch_ms(until, 'until'):013d}"
    if since:
        high = f"{AUDIT}{_MAX_MS - _epoch_ms(since, 'since') + 1:013d}"
    if continuation:
        if not continuation.startswith(AUDIT):
            raise Invalid("continuation is not a token this API returned.")
        low = max(low, continuation)
    events: list[dict[str, Any]] = []
    for entity in storage.directory.query(tenant_id, low=low, high=high):
        if entity["RowKey"] == continuation:
            continue
        if action and not (entity["action"] == action or entity["action"].startswith(action.rstrip(".") + ".")):
            continue
        if target_id and entity["targetId"] != target_id:
            continue
        events.append(to_event(entity))
        if len(events) == limit:
            return events, entity["RowKey"]
    return events, None
