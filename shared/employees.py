"""Admin operations on employees: list, invite, retry an invitation, activate, delete archived. Status rules
live in shared.lifecycle, delivery in shared.invitations; every operation writes its audit event in the
same transaction as the change."""

from __future__ import annotations

import time
from typing import Any

from shared import audit, clock, invitations, tally
from shared.audit import ACTOR_ADMIN, Target
from shared.errors import Conflict, Invalid, NotFound
from shared.events import outbox
from shared.lifecycle import STAGED, STATUSES, activate, check_deletable, check_invitable
from shared.membership import MemberWork
from shared.membership import apply as apply_members
from shared.store import keys
from shared.store.client import Storage
from shared.store.errors import EtagMismatch
from shared.store.parallel import map_parallel
from shared.store.table import Entity, Op, Row, etag_of


class EmployeeNotFound(NotFound):
    pass


def view(row: Entity) -> dict[str, Any]:
    return {
        "id": keys.user_id(row["RowKey"]),
        "employeeId": row.get("employeeId") or keys.user_id(row["RowKey"]),
        "userName": row.get("userName"),
        "displayName": row.get("displayName"),
        "email": row.get("email"),
        "status": row.get("status") or STAGED,
        "scimActive": bool(row.get("active", True)) and not row.get("deleted"),
        "scimDeleted": bool(row.get("deleted", False)),
        "employeeSince": row.get("employeeSince"),
        "invitedAt": row.get("invitedAt"),
        "activatedAt": row.get("activatedAt"),
        "archivedAt": row.get("archivedAt"),
        "invitationState": row.get("invitationState") or None,
        "invitationError": row.get("invitationError") or None,
        "statusDetail": invitations.status_detail(row),
    }


def event_data(row: Entity) -> dict[str, Any]:
    """What a change event says of an employee (shared.events.outbox): ids, userName and status only."""
    full = view(row)
    return {k: full[k] for k in ("id", "employeeId", "userName", "status")}


# A filtered page stops after reading this many rows even if it found fewer than `limit` (its continuation
# then resumes the scan): a search that matches little never reads a 10,000-employee tenant in one request.
SCAN_BUDGET = 2000


def _matches(row: Entity, status: str | None, needle: str | None) -> bool:
    if status is not None and (row.get("status") or STAGED) != status:
        return False
    if needle is None:
        return True
    return any(needle in (row.get(name) or "").casefold() for name in ("displayName", "userName", "email"))


