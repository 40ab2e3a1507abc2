"""Lists cost the page, not the tenant (shared.paging, shared.tally): what a page reads, that walking
all pages in order is O(total), that totalResults stays exact through creates and deletes, and what a
walk guarantees while the directory changes. Counted on the in-memory backend (tests/contract holds it
to Azure's behaviour) where tenants are large, and on Azurite where they are small."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared import employees, groups, tenants, users
from shared.query import GROUPS, USERS, run_query
from shared.scim.listing import parse_list_params
from shared.store import counter, keys
from shared.store.client import Storage
from shared.store.table import ids_under
from tests.integration.conftest import make_scope
from tests.support.fixtures_reconcile import PATCH_OP, frozen  # noqa: F401 - fixture
from tools.bench import seed
from tools.bench.seed import Shape


def _list(scope, kind=USERS, **params):
    return run_query(scope, kind, parse_list_params(params))


def _memory_scope(n_users: int):
    storage = Storage.in_memory()
    scope = make_scope(storage, tenants.create_tenant(storage, f"paging-{uuid.uuid4().hex[:6]}")[0]["tenantId"])
    seed.seed(storage, scope.tenant_id, Shape(users=n_users, groups=0, memberships=0))
    return scope


def _user_rows_read(monkeypatch, scope) -> list[int]:
    """Counts the user rows each list request's queries return."""
    read = [0]
    original = scope.storage.directory.query_page

    def query_page(pk, **kwargs):
        rows, token = original(pk, **kwargs)
        read[0] += sum(1 for r in rows if r["RowKey"].startswith(keys.USER))
        return rows, token

    monkeypatch.setattr(scope.storage.directory, "query_page", query_page)
    return read


def _walk(scope, count: int, total: int) -> tuple[list[str], list[int]]:
    ids, costs = [], []
    for start in range(1, total + 1, count):
        with counter.counting() as calls:
            result = _list(scope, startIndex=start, count=count)
        assert result["totalResults"] == total
        ids += [r["id"] for r in result["Resources"]]
        costs.append(calls.total)
    return ids, costs


def test_a_page_reads_about_the_page_and_a_walk_reads_each_row_once(monkeypatch):
    scope = _memory_scope(3000)
    read = _user_rows_read(monkeypatch, scope)
    everyone = ids_under(scope.storage.directory, scope.tenant_id, keys.USER)
    read[0] = 0
    ids, costs = _walk(scope, 100, 3000)
    assert ids == everyone  # every user once, in RowKey order
    # the first page counts the tenant once (its tally base is created); later ones read ~101 user rows
    assert read[0] <= 3000 + 30 * 101
    assert max(costs[1:]) <= 4  # cursor read, page query, tally query, cursor write
    read[0] = 0
    with counter.counting() as calls:
        last = _list(scope, startIndex=2901, count=100)
    assert [r["id"] for r in last["Resources"]] == everyone[2900:]
    assert calls.total <= 3 and read[0] <= 101


def test_a_jump_without_a_fresh_cursor_counts_keys_to_its_start(monkeypatch, frozen):  # noqa: F811
    scope = _memory_scope(2500)
    everyone = ids_under(scope.storage.directory, scope.tenant_id, keys.USER)
    _walk(scope, 500, 2500)
    frozen["now"] += timedelta(minutes=16)  # the walk's cursors are now too old to trust
    with counter.counting() as calls:
        page = _list(scope, startIndex=1201, count=10)
    assert [r["id"] for r in page["Resources"]] == everyone[1200:1210]
    assert calls.by_kind.get("query", 0) <= 1 + 2 + 1  # tally, keys up to the start, the page


