"""Reconciliation over Azurite: fault injection, idempotence, lease, cadence, resume, stale, lifecycle."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from shared import clock, employees, groups, invitations, membership, reconcile, tenants, users
from shared.config import Settings
from shared.lifecycle import ARCHIVED
from shared.reconcile import lease as lease_module
from shared.store import keys
from shared.store.table import Op
from tests.integration.conftest import make_scope

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SETTINGS = Settings.from_env({"SCIM_RECONCILE_INTERVAL_MINUTES": "45", "SCIM_RECONCILE_TIME_BUDGET_SECONDS": "240", "SCIM_STORAGE_CONNECTION_STRING": "unused"})


@pytest.fixture
def frozen():
    """A controllable clock; restored after the test."""
    moment = {"now": datetime.now(timezone.utc)}
    clock.set_clock(lambda: moment["now"])
    yield moment
    clock.set_clock(None)


def cycle(storage, tenant_id, force=True, settings=SETTINGS):
    return reconcile.run_now(storage, tenant_id=tenant_id, force=force, settings=settings)[0]


def pk_rows(storage, tenant_id, prefix):
    return {r["RowKey"] for r in storage.directory.query(tenant_id, prefix=prefix)}


def _directory(scope, n_users=4):
    ids = [users.create_user(scope, {"userName": f"user{i}", "externalId": f"ext{i}"})["id"] for i in range(n_users)]
    group = groups.create_group(scope, {"displayName": "Team", "externalId": "gext", "members": [{"value": u} for u in ids]})
    return ids, group["id"]


def test_every_kind_of_corruption_is_repaired_and_a_second_cycle_finds_nothing(storage, tenant, scope):
    tid = tenant["tenantId"]
    ids, gid = _directory(scope)
    d = storage.directory
    # index rows missing, pointing nowhere, or stale
    d.delete(tid, keys.username_key("user0"))
    d.upsert({"PartitionKey": tid, "RowKey": keys.username_key("ghost"), "ref": "f" * 32})
    d.delete(tid, keys.external_id_key(keys.USER_EXTERNAL_ID_INDEX, "ext1", ids[1]))
    d.upsert({"PartitionKey": tid, "RowKey": keys.external_id_key(keys.USER_EXTERNAL_ID_INDEX, "old", ids[2])})
    d.delete(tid, keys.displayname_key("Team"))
    d.upsert({"PartitionKey": tid, "RowKey": keys.external_id_key(keys.GROUP_EXTERNAL_ID_INDEX, "stray", "e" * 32)})
    # memberships present in one direction only, or pointing at resources that do not exist
    d.delete(tid, keys.member_of_key(ids[0], gid))
    d.delete(tid, keys.member_key(gid, ids[1]))
    d.transact([Op("upsert", {"PartitionKey": tid, "RowKey": keys.member_key(gid, "a" * 32)}), Op("upsert", {"PartitionKey": tid, "RowKey": keys.member_of_key("a" * 32, gid)})])
    d.upsert({"PartitionKey": tid, "RowKey": keys.member_key("b" * 32, ids[2])})

    report = cycle(storage, tid)
    assert report["complete"] and report["repairs"]["index"] == 6 and report["repairs"]["membership"] == 5
    scope_users = {r["userName"] for r in users_by_filter(scope)}
    assert scope_users == {"user0", "user1", "user2", "user3"}
    assert users.get_user(scope, ids[0])["userName"] == "user0"
    assert sorted(membership.group_member_ids(storage, tid, gid)) == sorted(ids)
    assert membership.user_group_ids(storage, tid, ids[0]) == [gid]
    assert pk_rows(storage, tid, keys.member_key(gid, "a" * 32)) == set()
    assert keys.username_key("ghost") not in pk_rows(storage, tid, keys.USERNAME_INDEX)
    repairs = [e for e in employees_audit(storage, tid) if e.startswith("repair.")]
    assert len(repairs) == 11

    again = cycle(storage, tid)
    assert again["repairsTotal"] == 0 and again["complete"]


def users_by_filter(scope):
    from shared.query import USERS, run_query
    from shared.scim.listing import parse_list_params

    out = []
    for name in ("user0", "user1", "user2", "user3"):
        out += run_query(scope, USERS, parse_list_params({"filter": f'userName eq "{name}"'}))["Resources"]
    return out


def employees_audit(storage, tenant_id):
    from shared.audit import list_events

    return [e["action"] for e in list_events(storage, tenant_id, limit=1000)[0]]


def _interrupt_after_first_transaction(monkeypatch):
    def boom(*args, **kwargs):
        raise ConnectionError("instance recycled between transactions")

    monkeypatch.setattr("shared.membership.resume", boom)


def test_interrupted_member_add_and_group_delete_are_finished(storage, tenant, scope, monkeypatch):
    tid = tenant["tenantId"]
    ids = [users.create_user(scope, {"userName": f"m{i}"})["id"] for i in range(130)]
    big = groups.create_group(scope, {"displayName": "Big"})
    doomed = groups.create_group(scope, {"displayName": "Doomed", "members": [{"value": u} for u in ids[:120]]})
    with monkeypatch.context() as patch:
        _interrupt_after_first_transaction(patch)
        with pytest.raises(ConnectionError):
            groups.patch_group(scope, big["id"], {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": u} for u in ids]}]})
        with pytest.raises(ConnectionError):
            groups.delete_group(scope, doomed["id"])
    assert len(membership.pending_journals(storage, tid)) == 2
    assert 0 < len(membership.group_member_ids(storage, tid, big["id"])) < 130
    report = cycle(storage, tid)
    assert report["repairs"]["journal"] == 2
    assert sorted(membership.group_member_ids(storage, tid, big["id"])) == sorted(ids)
    assert membership.group_member_ids(storage, tid, doomed["id"]) == []
    assert all(membership.user_group_ids(storage, tid, u) == [big["id"]] for u in ids[:120])
    assert cycle(storage, tid)["repairsTotal"] == 0


def test_interrupted_user_delete_is_finished(storage, tenant, scope, monkeypatch):
    tid = tenant["tenantId"]
    user = users.create_user(scope, {"userName": "member-of-many"})
    gids = [groups.create_group(scope, {"displayName": f"g{i}", "members": [{"value": user["id"]}]})["id"] for i in range(60)]
    with monkeypatch.context() as patch:
        _interrupt_after_first_transaction(patch)
        with pytest.raises(ConnectionError):
            users.delete_user(scope, user["id"])
    assert membership.pending_journals(storage, tid)
    cycle(storage, tid)
    assert membership.user_group_ids(storage, tid, user["id"]) == []
    assert all(membership.group_member_ids(storage, tid, g) == [] for g in gids)


def test_cadence_follows_the_interval(storage, tenant, frozen):
    tid = tenant["tenantId"]
    assert "skipped" not in cycle(storage, tid, force=False)
    frozen["now"] += timedelta(minutes=30)
    assert cycle(storage, tid, force=False)["skipped"].startswith("not due")
    assert "skipped" not in cycle(storage, tid, force=True)
    frozen["now"] += timedelta(minutes=46)
    assert "skipped" not in cycle(storage, tid, force=False)


def test_one_cycle_per_tenant_at_a_time_and_expired_leases_are_taken_over(storage, tenant, frozen, monkeypatch):
    tid = tenant["tenantId"]
    first, reason = lease_module.acquire(storage, tid, interval=timedelta(minutes=45), ttl=timedelta(minutes=5), force=True)
    assert first is not None and reason == ""
    monkeypatch.setattr(lease_module, "INSTANCE", "other-instance")
    second, reason = lease_module.acquire(storage, tid, interval=timedelta(minutes=45), ttl=timedelta(minutes=5), force=True)
    assert second is None and "lease" in reason
    frozen["now"] += timedelta(minutes=6)  # the first holder crashed; its lease expires
    third, _ = lease_module.acquire(storage, tid, interval=timedelta(minutes=45), ttl=timedelta(minutes=5), force=True)
    assert third is not None


def test_two_cycles_started_together_do_not_both_run(storage, tenant, monkeypatch):
    tid = tenant["tenantId"]
    gate = threading.Barrier(2)
    original = lease_module._state

    def synchronised_state(*args, **kwargs):
        row = original(*args, **kwargs)
        gate.wait(timeout=10)  # both read the same state row before either claims it
        return row

    monkeypatch.setattr(lease_module, "_state", synchronised_state)
    results: list[dict] = []

    def run(owner: str) -> None:
        results.append(reconcile.reconcile_tenant(storage, tid, force=True, settings=SETTINGS, deadline=float("inf")))

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted("skipped" in r for r in results) == [False, True]


def test_a_time_boxed_run_resumes_where_it_stopped(storage, tenant, scope):
    tid = tenant["tenantId"]
    _directory(scope)
    storage.directory.delete(tid, keys.username_key("user0"))
    no_time = Settings.from_env({"SCIM_RECONCILE_TIME_BUDGET_SECONDS": "0", "SCIM_STORAGE_CONNECTION_STRING": "unused"})
    partial = cycle(storage, tid, force=False, settings=no_time)
    assert partial["complete"] is False and partial["phasesRun"] == ["journals"]
    resumed = cycle(storage, tid, force=False, settings=SETTINGS)  # due because a continuation is pending
    assert resumed["resumedFromPhase"] == "integrity" and resumed["complete"] and resumed["repairs"]["index"] == 1


def test_silent_integration_is_marked_stale(storage, tenant, frozen):
    tid = tenant["tenantId"]
    frozen["now"] += timedelta(minutes=91)
    report = cycle(storage, tid)
    assert report["markedStale"] is True
    assert tenants.get_tenant(storage, tid)["syncState"] == "stale"
    assert tenants.authenticate(storage, tenant["token"]).stale is True
    tenants.set_stale(storage, tid, False)  # what the next SCIM request does (see tests/e2e)
    assert tenants.get_tenant(storage, tid)["syncState"] == "ok"


def test_invitation_delivery_is_retried_with_backoff_then_given_up(storage, tenant, scope, frozen):
    tid = tenant["tenantId"]

    class Broken:
        def send(self, to, subject, body):
            raise ConnectionError("mail relay down")

    invitations.set_sender(Broken())
    try:
        user = users.create_user(scope, {"userName": "retry@example.com"})
        employees.invite_employees(storage, tid, ids=[user["id"]])
        assert invitations.list_outbox(storage, tid)[0]["attempts"] == 1
        assert cycle(storage, tid)["invitations"]["retryLater"] == 0  # backoff: not due yet
        for _ in range(invitations.MAX_ATTEMPTS):
            frozen["now"] += timedelta(hours=9)
            cycle(storage, tid)
        row = invitations.list_outbox(storage, tid)[0]
        assert row["state"] == invitations.GIVEN_UP and row["attempts"] == invitations.MAX_ATTEMPTS
    finally:
        invitations.set_sender(invitations.RecordingSender())


def test_automatic_invitation_and_pending_delivery(storage, tenant):
    tid = tenant["tenantId"]
    users.create_user(make_scope(storage, tid), {"userName": "staged-before"})
    tenants.update_settings(storage, tid, auto_invite=True)
    auto_scope = make_scope(storage, tid, auto_invite=True)
    users.create_user(auto_scope, {"userName": "auto-invited"})
    report = cycle(storage, tid)
    assert report["invitations"]["sent"] == 2
    assert {e["status"] for e in employees.list_employees(storage, tid)[0]} == {"invited"}
    assert {o["state"] for o in invitations.list_outbox(storage, tid)} == {invitations.SENT}


def test_retention_purges_old_archived_employees_and_tombstones(storage, tenant, scope, frozen):
    tid = tenant["tenantId"]
    tenants.update_settings(storage, tid, retention_days=30)
    old_deleted = users.create_user(scope, {"userName": "old-deleted"})
    old_disabled = users.create_user(scope, {"userName": "old-disabled"})
    users.delete_user(scope, old_deleted["id"])
    users.patch_user(scope, old_disabled["id"], {"Operations": [{"op": "replace", "path": "active", "value": False}]})
    frozen["now"] += timedelta(days=31)
    recent = users.create_user(scope, {"userName": "recent"})
    users.delete_user(scope, recent["id"])
    report = cycle(storage, tid)
    assert report["purgedEmployees"] == 2
    remaining = employees.list_employees(storage, tid)[0]
    assert [(e["userName"], e["status"]) for e in remaining] == [("recent", ARCHIVED)]
    assert "employee.purge" in employees_audit(storage, tid)


def test_report_counts_scim_activity_since_the_previous_cycle(storage, tenant, scope):
    tid = tenant["tenantId"]
    cycle(storage, tid)
    ids, gid = _directory(scope, n_users=3)
    users.patch_user(scope, ids[0], {"Operations": [{"op": "replace", "path": "active", "value": "False"}]})
    users.delete_user(scope, ids[1])
    report = cycle(storage, tid)
    scim = report["scim"]
    assert scim["usersCreated"] == 3 and scim["usersDeactivated"] == 1 and scim["usersDeleted"] == 1
    assert scim["groupsCreated"] == 1 and scim["membershipsAdded"] == 3
    assert report["storageCalls"]["total"] > 0 and report["durationSeconds"] >= 0
    assert reconcile.list_reports(storage, tid, limit=1)[0]["scim"] == scim
