"""The employee lifecycle of a provisioned user: staged -> invited (once the invitation e-mail was
accepted by the mail channel) -> active, archived from any of them.

SCIM owns `active` and existence; the product owns invitation and activation. Every status change is
a plain function of the row's fields so SCIM writes and admin actions apply the same rules.
"""

from __future__ import annotations

from typing import Any

from shared import clock
from shared.errors import Conflict

STAGED = "staged"
INVITED = "invited"
ACTIVE = "active"
ARCHIVED = "archived"
STATUSES = (STAGED, INVITED, ACTIVE, ARCHIVED)


def initial(active: bool, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fields of a user created through SCIM: staged (automatic invitation queues an invitation, and the
    employee turns invited once it is delivered). `previous` is the archived employee this userName had
    before a SCIM delete: the same employee comes back, in the status it had before archiving."""
    now = clock.iso()
    if previous:
        before = previous.get("statusBefore") or STAGED
        fields = {
            "employeeId": previous.get("employeeId"),
            "employeeSince": previous.get("employeeSince") or now,
            "invitedAt": previous.get("invitedAt"),
            "activatedAt": previous.get("activatedAt"),
        }
    else:
        before = STAGED
        fields = {"employeeSince": now, "invitedAt": None, "activatedAt": None}
    if active:
        fields.update(status=before, statusBefore=None, archivedAt=None)
    else:
        fields.update(status=ARCHIVED, statusBefore=before, archivedAt=now)
    return fields


def on_active(row: dict[str, Any], active: bool) -> dict[str, Any]:
    """Field updates when SCIM sets `active` (empty when nothing changes)."""
    archived = row.get("status") == ARCHIVED
    if not active and not archived:
        return {"status": ARCHIVED, "statusBefore": row.get("status") or STAGED, "archivedAt": clock.iso()}
    if active and archived:
        return {"status": row.get("statusBefore") or STAGED, "statusBefore": None, "archivedAt": None}
    return {}


def on_scim_delete(row: dict[str, Any]) -> dict[str, Any]:
    updates = on_active(row, False)
    updates.update(deleted=True, deletedAt=clock.iso())
    return updates


def check_invitable(row: dict[str, Any]) -> None:
    if row.get("status") not in (STAGED, INVITED):
        raise Conflict(
            f"Only staged or invited employees can be invited; {row.get('userName')} is {row.get('status')}."
        )


def delivered(row: dict[str, Any]) -> dict[str, Any]:
    """Field updates once the channel accepted the invitation: a staged employee turns invited (one
    archived meanwhile comes back as invited when restored)."""
    now = clock.iso()
    if (row.get("status") or STAGED) == STAGED:
        return {"status": INVITED, "invitedAt": now}
    if row.get("status") == ARCHIVED and (row.get("statusBefore") or STAGED) == STAGED:
        return {"statusBefore": INVITED, "invitedAt": now}
    return {}


def activate(row: dict[str, Any]) -> dict[str, Any]:
    if row.get("status") != INVITED:
        raise Conflict(f"Only invited employees can be activated; {row.get('userName')} is {row.get('status')}.")
    return {"status": ACTIVE, "activatedAt": clock.iso()}


def check_deletable(row: dict[str, Any]) -> None:
    if row.get("status") != ARCHIVED:
        raise Conflict(f"Only archived employees can be deleted; {row.get('userName')} is {row.get('status')}.")
