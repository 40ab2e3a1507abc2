"""Delivering the outbox: at least once, with backoff, pausing endpoints that keep failing.

1. Fan-out: each outbox row (shared.events.outbox) becomes one delivery row per endpoint,
   `D:<webhookId>:<the event's key>`, created in the same transaction that deletes the outbox row (same
   partition), so an event is either still in the outbox or queued for every endpoint, never half. Events
   of the tenants table are first adopted into the directory partition (copy, then delete: a crash in
   between delivers the event twice, with the same id, never zero times). Events that find no endpoint
   are dropped: a subscription hears what happens after it exists.
2. Attempts: a POST of the event's body, signed (shared.events.signing), short timeouts, no redirects, the
   response body never read. A 2xx deletes the delivery row; a crash between the 2xx and that delete
   delivers again with the same event id (receivers de-duplicate on it).
3. A failed attempt schedules the next one after BACKOFF[attempts]; after MAX_ATTEMPTS the delivery is
   `failed` (kept, with its last error: status code or error class, never the response body) until an
   admin retries it. The first failure of an endpoint ends that endpoint's turn in this run (a dead
   receiver costs one timeout per run, not one per event). PAUSE_AFTER consecutive failed attempts pause
   the endpoint: its deliveries are held, not attempted and not counted, until it is resumed.

Who runs it: reconciliation (every cycle), and the edges right after a change, within IN_REQUEST_SECONDS
and never failing the request that made the change (`after_change`). No ordering is promised between
events: receivers order by `occurred` and de-duplicate by `id`.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from shared import clock
from shared.events import endpoints
from shared.events.outbox import EVENT, body_of
from shared.events.signing import HEADER, signature
from shared.store import keys
from shared.store.client import Storage
from shared.store.errors import AlreadyExists, EtagMismatch, RowMissing
from shared.store.rows import put_document
from shared.store.table import MAX_TRANSACTION_BYTES, MAX_TRANSACTION_OPS, Entity, Op, Row, etag_of
from shared.tenants import tenant_pk

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

DELIVERY = "D:"
PENDING = "pending"
FAILED = "failed"
MAX_ATTEMPTS = 8
# Wait before attempt n+1 after n failed ones: about 33 hours from the first attempt to giving up.
BACKOFF = (
    timedelta(0),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
PAUSE_AFTER = 5  # consecutive failed attempts (any of the endpoint's deliveries) that pause an endpoint
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
IN_REQUEST_SECONDS = 2.0
# A claimed delivery is not due for this long: concurrent dispatchers (parallel SCIM requests) skip it
# instead of sending it twice; a dispatcher that dies mid-attempt delays its retry by this much.
CLAIM = timedelta(seconds=30)
_BATCH_BYTES = MAX_TRANSACTION_BYTES // 2  # fan-out transactions stay well below Azure's 4 MiB


def delivery_id(row: Entity) -> str:
    return keys.suffix(row["RowKey"], DELIVERY)


def _webhook_of(row: Entity) -> str:
    return delivery_id(row).split(":", 1)[0]


def _adopt_tenant_events(storage: Storage, tenant_id: str) -> None:
    for row in storage.tenants.query(tenant_pk(tenant_id), prefix=EVENT):
        copy = {k: v for k, v in row.items() if k != "PartitionKey"}
        try:
            storage.directory.create({"PartitionKey": tenant_id, **copy})
        except AlreadyExists:
            pass  # adopted before a crash, or by a concurrent dispatcher
        storage.tenants.delete(row["PartitionKey"], row["RowKey"])


def _delivery_row(tenant_id: str, webhook_id: str, event: Row) -> Entity:
    row: Entity = {
        "PartitionKey": tenant_id,
        "RowKey": f"{DELIVERY}{webhook_id}:{keys.suffix(event['RowKey'], EVENT)}",
        "eventId": event["eventId"],
        "type": event["type"],
        "state": PENDING,
        "attempts": 0,
        "nextAttempt": clock.iso(),
        "created": clock.iso(),
    }
    return put_document(row, body_of(event))


def _submit(storage: Storage, ops: list[Op]) -> bool:
    """One fan-out transaction; False when a concurrent dispatcher took these events first."""
    if not ops:
        return True
    try:
        storage.directory.transact(ops)
    except (AlreadyExists, RowMissing, EtagMismatch):
        return False
    return True


def fan_out(storage: Storage, tenant_id: str, webhook_ids: list[str], deadline: float) -> None:
    """Turn the tenant's outbox into delivery rows, until `deadline` (a backlog is finished by the next
    dispatch) or where a concurrent dispatcher got first."""
    _adopt_tenant_events(storage, tenant_id)
    batch: list[Op] = []
    size = 0
    for event in storage.directory.query(tenant_id, prefix=EVENT):
        if time.monotonic() >= deadline:
            break
        ops = [Op("create", _delivery_row(tenant_id, w, event)) for w in webhook_ids]
        ops.append(Op("delete", {"PartitionKey": tenant_id, "RowKey": event["RowKey"]}, etag_of(event)))
        op_size = sum(len(json.dumps(op.entity, default=str)) for op in ops)
        if batch and (len(batch) + len(ops) > MAX_TRANSACTION_OPS or size + op_size > _BATCH_BYTES):
            if not _submit(storage, batch):
                return
            batch, size = [], 0
        batch += ops
        size += op_size
    _submit(storage, batch)


def _attempt(session: requests.Session, endpoint: Row, row: Row, deadline: float) -> str | None:
    """POST one event; None on a 2xx, else the error to record (status code or error class only)."""
    remaining = deadline - time.monotonic()
    body = json.dumps(body_of(row), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        # wall time, not shared.clock: the receiver checks `t` against its own clock
        HEADER: signature(endpoint["secret"], int(time.time()), body),
    }
    timeout = (min(CONNECT_TIMEOUT, remaining), min(READ_TIMEOUT, remaining))
    import requests  # loaded on the first delivery only: keeps the cold start of every other request cheap

    try:
        # stream=True: the status line and headers are read, the body never is (no size to cap, no content
        # kept); no redirects: a 3xx is a failed delivery, the event is not sent anywhere else.
        with session.post(
            endpoint["url"], data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        ) as response:
            return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        return type(exc).__name__


def _claim(storage: Storage, tenant_id: str, row: Row) -> bool:
    """Take the delivery for this attempt (conditional on the row as read); False if another took it."""
    claim = {"PartitionKey": tenant_id, "RowKey": row["RowKey"], "nextAttempt": clock.iso(clock.now() + CLAIM)}
    try:
        storage.directory.update(claim, etag=etag_of(row), replace=False)
    except (EtagMismatch, RowMissing):
        return False
    return True


def _record_failure(storage: Storage, tenant_id: str, endpoint: Row, row: Row, error: str, outcome: Counter) -> None:
    attempts = int(row.get("attempts", 0)) + 1
    update: Entity = {"attempts": attempts, "lastAttempt": clock.iso(), "lastError": error}
    if attempts >= MAX_ATTEMPTS:
        update["state"] = FAILED
        outcome["givenUp"] += 1
    else:
        update["nextAttempt"] = clock.iso(clock.now() + BACKOFF[min(attempts, len(BACKOFF) - 1)])
        outcome["retryLater"] += 1
    try:
        storage.directory.update(
            {"PartitionKey": tenant_id, "RowKey": row["RowKey"], **update}, etag=None, replace=False
        )
    except RowMissing:
        pass  # the endpoint was removed meanwhile
    failures = int(endpoint.get("failures", 0)) + 1
    fields: Entity = {"failures": failures, "lastError": error}
    if failures >= PAUSE_AFTER and endpoint.get("state") != endpoints.PAUSED:
        fields.update(state=endpoints.PAUSED, pausedAt=clock.iso())
        outcome["paused"] += 1
    endpoint.update(fields)
    _merge_endpoint(storage, tenant_id, endpoint, fields)


def _merge_endpoint(storage: Storage, tenant_id: str, endpoint: Row, fields: Entity) -> None:
    try:
        endpoints.merge(storage, tenant_id, keys.suffix(endpoint["RowKey"], endpoints.WEBHOOK), fields)
    except RowMissing:
        pass  # removed meanwhile


def _record_success(storage: Storage, tenant_id: str, endpoint: Row, row: Row, outcome: Counter) -> None:
    storage.directory.delete(tenant_id, row["RowKey"])
    outcome["delivered"] += 1
    if int(endpoint.get("failures", 0)):  # a write only when recovering: a healthy endpoint costs none
        fields: Entity = {"failures": 0, "lastError": ""}
        endpoint.update(fields)
        _merge_endpoint(storage, tenant_id, endpoint, fields)


def dispatch(storage: Storage, tenant_id: str, *, seconds: float) -> Counter:
    """Fan out the outbox and attempt what is due, within `seconds` (an attempt never outlives them).
    Returns counts: delivered, retryLater, givenUp, paused (endpoints paused now), held (behind a pause)."""
    deadline = time.monotonic() + seconds
    by_id = {keys.suffix(r["RowKey"], endpoints.WEBHOOK): r for r in endpoints.rows(storage, tenant_id)}
    fan_out(storage, tenant_id, list(by_id), deadline)
    outcome: Counter = Counter()
    if not by_id:
        return outcome
    now = clock.iso()
    tripped: set[str] = set()  # endpoints that failed in this run: their turn is over
    import requests  # see _attempt

    with requests.Session() as session:
        session.trust_env = False  # no proxy or netrc credentials from the environment
        for row in storage.directory.query(tenant_id, prefix=DELIVERY):
            webhook_id = _webhook_of(row)
            endpoint = by_id.get(webhook_id)
            if endpoint is None:
                storage.directory.delete(tenant_id, row["RowKey"])  # its endpoint was removed
                continue
            if row.get("state") != PENDING or row.get("nextAttempt", "") > now:
                continue
            if endpoint.get("state") == endpoints.PAUSED:
                outcome["held"] += 1
                continue
            if webhook_id in tripped or deadline - time.monotonic() < 0.2:
                outcome["retryLater"] += 1
                continue
            if not _claim(storage, tenant_id, row):
                continue  # a concurrent dispatcher is sending it
            error = _attempt(session, endpoint, row, deadline)
            if error is None:
                _record_success(storage, tenant_id, endpoint, row, outcome)
            else:
                tripped.add(webhook_id)
                _record_failure(storage, tenant_id, endpoint, row, error, outcome)
    return outcome


def after_change(storage: Storage, tenant_id: str) -> None:
    """Deliver what a change just wrote, within IN_REQUEST_SECONDS; never raises (reconciliation retries).
    A tenant without endpoints costs one query and leaves its outbox to reconciliation, which drops it."""
    try:
        page, _ = storage.directory.query_page(tenant_id, prefix=endpoints.WEBHOOK, select=["RowKey"], page_size=1)
        if page:
            dispatch(storage, tenant_id, seconds=IN_REQUEST_SECONDS)
    except Exception as exc:  # delivery is best effort here; the change itself has committed
        log.warning("webhook delivery after a change failed (%s); reconciliation retries", type(exc).__name__)


def view(row: Entity) -> dict[str, Any]:
    return {
        "deliveryId": delivery_id(row),
        "webhookId": _webhook_of(row),
        "eventId": row.get("eventId"),
        "type": row.get("type"),
        "state": row.get("state"),
        "attempts": int(row.get("attempts", 0)),
        "nextAttempt": row.get("nextAttempt") if row.get("state") == PENDING else None,
        "lastAttempt": row.get("lastAttempt"),
        "lastError": row.get("lastError") or None,
        "created": row.get("created"),
    }


def rows(storage: Storage, tenant_id: str, webhook_id: str | None = None) -> list[Row]:
    prefix = f"{DELIVERY}{webhook_id}:" if webhook_id else DELIVERY
    return list(storage.directory.query(tenant_id, prefix=prefix))


def delete_rows(storage: Storage, tenant_id: str, rows_: list[Row]) -> None:
    for start in range(0, len(rows_), MAX_TRANSACTION_OPS):
        chunk = rows_[start : start + MAX_TRANSACTION_OPS]
        ops = [Op("delete", {"PartitionKey": tenant_id, "RowKey": r["RowKey"]}) for r in chunk]
        try:
            storage.directory.transact(ops)
        except RowMissing:  # one was delivered meanwhile: the rest one by one (a missing row is no error there)
            for row in chunk:
                storage.directory.delete(tenant_id, row["RowKey"])


def make_due(storage: Storage, tenant_id: str, rows_: list[Row]) -> int:
    """Pending again and due now (a retry by hand, a resumed endpoint); attempts start over."""
    fields = {"state": PENDING, "attempts": 0, "nextAttempt": clock.iso(), "lastError": ""}
    for row in rows_:
        try:
            storage.directory.update(
                {"PartitionKey": tenant_id, "RowKey": row["RowKey"], **fields}, etag=None, replace=False
            )
        except RowMissing:
            continue
    return len(rows_)
