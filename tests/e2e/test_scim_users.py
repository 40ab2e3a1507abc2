"""The SCIM User surface over HTTP through tools.localhost + Azurite."""

from __future__ import annotations

import pytest

from tests.support.scim import SCIM_JSON, ScimClient, user_body

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def patch_body(*ops: dict) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(ops)}


def create(client: ScimClient, user_name: str, **extra) -> dict:
    response = client.post("/Users", user_body(user_name, **extra))
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(SCIM_JSON)
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    if scim_type:
        assert body.get("scimType") == scim_type
    return body


def test_create_returns_201_with_location_etag_and_meta(client):
    response = client.post(
        "/Users",
        user_body(
            "bjensen@example.com", name={"givenName": "Barbara"}, emails=[{"value": "b@example.com", "type": "work"}]
        ),
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith(SCIM_JSON)
    user = response.json()
    assert len(user["id"]) == 32
    assert response.headers["Location"] == user["meta"]["location"]
    assert user["meta"]["location"].endswith(f"/scim/v2/Users/{user['id']}")
    assert response.headers["ETag"] == user["meta"]["version"] and user["meta"]["version"].startswith('W/"')
    assert user["meta"]["resourceType"] == "User" and user["meta"]["created"] and user["meta"]["lastModified"]
    assert user["name"] == {"givenName": "Barbara"}
    assert user["emails"] == [{"value": "b@example.com", "type": "work"}]


def test_get_by_id_and_missing_ids(client):
    user = create(client, "alice")
    got = client.get(f"/Users/{user['id']}")
    assert got.status_code == 200 and got.json()["userName"] == "alice"
    for missing in ["0" * 32, "not-an-id", "..%2F..", "DROP%20TABLE"]:
        assert_error(client.get(f"/Users/{missing}"), 404)


def test_username_is_unique_case_insensitively(client):
    create(client, "Dup@Example.com")
    assert_error(client.post("/Users", user_body("dup@example.com")), 409, "uniqueness")


def test_missing_username_is_invalid_value(client):
    assert_error(
        client.post("/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}), 400, "invalidValue"
    )


def test_malformed_json_is_invalid_syntax(client):
    assert_error(
        client.request("POST", "/Users", raw=b"{not json", headers={"Content-Type": SCIM_JSON}), 400, "invalidSyntax"
    )


def test_plain_json_content_type_is_accepted(client):
    response = client.request(
        "POST", "/Users", raw=b'{"userName": "plainjson"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201


def test_body_over_one_mebibyte_is_413(client):
    big = b'{"userName": "x", "displayName": "' + b"a" * (1024 * 1024) + b'"}'
    assert_error(client.request("POST", "/Users", raw=big, headers={"Content-Type": SCIM_JSON}), 413)


def test_filters_paging_and_sorting(client):
    for i in range(12):
        create(client, f"user{i:02d}", displayName=f"User {11 - i:02d}", title="eng" if i % 2 else "ops")
    first = client.get("/Users", params={"startIndex": 1, "count": 5, "sortBy": "userName"}).json()
    assert first["totalResults"] == 12 and first["startIndex"] == 1 and first["itemsPerPage"] == 5
    assert [u["userName"] for u in first["Resources"]] == [f"user{i:02d}" for i in range(5)]
    third = client.get("/Users", params={"startIndex": 11, "count": 5, "sortBy": "userName"}).json()
    assert third["startIndex"] == 11 and [u["userName"] for u in third["Resources"]] == ["user10", "user11"]
    only_total = client.get("/Users", params={"count": 0}).json()
    assert only_total["totalResults"] == 12 and only_total["Resources"] == []
    desc = client.get("/Users", params={"sortBy": "displayName", "sortOrder": "descending", "count": 1}).json()
    assert desc["Resources"][0]["displayName"] == "User 11"
    eng = client.get("/Users", params={"filter": 'title eq "eng" and userName sw "user0"'}).json()
    assert sorted(u["userName"] for u in eng["Resources"]) == ["user01", "user03", "user05", "user07", "user09"]


def test_filter_that_matches_nothing_is_an_empty_list(client):
    body = client.get("/Users", params={"filter": 'userName eq "8a0b3f1e-0000-4000-8000-000000000000"'}).json()
    assert body == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }


@pytest.mark.parametrize("bad", ["userName eq", 'userName xx "a"', '((userName eq "a")', 'userName eq "a" and'])
def test_invalid_filter_is_400_invalid_filter(client, bad):
    assert_error(client.get("/Users", params={"filter": bad}), 400, "invalidFilter")


def test_search_endpoint(client):
    create(client, "searchme")
    response = client.post(
        "/Users/.search",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'userName eq "searchme"',
            "attributes": ["userName"],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["totalResults"] == 1 and set(body["Resources"][0]) == {"schemas", "id", "userName"}


def test_attributes_and_excluded_attributes(client):
    user = create(
        client,
        "proj",
        displayName="P",
        name={"givenName": "G", "familyName": "F"},
        **{ENTERPRISE: {"department": "R&D"}},
    )
    only = client.get(f"/Users/{user['id']}", params={"attributes": "name.givenName"}).json()
    assert only["name"] == {"givenName": "G"} and "displayName" not in only and only["id"] == user["id"]
    without = client.get(f"/Users/{user['id']}", params={"excludedAttributes": "name,displayName"}).json()
    assert "name" not in without and "displayName" not in without and without["userName"] == "proj"
    ext = client.get(f"/Users/{user['id']}", params={"attributes": f"{ENTERPRISE}:department"}).json()
    assert ext[ENTERPRISE] == {"department": "R&D"}
    created = client.post("/Users", user_body("proj2"), params={"attributes": "userName"}).json()
    assert set(created) == {"schemas", "id", "userName"}


def test_put_replaces_the_resource(client):
    user = create(client, "putme", displayName="Before", title="T")
    response = client.put(f"/Users/{user['id']}", user_body("putme", displayName="After"))
    assert response.status_code == 200
    body = response.json()
    assert body["displayName"] == "After" and "title" not in body and body["id"] == user["id"]


def test_patch_returns_200_with_resource_and_new_version(client):
    user = create(client, "patchme")
    response = client.patch(
        f"/Users/{user['id']}", patch_body({"op": "replace", "path": "displayName", "value": "New"})
    )
    assert response.status_code == 200
    body = response.json()
    assert body["displayName"] == "New" and body["meta"]["version"] != user["meta"]["version"]


def test_if_match_with_stale_version_is_412(client):
    user = create(client, "etag")
    client.patch(f"/Users/{user['id']}", patch_body({"op": "replace", "path": "title", "value": "x"}))
    stale = client.patch(
        f"/Users/{user['id']}",
        patch_body({"op": "replace", "path": "title", "value": "y"}),
        headers={"If-Match": user["meta"]["version"]},
    )
    assert_error(stale, 412)
    current = client.get(f"/Users/{user['id']}").json()["meta"]["version"]
    ok = client.patch(
        f"/Users/{user['id']}",
        patch_body({"op": "replace", "path": "title", "value": "z"}),
        headers={"If-Match": current},
    )
    assert ok.status_code == 200


def test_delete_then_404(client):
    user = create(client, "deleteme")
    assert client.delete(f"/Users/{user['id']}").status_code == 204
    assert_error(client.get(f"/Users/{user['id']}"), 404)
    assert client.get("/Users", params={"filter": 'userName eq "deleteme"'}).json()["totalResults"] == 0
    assert_error(client.delete(f"/Users/{user['id']}"), 404)


def test_missing_or_wrong_token_is_401_with_challenge(scim_tenant):
    for token in (None, "scimgw_wrong"):
        response = ScimClient(scim_tenant["tenantUrl"], token).get("/Users")
        assert_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_path_is_404_and_wrong_method_405(client):
    assert_error(client.get("/Nope"), 404)
    assert_error(client.delete("/ServiceProviderConfig"), 405)
    assert_error(client.patch("/Users", {}), 405)


def test_doubled_slash_and_unknown_query_parameters_are_tolerated(client):
    create(client, "slashy")
    response = client.get("//Users", params={"filter": 'userName eq "slashy"', "aadOptscim062020": ""})
    assert response.status_code == 200 and response.json()["totalResults"] == 1


def test_a_rename_cannot_take_another_live_users_username_in_any_case(client):
    """PATCH and PUT renames check the unique userName index like a create does, case-insensitively, and a
    refused rename changes nothing."""
    create(client, "holder@example.com")
    mover = create(client, "mover@example.com")
    for variant in ("holder@example.com", "HOLDER@Example.COM"):
        by_patch = client.patch(
            f"/Users/{mover['id']}", patch_body({"op": "replace", "path": "userName", "value": variant})
        )
        assert_error(by_patch, 409, "uniqueness")
        assert_error(client.put(f"/Users/{mover['id']}", user_body(variant)), 409, "uniqueness")
    assert client.get(f"/Users/{mover['id']}").json()["userName"] == "mover@example.com"
    holders = client.get("/Users", params={"filter": 'userName eq "holder@example.com"'}).json()
    assert holders["totalResults"] == 1 and holders["Resources"][0]["id"] != mover["id"]


def test_a_rename_moves_the_username_index(client):
    """After a rename the new name finds the user, the old name is free for a new user, and a change of
    case alone keeps the user findable."""
    user = create(client, "before@example.com")
    renamed = client.patch(
        f"/Users/{user['id']}", patch_body({"op": "replace", "path": "userName", "value": "after@example.com"})
    )
    assert renamed.status_code == 200 and renamed.json()["userName"] == "after@example.com"
    found = client.get("/Users", params={"filter": 'userName eq "AFTER@example.com"'}).json()
    assert [u["id"] for u in found["Resources"]] == [user["id"]]
    assert client.get("/Users", params={"filter": 'userName eq "before@example.com"'}).json()["totalResults"] == 0
    assert create(client, "before@example.com")["id"] != user["id"]
    assert client.put(f"/Users/{user['id']}", user_body("After@Example.com")).status_code == 200
    found = client.get("/Users", params={"filter": 'userName eq "after@example.com"'}).json()
    assert [u["userName"] for u in found["Resources"]] == ["After@Example.com"]


def test_a_rename_may_take_the_username_of_a_deleted_user(client):
    """A SCIM-deleted user keeps its userName row (pointing at the archived employee); a live user renamed
    onto that name takes the row over, and the old employee does not come back."""
    gone = create(client, "recycled@example.com")
    assert client.delete(f"/Users/{gone['id']}").status_code == 204
    user = create(client, "newcomer@example.com")
    renamed = client.patch(
        f"/Users/{user['id']}", patch_body({"op": "replace", "path": "userName", "value": "Recycled@example.com"})
    )
    assert renamed.status_code == 200, renamed.text
    found = client.get("/Users", params={"filter": 'userName eq "recycled@example.com"'}).json()
    assert [u["id"] for u in found["Resources"]] == [user["id"]]
    assert_error(client.get(f"/Users/{gone['id']}"), 404)
    assert_error(client.post("/Users", user_body("recycled@example.com")), 409, "uniqueness")


def test_get_user_with_attributes_groups_lists_its_groups(client):
    from tests.e2e.test_scim_groups import make_group

    user = create(client, "grouped@example.com")
    loner = create(client, "loner@example.com")
    first = make_group(client, "Grouped One", [user["id"]])
    second = make_group(client, "Grouped Two", [user["id"], loner["id"]])
    body = client.get(f"/Users/{user['id']}", params={"attributes": "groups"}).json()
    assert set(body) == {"schemas", "id", "groups"}
    assert sorted(g["value"] for g in body["groups"]) == sorted([first["id"], second["id"]])
    assert all(g["$ref"].endswith(f"/Groups/{g['value']}") and g["type"] == "direct" for g in body["groups"])
    assert [
        g["value"] for g in client.get(f"/Users/{loner['id']}", params={"attributes": "groups"}).json()["groups"]
    ] == [second["id"]]
    assert "groups" not in client.get(f"/Users/{user['id']}").json()  # groups cost extra reads: only on request


def test_remove_with_a_value_filter_removes_every_matching_entry(client):
    emails = [
        {"value": "w1@example.com", "type": "work"},
        {"value": "h@example.com", "type": "home"},
        {"value": "w2@example.com", "type": "work"},
    ]
    user = create(client, "many-mails@example.com", emails=emails)
    response = client.patch(f"/Users/{user['id']}", patch_body({"op": "remove", "path": 'emails[type eq "work"]'}))
    assert response.status_code == 200
    assert response.json()["emails"] == [{"value": "h@example.com", "type": "home"}]
    assert client.get(f"/Users/{user['id']}").json()["emails"] == [{"value": "h@example.com", "type": "home"}]


def test_filter_eq_on_an_attribute_without_an_index(client):
    """`eq` is equality (case-insensitive for caseExact=false strings), not a prefix or substring match;
    title has no index, so the filter is evaluated on the documents themselves."""
    create(client, "eq-a", title="Engineer")
    create(client, "eq-b", title="Engineering Lead")
    create(client, "eq-c", title="engineer")
    create(client, "eq-d")

    def names(query: str) -> list[str]:
        body = client.get("/Users", params={"filter": query, "sortBy": "userName"}).json()
        return [u["userName"] for u in body["Resources"]]

    assert names('title eq "engineer"') == ["eq-a", "eq-c"]
    assert names('title eq "Engineer Lead"') == []
    assert names('title eq "Engin"') == []
    assert names('title ne "engineer"') == ["eq-b", "eq-d"]
    assert names('userName eq "eq-b" and title eq "engineering lead"') == ["eq-b"]
