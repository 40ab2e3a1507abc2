"""The services in process over Storage.in_memory(): no Azurite, same behaviour and storage-call budgets
(ARCHITECTURE.md) as tests/integration measures over Azurite."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared import groups, membership, tenants, users
from shared.query import USERS, run_query
from shared.resources import Scope
from shared.scim.errors import ScimError
from shared.scim.listing import parse_list_params
from shared.store import counter
from shared.store.client import Storage
from tests.support.fixtures_reconcile import cycle, patch, row_keys

BASE_URL = "http://scim.test/scim/v2"


@pytest.fixture
def storage() -> Storage:
    return Storage.in_memory()


@pytest.fixture
def scope(storage: Storage) -> Scope:
    view, _ = tenants.create_tenant(storage, "Contoso")
    return Scope(storage=storage, tenant_id=view["tenantId"], base_url=BASE_URL)


def test_a_token_authenticates_its_tenant_until_rotated(storage):
    view, token = tenants.create_tenant(storage, "Contoso")
    assert tenants.authenticate(storage, token).tenant_id == view["tenantId"]
    _, new_token = tenants.rotate_token(storage, view["tenantId"])
    assert tenants.authenticate(storage, token) is None
    assert tenants.authenticate(storage, new_token).tenant_id == view["tenantId"]
    assert [t["tenantId"] for t in tenants.list_tenants(storage)] == [view["tenantId"]]


def test_a_user_is_created_and_read_within_its_budget(scope):
    with counter.counting() as create:
        user = users.create_user(scope, {"userName": "alice@example.com", "externalId": "a1"})
    assert create.by_kind == {"transaction": 1}  # a new userName needs no read first
    with counter.counting() as read:
        again = users.get_user(scope, user["id"])
    assert read.total == 1 and again == user
    with pytest.raises(ScimError) as taken:
        users.create_user(scope, {"userName": "ALICE@example.com"})
    assert taken.value.status == 409


def test_filtering_by_user_name_reads_by_key(scope):
    alice = users.create_user(scope, {"userName": "alice"})
    for i in range(5):
        users.create_user(scope, {"userName": f"other{i}"})
    with counter.counting() as calls:
        found = run_query(scope, USERS, parse_list_params({"filter": 'userName eq "ALICE"'}))
    assert [r["id"] for r in found["Resources"]] == [alice["id"]] and calls.total <= 2


def test_a_rename_takes_over_a_deleted_users_name(scope):
    # The transaction's AlreadyExists names the index row that failed; the service retries over it.
    gone = users.create_user(scope, {"userName": "alice"})
    users.delete_user(scope, gone["id"])
    bob = users.create_user(scope, {"userName": "bob"})
    renamed = users.patch_user(
        scope,
        bob["id"],
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "userName", "value": "alice"}],
        },
    )
    assert renamed["userName"] == "alice"
    carol = users.create_user(scope, {"userName": "carol"})
    with pytest.raises(ScimError) as taken:
        users.replace_user(scope, carol["id"], {"userName": "alice"})
    assert taken.value.status == 409


def test_a_member_change_larger_than_a_transaction_is_chunked_and_an_interrupted_one_finished(
    scope, monkeypatch, frozen
):
    ids = [users.create_user(scope, {"userName": f"m{i}"})["id"] for i in range(120)]
    gid = groups.create_group(scope, {"displayName": "Everyone", "members": [{"value": u} for u in ids[:60]]})["id"]
    assert sorted(membership.group_member_ids(scope.storage, scope.tenant_id, gid)) == sorted(ids[:60])

    with monkeypatch.context() as patched:  # the instance dies after the first of several transactions
        patched.setattr("shared.membership.resume", lambda *args, **kwargs: (_ for _ in ()).throw(ConnectionError()))
        with pytest.raises(ConnectionError):
            groups.patch_group(scope, gid, patch("add", ids[60:]))
    assert len(row_keys(scope.storage, scope.tenant_id, membership.JOURNAL)) == 1
    assert "journal" not in cycle(scope.storage, scope.tenant_id)["repairs"]  # too young: its request may live
    frozen["now"] += timedelta(minutes=6)
    assert cycle(scope.storage, scope.tenant_id)["repairs"] == {"journal": 1}
    assert sorted(membership.group_member_ids(scope.storage, scope.tenant_id, gid)) == sorted(ids)
    assert membership.user_group_ids(scope.storage, scope.tenant_id, ids[-1]) == [gid]

    groups.delete_group(scope, gid)
    assert (
        row_keys(scope.storage, scope.tenant_id, "M:") == set()
        and row_keys(scope.storage, scope.tenant_id, "R:") == set()
    )
