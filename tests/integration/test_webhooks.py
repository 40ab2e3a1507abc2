"""Change events over Azurite, delivered to a loopback receiver that checks every signature with the
documented verify(): the outbox commits with the change, survives crashes, retries with backoff, pauses
endpoints that keep failing, and never crosses tenants."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared import employees, groups, tenants, users
from shared.events import delivery, outbox
from shared.events import service as webhooks
from shared.scim.errors import ScimError
from shared.store.table import MAX_TRANSACTION_OPS
from tests.integration.conftest import make_scope
from tests.support.crash import Crash, crash_after

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _subscribe(storage, receiver, tenant_id: str, path: str = "/hook") -> str:
    added = webhooks.add(storage, tenant_id, receiver.url(path))
    receiver.secrets[path] = added["secret"]
    return added["webhookId"]


def _dispatch(storage, tenant_id: str):
    return delivery.dispatch(storage, tenant_id, seconds=30)


def _outbox_rows(storage, tenant_id: str) -> list:
    return list(storage.directory.query(tenant_id, prefix=outbox.EVENT)) + list(
        storage.tenants.query(tenants.tenant_pk(tenant_id), prefix=outbox.EVENT)
    )


def _member_patch(op: str, user_ids: list[str]) -> dict:
    return {
        "schemas": [PATCH_OP],
        "Operations": [{"op": op, "path": "members", "value": [{"value": u} for u in user_ids]}],
    }


def test_a_failed_change_writes_no_event(storage, tenant, scope):
    users.create_user(scope, {"userName": "taken@example.com"})
    before = len(_outbox_rows(storage, tenant["tenantId"]))
    with pytest.raises(ScimError):
        users.create_user(scope, {"userName": "TAKEN@example.com"})  # 409: the transaction fails whole
    with pytest.raises(ScimError):
        groups.create_group(scope, {"displayName": "g", "members": [{"value": "0" * 32}]})  # 400 before writing
    assert len(_outbox_rows(storage, tenant["tenantId"])) == before == 1


def test_a_change_committed_without_delivery_is_delivered_by_the_next_dispatch(storage, tenant, scope, receiver):
    """What a crash right after the change leaves: the event row, committed with it. Nothing is lost."""
    _subscribe(storage, receiver, tenant["tenantId"])
    user = users.create_user(scope, {"userName": "later@example.com"})  # no dispatch ran (the process "died")
    assert receiver.received == []
    assert _dispatch(storage, tenant["tenantId"])["delivered"] == 1
    [event] = receiver.events("/hook")
    assert event["type"] == "employee.staged" and event["data"]["id"] == user["id"]
    assert event["tenantId"] == tenant["tenantId"] and event["data"]["status"] == "staged"
    assert _outbox_rows(storage, tenant["tenantId"]) == [] and delivery.rows(storage, tenant["tenantId"]) == []


@pytest.mark.parametrize("allowed", [0, 1, 2, 3, 4, 5])
def test_a_crash_anywhere_in_delivery_loses_nothing_and_repeats_the_same_id(
    storage, tenant, scope, receiver, frozen, allowed
):
    """Writes of a dispatch: the token event's adoption (create, delete), the fan-out, then per delivery a
    claim and, after the 2xx, the row's delete. Crashing at any of them and dispatching again (once a
    dead attempt's claim has run out) delivers every event; a repeat carries the same id."""
    tid = tenant["tenantId"]
    _subscribe(storage, receiver, tid)
    users.create_user(scope, {"userName": "crash@example.com"})
    tenants.rotate_token(storage, tid)
    with crash_after(storage, allowed), pytest.raises(Crash):
        _dispatch(storage, tid)
    frozen["now"] += delivery.CLAIM
    _dispatch(storage, tid)
    events = receiver.events("/hook")
    assert {e["type"] for e in events} == {"employee.staged", "token.rotated"}
    by_id: dict[str, set[str]] = {}
    for event in events:
        by_id.setdefault(event["id"], set()).add(event["type"])
    assert len(by_id) == 2 and all(len(types) == 1 for types in by_id.values())
    assert _outbox_rows(storage, tid) == [] and delivery.rows(storage, tid) == []


