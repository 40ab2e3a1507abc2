"""Replays of the exact User request shapes Microsoft Entra ID sends (../shared/ENTRA.md §2-§3), in
its default dialect and with the aadOptscim062020 flag, against tools.localhost + Azurite."""

from __future__ import annotations

import uuid

import pytest

from tests.support.scim import ScimClient

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def ops(*operations: dict) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def entra_user(user_name: str | None = None, external_id: str | None = None) -> dict:
    """The current documented POST body (ENTRA.md §3.2)."""
    return {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ],
        "externalId": external_id or str(uuid.uuid4()),
        "userName": user_name or f"Test_User_{uuid.uuid4()}",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": f"Test_User_{uuid.uuid4()}@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
    }


def post_user(client: ScimClient, body: dict) -> dict:
    response = client.post("/Users", body)
    assert response.status_code == 201, response.text
    return response.json()


def patched(client: ScimClient, user_id: str, body: dict) -> dict:
    response = client.patch(f"/Users/{user_id}", body)
    assert response.status_code == 200, response.text
    got = client.get(f"/Users/{user_id}")
    assert got.status_code == 200
    return got.json()


def test_test_connection_probe_finds_nothing(client):
    probe = f"userName+eq+%22{uuid.uuid4()}%22"
    response = client.session.get(f"{client.base}/Users?filter={probe}", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/scim+json")
    assert response.json() == {
        "schemas": [LIST],
        "totalResults": 0,
        "Resources": [],
        "startIndex": 1,
        "itemsPerPage": 0,
    }
    legacy = client.session.get(
        f"{client.base}/Users?filter=externalId+eq+%229edf3db5-{uuid.uuid4().hex[:8]}%22", timeout=30
    )
    assert legacy.status_code == 200 and legacy.json()["totalResults"] == 0
    group_probe = client.get(
        "/Groups", params={"excludedAttributes": "members", "filter": f'displayName eq "{uuid.uuid4()}"'}
    )
    assert group_probe.status_code == 200 and group_probe.json()["totalResults"] == 0


def test_flag_in_tenant_url_and_adscim_header_are_ignored(client):
    response = client.session.get(
        f"{client.base}/Users?aadOptscim062020&filter=userName+eq+%22nobody%22",
        headers={"ADSCIMVersion": "5.0"},
        timeout=30,
    )
    assert response.status_code == 200 and response.json()["totalResults"] == 0


def test_documented_post_body_and_lookups(client):
    body = entra_user()
    user = post_user(client, body)
    assert user["userName"] == body["userName"] and user["emails"] == body["emails"] and user["name"] == body["name"]
    assert "meta" in user and user["meta"]["resourceType"] == "User" and "roles" not in user
    for query in (
        f'userName eq "{body["userName"]}"',
        f'externalId eq "{body["externalId"]}"',
        f'emails[type eq "work"].value eq "{body["emails"][0]["value"]}"',
    ):
        found = client.get("/Users", params={"filter": query}).json()
        assert found["totalResults"] == 1 and found["Resources"][0]["id"] == user["id"], query
    encoded = client.session.get(f"{client.base}/Users?filter=userName+eq+%22{body['userName']}%22", timeout=30).json()
    assert encoded["totalResults"] == 1


def test_unquoted_external_id_filter(client):
    post_user(client, entra_user(external_id="jyoung"))
    found = client.get("/Users", params={"filter": "externalId eq jyoung"})
    assert found.status_code == 200 and found.json()["totalResults"] == 1


def test_older_post_body_with_nulls_flat_enterprise_attributes_and_misspelt_urn(client):
    body = {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0User",
        ],
        "externalId": "jyoung-old",
        "userName": f"jyoung{uuid.uuid4().hex[:6]}@testuser.com",
        "active": True,
        "addresses": None,
        "displayName": "Joy Young",
        "emails": [{"type": "work", "value": "jyoung@Contoso.com", "primary": True}],
        "meta": {"resourceType": "User"},
        "name": {"familyName": "Young", "givenName": "Joy"},
        "phoneNumbers": None,
        "preferredLanguage": None,
        "title": None,
        "department": None,
        "manager": None,
    }
    user = post_user(client, body)
    assert user["displayName"] == "Joy Young" and user["emails"][0]["value"] == "jyoung@Contoso.com"
    assert "addresses" not in user and "title" not in user


def test_post_with_extension_object_manager_string_and_phone_numbers(client):
    manager = post_user(client, entra_user())
    body = entra_user()
    body[ENTERPRISE] = {"manager": manager["id"], "department": "Sales", "employeeNumber": "42"}
    body["phoneNumbers"] = [
        {"value": "555-555-5555", "type": "work"},
        {"value": "555-555-5555", "type": "mobile"},
        {"value": "555-555-5555", "type": "fax"},
    ]
    body["urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User:costCode"] = "X1"
    user = post_user(client, body)
    assert user[ENTERPRISE]["manager"]["value"] == manager["id"]
    assert user[ENTERPRISE]["department"] == "Sales"
    assert user["phoneNumbers"] == body["phoneNumbers"]


