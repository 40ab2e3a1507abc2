"""Invitation outbox: one row per employee and invitation (`O:<userId>:<invitationId>`), created in the
same transaction as the employee's "invitation queued" state and its audit event, then delivered through
the configured mail channel (shared.mail).

Delivery of one row:
1. claim: an ETag-conditional write turns it `sending` with a lease (and takes a slot of the tenant's
   send rate in the same transaction), so two instances, or a request and the timer, never both send;
2. send through the channel, with the invitation id as the channel's idempotency key (SMTP Message-ID,
   ACS Operation-Id);
3. record: the row's outcome, the employee's status (`invited` once the channel accepted the message)
   and the audit event in one transaction.
A crash between 2 and 3 leaves the row `sending`; once the lease is over, reconciliation sends it again.
That resend is the only duplicate possible, and it carries the same Message-ID / Operation-Id.

Failures retry with backoff (BACKOFF_MINUTES) by reconciliation and are given up after MAX_ATTEMPTS, or
at once when the channel refused the message itself (SMTP 5xx, ACS 4xx).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import audit, clock, lifecycle, tenants
from shared.audit import ACTOR_ADMIN, ACTOR_RECONCILER, Target
from shared.config import process_settings
from shared.errors import Invalid
from shared.events import outbox
from shared.mail import channels
from shared.mail import template as templates
from shared.mail.message import DeliveryError, Message, Sender
from shared.store import keys
from shared.store.errors import AlreadyExists, EtagMismatch
from shared.store.table import Entity, Op, Row, etag_of, with_etag

if TYPE_CHECKING:
    from shared.store.client import Storage

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"  # retrying
GIVEN_UP = "givenUp"
CANCELLED = "cancelled"  # the employee was archived, deleted or invited otherwise before it went out
OPEN = (QUEUED, SENDING, FAILED)
PENDING = "pending"  # report bucket of outcome(): still on its way

MAX_ATTEMPTS = 5
BACKOFF_MINUTES = (1, 5, 30, 120)  # wait after failed attempt 1, 2, 3, 4; the 5th failure gives up
LEASE = timedelta(minutes=5)  # far longer than one attempt can take (ATTEMPT_TIMEOUT_SECONDS per SMTP step)
ATTEMPT_TIMEOUT_SECONDS = 10.0
EXPIRES_AFTER = timedelta(days=7)
DEFAULT_RATE_PER_MINUTE = 60
MAX_RATE_PER_MINUTE = 10_000
_STATUS_DETAIL = {
    QUEUED: "invitation queued",
    SENDING: "invitation queued",
    FAILED: "invitation failed, retrying",
    GIVEN_UP: "invitation failed, given up",
}

_sender: Sender | None = None


def set_sender(sender: Sender | None) -> None:
    """Use this channel (None: the one the process settings choose, built at first use)."""
    global _sender
    _sender = sender


def sender() -> Sender:
    global _sender
    if _sender is None:
        _sender = channels.from_settings(process_settings().mail)
    return _sender


def outcome(state: str) -> str:
    return state if state in (SENT, GIVEN_UP, CANCELLED) else PENDING


def status_detail(employee: Entity) -> str | None:
    """What the admin sees beside "staged" while an invitation is on its way or failed."""
    if (employee.get("status") or lifecycle.STAGED) != lifecycle.STAGED:
        return None
    return _STATUS_DETAIL.get(employee.get("invitationState") or "")


# --- queueing -------------------------------------------------------------------------------------


def queue(tenant_id: str, user: Entity, actor: str) -> tuple[Entity, list[Op]]:
    """A new invitation for a staged user: the employee's fields and the ops (invitation row, audit event)
    to write in the same transaction as them."""
    user_id = keys.user_id(user["RowKey"])
    invitation_id = uuid.uuid4().hex
    now = clock.now()
    row: Entity = {
        "PartitionKey": tenant_id,
        "RowKey": f"{keys.OUTBOX}{user_id}:{invitation_id}",
        "invitationId": invitation_id,
        "employeeId": user.get("employeeId") or user_id,
        "userId": user_id,
        "to": user.get("email") or user["userName"],
        "state": QUEUED,
        "attempts": 0,
        "nextAttempt": clock.iso(now),
        "created": clock.iso(now),
        "expires": clock.iso(now + EXPIRES_AFTER),
    }
    fields = {"invitationId": invitation_id, "invitationState": QUEUED, "invitationError": ""}
    event = audit.event_entity(
        tenant_id,
        actor,
        "employee.invite.queued",
        Target("Employee", user_id, user.get("userName")),
        details={"invitation": invitation_id},
    )
    return fields, [Op("create", row), Op("create", event)]


def invitation_row(storage: Storage, tenant_id: str, user_id: str, invitation_id: str) -> Row | None:
    return storage.directory.get(tenant_id, f"{keys.OUTBOX}{user_id}:{invitation_id}")


# --- the tenant's template and send rate ----------------------------------------------------------


def _settings_row(storage: Storage, tenant_id: str) -> Row | None:
    return storage.directory.get(tenant_id, keys.INVITATION_SETTINGS)


def _rate_limit(row: Entity | None) -> int:
    return int(row.get("ratePerMinute", DEFAULT_RATE_PER_MINUTE)) if row is not None else DEFAULT_RATE_PER_MINUTE


def _template_of(row: Entity | None) -> templates.Template:
    if row is None:
        return templates.DEFAULT
    return templates.Template(
        subject=row["subject"], text=row["text"], html=row["html"], invitation_url=row["invitationUrl"]
    )


def get_settings(storage: Storage, tenant_id: str) -> dict[str, Any]:
    row = _settings_row(storage, tenant_id)
    return {
        **templates.to_dict(_template_of(row)),
        "ratePerMinute": _rate_limit(row),
        "default": row is None,
        "placeholders": list(templates.PLACEHOLDERS),
        "urlPlaceholders": ["publicBaseUrl", *templates.URL_PLACEHOLDERS],
    }


def set_settings(storage: Storage, tenant_id: str, data: dict[str, Any], *, reset: bool = False) -> dict[str, Any]:
    """Change fields of the template (unset ones keep their value) and the send rate; reset goes back to
    the default template."""
    current = _settings_row(storage, tenant_id)
    fields = {k: v for k, v in data.items() if k != "ratePerMinute"}
    template = templates.from_dict(fields, base=templates.DEFAULT if reset else _template_of(current))
    rate = data.get("ratePerMinute")
    if rate is None:
        rate = _rate_limit(current)
    if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= MAX_RATE_PER_MINUTE:
        raise Invalid(f"ratePerMinute must be a whole number from 1 to {MAX_RATE_PER_MINUTE}.")
    row = {
        "PartitionKey": tenant_id,
        "RowKey": keys.INVITATION_SETTINGS,
        **templates.to_dict(template),
        "ratePerMinute": rate,
    }
    storage.directory.upsert(row, replace=True)
    changed = sorted(k for k in (*fields, "ratePerMinute") if current is None or current.get(k) != row.get(k))
    audit.record(storage, tenant_id, ACTOR_ADMIN, "invitation.template", Target("Tenant", tenant_id), changed=changed)
    return get_settings(storage, tenant_id)


def _rate_op(tenant_id: str, rate: Row | None, limit: int, now: datetime) -> Op | None:
    """The write that takes one send slot of this minute, or None when the minute's slots are used."""
    window = now.strftime("%Y-%m-%dT%H:%M")
    entity: Entity = {"PartitionKey": tenant_id, "RowKey": keys.INVITATION_RATE, "window": window, "count": 1}
    if rate is None:
        return Op("create", entity)
    if rate.get("window") == window:
        if int(rate.get("count", 0)) >= limit:
            return None
        entity["count"] = int(rate["count"]) + 1
    return Op("merge", entity, etag_of(rate))


