"""A user deleted while being added to a group never stays a member, whichever of the two writes lands
first (the group add guards the user row it checked; the delete retries when that guard moved it)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared import groups, membership, users
from shared.scim.errors import ScimError
from tests.support.fixtures_reconcile import PATCH_OP, cycle, frozen  # noqa: F401 - fixture


def _before_next_transaction(monkeypatch, storage, action, *, skip: int = 0) -> None:
    """Run action once, just before the transaction that follows `skip` others."""
    original = storage.directory.transact
    seen: list[bool] = []

    def transact(ops):
        seen.append(True)
        if len(seen) == skip + 1:
            action()
        return original(ops)

    monkeypatch.setattr(storage.directory, "transact", transact)


def _add(scope, group_id: str, *user_ids: str):
    values = [{"value": u} for u in user_ids]
    body = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": values}]}
    return groups.patch_group(scope, group_id, body)


def _no_membership(scope, group_id: str, user_id: str) -> None:
    assert membership.group_member_ids(scope.storage, scope.tenant_id, group_id) == []
    assert membership.user_group_ids(scope.storage, scope.tenant_id, user_id) == []


def test_a_delete_between_the_check_and_the_add_fails_the_add(scope, monkeypatch):
    user_id = users.create_user(scope, {"userName": "leaving"})["id"]
    group_id = groups.create_group(scope, {"displayName": "Team"})["id"]
    _before_next_transaction(monkeypatch, scope.storage, lambda: users.delete_user(scope, user_id))
    with pytest.raises(ScimError) as error:
        _add(scope, group_id, user_id)
    assert error.value.status == 400
    _no_membership(scope, group_id, user_id)


def test_an_add_between_the_delete_reading_memberships_and_writing_leaves_none(scope, monkeypatch):
    user_id = users.create_user(scope, {"userName": "leaving"})["id"]
    group_id = groups.create_group(scope, {"displayName": "Team"})["id"]
    _before_next_transaction(monkeypatch, scope.storage, lambda: _add(scope, group_id, user_id))
    users.delete_user(scope, user_id)
    _no_membership(scope, group_id, user_id)
    with pytest.raises(ScimError):
        users.get_entity(scope, user_id)


def _team(scope, size: int) -> tuple[str, list[str]]:
    ids = [users.create_user(scope, {"userName": f"member{i}"})["id"] for i in range(size)]
    return groups.create_group(scope, {"displayName": "Team"})["id"], ids


def test_a_delete_after_the_batched_check_fails_the_whole_add(scope, monkeypatch):
    """The members are checked by batch reads (12 keys a query); each checked row's ETag still guards
    its pair, so a user deleted between the batch read and the write fails the add of everyone."""
    group_id, ids = _team(scope, 30)
    leaving = ids[17]
    _before_next_transaction(monkeypatch, scope.storage, lambda: users.delete_user(scope, leaving))
    with pytest.raises(ScimError) as error:
        _add(scope, group_id, *ids)
    assert error.value.status == 400 and leaving in error.value.detail
    assert membership.group_member_ids(scope.storage, scope.tenant_id, group_id) == []
    assert membership.user_group_ids(scope.storage, scope.tenant_id, leaving) == []


def test_a_delete_between_chunks_of_a_large_add_never_makes_a_member(scope, monkeypatch, frozen):  # noqa: F811
    """A large add spans transactions; a user deleted after the first one landed fails the chunk that
    names it, and the journal left behind is finished by reconciliation without that user."""
    monkeypatch.setattr(membership, "MAX_TRANSACTION_OPS", 10)  # 3 guarded pairs a transaction
    group_id, ids = _team(scope, 12)
    leaving = ids[-1]
    _before_next_transaction(monkeypatch, scope.storage, lambda: users.delete_user(scope, leaving), skip=1)
    with pytest.raises(ScimError) as error:
        _add(scope, group_id, *ids)
    assert error.value.status == 400
    assert leaving not in membership.group_member_ids(scope.storage, scope.tenant_id, group_id)
    frozen["now"] += timedelta(minutes=6)  # the request is gone: its journal may be resumed
    cycle(scope.storage, scope.tenant_id)
    assert leaving not in membership.group_member_ids(scope.storage, scope.tenant_id, group_id)
    assert membership.user_group_ids(scope.storage, scope.tenant_id, leaving) == []
    assert not list(scope.storage.directory.query(scope.tenant_id, prefix=membership.JOURNAL))