DEFAULT_MODE_UPDATES = [
    [
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
    ],
    [
        {"op": "Replace", "path": "displayName", "value": "Pvlo"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "TestBcwqnm@test.microsoft.com"},
        {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
        {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
        {"op": "Replace", "path": "externalId", "value": "Eqpj"},
        {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "Eqpj"},
    ],
]


def test_default_mode_updates(client):
    user = post_user(client, entra_user())
    got = patched(client, user["id"], ops(*DEFAULT_MODE_UPDATES[0]))
    assert got["emails"] == [{"primary": True, "type": "work", "value": "updatedEmail@microsoft.com"}]
    assert got["name"]["familyName"] == "updatedFamilyName"
    got = patched(client, user["id"], ops(*DEFAULT_MODE_UPDATES[1]))
    assert got["displayName"] == "Pvlo" and got["name"]["givenName"] == "Gtfd" and got["externalId"] == "Eqpj"
    assert got["emails"][0]["value"] == "TestBcwqnm@test.microsoft.com" and len(got["emails"]) == 1
    assert got[ENTERPRISE]["employeeNumber"] == "Eqpj"
    renamed = f"{uuid.uuid4()}@testuser.com"
    got = patched(client, user["id"], ops({"op": "Replace", "path": "userName", "value": renamed}))
    assert got["userName"] == renamed
    assert client.get("/Users", params={"filter": f'userName eq "{renamed}"'}).json()["totalResults"] == 1
    assert client.get("/Users", params={"filter": f'userName eq "{user["userName"]}"'}).json()["totalResults"] == 0


def test_flag_mode_updates(client):
    user = post_user(client, entra_user())
    got = patched(
        client,
        user["id"],
        ops(
            {"op": "replace", "path": 'emails[type eq "work"].value', "value": "flag@example.com"},
            {
                "op": "replace",
                "value": {
                    "displayName": "Bjfe",
                    "name.givenName": "Kkom",
                    "name.familyName": "Unua",
                    f"{ENTERPRISE}:employeeNumber": "Aklq",
                    "name.formatted": "Kkom Unua",
                },
            },
        ),
    )
    assert got["emails"][0]["value"] == "flag@example.com" and got["displayName"] == "Bjfe"
    assert got["name"] == {"formatted": "Kkom Unua", "familyName": "Unua", "givenName": "Kkom"}
    assert got[ENTERPRISE]["employeeNumber"] == "Aklq"
    got = patched(
        client,
        user["id"],
        ops(
            {"op": "replace", "path": 'emails[type eq "work"].primary', "value": True},
            {"op": "add", "path": f"{ENTERPRISE}:department", "value": "Tech Infrastructure"},
        ),
    )
    assert got["emails"][0]["primary"] is True and got[ENTERPRISE]["department"] == "Tech Infrastructure"
    got = patched(
        client,
        user["id"],
        ops({"op": "replace", "value": {"active": False, "userName": "someone-" + uuid.uuid4().hex[:6]}}),
    )
    assert got["active"] is False and got["userName"].startswith("someone-")


def test_typed_entries_are_created_and_merged(client):
    user = post_user(client, entra_user())
    got = patched(
        client,
        user["id"],
        ops(
            {"op": "add", "path": 'addresses[type eq "work"].formatted', "value": "USZLTUSJXBYV"},
            {"op": "add", "path": 'addresses[type eq "work"].locality', "value": "OSGODHEVDCVD"},
            {"op": "add", "path": 'addresses[type eq "work"].region', "value": "YMVMOEMXAYGD"},
        ),
    )
    assert got["addresses"] == [
        {"type": "work", "formatted": "USZLTUSJXBYV", "locality": "OSGODHEVDCVD", "region": "YMVMOEMXAYGD"}
    ]
    got = patched(
        client,
        user["id"],
        ops(
            {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 (555) 010-0000"},
            {"op": "Add", "path": 'addresses[type eq "other"].Formatted', "value": "Building 7"},
            {"op": "Add", "path": 'emails[type eq "other"].Value', "value": "alias@example.com"},
        ),
    )
    assert got["phoneNumbers"] == [{"type": "mobile", "value": "+1 (555) 010-0000"}]
    assert {"type": "other", "formatted": "Building 7"} in got["addresses"]
    assert {"type": "other", "value": "alias@example.com"} in got["emails"]


@pytest.mark.parametrize("op_case", ["Replace", "replace", "Add", "add"])
@pytest.mark.parametrize("disable,enable", [("False", "True"), (False, True), ("false", "true")])
def test_disable_and_re_enable(client, op_case, disable, enable):
    user = post_user(client, entra_user())
    got = patched(client, user["id"], ops({"op": op_case, "path": "active", "value": disable}))
    assert got["active"] is False  # still readable by id
    found = client.get("/Users", params={"filter": f'userName eq "{user["userName"]}"'}).json()
    assert found["totalResults"] == 1
    got = patched(client, user["id"], ops({"op": op_case, "path": "active", "value": enable}))
    assert got["active"] is True


def test_manager_set_change_clear(client):
    user, first, second = (post_user(client, entra_user()) for _ in range(3))
    path = f"{ENTERPRISE}:manager"
    got = patched(client, user["id"], ops({"op": "Add", "path": path, "value": first["id"]}))
    assert got[ENTERPRISE]["manager"]["value"] == first["id"]
    got = patched(client, user["id"], ops({"op": "replace", "path": path, "value": second["id"]}))
    assert got[ENTERPRISE]["manager"]["value"] == second["id"]
    got = patched(client, user["id"], ops({"op": "replace", "path": path, "value": ""}))
    assert not (got.get(ENTERPRISE) or {}).get("manager")
    got = patched(
        client,
        user["id"],
        ops(
            {
                "op": "Add",
                "path": "manager",
                "value": [{"$ref": f"http://x/scim/Users/{first['id']}", "value": first["id"]}],
            }
        ),
    )
    assert got[ENTERPRISE]["manager"]["value"] == first["id"]
    got = patched(client, user["id"], ops({"op": "Remove", "path": path}))
    assert not (got.get(ENTERPRISE) or {}).get("manager")
    patched(client, user["id"], ops({"op": "Add", "path": path, "value": first["id"]}))
    got = patched(client, user["id"], ops({"op": "replace", "path": path, "value": None}))
    assert not (got.get(ENTERPRISE) or {}).get("manager")


def test_legacy_reference_check(client):
    manager = post_user(client, entra_user())
    user = post_user(client, entra_user())
    patched(client, user["id"], ops({"op": "Add", "path": f"{ENTERPRISE}:manager", "value": manager["id"]}))
    hit = client.get(
        "/Users", params={"filter": f'id eq "{user["id"]}" and manager eq "{manager["id"]}"', "attributes": "id"}
    ).json()
    assert hit["totalResults"] == 1 and set(hit["Resources"][0]) <= {"id", "schemas"}
    miss = client.get(
        "/Users", params={"filter": f'id eq "{user["id"]}" and manager eq "{user["id"]}"', "attributes": "id"}
    ).json()
    assert miss["totalResults"] == 0


def test_roles_in_every_shape_never_fail(client):
    body = entra_user()
    body["roles"] = [{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]
    user = post_user(client, body)
    assert user["roles"] == body["roles"]
    stringified = '{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}'
    got = patched(client, user["id"], ops({"op": "Add", "path": "roles", "value": [{"value": stringified}]}))
    assert {"value": stringified} in got["roles"]
    got = patched(
        client, user["id"], ops({"op": "replace", "path": "roles", "value": [{"primary": False, "value": stringified}]})
    )
    assert got["roles"] == [{"primary": False, "value": stringified}]


def test_null_update_clears_optional_attributes(client):
    body = entra_user()
    body.update(title="Engineer", displayName="Clear Me", nickName="cm")
    user = post_user(client, body)
    got = patched(
        client,
        user["id"],
        ops({"op": "replace", "path": "title", "value": ""}, {"op": "replace", "path": "nickName", "value": ""}),
    )
    assert "title" not in got and "nickName" not in got
    got = patched(client, user["id"], ops({"op": "replace", "path": "displayName", "value": None}))
    assert "displayName" not in got


def test_empty_operations_and_legacy_dotted_urn_path(client):
    user = post_user(client, entra_user())
    assert client.patch(f"/Users/{user['id']}", ops()).status_code == 200
    got = patched(
        client,
        user["id"],
        ops(
            {"op": "Replace", "path": f"{ENTERPRISE}.department", "value": "Legacy"},
            {"op": "Replace", "path": f"{ENTERPRISE}:organization", "value": "COMPANY1"},
        ),
    )
    assert got[ENTERPRISE]["department"] == "Legacy" and got[ENTERPRISE]["organization"] == "COMPANY1"


def test_values_round_trip_unchanged(client):
    body = entra_user()
    body["phoneNumbers"] = [{"type": "work", "value": "+44 (0)20 7946 0958 ext. 12"}]
    body["name"]["formatted"] = "  Odd   Spacing  "
    user = post_user(client, body)
    got = client.get(f"/Users/{user['id']}").json()
    assert got["phoneNumbers"] == body["phoneNumbers"] and got["name"]["formatted"] == "  Odd   Spacing  "


def test_hard_delete(client):
    user = post_user(client, entra_user())
    assert client.delete(f"/Users/{user['id']}").status_code == 204
    missing = client.get(f"/Users/{user['id']}")
    assert missing.status_code == 404 and missing.json()["status"] == "404"
    assert client.get("/Users", params={"filter": f'userName eq "{user["userName"]}"'}).json()["totalResults"] == 0
    assert post_user(client, {**entra_user(), "userName": user["userName"]})["id"] != user["id"]


def test_duplicate_post_is_409_uniqueness(client):
    body = entra_user()
    post_user(client, body)
    again = client.post("/Users", body)
    assert again.status_code == 409 and again.json()["scimType"] == "uniqueness"
