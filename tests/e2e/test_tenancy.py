"""Tokens and tenant isolation over HTTP: the bearer token alone decides the tenant."""

from __future__ import annotations

import uuid

import pytest

from shared import tenants
from tests.e2e.test_scim_groups import make_group
from tests.e2e.test_scim_users import assert_error, create, patch_body
from tests.support.scim import ScimClient, user_body


@pytest.fixture
def other_tenant(live_server, tenant_storage) -> dict:
    view, token = tenants.create_tenant(tenant_storage, f"other-{uuid.uuid4().hex[:6]}")
    return {**view, "tenantUrl": live_server + "/scim/v2", "token": token}


def test_rotation_revokes_the_old_token_at_once(scim_tenant, tenant_storage):
    old = ScimClient(scim_tenant["tenantUrl"], scim_tenant["token"])
    assert old.get("/Users").status_code == 200
    _, new_token = tenants.rotate_token(tenant_storage, scim_tenant["tenantId"])
    assert new_token.startswith("scimgw_") and new_token != scim_tenant["token"]
    assert_error(old.get("/Users"), 401)
    assert ScimClient(scim_tenant["tenantUrl"], new_token).get("/Users").status_code == 200


def test_disable_and_enable_the_integration(scim_tenant, tenant_storage, client):
    tenants.set_enabled(tenant_storage, scim_tenant["tenantId"], False)
    assert_error(client.get("/Users"), 401)
    assert tenants.get_tenant(tenant_storage, scim_tenant["tenantId"])["integrationEnabled"] is False
    tenants.set_enabled(tenant_storage, scim_tenant["tenantId"], True)
    assert client.get("/Users").status_code == 200


def test_a_token_matches_only_in_full(scim_tenant, client):
    """The whole token decides the tenant: a token that shares all but its last character, a prefix of it,
    or the token with something appended is refused."""
    token = scim_tenant["token"]
    assert client.get("/Users").status_code == 200
    last = "A" if token[-1] != "A" else "B"
    for near in (token[:-1] + last, token[:24], token[:-1], token + "x", token.upper()):
        assert near != token
        response = ScimClient(scim_tenant["tenantUrl"], near).get("/Users")
        assert_error(response, 401)


def test_same_username_in_two_tenants(client, other_tenant):
    other = ScimClient(other_tenant["tenantUrl"], other_tenant["token"])
    create(client, "shared@example.com")
    assert other.post("/Users", user_body("shared@example.com")).status_code == 201


def test_a_tenant_cannot_see_or_touch_another_tenants_data(client, other_tenant):
    other = ScimClient(other_tenant["tenantUrl"], other_tenant["token"])
    victim = create(client, "victim@example.com", externalId="victim-ext")
    group = make_group(client, "Secret Group", [victim["id"]])
    for path in (f"/Users/{victim['id']}", f"/Groups/{group['id']}"):
        assert_error(other.get(path), 404)
        assert_error(other.patch(path, patch_body({"op": "replace", "path": "displayName", "value": "pwned"})), 404)
        assert_error(other.put(path, {"userName": "pwned", "displayName": "pwned"}), 404)
        assert_error(other.delete(path), 404)
    # Each crafted filter is valid SCIM, so it runs (200) and searches the caller's tenant only: the owner
    # finds what the filter names, the other tenant finds nothing.
    crafted = [
        ('userName eq "victim@example.com"', 1),
        ('externalId eq "victim-ext"', 1),
        (f'id eq "{victim["id"]}"', 1),
        ('userName eq "x" or userName pr', 1),
        ('userName eq "\\" or \\"1\\" eq \\"1"', 0),
        ("userName eq \"victim@example.com') or (PartitionKey ne '\"", 0),
    ]
    for query, owner_hits in crafted:
        response = other.get("/Users", params={"filter": query})
        assert response.status_code == 200, (query, response.text)
        assert response.json()["totalResults"] == 0, query
        assert client.get("/Users", params={"filter": query}).json()["totalResults"] == owner_hits, query
    groups = other.get("/Groups", params={"filter": 'displayName eq "Secret Group"'}).json()
    assert groups["totalResults"] == 0
    other_group = make_group(other, "Mine")
    assert_error(
        other.patch(
            f"/Groups/{other_group['id']}",
            patch_body({"op": "add", "path": "members", "value": [{"value": victim["id"]}]}),
        ),
        400,
        "invalidValue",
    )
    assert client.get(f"/Users/{victim['id']}").json()["userName"] == "victim@example.com"


def test_a_stale_mark_clears_on_the_next_scim_request(scim_tenant, tenant_storage, client):
    tenants.set_stale(tenant_storage, scim_tenant["tenantId"], True)
    assert tenants.get_tenant(tenant_storage, scim_tenant["tenantId"])["syncState"] == "stale"
    assert client.get("/Users").status_code == 200
    assert tenants.get_tenant(tenant_storage, scim_tenant["tenantId"])["syncState"] == "ok"
