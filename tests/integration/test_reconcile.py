"""Reconciliation integrity over Azurite: corrupted row pairs, interrupted multi-transaction
operations, and SCIM changes racing the cycle's reads."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta

import pytest

from shared import employees, groups, membership, query, users
from shared.reconcile import integrity
from shared.scim.listing import parse_list_params
from shared.store import keys
from shared.store.table import Op
from tests.support.fixtures_reconcile import PATCH_OP, actions, cycle, patch, row_keys

MEMBERS = 60  # more than one transaction's worth of membership pairs


def _directory(scope, n_users=4):
    ids = [users.create_user(scope, {"userName": f"user{i}", "externalId": f"ext{i}"})["id"] for i in range(n_users)]
    group = groups.create_group(
        scope, {"displayName": "Team", "externalId": "gext", "members": [{"value": u} for u in ids]}
    )
    return ids, group["id"]


def test_deletes_leave_no_index_rows_behind(storage, tenant, scope):
    """A deleted user or group takes its externalId index row (and a group its name row) with it, so the
    first cycle after the deletes has nothing to repair."""
    tid = tenant["tenantId"]
    ids, gid = _directory(scope, n_users=2)
    groups.delete_group(scope, gid)
    users.delete_user(scope, ids[0])
    assert (
        row_keys(storage, tid, keys.GROUP_EXTERNAL_ID_INDEX) == set()
        and row_keys(storage, tid, keys.DISPLAYNAME_INDEX) == set()
    )
    assert row_keys(storage, tid, keys.USER_EXTERNAL_ID_INDEX) == {
        keys.external_id_key(keys.USER_EXTERNAL_ID_INDEX, "ext1", ids[1])
    }
    assert cycle(storage, tid)["repairs"] == {}


def test_every_kind_of_corrupted_row_is_repaired_and_a_second_cycle_finds_nothing(storage, tenant, scope):
    tid = tenant["tenantId"]
    ids, gid = _directory(scope)
    renamed = users.create_user(scope, {"userName": "before-rename"})["id"]
    other = groups.create_group(scope, {"displayName": "Other", "externalId": "oext"})["id"]
    d = storage.directory
    # Name index rows: missing, pointing nowhere, left under a former name.
    d.delete(tid, keys.username_key("user0"))
    d.upsert({"PartitionKey": tid, "RowKey": keys.username_key("ghost"), "ref": "f" * 32})
    d.transact(
        [
            Op("merge", {"PartitionKey": tid, "RowKey": keys.user_key(renamed), "userName": "after-rename"}),
            Op("delete", {"PartitionKey": tid, "RowKey": keys.username_key("before-rename")}),
            Op("upsert", {"PartitionKey": tid, "RowKey": keys.username_key("stale-name"), "ref": renamed}),
        ]
    )
    d.delete(tid, keys.displayname_key("Team"))
    d.upsert({"PartitionKey": tid, "RowKey": keys.displayname_key("Gone"), "ref": "c" * 32})
    # externalId index rows: missing, stale, stray.
    d.delete(tid, keys.external_id_key(keys.USER_EXTERNAL_ID_INDEX, "ext1", ids[1]))
    d.upsert({"PartitionKey": tid, "RowKey": keys.external_id_key(keys.USER_EXTERNAL_ID_INDEX, "old", ids[2])})
    d.delete(tid, keys.external_id_key(keys.GROUP_EXTERNAL_ID_INDEX, "oext", other))
    d.upsert({"PartitionKey": tid, "RowKey": keys.external_id_key(keys.GROUP_EXTERNAL_ID_INDEX, "stray", "e" * 32)})
    # Memberships: one direction only, pointing at a user or a group that does not exist.
    d.delete(tid, keys.member_of_key(ids[0], gid))
    d.delete(tid, keys.member_key(gid, ids[1]))
    d.transact(
        [
            Op("upsert", {"PartitionKey": tid, "RowKey": keys.member_key(gid, "a" * 32)}),
            Op("upsert", {"PartitionKey": tid, "RowKey": keys.member_of_key("a" * 32, gid)}),
        ]
    )
    d.upsert({"PartitionKey": tid, "RowKey": keys.member_key("b" * 32, ids[2])})

    report = cycle(storage, tid)

    assert report["complete"] and report["repairs"] == {"index": 10, "membership": 5}
    index = row_keys(storage, tid, keys.USERNAME_INDEX)
    assert {keys.username_key(f"user{i}") for i in range(4)} | {keys.username_key("after-rename")} == index
    assert row_keys(storage, tid, keys.DISPLAYNAME_INDEX) == {
        keys.displayname_key("Team"),
        keys.displayname_key("Other"),
    }
    assert row_keys(storage, tid, keys.USER_EXTERNAL_ID_INDEX) == {
        keys.external_id_key(keys.USER_EXTERNAL_ID_INDEX, f"ext{i}", ids[i]) for i in range(4)
    }
    assert row_keys(storage, tid, keys.GROUP_EXTERNAL_ID_INDEX) == {
        keys.external_id_key(keys.GROUP_EXTERNAL_ID_INDEX, "gext", gid),
        keys.external_id_key(keys.GROUP_EXTERNAL_ID_INDEX, "oext", other),
    }
    assert sorted(membership.group_member_ids(storage, tid, gid)) == sorted(ids)
    assert all(membership.user_group_ids(storage, tid, u) == [gid] for u in ids)
    assert row_keys(storage, tid, keys.MEMBER) == {keys.member_key(gid, u) for u in ids}
    assert len(actions(storage, tid, "repair.")) == 15  # one audit event per repaired row
    assert storage.directory.get(tid, keys.username_key("user0"))["ref"] == ids[0]

    again = cycle(storage, tid)
    assert again["repairsTotal"] == 0 and again["complete"] and again["conflictsLeft"] == 0


def test_two_live_users_claiming_one_name_are_left_for_an_admin(storage, tenant, scope):
    tid = tenant["tenantId"]
    first = users.create_user(scope, {"userName": "twin"})["id"]
    clone = dict(storage.directory.get(tid, keys.user_key(first)), RowKey=keys.user_key("d" * 32))
    storage.directory.upsert(clone)
    report = cycle(storage, tid)
    assert report["conflictsLeft"] == 1 and report["repairsTotal"] == 0
    assert storage.directory.get(tid, keys.username_key("twin"))["ref"] == first


def _patch_add(scope, ids) -> tuple[Callable[[], object], Callable[[], None]]:
    gid = groups.create_group(scope, {"displayName": "Target"})["id"]

    def check():
        assert sorted(membership.group_member_ids(scope.storage, scope.tenant_id, gid)) == sorted(ids)
        assert all(membership.user_group_ids(scope.storage, scope.tenant_id, u) == [gid] for u in ids)

    return lambda: groups.patch_group(scope, gid, patch("add", ids)), check


def _patch_remove(scope, ids):
    gid = groups.create_group(scope, {"displayName": "Target", "members": [{"value": u} for u in ids]})["id"]

    def check():
        assert membership.group_member_ids(scope.storage, scope.tenant_id, gid) == []
        assert all(membership.user_group_ids(scope.storage, scope.tenant_id, u) == [] for u in ids)

    return lambda: groups.patch_group(scope, gid, patch("remove", ids)), check


def _replace_members(scope, ids):
    half = len(ids) // 2
    gid = groups.create_group(scope, {"displayName": "Target", "members": [{"value": u} for u in ids[:half]]})["id"]
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Target",
        "members": [{"value": u} for u in ids[half:]],
    }

    def check():
        assert sorted(membership.group_member_ids(scope.storage, scope.tenant_id, gid)) == sorted(ids[half:])
        assert all(membership.user_group_ids(scope.storage, scope.tenant_id, u) == [] for u in ids[:half])

    return lambda: groups.replace_group(scope, gid, body), check


def _delete_group(scope, ids):
    gid = groups.create_group(scope, {"displayName": "Doomed", "members": [{"value": u} for u in ids]})["id"]

    def check():
        assert membership.group_member_ids(scope.storage, scope.tenant_id, gid) == []
        assert all(membership.user_group_ids(scope.storage, scope.tenant_id, u) == [] for u in ids)

    return lambda: groups.delete_group(scope, gid), check


def _groups_of_one_user(scope):
    user = users.create_user(scope, {"userName": "member-of-many"})["id"]
    gids = [
        groups.create_group(scope, {"displayName": f"g{i}", "members": [{"value": user}]})["id"] for i in range(MEMBERS)
    ]

    def check():
        assert membership.user_group_ids(scope.storage, scope.tenant_id, user) == []
        assert all(membership.group_member_ids(scope.storage, scope.tenant_id, g) == [] for g in gids)

    return user, check


def _delete_user(scope, ids):
    user, check = _groups_of_one_user(scope)
    return lambda: users.delete_user(scope, user), check


def _delete_employee(scope, ids):
    user, check = _groups_of_one_user(scope)
    users.patch_user(
        scope, user, {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    )
    return lambda: employees.delete_employee(scope.storage, scope.tenant_id, user), check


@pytest.mark.parametrize(
    "operation", [_patch_add, _patch_remove, _replace_members, _delete_group, _delete_user, _delete_employee]
)
def test_an_operation_interrupted_between_transactions_is_finished(
    storage, tenant, scope, monkeypatch, frozen, operation
):
    tid = tenant["tenantId"]
    needs_users = operation not in (_delete_user, _delete_employee)
    ids = [users.create_user(scope, {"userName": f"m{i}"})["id"] for i in range(MEMBERS)] if needs_users else []
    run, check = operation(scope, ids)
    with monkeypatch.context() as patched:
        patched.setattr("shared.membership.resume", _instance_recycled)
        with pytest.raises(ConnectionError):
            run()
    assert len(row_keys(storage, tid, membership.JOURNAL)) == 1

    young = cycle(storage, tid)  # the request might still be running: its journal is left alone
    assert "journal" not in young["repairs"] and len(row_keys(storage, tid, membership.JOURNAL)) == 1

    frozen["now"] += timedelta(minutes=6)
    report = cycle(storage, tid)
    assert report["repairs"] == {"journal": 1}
    assert row_keys(storage, tid, membership.JOURNAL) == set()
    check()
    assert cycle(storage, tid)["repairsTotal"] == 0


def _drop_other_halves(storage, tenant_id: str, listed_by: str) -> int:
    """Half-written pairs, as a crash between two chunks can leave them: for every third membership row the
    resumed work will list (by `listed_by`), delete its counterpart row. Returns how many were deleted."""
    dropped = 0
    for n, row_key in enumerate(sorted(row_keys(storage, tenant_id, listed_by))):
        if n % 3 == 0:
            first, second = row_key[len(listed_by) :].split(":")
            counterpart = (
                keys.member_of_key(second, first) if listed_by == keys.MEMBER else keys.member_key(second, first)
            )
            storage.directory.delete(tenant_id, counterpart)
            dropped += 1
    return dropped


@pytest.mark.parametrize(
    "operation,listed_by", [(_patch_remove, keys.MEMBER), (_delete_group, keys.MEMBER), (_delete_user, keys.MEMBER_OF)]
)
def test_an_interrupted_chunk_finishes_when_some_of_its_rows_are_already_gone(
    storage, tenant, scope, monkeypatch, frozen, operation, listed_by
):
    """Membership chunk recovery: deleting a row that is already gone is not an error, so the journal still
    completes, the other rows of the chunk are deleted, and nothing is left for integrity to repair."""
    tid = tenant["tenantId"]
    ids = (
        [users.create_user(scope, {"userName": f"m{i}"})["id"] for i in range(MEMBERS)]
        if operation is not _delete_user
        else []
    )
    run, check = operation(scope, ids)
    with monkeypatch.context() as patched:
        patched.setattr("shared.membership.resume", _instance_recycled)
        with pytest.raises(ConnectionError):
            run()
    assert len(row_keys(storage, tid, membership.JOURNAL)) == 1
    assert _drop_other_halves(storage, tid, listed_by) > 0
    frozen["now"] += timedelta(minutes=6)
    report = cycle(storage, tid)
    assert report["repairs"] == {"journal": 1}, report["repairs"]
    assert row_keys(storage, tid, membership.JOURNAL) == set()
    check()
    assert row_keys(storage, tid, keys.MEMBER) == set() and row_keys(storage, tid, keys.MEMBER_OF) == set()


def _instance_recycled(*args, **kwargs):
    raise ConnectionError("the instance was recycled between transactions")


def _after_reading(monkeypatch, prefix: str, change: Callable[[], object]) -> None:
    """Make a SCIM change land right after the cycle's snapshot has read the rows under prefix."""
    original = integrity._Snapshot.read

    def read(self, read_prefix, columns):
        found = original(self, read_prefix, columns)
        if read_prefix == prefix:
            change()
        return found

    monkeypatch.setattr(integrity._Snapshot, "read", read)