# --- delivery -------------------------------------------------------------------------------------


def _claimable(row: Entity, now: str) -> bool:
    if row.get("state") in (QUEUED, FAILED):
        return str(row.get("nextAttempt", "")) <= now
    return row.get("state") == SENDING and str(row.get("leaseUntil", "")) <= now  # its sender died


def _wanted(employee: Entity | None, row: Entity) -> bool:
    return (
        employee is not None
        and not employee.get("deleted")
        and (employee.get("status") or lifecycle.STAGED) == lifecycle.STAGED
        and employee.get("invitationId") == row["invitationId"]
    )


def _recipient(employee: Entity) -> str:
    to = str(employee.get("email") or employee.get("userName") or "")
    local, _, domain = to.rpartition("@")
    if not local or "." not in domain or any(c.isspace() or c in '<>,;"' for c in to):
        raise DeliveryError("the employee has no usable e-mail address (email or userName)", permanent=True)
    return to


def _message(storage: Storage, tenant_id: str, row: Entity, employee: Entity, template: templates.Template) -> Message:
    settings = process_settings()
    subject, text, html = templates.render(
        template,
        {
            "displayName": str(employee.get("displayName") or employee.get("userName") or ""),
            "organisation": str(tenants.get_entity(storage, tenant_id).get("name") or ""),
            "expires": str(row.get("expires", ""))[:10],
        },
        {
            "publicBaseUrl": (settings.public_base_url or "http://127.0.0.1:7071"),
            "invitationId": row["invitationId"],
            "employeeId": str(row.get("employeeId") or ""),
            "tenantId": tenant_id,
        },
    )
    return Message(
        sender=settings.mail.sender,
        to=_recipient(employee),
        subject=subject,
        text=text,
        html=html,
        message_id=row["invitationId"],
    )


