"""Invitation delivery over Azurite and a real SMTP capture server on loopback: status follows delivery,
the audit events of each outcome, retries and giving up, the admin's retry, idempotency (duplicate clicks,
two senders, a crash between send and status write), the send rate, the confirmation count and templates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared import employees, invitations, users
from shared.errors import Conflict, Invalid
from shared.lifecycle import ARCHIVED, INVITED, STAGED
from shared.mail.message import DeliveryError, Message
from shared.store import keys
from tests.support.fixtures_reconcile import PATCH_OP, actions, cycle
from tests.support.mail import capture_sender, mails_to


class Crash(BaseException):
    """The process dies: nothing after this line of the sender runs (not an Exception the outbox catches)."""


class Down:
    """A channel that is down."""

    def send(self, message: Message, timeout: float) -> None:
        raise DeliveryError("down")


def _user(scope, name: str, display: str | None = None) -> str:
    body = {"userName": f"{name}@example.com", "displayName": display or name.title()}
    return users.create_user(scope, body)["id"]


def _employee(storage, tid: str, user_id: str) -> dict:
    return employees.view(storage.directory.get(tid, keys.user_key(user_id)))


def _rows(storage, tid: str) -> list[dict]:
    return invitations.list_outbox(storage, tid)


def test_a_click_delivers_and_then_the_employee_reads_invited(storage, tenant, scope, mail_capture):
    tid = tenant["tenantId"]
    user_id = _user(scope, "grace", display="Grace <b>Hopper</b>")
    [result] = employees.invite_employees(storage, tid, ids=[user_id])
    assert (result["status"], result["invitation"], result["statusDetail"]) == (INVITED, invitations.SENT, None)
    [mail] = mails_to(mail_capture, "grace@example.com")
    [row] = _rows(storage, tid)
    assert mail.message_id.startswith(f"<{row['id']}@")  # the invitation id is the idempotency key
    assert "Grace <b>Hopper</b>" in mail.part("plain")
    assert "Grace &lt;b&gt;Hopper&lt;/b&gt;" in mail.part("html")
    assert f"/invitations/{row['id']}" in mail.part("plain")
    assert row["subject"] == str(mail.message["Subject"]) and row["html"] == mail.part("html").rstrip()
    assert row["state"] == invitations.SENT and row["attempts"] == 1
    assert actions(storage, tid, "employee.") == ["employee.invited", "employee.invite.queued"]  # newest first


def test_duplicate_clicks_never_send_twice(storage, tenant, scope, mail_capture):
    tid = tenant["tenantId"]
    user_id = _user(scope, "twice")
    employees.invite_employees(storage, tid, ids=[user_id])
    again = employees.invite_employees(storage, tid, ids=[user_id])  # already invited: left as it is
    employees.invite_employees(storage, tid, all_staged=True)
    assert again[0]["status"] == INVITED
    assert len(mails_to(mail_capture, "twice@example.com")) == 1 and len(_rows(storage, tid)) == 1
    assert cycle(storage, tid)["invitations"]["sent"] == 0


def test_a_failing_channel_leaves_it_staged_then_reconciliation_delivers(storage, tenant, scope, mail_capture, frozen):
    tid = tenant["tenantId"]
    user_id = _user(scope, "later")
    mail_capture.reply = "451 4.3.0 try again later"
    try:
        [result] = employees.invite_employees(storage, tid, ids=[user_id])
        employees.invite_employees(storage, tid, ids=[user_id])  # a second click during the backoff
    finally:
        mail_capture.reply = None
    assert result["status"] == STAGED and result["statusDetail"] == "invitation failed, retrying"
    assert result["invitationError"] == "SMTP 451: 4.3.0 try again later"
    [row] = _rows(storage, tid)
    assert row["attempts"] == 1 and row["state"] == invitations.FAILED  # the click did not retry early
    assert "employee.invite.failed" in actions(storage, tid)
    assert cycle(storage, tid)["invitations"]["retryLater"] == 0  # backoff not over
    frozen["now"] += timedelta(minutes=invitations.BACKOFF_MINUTES[0])
    assert cycle(storage, tid)["invitations"]["sent"] == 1
    assert _employee(storage, tid, user_id)["status"] == INVITED
    assert len(mails_to(mail_capture, "later@example.com")) == 1


def test_a_permanent_refusal_gives_up_at_once_and_the_admin_retries_by_hand(storage, tenant, scope, mail_capture):
    tid = tenant["tenantId"]
    user_id = _user(scope, "nobody")
    with pytest.raises(Conflict, match="no failed invitation"):
        employees.retry_invitation(storage, tid, user_id)
    mail_capture.reply = "550 5.1.1 mailbox unavailable"
    try:
        [result] = employees.invite_employees(storage, tid, ids=[user_id])
    finally:
        mail_capture.reply = None
    assert result["statusDetail"] == "invitation failed, given up" and result["invitation"] == invitations.GIVEN_UP
    assert "employee.invite.givenUp" in actions(storage, tid)
    assert cycle(storage, tid)["invitations"] == {"sent": 0, "retryLater": 0, "givenUp": 0}
    retried = employees.retry_invitation(storage, tid, user_id)
    assert retried["status"] == INVITED and len(mails_to(mail_capture, "nobody@example.com")) == 1
    assert "employee.invite.retry" in actions(storage, tid)
    assert len(_rows(storage, tid)) == 1  # the same invitation, sent on the retry


def test_a_crash_between_send_and_status_write_loses_nothing_and_resends_with_the_same_id(
    storage, tenant, scope, mail_capture, mail_channel, frozen
):
    tid = tenant["tenantId"]
    user_id = _user(scope, "crash")
    capture = capture_sender(mail_capture)

    class SendThenDie:
        def send(self, message: Message, timeout: float) -> None:
            capture.send(message, timeout)
            raise Crash()

    mail_channel(SendThenDie())
    with pytest.raises(Crash):
        employees.invite_employees(storage, tid, ids=[user_id])
    mail_channel(capture)
    [row] = _rows(storage, tid)
    assert row["state"] == invitations.SENDING and _employee(storage, tid, user_id)["statusDetail"] == (
        "invitation queued"
    )  # not lost: the claimed row waits for its lease
    employees.invite_employees(storage, tid, ids=[user_id])  # a click while the lease holds
    cycle(storage, tid)
    assert len(mails_to(mail_capture, "crash@example.com")) == 1  # nobody sends while the lease holds
    frozen["now"] += invitations.LEASE
    assert cycle(storage, tid)["invitations"]["sent"] == 1
    first, second = mails_to(mail_capture, "crash@example.com")
    assert first.message_id == second.message_id  # the only duplicate possible, and recognisable
    assert _employee(storage, tid, user_id)["status"] == INVITED
    frozen["now"] += timedelta(days=1)
    cycle(storage, tid)
    employees.invite_employees(storage, tid, ids=[user_id])
    assert len(mails_to(mail_capture, "crash@example.com")) == 2  # acknowledged and recorded: never again


def test_two_senders_holding_the_same_row_send_once(storage, tenant, scope, mail_capture, mail_channel):
    tid = tenant["tenantId"]

    mail_channel(Down())
    user_id = _user(scope, "race")
    employees.invite_employees(storage, tid, ids=[user_id])
    [stale] = list(storage.directory.query(tid, prefix=keys.OUTBOX))
    storage.directory.update(  # the backoff is over
        {"PartitionKey": tid, "RowKey": stale["RowKey"], "nextAttempt": ""}, etag=stale.etag, replace=False
    )
    [row] = list(storage.directory.query(tid, prefix=keys.OUTBOX))
    [twin] = list(storage.directory.query(tid, prefix=keys.OUTBOX))
    capture, concurrent = capture_sender(mail_capture), []

    class TimerAndRequestAtOnce:
        """While the timer sends, a request that read the same row tries to deliver it too."""

        def send(self, message: Message, timeout: float) -> None:
            if not concurrent:
                concurrent.append(invitations.deliver(storage, tid, twin))
            capture.send(message, timeout)

    mail_channel(TimerAndRequestAtOnce())
    assert invitations.deliver(storage, tid, row) == invitations.SENT
    assert concurrent == [invitations.SENDING]  # its claim lost: the row changed since it was read
    assert invitations.deliver(storage, tid, stale) == invitations.FAILED  # an old read, not due: untouched
    assert len(mails_to(mail_capture, "race@example.com")) == 1


def test_an_employee_archived_before_delivery_gets_no_mail(storage, tenant, scope, mail_capture, mail_channel, frozen):
    tid = tenant["tenantId"]

    mail_channel(Down())
    user_id = _user(scope, "leaver")
    employees.invite_employees(storage, tid, ids=[user_id])
    mail_channel(capture_sender(mail_capture))
    replace = {"op": "replace", "path": "active", "value": False}
    users.patch_user(scope, user_id, {"schemas": [PATCH_OP], "Operations": [replace]})
    frozen["now"] += timedelta(hours=1)
    cycle(storage, tid)
    assert _rows(storage, tid)[0]["state"] == invitations.CANCELLED
    assert _employee(storage, tid, user_id)["status"] == ARCHIVED
    assert mails_to(mail_capture, "leaver@example.com") == []
    replace["value"] = True
    users.patch_user(scope, user_id, {"schemas": [PATCH_OP], "Operations": [replace]})  # restored: staged
    assert _employee(storage, tid, user_id)["statusDetail"] is None  # not "queued" forever
    [result] = employees.invite_employees(storage, tid, ids=[user_id])
    assert result["status"] == INVITED and len(mails_to(mail_capture, "leaver@example.com")) == 1


def test_the_send_rate_holds_the_rest_for_the_next_minute(storage, tenant, scope, mail_capture, frozen):
    tid = tenant["tenantId"]
    invitations.set_settings(storage, tid, {"ratePerMinute": 1})
    ids = [_user(scope, f"rate{i}") for i in range(3)]
    results = employees.invite_employees(storage, tid, ids=ids)
    assert sorted(r["invitation"] for r in results) == [invitations.QUEUED, invitations.QUEUED, invitations.SENT]
    assert sorted(r["statusDetail"] or "" for r in results) == ["", "invitation queued", "invitation queued"]
    frozen["now"] += timedelta(minutes=1)
    assert cycle(storage, tid)["invitations"] == {"sent": 1, "retryLater": 1, "givenUp": 0}
    frozen["now"] += timedelta(minutes=1)
    assert cycle(storage, tid)["invitations"]["sent"] == 1
    assert {r["state"] for r in _rows(storage, tid)} == {invitations.SENT}
    assert all(r["attempts"] == 1 for r in _rows(storage, tid))  # waiting for a slot is not a failed attempt


def test_inviting_all_staged_above_the_threshold_needs_the_count(storage, tenant, scope, mail_capture, monkeypatch):
    tid = tenant["tenantId"]
    monkeypatch.setattr(employees, "CONFIRM_ABOVE", 2)
    for i in range(3):
        _user(scope, f"many{i}")
    with pytest.raises(Conflict, match="3 staged employees would be invited.*confirmCount 3"):
        employees.invite_employees(storage, tid, all_staged=True)
    with pytest.raises(Conflict):
        employees.invite_employees(storage, tid, all_staged=True, confirm_count=30)
    assert _rows(storage, tid) == []  # nothing queued by a refused click
    assert len(employees.invite_employees(storage, tid, all_staged=True, confirm_count=3)) == 3


def test_automatic_invitation_follows_the_same_path_when_the_channel_fails(
    storage, tenant, mail_capture, mail_channel, frozen
):
    from tests.integration.conftest import make_scope

    tid = tenant["tenantId"]

    mail_channel(Down())
    user = users.create_user(make_scope(storage, tid, auto_invite=True), {"userName": "auto@example.com"})
    employee = _employee(storage, tid, user["id"])
    assert (employee["status"], employee["statusDetail"]) == (STAGED, "invitation failed, retrying")
    mail_channel(capture_sender(mail_capture))
    frozen["now"] += timedelta(minutes=1)
    assert cycle(storage, tid)["invitations"]["sent"] == 1
    assert _employee(storage, tid, user["id"])["status"] == INVITED


def test_the_tenant_template_is_used_and_checked(storage, tenant, scope, mail_capture):
    tid = tenant["tenantId"]
    assert invitations.get_settings(storage, tid)["default"] is True
    shown = invitations.set_settings(
        storage,
        tid,
        {
            "subject": "Welcome to {organisation}, {displayName}",
            "invitationUrl": "https://vault.example.com/join/{invitationId}",
        },
    )
    assert shown["default"] is False and shown["ratePerMinute"] == invitations.DEFAULT_RATE_PER_MINUTE
    with pytest.raises(Invalid, match="unknown placeholder"):
        invitations.set_settings(storage, tid, {"text": "{token} {invitationUrl}"})
    user_id = _user(scope, "templated", display="Tem Plated")
    employees.invite_employees(storage, tid, ids=[user_id])
    [mail] = mails_to(mail_capture, "templated@example.com")
    assert str(mail.message["Subject"]) == f"Welcome to {tenant['name']}, Tem Plated"
    assert "https://vault.example.com/join/" in mail.part("plain")
    assert "invitation.template" in actions(storage, tid)
    assert invitations.set_settings(storage, tid, {}, reset=True)["subject"] == invitations.templates.DEFAULT.subject


def test_an_employee_without_a_usable_address_is_given_up_with_the_reason(storage, tenant, scope, mail_capture):
    tid = tenant["tenantId"]
    user_id = users.create_user(scope, {"userName": "no-address"})["id"]
    [result] = employees.invite_employees(storage, tid, ids=[user_id])
    assert result["invitation"] == invitations.GIVEN_UP
    assert result["invitationError"] == "the employee has no usable e-mail address (email or userName)"
