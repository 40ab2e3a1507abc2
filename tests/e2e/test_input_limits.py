"""Hostile input over HTTP: lone surrogates, oversized values and documents, caps, extension sortBy and
Unicode names. Each answer is a 4xx with a SCIM error body (never a 500), and nothing is written."""

from __future__ import annotations

import json

import pytest

from shared.scim import limits
from tests.support.scim import ScimClient, user_body

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def assert_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["detail"]
    if scim_type:
        assert body.get("scimType") == scim_type
    return body


def _raw_json(client: ScimClient, method: str, path: str, text: str):
    """JSON text sent as is: json.dumps would escape a lone surrogate, this keeps the \\ud800 escape."""
    return client.request(method, path, raw=text.encode("ascii"), headers={"Content-Type": "application/scim+json"})


def _users(client: ScimClient) -> list[dict]:
    response = client.get("/Users")
    assert response.status_code == 200
    return response.json()["Resources"]


@pytest.mark.parametrize(
    "body",
    [
        '{"userName": "\\ud800"}',
        '{"userName": "ok", "externalId": "x\\udc00"}',
        '{"userName": "ok", "name": {"givenName": "\\ud83d"}}',
    ],
)
def test_a_lone_surrogate_is_a_400_and_nothing_is_stored(client, body):
    assert_error(_raw_json(client, "POST", "/Users", body), 400, "invalidValue")
    assert _users(client) == []  # and every later read still works


def test_lone_surrogates_in_groups_patches_and_filters_are_400s(client):
    assert_error(_raw_json(client, "POST", "/Groups", '{"displayName": "\\ud800"}'), 400, "invalidValue")
    user = client.post("/Users", user_body("sur")).json()
    patch = (
        f'{{"schemas": ["{PATCH_OP}"], "Operations": [{{"op": "replace", "path": "displayName", "value": "\\udfff"}}]}}'
    )
    assert_error(_raw_json(client, "PATCH", f"/Users/{user['id']}", patch), 400, "invalidValue")
    assert_error(
        _raw_json(client, "POST", "/Users/.search", '{"filter": "userName eq \\"\\ud800\\""}'), 400, "invalidFilter"
    )
    assert client.get(f"/Users/{user['id']}").json().get("displayName") is None


def test_oversized_and_emoji_heavy_values_are_400s(client):
    assert_error(client.post("/Users", user_body("big", title="x" * 33_000)), 400, "invalidValue")
    assert_error(
        client.post("/Users", user_body("emoji", title="\U0001f600" * 10_000)), 400, "invalidValue"
    )  # 20,000 units
    fields = {
        f: "\U0001f600" * 8_000
        for f in (
            "title",
            "nickName",
            "displayName",
            "profileUrl",
            "locale",
            "timezone",
            "userType",
            "preferredLanguage",
        )
    }
    roles = [{"value": "\U0001f600" * 8_000, "type": str(i)} for i in range(10)]
    raw = json.dumps(
        user_body("doc", roles=roles, **fields), ensure_ascii=False
    ).encode()  # 4 bytes an emoji, under 1 MiB
    detail = assert_error(
        client.request("POST", "/Users", raw=raw, headers={"Content-Type": "application/scim+json"}),
        400,
        "invalidValue",
    )["detail"]
    assert "at most" in detail
    assert _users(client) == []


def test_the_largest_accepted_emoji_document_round_trips(client):
    """Every chunk of the stored document must fit Table Storage's 32K-unit property limit."""
    fields = {
        f: "\U0001f600" * (limits.MAX_VALUE_UNITS // 2)
        for f in ("title", "nickName", "displayName", "profileUrl", "locale", "timezone", "userType")
    }
    created = client.post("/Users", user_body("emoji-doc", **fields))
    assert created.status_code == 201, created.text[:300]
    assert client.get(f"/Users/{created.json()['id']}").json()["title"] == fields["title"]


def test_caps_answer_400_too_many(client):
    user = client.post("/Users", user_body("caps")).json()
    ops = [{"op": "replace", "path": "title", "value": str(i)} for i in range(limits.MAX_OPERATIONS + 1)]
    assert_error(client.patch(f"/Users/{user['id']}", {"schemas": [PATCH_OP], "Operations": ops}), 400, "tooMany")
    emails = [{"value": f"{i}@x.y"} for i in range(limits.MAX_ENTRIES + 1)]
    assert_error(
        client.patch(
            f"/Users/{user['id']}",
            {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "emails", "value": emails}]},
        ),
        400,
        "tooMany",
    )
    group = client.post("/Groups", {"displayName": "Capped"}).json()
    members = [{"value": f"{i:032x}"} for i in range(limits.MAX_MEMBERS + 1)]
    body = assert_error(
        client.patch(
            f"/Groups/{group['id']}",
            {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": members}]},
        ),
        400,
        "tooMany",
    )
    assert f"{limits.MAX_MEMBERS:,}" in body["detail"]


@pytest.mark.parametrize(
    "sort_by",
    [
        f"{ENT}:department",
        f"{ENT}:manager",
        f"{ENT}:manager.value",
        "urn:ietf:params:scim:schemas:extension:employee:2.0:User:status",
        ENT,
        "urn:x:unknown:attr",
    ],
)
def test_sort_by_an_extension_attribute_works_or_is_a_400(client, sort_by):
    for name, department in (("s1", "b"), ("s2", "a"), ("s3", None)):
        client.post(
            "/Users",
            user_body(name, **({ENT: {"department": department, "manager": department}} if department else {})),
        )
    for response in (
        client.get("/Users", params={"sortBy": sort_by}),
        client.post("/Users/.search", {"sortBy": sort_by}),
        client.post("/.search", {"sortBy": sort_by}),
        client.get("/Groups", params={"sortBy": sort_by}),
    ):
        assert response.status_code in (200, 400), response.text[:300]
        if response.status_code == 400:
            assert_error(response, 400)
    if sort_by.endswith(":department"):
        ordered = [r["userName"] for r in client.get("/Users", params={"sortBy": sort_by}).json()["Resources"]]
        assert ordered == ["s2", "s1", "s3"]


@pytest.mark.parametrize("one,other", [("straße", "strasse"), ("ſam", "sam"), ("ﬁnn", "finn")])
def test_distinct_unicode_user_names_are_distinct_users(client, one, other):
    first = client.post("/Users", user_body(one))
    second = client.post("/Users", user_body(other))
    assert (first.status_code, second.status_code) == (201, 201), second.text[:300]
    for name, created in ((one, first), (other, second)):
        found = client.get("/Users", params={"filter": f"userName eq {json.dumps(name)}"}).json()["Resources"]
        assert [r["id"] for r in found] == [created.json()["id"]]
    assert client.post("/Users", user_body(one.upper())).status_code == 409  # case variants are still one name


def test_every_accepted_user_name_can_be_looked_up(client):
    longest = 'é"\\' * (limits.MAX_IDENTIFIER_UNITS // 3) + "x"
    created = client.post("/Users", user_body(longest, externalId=longest))
    assert created.status_code == 201, created.text[:300]
    for attribute in ("userName", "externalId"):
        found = client.get("/Users", params={"filter": f"{attribute} eq {json.dumps(longest)}"})
        assert [r["id"] for r in found.json()["Resources"]] == [created.json()["id"]], found.text[:300]
    assert_error(client.post("/Users", user_body(longest + "y")), 400, "invalidValue")