def deliver(
    storage: Storage,
    tenant_id: str,
    row: Row,
    *,
    timeout: float = ATTEMPT_TIMEOUT_SECONDS,
    actor: str = ACTOR_RECONCILER,
) -> str:
    """One delivery attempt of an invitation row as read (if it is due and nobody else holds it);
    returns its state afterwards."""
    now = clock.now()
    if not _claimable(row, clock.iso(now)):
        return str(row.get("state"))
    employee = storage.directory.get(tenant_id, keys.user_key(row["userId"]))
    if not _wanted(employee, row):
        return _cancel(storage, tenant_id, row, employee)
    assert employee is not None
    settings = _settings_row(storage, tenant_id)
    error: DeliveryError | None = None
    try:
        message = _message(storage, tenant_id, row, employee, _template_of(settings))
    except DeliveryError as exc:
        message, error = None, exc
    limit = _rate_limit(settings)
    rate = _rate_op(tenant_id, storage.directory.get(tenant_id, keys.INVITATION_RATE), limit, now)
    if message is not None and rate is None:
        return _postpone(storage, tenant_id, row, now)
    claim: Entity = {
        "PartitionKey": tenant_id,
        "RowKey": row["RowKey"],
        "state": SENDING,
        "leaseUntil": clock.iso(now + LEASE),
        "attempts": int(row.get("attempts", 0)) + 1,
        "lastAttempt": clock.iso(now),
    }
    ops = [Op("merge", claim, etag_of(row))]
    if message is not None and rate is not None:
        claim.update(to=message.to, subject=message.subject, text=message.text, html=message.html)
        ops.append(rate)
    try:
        etags = storage.directory.transact(ops)
    except (EtagMismatch, AlreadyExists):
        return SENDING  # another instance or the timer claimed it (or this minute's rate slot) first
    claimed = with_etag({**row, **claim}, etags[0])
    if message is not None:
        try:
            sender().send(message, timeout)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # a channel's own bug must not leave the row claimed until the lease ends
            error = DeliveryError(f"channel error: {type(exc).__name__}")
    return _record(storage, tenant_id, claimed, error, actor)


def _postpone(storage: Storage, tenant_id: str, row: Row, now: datetime) -> str:
    """This minute's sends are used up: the row waits for the next minute (no attempt is counted)."""
    next_minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    try:
        storage.directory.update(
            {"PartitionKey": tenant_id, "RowKey": row["RowKey"], "nextAttempt": clock.iso(next_minute)},
            etag=etag_of(row),
            replace=False,
        )
    except EtagMismatch:
        return SENDING
    return str(row["state"])