def test_a_membership_removed_between_the_two_directions_is_not_brought_back(storage, tenant, scope, monkeypatch):
    tid = tenant["tenantId"]
    ids, gid = _directory(scope, n_users=2)
    _after_reading(monkeypatch, keys.MEMBER, lambda: groups.patch_group(scope, gid, patch("remove", [ids[0]])))
    report = cycle(storage, tid)
    assert report["repairsTotal"] == 0
    assert membership.group_member_ids(storage, tid, gid) == [ids[1]]
    assert membership.user_group_ids(storage, tid, ids[0]) == []


def test_a_user_created_or_renamed_during_the_snapshot_keeps_its_index_rows(storage, tenant, scope, monkeypatch):
    tid = tenant["tenantId"]
    ids, gid = _directory(scope, n_users=1)

    def changes():
        users.create_user(scope, {"userName": "late", "externalId": "late-ext"})
        users.patch_user(
            scope,
            ids[0],
            {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "userName", "value": "renamed"}]},
        )

    _after_reading(monkeypatch, keys.USER, changes)
    report = cycle(storage, tid)
    assert report["repairsTotal"] == 0
    assert row_keys(storage, tid, keys.USERNAME_INDEX) == {keys.username_key("renamed"), keys.username_key("late")}
    assert len(row_keys(storage, tid, keys.USER_EXTERNAL_ID_INDEX)) == 2


