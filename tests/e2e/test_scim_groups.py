"""The SCIM Group surface over HTTP: members as rows, 204 PATCH, projections, no nesting."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.e2e.test_scim_users import assert_error, create, patch_body

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def make_group(client, name: str, members: list[str] | None = None) -> dict:
    body = {"schemas": [GROUP], "displayName": name}
    if members is not None:
        body["members"] = [{"value": m} for m in members]
    response = client.post("/Groups", body)
    assert response.status_code == 201, response.text
    return response.json()


def member_ids(client, group_id: str) -> set[str]:
    return {m["value"] for m in client.get(f"/Groups/{group_id}").json().get("members", [])}


def test_create_get_and_members(client):
    u1, u2 = create(client, "g-u1")["id"], create(client, "g-u2")["id"]
    group = make_group(client, "Admins", [u1, u2])
    assert group["displayName"] == "Admins" and {m["value"] for m in group["members"]} == {u1, u2}
    assert member_ids(client, group["id"]) == {u1, u2}
    slim = client.get(f"/Groups/{group['id']}", params={"excludedAttributes": "members"}).json()
    assert "members" not in slim and slim["displayName"] == "Admins"


def test_display_name_is_unique(client):
    make_group(client, "Unique")
    assert_error(client.post("/Groups", {"schemas": [GROUP], "displayName": "unique"}), 409, "uniqueness")


def test_patch_members_is_204_and_removes_only_named(client):
    ids = [create(client, f"pm{i}")["id"] for i in range(4)]
    group = make_group(client, "Team", ids[:3])
    response = client.patch(
        f"/Groups/{group['id']}", patch_body({"op": "remove", "path": "members", "value": [{"value": ids[0]}]})
    )
    assert response.status_code == 204 and response.content == b""
    assert member_ids(client, group["id"]) == set(ids[1:3])
    client.patch(
        f"/Groups/{group['id']}",
        patch_body({"op": "add", "path": "members", "value": [{"value": ids[3]}, {"value": ids[1]}]}),
    )
    assert member_ids(client, group["id"]) == set(ids[1:4])
    client.patch(f"/Groups/{group['id']}", patch_body({"op": "remove", "path": f'members[value eq "{ids[2]}"]'}))
    assert member_ids(client, group["id"]) == {ids[1], ids[3]}
    client.patch(f"/Groups/{group['id']}", patch_body({"op": "remove", "path": "members"}))
    assert member_ids(client, group["id"]) == set()


def test_patch_with_projection_returns_200_body(client):
    group = make_group(client, "Proj")
    response = client.patch(
        f"/Groups/{group['id']}",
        patch_body({"op": "replace", "path": "displayName", "value": "Proj2"}),
        params={"attributes": "displayName"},
    )
    assert response.status_code == 200 and response.json()["displayName"] == "Proj2"


def test_nesting_is_refused(client):
    inner = make_group(client, "Inner")
    outer = make_group(client, "Outer")
    body = assert_error(
        client.patch(
            f"/Groups/{outer['id']}", patch_body({"op": "add", "path": "members", "value": [{"value": inner["id"]}]})
        ),
        400,
        "invalidValue",
    )
    assert "nest" in body["detail"].lower()
    assert_error(
        client.post("/Groups", {"schemas": [GROUP], "displayName": "X", "members": [{"value": inner["id"]}]}),
        400,
        "invalidValue",
    )


def test_membership_filters(client):
    member, other = create(client, "mf-in")["id"], create(client, "mf-out")["id"]
    group = make_group(client, "Filtered", [member])
    for form in ['members eq "{u}"', 'members[value eq "{u}"]', 'members.value eq "{u}"']:
        query = f'id eq "{group["id"]}" and ' + form
        hit = client.get("/Groups", params={"filter": query.format(u=member), "attributes": "id"}).json()
        assert hit["totalResults"] == 1 and set(hit["Resources"][0]) <= {"id", "schemas"}
        miss = client.get("/Groups", params={"filter": query.format(u=other), "excludedAttributes": "members"}).json()
        assert miss["totalResults"] == 0


def test_group_lookup_by_display_name_without_members(client):
    make_group(client, "Lookup Me", [create(client, "lm")["id"]])
    body = client.get(
        "/Groups", params={"excludedAttributes": "members", "filter": 'displayName eq "Lookup Me"'}
    ).json()
    assert body["totalResults"] == 1 and "members" not in body["Resources"][0]


def test_delete_group_keeps_users(client):
    user = create(client, "survivor")
    group = make_group(client, "Doomed", [user["id"]])
    assert client.delete(f"/Groups/{group['id']}").status_code == 204
    assert_error(client.get(f"/Groups/{group['id']}"), 404)
    assert client.get(f"/Users/{user['id']}").status_code == 200


def test_thousand_member_patch(client, tenant_storage, scim_tenant):
    from shared import users
    from shared.resources import Scope

    scope = Scope(tenant_storage, scim_tenant["tenantId"], scim_tenant["tenantUrl"])
    with ThreadPoolExecutor(8) as pool:  # the seeding is not under test: keep it short
        ids = list(pool.map(lambda i: users.create_user(scope, {"userName": f"bulk{i}"})["id"], range(1000)))
    group = make_group(client, "Everyone")
    response = client.patch(
        f"/Groups/{group['id']}", patch_body({"op": "Add", "path": "members", "value": [{"value": u} for u in ids]})
    )
    assert response.status_code == 204
    assert len(member_ids(client, group["id"])) == 1000


def test_a_group_cannot_be_a_member_on_put_either(client):
    """No nesting, whichever write names the members: PUT is checked like POST and PATCH, and a refused PUT
    changes nothing."""
    user = create(client, "put-member")["id"]
    inner = make_group(client, "Put Inner")
    outer = make_group(client, "Put Outer", [user])
    nested = client.put(
        f"/Groups/{outer['id']}",
        {"schemas": [GROUP], "displayName": "Put Outer", "members": [{"value": user}, {"value": inner["id"]}]},
    )
    assert "nest" in assert_error(nested, 400, "invalidValue")["detail"].lower()
    unknown = client.put(
        f"/Groups/{outer['id']}", {"schemas": [GROUP], "displayName": "Put Outer", "members": [{"value": "0" * 32}]}
    )
    assert_error(unknown, 400, "invalidValue")
    assert member_ids(client, outer["id"]) == {user}
    assert member_ids(client, inner["id"]) == set()


def test_nesting_is_refused_through_a_replace_or_a_value_filter_path(client):
    """A second route to nesting: PATCH `replace members` and an `add` through `members[value eq ...]`."""
    inner = make_group(client, "Path Inner")
    outer = make_group(client, "Path Outer")
    replace = client.patch(
        f"/Groups/{outer['id']}", patch_body({"op": "replace", "path": "members", "value": [{"value": inner["id"]}]})
    )
    assert "nest" in assert_error(replace, 400, "invalidValue")["detail"].lower()
    by_filter = client.patch(
        f"/Groups/{outer['id']}", patch_body({"op": "add", "path": f'members[value eq "{inner["id"]}"]'})
    )
    assert "nest" in assert_error(by_filter, 400, "invalidValue")["detail"].lower()
    assert member_ids(client, outer["id"]) == set()


def test_remove_with_a_value_filter_removes_every_matching_member(client):
    ids = [create(client, f"rm-filter{i}")["id"] for i in range(4)]
    group = make_group(client, "Filter Removal", ids)
    path = f'members[value eq "{ids[0]}" or value eq "{ids[2]}" or value eq "{ids[3]}"]'
    assert client.patch(f"/Groups/{group['id']}", patch_body({"op": "remove", "path": path})).status_code == 204
    assert member_ids(client, group["id"]) == {ids[1]}


def test_a_rename_frees_the_old_display_name_and_cannot_take_a_taken_one(client):
    """Renaming (PATCH and PUT) moves the unique displayName index: the new name is found, the old one is
    free again, and a name another group holds (in any case) is refused with 409."""
    member = create(client, "rename-member")["id"]
    group = make_group(client, "Old Name", [member])
    make_group(client, "Taken Name")
    taken = client.patch(
        f"/Groups/{group['id']}", patch_body({"op": "replace", "path": "displayName", "value": "TAKEN name"})
    )
    assert_error(taken, 409, "uniqueness")
    assert_error(
        client.put(f"/Groups/{group['id']}", {"schemas": [GROUP], "displayName": "taken NAME"}), 409, "uniqueness"
    )
    assert (
        client.patch(
            f"/Groups/{group['id']}", patch_body({"op": "replace", "path": "displayName", "value": "New Name"})
        ).status_code
        == 204
    )
    found = client.get(
        "/Groups", params={"filter": 'displayName eq "new name"', "excludedAttributes": "members"}
    ).json()
    assert [g["id"] for g in found["Resources"]] == [group["id"]]
    assert client.get("/Groups", params={"filter": 'displayName eq "Old Name"'}).json()["totalResults"] == 0
    reuse = make_group(client, "Old Name")
    assert reuse["id"] != group["id"]
    renamed = client.put(
        f"/Groups/{group['id']}", {"schemas": [GROUP], "displayName": "Put Name", "members": [{"value": member}]}
    )
    assert renamed.status_code == 200 and renamed.json()["displayName"] == "Put Name"
    assert client.get("/Groups", params={"filter": 'displayName eq "New Name"'}).json()["totalResults"] == 0
    assert member_ids(client, group["id"]) == {member}
    assert (
        client.patch(
            f"/Groups/{group['id']}", patch_body({"op": "replace", "path": "displayName", "value": "PUT NAME"})
        ).status_code
        == 204
    )
    assert (
        client.get(f"/Groups/{group['id']}").json()["displayName"] == "PUT NAME"
    )  # a change of case keeps the index row


def test_a_patch_that_fills_one_transaction_to_the_100_operation_limit(client):
    """The 100-operation transaction limit, at the boundary: a member PATCH writes its row stamp, its audit
    event and 49 membership pairs (2 + 98 = 100 operations) in one transaction; 50 pairs need a second."""
    ids = [create(client, f"limit{i:02d}")["id"] for i in range(50)]
    exact = make_group(client, "Exactly One Transaction")
    assert (
        client.patch(
            f"/Groups/{exact['id']}",
            patch_body({"op": "add", "path": "members", "value": [{"value": u} for u in ids[:49]]}),
        ).status_code
        == 204
    )
    assert member_ids(client, exact["id"]) == set(ids[:49])
    over = make_group(client, "Two Transactions")
    assert (
        client.patch(
            f"/Groups/{over['id']}", patch_body({"op": "add", "path": "members", "value": [{"value": u} for u in ids]})
        ).status_code
        == 204
    )
    assert member_ids(client, over["id"]) == set(ids)
