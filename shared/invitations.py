"""Invitation outbox: each invitation is a row (`O:<employeeId>:<time>`) written in the same transaction
as the status change, then delivered through a Sender. Failed deliveries are retried with backoff by
reconciliation and given up after MAX_ATTEMPTS (visible to the admin as `givenUp`)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from shared import clock
from shared.store import keys
from shared.store.table import Entity, Op

if TYPE_CHECKING:
    from shared.store.client import Storage

PENDING = "pending"
SENT = "sent"
GIVEN_UP = "givenUp"
MAX_ATTEMPTS = 5
_BACKOFF_MINUTES = (0, 5, 30, 120, 480)


class Sender(Protocol):
    """Delivers one invitation message; raises on failure. A real e-mail provider implements this."""

    def send(self, to: str, subject: str, body: str) -> None: ...


class RecordingSender:
    """The default: no e-mail leaves the machine; the outbox row itself is the record of the message."""

    def send(self, to: str, subject: str, body: str) -> None:
        return None


_sender: Sender = RecordingSender()


def set_sender(sender: Sender) -> None:
    global _sender
    _sender = sender


def queue_ops(tenant_id: str, user: Entity) -> list[Op]:
    row: Entity = {
        "PartitionKey": tenant_id,
        "RowKey": f"{keys.OUTBOX}{clock.iso()}:{secrets.token_hex(4)}",
        "employeeId": user.get("employeeId"),
        "userId": keys.user_id(user["RowKey"]),
        "to": user.get("email") or user["userName"],
        "state": PENDING,
        "attempts": 0,
        "nextAttempt": clock.iso(),
        "created": clock.iso(),
    }
    return [Op("create", row)]


def _message(row: Entity) -> tuple[str, str]:
    return "You're invited", f"Your organisation invited {row['to']} to join. Open the link to activate your account."


def deliver(storage: Storage, tenant_id: str, row: Entity) -> str:
    """Try one delivery; returns the row's new state."""
    attempts = int(row.get("attempts", 0)) + 1
    update: Entity = {
        "PartitionKey": tenant_id,
        "RowKey": row["RowKey"],
        "attempts": attempts,
        "lastAttempt": clock.iso(),
    }
    try:
        subject, body = _message(row)
        _sender.send(row["to"], subject, body)
        update.update(state=SENT, sentAt=clock.iso(), lastError="")
    except Exception as exc:  # a provider's failure of any kind is recorded and retried, never fatal
        update["lastError"] = f"{type(exc).__name__}: {exc}"[:1000]
        if attempts >= MAX_ATTEMPTS:
            update["state"] = GIVEN_UP
        else:
            delay = _BACKOFF_MINUTES[min(attempts, len(_BACKOFF_MINUTES) - 1)]
            update["nextAttempt"] = clock.iso(clock.now() + timedelta(minutes=delay))
    storage.directory.upsert(update)
    return str(update.get("state", PENDING))


def due(storage: Storage, tenant_id: str) -> list[Entity]:
    now = clock.iso()
    return [
        row
        for row in storage.directory.query(tenant_id, prefix=keys.OUTBOX)
        if row.get("state") == PENDING and row.get("nextAttempt", "") <= now
    ]


def view(row: Entity) -> dict[str, Any]:
    return {
        "id": keys.suffix(row["RowKey"], keys.OUTBOX),
        "employeeId": row.get("employeeId"),
        "userId": row.get("userId"),
        "to": row.get("to"),
        "state": row.get("state"),
        "attempts": int(row.get("attempts", 0)),
        "created": row.get("created"),
        "sentAt": row.get("sentAt"),
        "lastError": row.get("lastError") or None,
    }


def list_outbox(storage: Storage, tenant_id: str) -> list[dict[str, Any]]:
    return [view(row) for row in storage.directory.query(tenant_id, prefix=keys.OUTBOX)]
