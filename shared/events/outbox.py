"""The event outbox: an event is a row written in the same entity-group transaction as the change it
reports, so a change never commits without its event and a failed change writes none.

Why rows of their own and not the audit rows with a per-endpoint cursor: audit RowKeys are minted before
the transaction commits, so two requests can commit out of key order and a cursor that moved past the
later key would skip the earlier one. Outbox rows are instead consumed (deleted) once fanned out, so the
dispatcher only ever asks "what is left", never "what came after".

Where the rows live: SCIM and employee changes write to the tenant's directory partition. Integration and
token changes write the tenant row in the tenants table (`T:<tenantId>`), so their events go into that
partition, in that transaction; the dispatcher adopts them into the directory partition before fanning
out. One event row per transaction, never one per member: a membership change names the members it
added and removed inside its one event (capped, with the full counts).

RowKey `E:<epoch ms, 13 digits>.<position in the change>:<event id>`: a range query reads them roughly in
commit order. The event id is minted here and travels unchanged through every retry, so receivers
de-duplicate on it.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared import clock
from shared.audit import Target
from shared.store.rows import get_document, put_document
from shared.store.table import Entity, Op

EVENT = "E:"
MAX_IDS = 1000  # member ids listed per direction in one membership.changed event (counts are always full)

EMPLOYEE_STAGED = "employee.staged"
EMPLOYEE_INVITED = "employee.invited"
EMPLOYEE_ACTIVATED = "employee.activated"
EMPLOYEE_ARCHIVED = "employee.archived"
EMPLOYEE_RESTORED = "employee.restored"
EMPLOYEE_DELETED = "employee.deleted"
GROUP_CREATED = "group.created"
GROUP_RENAMED = "group.renamed"
GROUP_DELETED = "group.deleted"
MEMBERSHIP_CHANGED = "membership.changed"
INTEGRATION_ENABLED = "integration.enabled"
INTEGRATION_DISABLED = "integration.disabled"
TOKEN_ROTATED = "token.rotated"
TYPES = (
    EMPLOYEE_STAGED,
    EMPLOYEE_INVITED,
    EMPLOYEE_ACTIVATED,
    EMPLOYEE_ARCHIVED,
    EMPLOYEE_RESTORED,
    EMPLOYEE_DELETED,
    GROUP_CREATED,
    GROUP_RENAMED,
    GROUP_DELETED,
    MEMBERSHIP_CHANGED,
    INTEGRATION_ENABLED,
    INTEGRATION_DISABLED,
    TOKEN_ROTATED,
)

# Audit action -> the event it emits. Group updates are decided by what changed (see _types).
# `employee.invite` is today's admin invite; `employee.invited` is the delivery-confirmed invitation.
_BY_ACTION = {
    "user.create": EMPLOYEE_STAGED,
    "user.restore": EMPLOYEE_RESTORED,  # a SCIM create of a userName whose archived employee comes back
    "user.enable": EMPLOYEE_RESTORED,
    "user.disable": EMPLOYEE_ARCHIVED,
    "user.delete": EMPLOYEE_ARCHIVED,  # SCIM delete archives; the admin's delete is employee.deleted
    "employee.invited": EMPLOYEE_INVITED,
    "employee.activate": EMPLOYEE_ACTIVATED,
    "employee.delete": EMPLOYEE_DELETED,
    "employee.purge": EMPLOYEE_DELETED,  # retention: the same deletion, by reconciliation
    "group.create": GROUP_CREATED,
    "group.delete": GROUP_DELETED,
    "integration.enable": INTEGRATION_ENABLED,
    "integration.disable": INTEGRATION_DISABLED,
    "token.rotate": TOKEN_ROTATED,
}


def _types(action: str, changed: list[str], members: bool) -> list[str]:
    if action == "group.update":
        return ([GROUP_RENAMED] if "displayName" in changed else []) + ([MEMBERSHIP_CHANGED] if members else [])
    first = _BY_ACTION.get(action)
    if first is None:
        return []
    return [first] + ([MEMBERSHIP_CHANGED] if action == "group.create" and members else [])


def membership_data(added: list[str], removed: list[str]) -> dict[str, Any]:
    return {
        "added": added[:MAX_IDS],
        "removed": removed[:MAX_IDS],
        "addedCount": len(added),
        "removedCount": len(removed),
    }


def _data(event_type: str, target: Target, data: dict[str, Any]) -> dict[str, Any]:
    if event_type.startswith("employee."):
        return {"id": target.id, "userName": target.name, **data}
    if event_type.startswith("group."):
        return {"id": target.id, "displayName": target.name}
    if event_type == MEMBERSHIP_CHANGED:
        return {"groupId": target.id, "displayName": target.name, **data}
    return {}  # integration and token events: the tenant id and the type say it all (never a token)


def change_ops(
    partition: str,
    tenant_id: str,
    action: str,
    target: Target,
    *,
    changed: list[str] | None = None,
    data: dict[str, Any] | None = None,
) -> list[Op]:
    """The outbox rows of one audited change (none for actions no subscriber hears about), to append to
    the change's transaction in `partition`. `data` adds fields: an employee's status, membership lists."""
    data = data or {}
    occurred = clock.now()
    ops = []
    for position, event_type in enumerate(_types(action, changed or [], "added" in data)):
        event_id = uuid.uuid4().hex
        body = {
            "id": event_id,
            "type": event_type,
            "tenantId": tenant_id,
            "occurred": clock.iso(occurred),
            "data": _data(event_type, target, data if event_type != GROUP_CREATED else {}),
        }
        row: Entity = {
            "PartitionKey": partition,
            # the position keeps a change's own events in order (group.created before its members)
            "RowKey": f"{EVENT}{int(occurred.timestamp() * 1000):013d}.{position}:{event_id}",
            "eventId": event_id,
            "type": event_type,
        }
        ops.append(Op("create", put_document(row, body)))
    return ops


def body_of(row: Entity) -> dict[str, Any]:
    return get_document(row)