def test_a_crash_after_the_receiver_acknowledged_delivers_again_with_the_same_id(
    storage, tenant, scope, receiver, frozen
):
    tid = tenant["tenantId"]
    _subscribe(storage, receiver, tid)
    users.create_user(scope, {"userName": "twice@example.com"})
    with crash_after(storage, 2), pytest.raises(Crash):  # fan-out and claim commit; the delivered row's delete dies
        _dispatch(storage, tid)
    _dispatch(storage, tid)
    assert len(receiver.events("/hook")) == 1  # claimed by the attempt that died: not due again at once
    frozen["now"] += delivery.CLAIM
    _dispatch(storage, tid)
    first, second = receiver.events("/hook")
    assert first == second


def test_big_membership_change_is_one_event_with_every_member(storage, tenant, scope, receiver):
    """More members than one transaction holds: the change is chunked, its event is still one row."""
    tid = tenant["tenantId"]
    members = [users.create_user(scope, {"userName": f"m{i}@example.com"})["id"] for i in range(MAX_TRANSACTION_OPS)]
    group = groups.create_group(scope, {"displayName": "Everyone"})
    _subscribe(storage, receiver, tid)
    groups.patch_group(scope, group["id"], _member_patch("add", members))
    groups.patch_group(scope, group["id"], _member_patch("remove", members[:3]))
    _dispatch(storage, tid)
    changes = [e for e in receiver.events("/hook") if e["type"] == "membership.changed"]
    assert [(sorted(c["data"]["added"]), c["data"]["addedCount"]) for c in changes][0] == (sorted(members), 100)
    assert sorted(changes[1]["data"]["removed"]) == sorted(members[:3]) and changes[1]["data"]["removedCount"] == 3


def test_failing_receiver_backs_off_then_pauses_and_resume_delivers(
    storage, tenant, scope, receiver, frozen, monkeypatch
):
    tid = tenant["tenantId"]
    monkeypatch.setattr(delivery, "READ_TIMEOUT", 0.5)
    receiver.hang_seconds = 1.5
    webhook_id = _subscribe(storage, receiver, tid)
    receiver.answers["/hook"] = [503, 400, "hang", 500, 302, 500]
    users.create_user(scope, {"userName": "flaky@example.com"})
    errors = []
    for attempt in range(1, delivery.PAUSE_AFTER + 1):
        outcome = _dispatch(storage, tid)
        assert len(receiver.attempts("/hook")) == attempt
        assert _dispatch(storage, tid)["retryLater"] == 0 and len(receiver.attempts("/hook")) == attempt  # not due
        [row] = webhooks.deliveries(storage, tid, failed=True)
        errors.append(row["lastError"])
        frozen["now"] += delivery.BACKOFF[attempt]
    assert errors == ["HTTP 503", "HTTP 400", "ReadTimeout", "HTTP 500", "HTTP 302"]
    assert outcome["paused"] == 1
    [endpoint] = webhooks.list_webhooks(storage, tid)
    assert endpoint["state"] == "paused" and endpoint["consecutiveFailures"] == delivery.PAUSE_AFTER
    frozen["now"] += timedelta(days=3)
    assert _dispatch(storage, tid)["held"] == 1 and len(receiver.attempts("/hook")) == delivery.PAUSE_AFTER
    assert webhooks.resume(storage, tid, webhook_id)["state"] == "active"  # the held delivery goes out now
    assert receiver.answers["/hook"] == [] and webhooks.deliveries(storage, tid)[0]["lastError"] == "HTTP 500"
    frozen["now"] += delivery.BACKOFF[1]
    _dispatch(storage, tid)
    [event] = receiver.events("/hook")
    assert {r.event["id"] for r in receiver.attempts("/hook")} == {event["id"]}  # every retry: the same id
    assert webhooks.deliveries(storage, tid) == []
    assert webhooks.list_webhooks(storage, tid)[0]["consecutiveFailures"] == 0


