"""Every multi-write operation, interrupted after each of its writes: one reconciliation cycle repairs what
the crash left (a second cycle finds nothing), and a token being rotated or disabled never works again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from shared import employees, groups, membership, tenants, users
from shared.store.client import Storage
from tests.integration.conftest import make_scope
from tests.support.crash import Crash, assert_tokens_consistent, crash_after, token_rows
from tests.support.fixtures_reconcile import PATCH_OP, cycle, row_keys

MAX_WRITES = 25


def _crash_points(attempt: Callable[[int], bool]) -> int:
    """Run attempt(n) for n = 0, 1, ... until the operation completes without reaching a crash."""
    for allowed in range(MAX_WRITES):
        if attempt(allowed):
            return allowed
    raise AssertionError(f"the operation did not finish within {MAX_WRITES} writes")


def _run(storage: Storage, allowed: int, operation: Callable[[], object]) -> bool:
    with crash_after(storage, allowed):
        try:
            operation()
        except Crash:
            return False
    return True


def _repaired(storage: Storage, tenant_id: str) -> None:
    cycle(storage, tenant_id)
    assert cycle(storage, tenant_id)["repairsTotal"] == 0
    assert row_keys(storage, tenant_id, membership.JOURNAL) == set()


@pytest.mark.parametrize("operation", ["rotate", "disable", "enable"])
def test_token_operations_crashing_after_each_write(storage, frozen, operation):
    def attempt(allowed: int) -> bool:
        view, token = tenants.create_tenant(storage, f"crash-{operation}-{allowed}")
        tid = view["tenantId"]
        if operation == "enable":
            tenants.set_enabled(storage, tid, False)
        run = {
            "rotate": lambda: tenants.rotate_token(storage, tid),
            "disable": lambda: tenants.set_enabled(storage, tid, False),
            "enable": lambda: tenants.set_enabled(storage, tid, True),
        }[operation]
        completed = _run(storage, allowed, run)
        revoking = operation != "enable" and allowed > 0  # the operation got at least one write out
        if revoking:
            assert tenants.authenticate(storage, token) is None, f"old token valid after a crash after write {allowed}"
        frozen["now"] += timedelta(minutes=6)  # the crashed request is gone: its staged token row may go
        _repaired(storage, tid)
        assert_tokens_consistent(storage, tid, [token], fail_safe=True)
        if revoking:
            assert tenants.authenticate(storage, token) is None
        if not completed:  # the admin saw an error and retries
            run()
            assert_tokens_consistent(storage, tid, [token])
        return completed

    assert _crash_points(attempt) >= 3


def test_tenant_creation_crashing_after_each_write(storage, frozen):
    def attempt(allowed: int) -> bool:
        name = f"crash-create-{allowed}"
        completed = _run(storage, allowed, lambda: tenants.create_tenant(storage, name))
        created = [t for t in tenants.list_tenants(storage) if t["name"] == name]
        frozen["now"] += timedelta(minutes=6)
        for tenant in created:
            _repaired(storage, tenant["tenantId"])
            assert_tokens_consistent(storage, tenant["tenantId"], [])
            assert len(token_rows(storage, tenant["tenantId"])) == 1  # enabled, and its token published
        return completed

    assert _crash_points(attempt) >= 3


@pytest.fixture
def small_transactions(monkeypatch):
    """Membership work in chunks of a few pairs, so a handful of members spans several transactions."""
    monkeypatch.setattr(membership, "MAX_TRANSACTION_OPS", 10)
    monkeypatch.setattr(membership, "_PAIRS_PER_CHUNK", 4)


def _patch(op: str, ids: list[str]) -> dict:
    return {"schemas": [PATCH_OP], "Operations": [{"op": op, "path": "members", "value": [{"value": u} for u in ids]}]}


def _members(scope, ids):
    gid = groups.create_group(scope, {"displayName": "Target"})["id"]
    return lambda: groups.patch_group(scope, gid, _patch("add", ids))


def _remove(scope, ids):
    gid = groups.create_group(scope, {"displayName": "Target", "members": [{"value": u} for u in ids]})["id"]
    return lambda: groups.patch_group(scope, gid, _patch("remove", ids))


def _create_group(scope, ids):
    return lambda: groups.create_group(scope, {"displayName": "New", "members": [{"value": u} for u in ids]})


def _delete_group(scope, ids):
    gid = groups.create_group(scope, {"displayName": "Doomed", "members": [{"value": u} for u in ids]})["id"]
    return lambda: groups.delete_group(scope, gid)


def _in_groups(scope, ids) -> str:
    for gid in (groups.create_group(scope, {"displayName": f"g{i}"})["id"] for i in range(len(ids))):
        groups.patch_group(scope, gid, _patch("add", [ids[0]]))
    return ids[0]


def _delete_user(scope, ids):
    user = _in_groups(scope, ids)
    return lambda: users.delete_user(scope, user)


def _delete_employee(scope, ids):
    user = _in_groups(scope, ids)
    users.patch_user(
        scope, user, {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    )
    return lambda: employees.delete_employee(scope.storage, scope.tenant_id, user)


@pytest.mark.parametrize("operation", [_members, _remove, _create_group, _delete_group, _delete_user, _delete_employee])
def test_membership_work_crashing_after_each_write(storage, small_transactions, frozen, operation):
    def attempt(allowed: int) -> bool:
        view, _ = tenants.create_tenant(storage, f"crash-members-{allowed}")
        scope = make_scope(storage, view["tenantId"])
        ids = [users.create_user(scope, {"userName": f"m{i}"})["id"] for i in range(6)]
        completed = _run(storage, allowed, operation(scope, ids))
        frozen["now"] += timedelta(minutes=6)  # the crashed request is gone: its journal may be resumed
        _repaired(storage, view["tenantId"])
        return completed

    assert _crash_points(attempt) >= 2