def _record(storage: Storage, tenant_id: str, claimed: Row, error: DeliveryError | None, actor: str) -> str:
    """The attempt's outcome on the row, the employee and the audit log, in one transaction. The employee
    may change meanwhile (a SCIM PATCH): then it is read again, since the outcome must not be lost."""
    attempts = int(claimed["attempts"])
    update: Entity = {"PartitionKey": tenant_id, "RowKey": claimed["RowKey"], "leaseUntil": ""}
    if error is None:
        update.update(state=SENT, sentAt=clock.iso(), lastError="")
        action = "employee.invited"
    else:
        update["lastError"] = str(error)[:1000]
        if error.permanent or attempts >= MAX_ATTEMPTS:
            update["state"] = GIVEN_UP
            action = "employee.invite.givenUp"
        else:
            update["state"] = FAILED
            delay = BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1]
            update["nextAttempt"] = clock.iso(clock.now() + timedelta(minutes=delay))
            action = "employee.invite.failed"
    for _ in range(5):
        ops = [Op("merge", update, etag_of(claimed))]
        employee = storage.directory.get(tenant_id, keys.user_key(claimed["userId"]))
        if employee is not None and employee.get("invitationId") == claimed["invitationId"]:
            fields: Entity = {"invitationState": update["state"], "invitationError": update["lastError"]}
            if error is None:
                fields.update(lifecycle.delivered(employee))
            ops.append(
                Op("merge", {"PartitionKey": tenant_id, "RowKey": employee["RowKey"], **fields}, etag_of(employee))
            )
            target = Target("Employee", claimed["userId"], employee.get("userName"))
            details = {"invitation": claimed["invitationId"], "attempt": attempts}
            event = audit.event_entity(tenant_id, actor, action, target, changed=sorted(fields), details=details)
            ops.append(Op("create", event))
            # employees imports this module; its event shape is needed only here, once per outcome
            from shared.employees import event_data

            data = event_data({**employee, **fields})
            ops += outbox.change_ops(tenant_id, tenant_id, action, target, data=data)
        try:
            storage.directory.transact(ops)
            return str(update["state"])
        except EtagMismatch as exc:
            if exc.index == 0:
                return SENDING  # the lease ran out and another sender holds the row now
    return SENDING  # the employee kept changing: the lease runs out and the row is sent again


def _cancel(storage: Storage, tenant_id: str, row: Row, employee: Row | None) -> str:
    """The employee was archived, deleted or invited otherwise: this invitation is not sent. An employee
    still pointing at it is marked too, so one restored to staged can be invited afresh."""
    ops = [
        Op(
            "merge",
            {"PartitionKey": tenant_id, "RowKey": row["RowKey"], "state": CANCELLED, "leaseUntil": ""},
            etag_of(row),
        )
    ]
    if employee is not None and employee.get("invitationId") == row["invitationId"]:
        fields = {"PartitionKey": tenant_id, "RowKey": employee["RowKey"], "invitationState": CANCELLED}
        ops.append(Op("merge", fields, etag_of(employee)))
    try:
        storage.directory.transact(ops)
    except EtagMismatch:
        return SENDING  # changed meanwhile: the next attempt looks again
    return CANCELLED


def attempt(storage: Storage, tenant_id: str, user_id: str, invitation_id: str, *, timeout: float, actor: str) -> str:
    """Deliver an employee's invitation now if it is due (the first attempt, inside the request)."""
    row = invitation_row(storage, tenant_id, user_id, invitation_id)
    return deliver(storage, tenant_id, row, timeout=timeout, actor=actor) if row is not None else CANCELLED


def due(storage: Storage, tenant_id: str) -> list[Row]:
    now = clock.iso()
    return [row for row in storage.directory.query(tenant_id, prefix=keys.OUTBOX) if _claimable(row, now)]


def view(row: Entity) -> dict[str, Any]:
    return {
        "id": row.get("invitationId"),
        "employeeId": row.get("employeeId"),
        "userId": row.get("userId"),
        "to": row.get("to"),
        "state": row.get("state"),
        "attempts": int(row.get("attempts", 0)),
        "created": row.get("created"),
        "nextAttempt": row.get("nextAttempt") if row.get("state") in (QUEUED, FAILED) else None,
        "sentAt": row.get("sentAt"),
        "expires": row.get("expires"),
        "lastError": row.get("lastError") or None,
        "subject": row.get("subject"),
        "text": row.get("text"),
        "html": row.get("html"),
    }


def list_outbox(storage: Storage, tenant_id: str, *, state: str | None = None) -> list[dict[str, Any]]:
    """Every invitation with its delivery state and, once an attempt built it, its content."""
    rows = storage.directory.query(tenant_id, prefix=keys.OUTBOX)
    return [view(row) for row in rows if state is None or row.get("state") == state]