def test_name_rows_keyed_by_the_old_case_rule_are_rekeyed_by_one_cycle(storage, tenant, scope):
    """Name index rows written before the case rule became NFC + lower() were keyed with casefold(): for a
    name like "Straße" the two differ. One reconciliation cycle moves such a row to the current key, so
    the user is found by filter again and the old key no longer claims the name."""
    user = users.create_user(scope, {"userName": "Straße"})
    tid = tenant["tenantId"]
    current = keys.username_key("Straße")
    legacy = keys.USERNAME_INDEX + "b" + base64.urlsafe_b64encode(b"strasse").decode().rstrip("=")
    assert legacy != current
    storage.directory.transact(
        [
            Op("delete", {"PartitionKey": tid, "RowKey": current}),
            Op("create", {"PartitionKey": tid, "RowKey": legacy, "ref": user["id"]}),
        ]
    )
    assert storage.directory.get(tid, current) is None

    report = cycle(storage, tid)
    assert report["repairsTotal"] >= 1
    assert storage.directory.get(tid, current)["ref"] == user["id"]
    assert storage.directory.get(tid, legacy) is None

    def found(name: str) -> list[str]:
        params = parse_list_params({"filter": f'userName eq "{name}"'})
        return [u["id"] for u in query.run_query(scope, query.USERS, params)["Resources"]]

    assert found("STRAßE") == [user["id"]] and found("strasse") == []
    assert cycle(storage, tid)["repairsTotal"] == 0