def test_a_delivery_is_given_up_after_max_attempts_and_retried_by_hand(
    storage, tenant, scope, receiver, frozen, monkeypatch
):
    tid = tenant["tenantId"]
    monkeypatch.setattr(delivery, "PAUSE_AFTER", 100)  # isolate the per-delivery limit from pausing
    webhook_id = _subscribe(storage, receiver, tid)
    receiver.answers["/hook"] = [500] * delivery.MAX_ATTEMPTS
    users.create_user(scope, {"userName": "given-up@example.com"})
    for _ in range(delivery.MAX_ATTEMPTS):
        _dispatch(storage, tid)
        frozen["now"] += timedelta(days=1)
    [failed] = webhooks.deliveries(storage, tid, failed=True)
    assert (failed["state"], failed["attempts"], failed["lastError"]) == ("failed", delivery.MAX_ATTEMPTS, "HTTP 500")
    frozen["now"] += timedelta(days=30)
    _dispatch(storage, tid)
    assert len(receiver.attempts("/hook")) == delivery.MAX_ATTEMPTS  # given up: not retried forever
    assert webhooks.retry(storage, tid, webhook_id) == {"retried": 1, "delivered": 1}
    assert [e["type"] for e in receiver.events("/hook")] == ["employee.staged"]


def test_a_tenants_endpoint_never_gets_another_tenants_events(storage, receiver):
    ids = [tenants.create_tenant(storage, name)[0]["tenantId"] for name in ("A", "B")]
    for tid in ids:
        _subscribe(storage, receiver, tid, f"/{tid}")
    for tid in ids:
        users.create_user(make_scope(storage, tid), {"userName": "same@example.com"})
        employees_ = employees.list_employees(storage, tid)[0]
        employees.invite_employees(storage, tid, ids=[employees_[0]["id"]])
        tenants.set_enabled(storage, tid, False)
    for tid in ids:
        _dispatch(storage, tid)
    for tid in ids:
        events = receiver.events(f"/{tid}")
        assert [e["type"] for e in events] == ["employee.staged", "employee.invited", "integration.disabled"]
        assert {e["tenantId"] for e in events} == {tid}
    assert not {e["id"] for e in receiver.events(f"/{ids[0]}")} & {e["id"] for e in receiver.events(f"/{ids[1]}")}


def test_removing_an_endpoint_drops_its_queue_and_events_without_endpoints_are_dropped(
    storage, tenant, scope, receiver
):
    tid = tenant["tenantId"]
    webhook_id = _subscribe(storage, receiver, tid)
    receiver.answers["/hook"] = [500]
    users.create_user(scope, {"userName": "gone@example.com"})
    _dispatch(storage, tid)
    assert len(webhooks.deliveries(storage, tid)) == 1
    assert webhooks.remove(storage, tid, webhook_id)["removed"] is True
    assert webhooks.deliveries(storage, tid) == [] and webhooks.list_webhooks(storage, tid) == []
    users.create_user(scope, {"userName": "unheard@example.com"})
    assert _dispatch(storage, tid) == {}
    assert _outbox_rows(storage, tid) == []


def test_a_rotated_secret_signs_from_then_on(storage, tenant, scope, receiver):
    tid = tenant["tenantId"]
    webhook_id = _subscribe(storage, receiver, tid)
    rotated = webhooks.rotate_secret(storage, tid, webhook_id)
    assert rotated["secret"] != receiver.secrets["/hook"] and "secret" not in webhooks.list_webhooks(storage, tid)[0]
    users.create_user(scope, {"userName": "rotated@example.com"})
    _dispatch(storage, tid)
    assert receiver.events("/hook") == [] and receiver.attempts("/hook")[0].verified is False  # old secret: refused
    receiver.secrets["/hook"] = rotated["secret"]
    webhooks.retry(storage, tid, webhook_id, delivery_id=webhooks.deliveries(storage, tid)[0]["deliveryId"])
    assert [e["type"] for e in receiver.events("/hook")] == ["employee.staged"]