def list_employees(
    storage: Storage,
    tenant_id: str,
    *,
    status: str | None = None,
    search: str | None = None,
    limit: int = 100,
    continuation: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Employees by SCIM id order, optionally of one status and whose name or email contains `search`
    (case-insensitive). The continuation is the last id read; it is set whenever more rows may follow."""
    if status is not None and status not in STATUSES:
        raise Invalid(f"Unknown status {status!r}; use one of {', '.join(STATUSES)}.")
    if not 1 <= limit <= 1000:
        raise Invalid("limit must be between 1 and 1000.")
    if continuation is not None and not keys.is_resource_id(continuation):
        raise Invalid("continuation is not a token this API returned.")
    needle = search.strip().casefold() if search and search.strip() else None
    low = keys.user_key(continuation) + "\x7f" if continuation else keys.USER
    high = keys.prefix_range(keys.USER)[1]
    out: list[dict[str, Any]] = []
    read = 0
    page_size = limit if status is None and needle is None else 1000  # a filter skips rows: read more at once
    for row in storage.directory.query(tenant_id, low=low, high=high, page_size=page_size):
        read += 1
        if _matches(row, status, needle):
            out.append(view(row))
            if len(out) == limit:
                return out, out[-1]["id"]
        if read >= SCAN_BUDGET:
            return out, keys.user_id(row["RowKey"])
    return out, None


def group_names(storage: Storage, tenant_id: str, user_ids: list[str]) -> dict[str, list[str]]:
    """The display names of each user's groups: what a page of employees shows. A page's ids are
    consecutive in id order, so their member-of rows (`R:<user>:<group>`) lie in one key range: one
    keys-only query (more pages only for many memberships), then one point read per distinct group."""
    if not user_ids:
        return {}
    wanted = set(user_ids)
    low = keys.member_of_prefix(min(user_ids))
    high = keys.prefix_range(keys.member_of_prefix(max(user_ids)))[1]
    group_ids: dict[str, list[str]] = {u: [] for u in user_ids}
    for row in storage.directory.query(tenant_id, low=low, high=high, select=["RowKey"], page_size=1000):
        group, user = keys.member_pair(row["RowKey"])
        if user in wanted:
            group_ids[user].append(group)
    distinct = sorted({g for ids in group_ids.values() for g in ids})
    rows = map_parallel(lambda g: storage.directory.get(tenant_id, keys.group_key(g)), distinct)
    names = {g: row.get("displayName") or g for g, row in zip(distinct, rows, strict=True) if row is not None}
    return {u: sorted(names[g] for g in ids if g in names) for u, ids in group_ids.items()}


def _get(storage: Storage, tenant_id: str, user_id: str) -> Row:
    row = storage.directory.get(tenant_id, keys.user_key(user_id)) if keys.is_resource_id(user_id) else None
    if row is None:
        raise EmployeeNotFound(f"Employee {user_id!r} not found.")
    return row


def _transition(
    storage: Storage,
    tenant_id: str,
    row: Entity,
    updates: dict[str, Any],
    extra: list[Op],
    *,
    action: str | None = None,
    actor: str = ACTOR_ADMIN,
) -> Entity:
    """Merge updates into the employee with extra ops and (when action is given) its audit event; extra
    may carry its own event instead."""
    merged = {"PartitionKey": tenant_id, "RowKey": row["RowKey"], **updates}
    target = Target("Employee", keys.user_id(row["RowKey"]), row.get("userName"))
    ops = [Op("merge", merged, etag_of(row))] + extra
    if action is not None:
        ops.append(Op("create", audit.event_entity(tenant_id, actor, action, target, changed=sorted(updates))))
        ops += outbox.change_ops(tenant_id, tenant_id, action, target, data=event_data({**row, **updates}))
    try:
        storage.directory.transact(ops)
    except EtagMismatch as exc:
        raise Conflict("The employee changed while this ran; retry.") from exc
    return {**row, **updates}


# "Invite all staged" above this many needs the count confirmed: a mis-scoped Entra assignment can stage
# a whole company, and one click would mail all of it.
CONFIRM_ABOVE = 500
# The first delivery attempts run inside the request that queued them, within this time; whatever is
# left stays queued for reconciliation.
REQUEST_DELIVERY_SECONDS = 10.0


def _needs_invitation(row: Entity) -> bool:
    """Staged with no invitation on its way (none yet, or the last one was given up or cancelled)."""
    return (row.get("status") or STAGED) == STAGED and row.get("invitationState") not in invitations.OPEN


def invite_employees(
    storage: Storage,
    tenant_id: str,
    *,
    ids: list[str] | None = None,
    all_staged: bool = False,
    confirm_count: int | None = None,
    actor: str = ACTOR_ADMIN,
) -> list[dict[str, Any]]:
    """Queue an invitation for each chosen employee (or every staged one) that has none on its way, then
    try to deliver them within REQUEST_DELIVERY_SECONDS. Idempotent: a second click finds the invitation
    of the first and queues nothing; an employee already invited is left as it is."""
    if all_staged:
        rows = [r for r in storage.directory.query(tenant_id, prefix=keys.USER) if _needs_invitation(r)]
        if len(rows) > CONFIRM_ABOVE and confirm_count != len(rows):
            raise Conflict(
                f"{len(rows)} staged employees would be invited (more than {CONFIRM_ABOVE}); "
                f"confirm with confirmCount {len(rows)} (CLI: --confirm-count {len(rows)})."
            )
    elif ids:
        rows = [_get(storage, tenant_id, i) for i in ids]
        for row in rows:
            check_invitable(row)  # validate all before changing any
    else:
        raise Invalid("Name employees to invite (ids) or choose all staged employees.")
    pending: list[tuple[str, str]] = []
    for row in rows:
        user_id = keys.user_id(row["RowKey"])
        if _needs_invitation(row):
            fields, ops = invitations.queue(tenant_id, row, actor)
            _transition(storage, tenant_id, row, fields, ops)
            pending.append((user_id, fields["invitationId"]))
        elif (row.get("status") or STAGED) == STAGED:
            pending.append((user_id, row["invitationId"]))  # a duplicate click: the same invitation
    return _deliver_now(storage, tenant_id, pending, actor) + [
        {**view(r), "invitation": r.get("invitationState") or None}
        for r in rows
        if (r.get("status") or STAGED) != STAGED
    ]


def _deliver_now(storage: Storage, tenant_id: str, pending: list[tuple[str, str]], actor: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + REQUEST_DELIVERY_SECONDS
    results = []
    for user_id, invitation_id in pending:
        left = deadline - time.monotonic()
        state = invitations.QUEUED
        if left > 0:
            timeout = min(left, invitations.ATTEMPT_TIMEOUT_SECONDS)
            state = invitations.attempt(storage, tenant_id, user_id, invitation_id, timeout=timeout, actor=actor)
        results.append({**view(_get(storage, tenant_id, user_id)), "invitation": state})
    return results


def retry_invitation(storage: Storage, tenant_id: str, user_id: str) -> dict[str, Any]:
    """The admin's retry of a failed or given-up invitation: it is due again now with a fresh attempt
    count, and the first attempt runs inside this request."""
    row = _get(storage, tenant_id, user_id)
    if (row.get("status") or STAGED) != STAGED or row.get("invitationState") not in (
        invitations.FAILED,
        invitations.GIVEN_UP,
    ):
        raise Conflict(f"{row.get('userName')} has no failed invitation to retry.")
    invitation = invitations.invitation_row(storage, tenant_id, user_id, row["invitationId"])
    if invitation is None:
        raise Conflict(f"{row.get('userName')} has no failed invitation to retry.")
    reset = {
        "PartitionKey": tenant_id,
        "RowKey": invitation["RowKey"],
        "state": invitations.QUEUED,
        "attempts": 0,
        "nextAttempt": clock.iso(),
    }
    _transition(
        storage,
        tenant_id,
        row,
        {"invitationState": invitations.QUEUED},
        [Op("merge", reset, etag_of(invitation))],
        action="employee.invite.retry",
    )
    return _deliver_now(storage, tenant_id, [(user_id, row["invitationId"])], ACTOR_ADMIN)[0]


def activate_employee(storage: Storage, tenant_id: str, user_id: str) -> dict[str, Any]:
    row = _get(storage, tenant_id, user_id)
    return view(_transition(storage, tenant_id, row, activate(row), [], action="employee.activate"))


def delete_employee(
    storage: Storage, tenant_id: str, user_id: str, *, actor: str = ACTOR_ADMIN, action: str = "employee.delete"
) -> dict[str, Any]:
    """Delete an archived employee for good, with whatever SCIM still holds of it (admins; retention purge)."""
    row = _get(storage, tenant_id, user_id)
    check_deletable(row)
    ops = [Op("delete", {"PartitionKey": tenant_id, "RowKey": row["RowKey"]}, etag_of(row))]
    index = storage.directory.get(tenant_id, keys.username_key(row["userName"]))
    if index is not None and index.get("ref") == user_id:
        ops.append(Op("delete", {"PartitionKey": tenant_id, "RowKey": index["RowKey"]}, etag_of(index)))
    if row.get("externalId") is not None and not row.get("deleted"):
        ops.append(
            Op(
                "delete",
                {
                    "PartitionKey": tenant_id,
                    "RowKey": keys.external_id_key(keys.USER_EXTERNAL_ID_INDEX, row["externalId"], user_id),
                },
            )
        )
    target = Target("Employee", user_id, row.get("userName"))
    ops.append(Op("create", audit.event_entity(tenant_id, actor, action, target)))
    ops += outbox.change_ops(tenant_id, tenant_id, action, target, data=event_data(row))
    if not row.get("deleted"):  # still live for SCIM (archived, not SCIM-deleted): one fewer
        ops.append(tally.change_op(tenant_id, keys.USER, user_id, tally.DELETED))
    try:
        apply_members(storage, tenant_id, ops, MemberWork(purge_user=user_id))
    except EtagMismatch as exc:
        raise Conflict("The employee changed while this ran; retry.") from exc
    return {**view(row), "deleted": True}


def count_with_status(storage: Storage, tenant_id: str, status: str) -> int:
    """How many employees have this status (the "Invite all staged" confirmation): reads only the status
    column, 1,000 rows per call."""
    if status not in STATUSES:
        raise Invalid(f"Unknown status {status!r}; use one of {', '.join(STATUSES)}.")
    rows = storage.directory.query(tenant_id, prefix=keys.USER, select=["status"], page_size=1000)
    return sum(1 for row in rows if (row.get("status") or STAGED) == status)