def test_total_results_stay_exact_through_creates_and_deletes(scope):
    def expected() -> int:  # the full scan, as a filter that matches every user sees it
        return _list(scope, filter="userName pr")["totalResults"]

    ids = [users.create_user(scope, {"userName": f"t{i}"})["id"] for i in range(12)]
    assert _list(scope, count=0)["totalResults"] == expected() == 12
    users.delete_user(scope, ids[0])  # SCIM delete: a tombstone, no longer listed
    users.patch_user(
        scope, ids[1], {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    )
    employees.delete_employee(scope.storage, scope.tenant_id, ids[1])  # archived but live: one fewer
    employees.delete_employee(scope.storage, scope.tenant_id, ids[0])  # already SCIM-deleted: no change
    users.create_user(scope, {"userName": "t0"})  # restores over the tombstone's name
    page = _list(scope, startIndex=1, count=5)
    assert page["totalResults"] == expected() == 11 and page["itemsPerPage"] == 5
    group = groups.create_group(scope, {"displayName": "g", "members": [{"value": ids[2]}]})
    groups.create_group(scope, {"displayName": "h"})
    groups.delete_group(scope, group["id"])
    listed = _list(scope, GROUPS, count=10)
    assert listed["totalResults"] == 1 and [g["displayName"] for g in listed["Resources"]] == ["h"]


def test_a_tenant_without_a_tally_is_counted_once_then_kept_by_its_changes():
    scope = _memory_scope(40)  # seeded rows: no change rows, no base
    old = ids_under(scope.storage.directory, scope.tenant_id, keys.USER)
    users.delete_user(scope, old[0])  # changes before the first count
    new = users.create_user(scope, {"userName": "new"})["id"]
    assert _list(scope, count=0)["totalResults"] == 40
    users.delete_user(scope, new)
    users.delete_user(scope, old[1])
    assert _list(scope, count=0)["totalResults"] == 38


def test_many_changes_are_folded_and_the_count_stays_exact():
    scope = _memory_scope(0)
    for i in range(230):
        users.create_user(scope, {"userName": f"f{i}"})
    for _ in range(3):
        assert _list(scope, count=0)["totalResults"] == 230
    changes = ids_under(scope.storage.directory, scope.tenant_id, keys.TALLY + keys.USER + "d:")
    assert len(changes) < 230  # folds took rows away


def test_a_walk_while_users_come_and_go_returns_no_row_twice_and_skips_no_survivor(scope):
    ids = [users.create_user(scope, {"userName": f"w{i:02d}"})["id"] for i in range(30)]
    seen: list[str] = []
    start, created = 1, []
    for turn in range(8):
        page = _list(scope, startIndex=start, count=5)
        seen += [r["id"] for r in page["Resources"]]
        start += 5
        users.delete_user(scope, ids[turn * 3])  # some of them already listed, some not yet
        created.append(users.create_user(scope, {"userName": f"new{turn}"})["id"])
        if not page["Resources"]:
            break
    assert len(seen) == len(set(seen))
    survivors = set(ids) - {ids[t * 3] for t in range(8)}
    assert survivors <= set(seen)


@pytest.mark.parametrize("excluded", [None, "members"])
def test_group_pages_carry_their_members_unless_excluded(scope, excluded):
    member = users.create_user(scope, {"userName": "member"})["id"]
    for i in range(4):
        groups.create_group(scope, {"displayName": f"g{i}", "members": [{"value": member}]})
    params = {"startIndex": 2, "count": 2} | ({"excludedAttributes": excluded} if excluded else {})
    page = _list(scope, GROUPS, **params)
    assert page["totalResults"] == 4 and page["itemsPerPage"] == 2
    for resource in page["Resources"]:
        assert ("members" in resource) is (excluded is None)


def test_tombstones_after_a_page_are_read_past_in_bulk():
    scope = _memory_scope(30)
    everyone = ids_under(scope.storage.directory, scope.tenant_id, keys.USER)
    for user_id in everyone[5:25]:
        users.delete_user(scope, user_id)  # SCIM-deleted: rows that stay, but are not listed
    assert _list(scope, count=0)["totalResults"] == 10  # the tally is set up: not part of what is measured
    with counter.counting() as calls:
        page = _list(scope, startIndex=1, count=5)
    assert [r["id"] for r in page["Resources"]] == everyone[:5] and page["totalResults"] == 10
    # the tally, then 5 rows, 20 tombstones and the next live row, 6 rows a call (not 1 a call once 5 are in)
    assert calls.by_kind["query"] <= 1 + 5
    nxt = _list(scope, startIndex=6, count=5)
    assert [r["id"] for r in nxt["Resources"]] == everyone[25:]
