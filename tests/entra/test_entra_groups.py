"""Replays of the exact Group request shapes Microsoft Entra ID sends (../shared/ENTRA.md §4)."""

from __future__ import annotations

import uuid

import pytest

from tests.entra.test_entra_users import entra_user, ops, post_user

ADSCIM = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def entra_group(name: str | None = None, members: list[str] | None = None) -> dict:
    body = {
        "schemas": [GROUP, ADSCIM],
        "externalId": str(uuid.uuid4()),
        "displayName": name or f"Group {uuid.uuid4()}",
        "meta": {"resourceType": "Group"},
    }
    if members is not None:
        body["members"] = [{"value": m} for m in members]
    return body


def post_group(client, body: dict) -> dict:
    response = client.post("/Groups", body)
    assert response.status_code == 201, response.text
    return response.json()


def members(client, group_id: str) -> set[str]:
    return {m["value"] for m in client.get(f"/Groups/{group_id}").json().get("members", [])}


def patch_204(client, group_id: str, body: dict) -> None:
    response = client.patch(f"/Groups/{group_id}", body)
    assert response.status_code == 204, response.text


def test_create_with_adscim_urn_and_lookup(client):
    body = entra_group()
    group = post_group(client, body)
    assert group["schemas"] == [GROUP] and group["members"] == [] and group["displayName"] == body["displayName"]
    found = client.get(
        "/Groups", params={"excludedAttributes": "members", "filter": f'displayName eq "{body["displayName"]}"'}
    ).json()
    assert found["totalResults"] == 1 and "members" not in found["Resources"][0]
    by_id = client.get(f"/Groups/{group['id']}", params={"excludedAttributes": "members"}).json()
    assert "members" not in by_id


def test_create_with_members(client):
    users = [post_user(client, entra_user())["id"] for _ in range(2)]
    group = post_group(client, entra_group(members=users))
    assert members(client, group["id"]) == set(users)


@pytest.mark.parametrize("form", ['members eq "{u}"', 'members[value eq "{u}"]', 'members.value eq "{u}"'])
@pytest.mark.parametrize("projection", [{"attributes": "id"}, {"excludedAttributes": "members"}, {}])
def test_membership_check(client, form, projection):
    member, outsider = post_user(client, entra_user())["id"], post_user(client, entra_user())["id"]
    group = post_group(client, entra_group(members=[member]))
    query = f'id eq "{group["id"]}" and ' + form
    hit = client.get("/Groups", params={"filter": query.format(u=member), **projection}).json()
    assert hit["totalResults"] == 1 and hit["Resources"][0]["id"] == group["id"]
    if projection.get("attributes") == "id":
        assert set(hit["Resources"][0]) <= {"id", "schemas"}
    miss = client.get("/Groups", params={"filter": query.format(u=outsider), **projection}).json()
    assert miss["totalResults"] == 0 and miss["Resources"] == []


def test_add_members_default_and_flag_mode_idempotent(client):
    users = [post_user(client, entra_user())["id"] for _ in range(4)]
    group = post_group(client, entra_group())
    patch_204(
        client,
        group["id"],
        ops(
            {
                "op": "Add",
                "path": "members",
                "value": [{"$ref": None, "value": users[0]}, {"$ref": None, "value": users[1]}],
            }
        ),
    )
    patch_204(client, group["id"], ops({"op": "add", "path": "members", "value": [{"value": users[2]}]}))
    patch_204(
        client,
        group["id"],
        ops({"op": "Add", "path": "members", "value": [{"$ref": None, "value": u} for u in users[:3]]}),
    )
    assert members(client, group["id"]) == set(users[:3])


def test_remove_members_in_both_dialects(client):
    users = [post_user(client, entra_user())["id"] for _ in range(5)]
    group = post_group(client, entra_group(members=users))
    patch_204(
        client, group["id"], ops({"op": "Remove", "path": "members", "value": [{"$ref": None, "value": users[0]}]})
    )
    assert members(client, group["id"]) == set(users[1:])
    patch_204(
        client,
        group["id"],
        ops({"op": "Remove", "path": "members", "value": [{"value": users[1]}, {"value": users[2]}]}),
    )
    assert members(client, group["id"]) == set(users[3:])
    patch_204(client, group["id"], ops({"op": "remove", "path": f'members[value eq "{users[3]}"]'}))
    assert members(client, group["id"]) == {users[4]}
    patch_204(
        client, group["id"], ops({"op": "Remove", "path": "members", "value": [{"value": users[0]}]})
    )  # not a member any more
    assert members(client, group["id"]) == {users[4]}
    patch_204(client, group["id"], ops({"op": "remove", "path": "members"}))
    assert members(client, group["id"]) == set()
    for user_id in users:  # membership changes never delete users
        assert client.get(f"/Users/{user_id}").status_code == 200


def test_rename_and_other_attributes(client):
    group = post_group(client, entra_group())
    new_name = f"{uuid.uuid4()}updatedDisplayName"
    patch_204(client, group["id"], ops({"op": "Replace", "path": "displayName", "value": new_name}))
    assert client.get(f"/Groups/{group['id']}").json()["displayName"] == new_name
    patch_204(
        client,
        group["id"],
        ops(
            {"op": "replace", "value": {"displayName": new_name + "2"}},
            {"op": "replace", "path": "externalId", "value": "ext-2"},
        ),
    )
    got = client.get(f"/Groups/{group['id']}").json()
    assert got["displayName"] == new_name + "2" and got["externalId"] == "ext-2"
    assert client.get("/Groups", params={"filter": f'displayName eq "{new_name}"'}).json()["totalResults"] == 0


def test_delete_group(client):
    member = post_user(client, entra_user())["id"]
    group = post_group(client, entra_group(members=[member]))
    assert client.delete(f"/Groups/{group['id']}").status_code == 204
    assert client.get(f"/Groups/{group['id']}").status_code == 404
    assert client.get(f"/Users/{member}").status_code == 200


def test_user_in_several_groups_keeps_the_others(client):
    member = post_user(client, entra_user())["id"]
    first, second = post_group(client, entra_group(members=[member])), post_group(client, entra_group(members=[member]))
    patch_204(client, first["id"], ops({"op": "Remove", "path": "members", "value": [{"value": member}]}))
    assert members(client, second["id"]) == {member}
