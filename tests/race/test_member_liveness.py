"""A user deleted while being added to a group never stays a member, whichever of the two writes lands
first (the group add guards the user row it checked; the delete retries when that guard moved it)."""

from __future__ import annotations

import pytest

from shared import groups, membership, users
from shared.scim.errors import ScimError
from tests.support.fixtures_reconcile import PATCH_OP


def _before_next_transaction(monkeypatch, storage, action) -> None:
    original = storage.directory.transact
    fired: list[bool] = []

    def transact(ops):
        if not fired:
            fired.append(True)
            action()
        return original(ops)

    monkeypatch.setattr(storage.directory, "transact", transact)


def _add(scope, group_id: str, user_id: str):
    body = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": user_id}]}]}
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
