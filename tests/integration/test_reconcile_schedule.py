"""When cycles run over Azurite: the cadence, the per-tenant lease, the time box and the resume point,
and a failing tenant."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from shared import reconcile, tenants, users
from shared.reconcile import lease as lease_module
from shared.reconcile import phases
from shared.store import keys
from shared.tenants import tenant_pk
from tests.support.fixtures_reconcile import cycle, settings

INTERVAL = timedelta(minutes=45)
TTL = timedelta(minutes=5)


def state_row(storage, tenant_id):
    return storage.tenants.get(tenant_pk(tenant_id), lease_module.STATE_ROW)


def test_a_tenant_is_reconciled_when_its_last_cycle_is_45_minutes_old(storage, tenant, frozen):
    tid = tenant["tenantId"]
    assert "skipped" not in cycle(storage, tid, force=False)  # never reconciled: due
    frozen["now"] += timedelta(minutes=30)
    assert cycle(storage, tid, force=False)["skipped"].startswith("not due")
    assert "skipped" not in cycle(storage, tid, force=True)  # --force ignores the cadence
    frozen["now"] += timedelta(minutes=44)
    assert cycle(storage, tid, force=False)["skipped"].startswith("not due")
    frozen["now"] += timedelta(minutes=1)
    assert "skipped" not in cycle(storage, tid, force=False)


def test_the_lease_admits_one_holder_until_it_expires(storage, tenant, frozen, monkeypatch):
    tid = tenant["tenantId"]
    first, reason = lease_module.acquire(storage, tid, interval=INTERVAL, ttl=TTL, force=True)
    assert first is not None and reason == ""
    monkeypatch.setattr(lease_module, "INSTANCE", "other-instance")
    second, reason = lease_module.acquire(storage, tid, interval=INTERVAL, ttl=TTL, force=True)
    assert second is None and "holds the lease" in reason
    frozen["now"] += TTL + timedelta(seconds=1)  # the first holder crashed: its lease expired
    third, _ = lease_module.acquire(storage, tid, interval=INTERVAL, ttl=TTL, force=True)
    assert third is not None and state_row(storage, tid)["leaseOwner"] == "other-instance"


def test_a_working_holder_renews_its_lease_and_stops_once_it_was_taken_over(storage, tenant, frozen):
    tid = tenant["tenantId"]
    held, _ = lease_module.acquire(storage, tid, interval=INTERVAL, ttl=TTL, force=True)
    frozen["now"] += timedelta(minutes=1)
    lease_module.keep(storage, held)  # most of the lease is left: no write
    assert state_row(storage, tid)["leaseUntil"] == held.row["leaseUntil"]
    frozen["now"] += timedelta(minutes=2)
    before = held.until
    lease_module.keep(storage, held)
    assert held.until > before and state_row(storage, tid)["leaseUntil"] == held.row["leaseUntil"]

    frozen["now"] += TTL + timedelta(seconds=1)  # stalled past its lease: another instance takes over
    taker, _ = lease_module.acquire(storage, tid, interval=INTERVAL, ttl=TTL, force=True)
    assert taker is not None
    with pytest.raises(lease_module.LeaseLost):
        lease_module.keep(storage, held)


def test_two_cycles_started_at_once_for_one_tenant_do_not_both_run(storage, tenant, monkeypatch):
    tid = tenant["tenantId"]
    both_read = threading.Barrier(2)
    original = lease_module._state

    def state_read_by_both(*args, **kwargs):
        row = original(*args, **kwargs)
        both_read.wait(timeout=10)  # each has read the same free state row before either claims it
        return row

    monkeypatch.setattr(lease_module, "_state", state_read_by_both)
    results: list[dict] = []

    def run() -> None:
        results.append(reconcile.reconcile_tenant(storage, tid, force=True, settings=settings(), deadline=float("inf")))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted("skipped" in r for r in results) == [False, True]
    assert len(reconcile.list_reports(storage, tid)) == 1


def test_a_time_boxed_run_stops_between_phases_and_the_next_tick_resumes(storage, tenant, scope):
    tid = tenant["tenantId"]
    users.create_user(scope, {"userName": "u0"})
    storage.directory.delete(tid, keys.username_key("u0"))
    partial = cycle(storage, tid, force=False, budget_seconds=0)  # one unit per run
    assert partial["complete"] is False and partial["phasesRun"] == ["journals"] and partial["stoppedAt"] == "integrity"
    assert json.loads(state_row(storage, tid)["continuation"]) == {"phase": "integrity", "point": None}
    resumed = cycle(storage, tid, force=False)  # due although not 45 minutes old: a continuation is pending
    assert resumed["resumedFromPhase"] == "integrity" and resumed["complete"] and resumed["repairs"] == {"index": 1}
    assert "continuation" not in state_row(storage, tid)
    assert cycle(storage, tid, force=False)["skipped"].startswith("not due")


def test_a_large_tenant_resumes_from_the_stored_page_token(storage, tenant, scope, frozen, monkeypatch):
    tid = tenant["tenantId"]
    monkeypatch.setattr(phases, "PAGE_SIZE", 2)
    tenants.update_settings(storage, tid, retention_days=30)
    archived = [users.create_user(scope, {"userName": f"gone{i}"})["id"] for i in range(5)]
    for user_id in archived:
        users.delete_user(scope, user_id)
    frozen["now"] += timedelta(days=31)

    reports = [cycle(storage, tid, force=False, budget_seconds=0) for _ in range(4)]  # journals .. deliver
    purge_points = []
    while True:
        report = cycle(storage, tid, force=False, budget_seconds=0)
        reports.append(report)
        if report["stoppedAt"] != "purge":
            break
        purge_points.append(json.loads(state_row(storage, tid)["continuation"])["point"])
    assert len(purge_points) == 2 and all(purge_points) and len(set(purge_points)) == 2  # 5 users, 2 a page
    assert [cycle(storage, tid, force=False, budget_seconds=0)["phasesRun"] for _ in range(2)] == [
        ["health"],
        ["webhooks"],
    ]
    last = reconcile.list_reports(storage, tid, limit=1)[0]
    assert last["complete"]
    assert sum(r["purgedEmployees"] for r in reports) == 5
    assert not {keys.user_key(u) for u in archived} & {
        r["RowKey"] for r in storage.directory.query(tid, prefix=keys.USER)
    }


def test_a_failing_cycle_keeps_its_place_and_other_tenants_still_run(storage, tenant, monkeypatch):
    tid = tenant["tenantId"]
    healthy, _ = tenants.create_tenant(storage, "healthy-org")

    def mail_queue_down(storage_, tenant_id):
        if tenant_id == tid:
            raise ConnectionError("table service unavailable")
        return []

    monkeypatch.setattr("shared.invitations.due", mail_queue_down)
    monkeypatch.setattr(tenants, "list_tenants", lambda storage_: [tenants.get_tenant(storage, tid), healthy])
    results = {r["tenantId"]: r for r in reconcile.run_now(storage, force=True, settings=settings())}
    assert results[tid]["failed"].startswith("ConnectionError")
    assert results[healthy["tenantId"]]["complete"] is True
    row = state_row(storage, tid)
    assert "leaseUntil" not in row and json.loads(row["continuation"])["phase"] == "deliver"

    monkeypatch.undo()
    retried = cycle(storage, tid, force=False)
    assert retried["resumedFromPhase"] == "deliver" and retried["complete"]
