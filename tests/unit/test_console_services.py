"""What the console's screens read, in process: employee search and paging that never reads a whole
tenant, groups with member counts and paged members, the staged count, and the ring of recent SCIM errors."""

from __future__ import annotations

import pytest

from shared import employees, group_views, groups, health, tenants, users
from shared.errors import Invalid
from shared.resources import Scope
from shared.store import counter
from shared.store.client import Storage

BASE_URL = "http://scim.test/scim/v2"


@pytest.fixture
def scope() -> Scope:
    storage = Storage.in_memory()
    view, _ = tenants.create_tenant(storage, "Contoso")
    return Scope(storage=storage, tenant_id=view["tenantId"], base_url=BASE_URL)


def _people(scope: Scope, n: int) -> list[str]:
    return [
        users.create_user(
            scope,
            {
                "userName": f"person{i}@contoso.com",
                "displayName": f"Person {i}",
                "emails": [{"value": f"p{i}@mail.contoso.com", "primary": True}],
            },
        )["id"]
        for i in range(n)
    ]


def test_search_matches_name_or_email_case_insensitively(scope: Scope) -> None:
    _people(scope, 12)
    by_name, _ = employees.list_employees(scope.storage, scope.tenant_id, search="PERSON 11")
    assert [e["displayName"] for e in by_name] == ["Person 11"]
    by_mail, _ = employees.list_employees(scope.storage, scope.tenant_id, search="p3@mail")
    assert [e["displayName"] for e in by_mail] == ["Person 3"]


def test_pages_follow_each_other_without_gaps(scope: Scope) -> None:
    ids = _people(scope, 7)
    seen: list[str] = []
    token = None
    while True:
        page, token = employees.list_employees(scope.storage, scope.tenant_id, limit=3, continuation=token)
        seen += [e["id"] for e in page]
        if token is None:
            break
    assert seen == sorted(ids)


def test_a_search_page_stops_at_its_scan_budget(scope: Scope, monkeypatch: pytest.MonkeyPatch) -> None:
    _people(scope, 9)
    monkeypatch.setattr(employees, "SCAN_BUDGET", 4)
    page, token = employees.list_employees(scope.storage, scope.tenant_id, search="nobody")
    assert page == [] and token is not None  # read 4 rows, found none, and says where to go on
    rest, token = employees.list_employees(scope.storage, scope.tenant_id, search="nobody", continuation=token)
    assert rest == [] and token is not None


def test_a_page_of_employees_costs_the_same_in_a_large_tenant(scope: Scope) -> None:
    _people(scope, 60)
    with counter.counting() as calls:
        page, _ = employees.list_employees(scope.storage, scope.tenant_id, limit=10)
    assert len(page) == 10 and calls.total == 1


def test_a_foreign_continuation_is_invalid(scope: Scope) -> None:
    with pytest.raises(Invalid):
        employees.list_employees(scope.storage, scope.tenant_id, continuation="U:../x")


def test_group_names_per_employee(scope: Scope) -> None:
    a, b, c = _people(scope, 3)
    groups.create_group(scope, {"displayName": "Sales", "members": [{"value": a}, {"value": b}]})
    groups.create_group(scope, {"displayName": "Admins", "members": [{"value": a}]})
    assert employees.group_names(scope.storage, scope.tenant_id, [a, b, c]) == {
        a: ["Admins", "Sales"],
        b: ["Sales"],
        c: [],
    }


def test_a_pages_group_names_cost_one_query_and_a_read_per_group(scope: Scope) -> None:
    people = _people(scope, 30)
    for name in ("Sales", "Admins"):
        groups.create_group(scope, {"displayName": name, "members": [{"value": p} for p in people]})
    page, _ = employees.list_employees(scope.storage, scope.tenant_id, limit=10)
    with counter.counting() as calls:
        names = employees.group_names(scope.storage, scope.tenant_id, [e["id"] for e in page])
    assert set(map(tuple, names.values())) == {("Admins", "Sales")} and calls.total == 1 + 2


def test_groups_list_member_counts_and_page_their_members(scope: Scope) -> None:
    people = _people(scope, 5)
    sales = groups.create_group(scope, {"displayName": "Sales", "members": [{"value": p} for p in people]})["id"]
    groups.create_group(scope, {"displayName": "Empty"})
    listed, after = group_views.list_groups(scope.storage, scope.tenant_id)
    assert {g["displayName"]: g["memberCount"] for g in listed} == {"Sales": 5, "Empty": 0} and after is None
    first = group_views.group_members(scope.storage, scope.tenant_id, sales, limit=2)
    assert first["memberCount"] == 5 and len(first["members"]) == 2 and first["continuation"]
    names = [m["displayName"] for m in first["members"]]
    token = first["continuation"]
    while token:
        page = group_views.group_members(scope.storage, scope.tenant_id, sales, limit=2, continuation=token)
        names += [m["displayName"] for m in page["members"]]
        token = page["continuation"]
    assert sorted(names) == sorted(f"Person {i}" for i in range(5))


def test_an_unknown_group_is_not_found(scope: Scope) -> None:
    with pytest.raises(group_views.NotFound):
        group_views.group_members(scope.storage, scope.tenant_id, "f" * 32)


def test_the_staged_count_follows_invitations(scope: Scope) -> None:
    a, _, _ = _people(scope, 3)
    assert employees.count_with_status(scope.storage, scope.tenant_id, "staged") == 3
    employees.invite_employees(scope.storage, scope.tenant_id, ids=[a])
    assert employees.count_with_status(scope.storage, scope.tenant_id, "staged") == 2


def test_recent_scim_errors_are_a_bounded_ring_newest_first(scope: Scope, frozen) -> None:
    from datetime import timedelta

    for i in range(health.ERROR_SLOTS + 5):
        frozen["now"] += timedelta(seconds=1)
        health.record_error(
            scope.storage,
            scope.tenant_id,
            method="POST",
            route="Users",
            status=400 + i % 10,
            scim_type="invalidValue",
            detail=f"error {i}",
            had_filter=False,
        )
    errors = health.recent_errors(scope.storage, scope.tenant_id)
    assert len(errors) == health.ERROR_SLOTS
    assert errors[0]["detail"] == f"error {health.ERROR_SLOTS + 4}"


def test_a_filter_requests_error_detail_is_not_recorded(scope: Scope) -> None:
    health.record_error(
        scope.storage,
        scope.tenant_id,
        method="GET",
        route="Users",
        status=400,
        scim_type="invalidFilter",
        detail='bad filter userName eq "alice@contoso.com',
        had_filter=True,
    )
    (error,) = health.recent_errors(scope.storage, scope.tenant_id)
    assert "alice" not in repr(error) and error["detail"] == health.WITHHELD
