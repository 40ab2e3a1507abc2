"""What a cycle does besides integrity, over Azurite: stale detection, invitations, retention purge,
and the stored report."""

from __future__ import annotations

from datetime import timedelta

from shared import employees, groups, health, invitations, reconcile, tenants, users
from shared.lifecycle import ARCHIVED
from shared.mail.message import DeliveryError
from tests.integration.conftest import make_scope
from tests.support.fixtures_reconcile import PATCH_OP, actions, cycle


def test_an_integration_silent_for_more_than_two_cycles_is_marked_stale(storage, tenant, frozen):
    tid = tenant["tenantId"]
    health.observe(storage, tid, error=False, test_connection=False)
    frozen["now"] += timedelta(minutes=89)
    assert cycle(storage, tid)["markedStale"] is False  # within two cycles (2 x 45 minutes): not yet
    frozen["now"] += timedelta(minutes=2)
    report = cycle(storage, tid)
    assert report["markedStale"] is True
    assert tenants.get_tenant(storage, tid)["syncState"] == "stale"
    assert tenants.authenticate(storage, tenant["token"]).stale is True  # where the next request sees it
    assert actions(storage, tid, "integration.") == ["integration.stale"]
    assert cycle(storage, tid)["markedStale"] is False  # already marked: no second event


def test_a_disabled_integration_is_never_marked_stale(storage, tenant, frozen):
    tid = tenant["tenantId"]
    tenants.set_enabled(storage, tid, False)
    frozen["now"] += timedelta(days=2)
    assert cycle(storage, tid)["markedStale"] is False


def test_undelivered_invitations_are_retried_with_backoff_then_given_up(storage, tenant, scope, frozen, mail_channel):
    tid = tenant["tenantId"]

    class MailRelayDown:
        def send(self, message, timeout):
            raise DeliveryError("mail relay down")

    mail_channel(MailRelayDown())
    user = users.create_user(scope, {"userName": "retry@example.com"})
    employees.invite_employees(storage, tid, ids=[user["id"]])
    assert invitations.list_outbox(storage, tid)[0]["attempts"] == 1
    assert cycle(storage, tid)["invitations"]["retryLater"] == 0  # backoff: not due yet
    attempts = []
    for _ in range(invitations.MAX_ATTEMPTS - 1):
        frozen["now"] += timedelta(hours=9)
        attempts.append(cycle(storage, tid)["invitations"])
    assert [a["retryLater"] for a in attempts[:-1]] == [1] * (invitations.MAX_ATTEMPTS - 2)
    assert attempts[-1]["givenUp"] == 1
    row = invitations.list_outbox(storage, tid)[0]
    assert row["state"] == invitations.GIVEN_UP and row["attempts"] == invitations.MAX_ATTEMPTS
    assert row["lastError"] == "mail relay down"  # what the admin sees
    frozen["now"] += timedelta(days=3)
    assert cycle(storage, tid)["invitations"] == {"sent": 0, "retryLater": 0, "givenUp": 0}


def test_with_automatic_invitation_staged_employees_are_invited(storage, tenant):
    tid = tenant["tenantId"]
    users.create_user(make_scope(storage, tid), {"userName": "staged-before@example.com"})
    users.create_user(make_scope(storage, tid), {"userName": "archived-before@example.com", "active": False})
    assert cycle(storage, tid)["invitations"]["sent"] == 0  # automatic invitation off
    tenants.update_settings(storage, tid, auto_invite=True)
    users.create_user(make_scope(storage, tid, auto_invite=True), {"userName": "auto-invited@example.com"})
    report = cycle(storage, tid)
    assert report["invitations"]["sent"] == 1  # auto-invited was delivered inside its own SCIM request
    statuses = {e["userName"]: e["status"] for e in employees.list_employees(storage, tid)[0]}
    assert statuses == {
        "staged-before@example.com": "invited",
        "auto-invited@example.com": "invited",
        "archived-before@example.com": ARCHIVED,
    }
    assert {o["state"] for o in invitations.list_outbox(storage, tid)} == {invitations.SENT}
    assert cycle(storage, tid)["invitations"]["sent"] == 0


def test_archived_employees_and_tombstones_past_retention_are_purged(storage, tenant, scope, frozen):
    tid = tenant["tenantId"]
    tenants.update_settings(storage, tid, retention_days=30)
    old_deleted = users.create_user(scope, {"userName": "old-deleted"})
    old_disabled = users.create_user(scope, {"userName": "old-disabled"})
    users.create_user(scope, {"userName": "old-active"})
    users.delete_user(scope, old_deleted["id"])
    users.patch_user(
        scope,
        old_disabled["id"],
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]},
    )
    frozen["now"] += timedelta(days=31)
    recent = users.create_user(scope, {"userName": "recent"})
    users.delete_user(scope, recent["id"])
    report = cycle(storage, tid)
    assert report["purgedEmployees"] == 2
    remaining = {e["userName"]: e["status"] for e in employees.list_employees(storage, tid)[0]}
    assert remaining == {"recent": ARCHIVED, "old-active": "staged"}
    assert actions(storage, tid, "employee.purge") == ["employee.purge"] * 2
    assert cycle(storage, tid)["purgedEmployees"] == 0


def test_the_report_counts_scim_activity_and_errors_since_the_previous_cycle(storage, tenant, scope):
    tid = tenant["tenantId"]
    cycle(storage, tid)
    ids = [users.create_user(scope, {"userName": f"user{i}"})["id"] for i in range(3)]
    groups.create_group(scope, {"displayName": "Team", "members": [{"value": u} for u in ids]})
    users.patch_user(
        scope, ids[0], {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    )
    users.delete_user(scope, ids[1])
    health.observe(storage, tid, error=True, test_connection=False)
    health.flush_all(storage)
    report = cycle(storage, tid)
    scim = report["scim"]
    assert (scim["usersCreated"], scim["usersDeactivated"], scim["usersDeleted"]) == (3, 1, 1)
    assert (scim["groupsCreated"], scim["membershipsAdded"]) == (1, 3)
    assert report["scimErrors"] >= 1
    assert report["storageCalls"]["total"] == sum(v for k, v in report["storageCalls"].items() if k != "total") > 0
    # The report's shape is a contract (admin API, CLI); its duration is a measurement, so only its type is checked.
    assert set(report) == {
        "tenantId",
        "started",
        "finished",
        "complete",
        "resumedFromPhase",
        "phasesRun",
        "stoppedAt",
        "since",
        "scim",
        "scimErrors",
        "repairs",
        "repairsTotal",
        "conflictsLeft",
        "invitations",
        "webhooks",
        "purgedEmployees",
        "markedStale",
        "warnings",
        "durationSeconds",
        "storageCalls",
    }
    assert isinstance(report["durationSeconds"], float) and report["since"] is not None and report["complete"] is True
    stored = reconcile.list_reports(storage, tid, limit=1)[0]
    assert stored == report
    assert len(reconcile.list_reports(storage, tid, limit=5)) == 2
    assert cycle(storage, tid)["scim"]["usersCreated"] == 0
