"""Replays of the direct SCIM checks in Microsoft's Entra gallery validation (the SCIMTests workflow of
AzureAD/SCIMReferenceCode; ../shared/ENTRA.md §5-§6): schema discoverability, null updates, create and
update round trips, user and group paging, and manager set/change/remove, against tools.localhost + Azurite."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.entra.test_entra_groups import entra_group, post_group
from tests.entra.test_entra_users import ENTERPRISE, ops, patched, post_user
from tests.support.scim import ScimClient

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"

# Entra's default attribute mapping for a SCIM app (ENTRA.md §3 and §4), as the target names the validator
# looks for in the flattened /Schemas.
USER_MAPPED = [
    "userName",
    "externalId",
    "active",
    "displayName",
    "title",
    "preferredLanguage",
    "name.givenName",
    "name.familyName",
    "name.formatted",
    'emails[type eq "work"].value',
    'emails[type eq "other"].Value',
    'phoneNumbers[type eq "work"].value',
    'phoneNumbers[type eq "mobile"].value',
    'phoneNumbers[type eq "fax"].value',
    'addresses[type eq "work"].formatted',
    'addresses[type eq "work"].streetAddress',
    'addresses[type eq "work"].locality',
    'addresses[type eq "work"].region',
    'addresses[type eq "work"].postalCode',
    'addresses[type eq "work"].country',
    'addresses[type eq "other"].Formatted',
    f"{ENTERPRISE}:employeeNumber",
    f"{ENTERPRISE}:department",
    f"{ENTERPRISE}:manager",
]
GROUP_MAPPED = ["displayName", "externalId", "members"]

# The optional, non-reference mapped attributes: what the null-update test clears (the validator leaves out
# userName, active, externalId, roles, references such as manager, and anything the schema marks required).
NULLABLE = [n for n in USER_MAPPED if n not in ("userName", "externalId", "active", f"{ENTERPRISE}:manager")]


def _flatten_attribute(attr: dict[str, Any]) -> list[str]:
    """One top-level attribute the way the validator's Flatten_User_Attrs_Loop names it."""
    name, subs = attr["name"], attr.get("subAttributes") or []
    if name in ("manager", "members"):
        return [name]
    if attr["type"] == "complex" and attr.get("multiValued"):
        type_sub = next((s for s in subs if s["name"] == "type"), None)
        canonical = (type_sub or {}).get("canonicalValues") or []
        if canonical:
            filterable = [s["name"] for s in subs if s["name"] not in ("type", "primary")]
            return [f'{name}[type eq "{value}"].{sub}' for value in canonical for sub in filterable]
        return [f'{name}[primary eq "True"].{s["name"]}' for s in subs if s["name"] != "primary"]
    if attr["type"] == "complex":
        return [f"{name}.{s['name']}" for s in subs if s["type"] not in ("complex", "reference")]
    return [] if attr["type"] == "reference" else [name]


def flattened_schemas(resources: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """(user names, group names), lower-cased as the validator compares them: the core User schema's
    attributes plus `<id>:<name>` for every other schema that is not the core Group, and the core Group's."""
    by_id = {r["id"]: r for r in resources}
    user = [n for a in by_id.get(USER, {}).get("attributes", []) for n in _flatten_attribute(a)]
    user += [
        f"{r['id']}:{a['name']}" for r in resources if r["id"] not in (USER, GROUP) for a in r.get("attributes", [])
    ]
    group = [n for a in by_id.get(GROUP, {}).get("attributes", []) for n in _flatten_attribute(a)]
    return {n.lower() for n in user}, {n.lower() for n in group}


def test_schemas_discover_every_default_mapped_attribute(client: ScimClient):
    response = client.get("/Schemas")
    assert response.status_code == 200 and response.json()["Resources"]
    users, groups = flattened_schemas(response.json()["Resources"])
    assert [n for n in USER_MAPPED if n.lower() not in users] == []
    assert [n for n in GROUP_MAPPED if n.lower() not in groups] == []


@pytest.mark.parametrize("uri", [USER, GROUP])
def test_external_id_is_advertised_as_a_common_string(client: ScimClient, uri: str):
    attributes = client.get(f"/Schemas/{uri}").json()["attributes"]
    (external,) = [a for a in attributes if a["name"] == "externalId"]
    assert external == {
        "name": "externalId",
        "type": "string",
        "multiValued": False,
        "description": external["description"],
        "required": False,
        "caseExact": True,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    }


def read(resource: dict[str, Any], path: str) -> Any:
    """The value a flattened path names in a resource, None when absent (the validator's read-back)."""
    if path.startswith("urn:"):
        uri, _, name = path.rpartition(":")
        return (resource.get(uri) or {}).get(name)
    if "[type eq " in path:
        attr, rest = path.split("[type eq ", 1)
        wanted, sub = rest.split('"]')[0].strip('"'), rest.rsplit(".", 1)[1]
        entry = next((e for e in resource.get(attr) or [] if str(e.get("type")).lower() == wanted.lower()), {})
        return _get(entry, sub)
    if "." in path:
        attr, sub = path.split(".", 1)
        return _get(resource.get(attr) or {}, sub)
    return resource.get(path)


def _get(entry: dict[str, Any], name: str) -> Any:
    """A sub-attribute by name in any letter case (the mapping spells some `Value`, `Formatted`)."""
    return next((v for k, v in entry.items() if k.lower() == name.lower()), None)


def full_user() -> dict[str, Any]:
    """A user with every default-mapped attribute set, shaped like the validator's create body (typed
    entries, the first of each attribute primary)."""
    tag = uuid.uuid4().hex[:8]
    return {
        "schemas": [USER, ENTERPRISE],
        "userName": f"gallery{tag}@test.com",
        "externalId": str(uuid.uuid4()),
        "active": True,
        "displayName": f"Test{tag}",
        "title": "Engineer",
        "preferredLanguage": "en-US",
        "name": {"givenName": "Given", "familyName": "Family", "formatted": "Given Family"},
        "emails": [
            {"type": "work", "primary": True, "value": f"work{tag}@test.com"},
            {"type": "other", "primary": False, "value": f"other{tag}@test.com"},
        ],
        "phoneNumbers": [
            {"type": "work", "primary": True, "value": "+1 555 0100"},
            {"type": "mobile", "primary": False, "value": "+1 555 0101"},
            {"type": "fax", "primary": False, "value": "+1 555 0102"},
        ],
        "addresses": [
            {
                "type": "work",
                "primary": True,
                "streetAddress": "1 Main St",
                "locality": "Springfield",
                "region": "IL",
                "postalCode": "62701",
                "country": "US",
                "formatted": "1 Main St, Springfield, IL 62701, US",
            },
            {"type": "other", "primary": False, "formatted": "Building 7"},
        ],
        ENTERPRISE: {"employeeNumber": "E-1", "department": "Sales"},
    }


def _null_ops(value: str | None, batched: bool) -> list[dict[str, Any]]:
    """The validator's null PATCH: one replace per attribute (verbose), or the typed paths as their own ops
    and every other attribute in one path-less replace (its non-verbose form)."""
    if not batched:
        return [{"op": "replace", "path": p, "value": value} for p in NULLABLE]
    typed = [{"op": "replace", "path": p, "value": value} for p in NULLABLE if "[" in p]
    return typed + [{"op": "replace", "value": {p: value for p in NULLABLE if "[" not in p}}]


@pytest.mark.parametrize("batched", [False, True], ids=["verbose", "batched"])
def test_null_update_empties_optional_attributes(client: ScimClient, batched: bool):
    body = full_user()
    user = post_user(client, body)
    assert {p: read(user, p) for p in NULLABLE} == {p: read(body, p) for p in NULLABLE}
    for value in ("", None):
        got = patched(client, user["id"], ops(*_null_ops(value, batched)))
        assert {p: read(got, p) for p in NULLABLE if read(got, p) is not None} == {}, value
        assert got["userName"] == body["userName"] and got["externalId"] == body["externalId"]
    # Nothing empty is left behind: no typed entry holding only its type, no empty name or extension object.
    assert {k: got[k] for k in ("emails", "phoneNumbers", "addresses", "name", ENTERPRISE) if k in got} == {}


def test_put_omitting_optional_attributes_empties_them(client: ScimClient):
    body = full_user()
    user = post_user(client, body)
    response = client.put(f"/Users/{user['id']}", {"schemas": [USER], "userName": body["userName"], "active": True})
    assert response.status_code == 200, response.text
    got = client.get(f"/Users/{user['id']}").json()
    assert {p: read(got, p) for p in NULLABLE if read(got, p) is not None} == {}
    assert "externalId" not in got and got["active"] is True


def test_user_create_and_update_round_trip(client: ScimClient):
    body = full_user()
    created = post_user(client, body)
    assert created["id"]
    got = client.get(f"/Users/{created['id']}").json()
    for resource in (created, got):
        sent = {k: v for k, v in body.items() if k != "schemas"}
        assert {k: resource.get(k) for k in sent} == sent
    updates = {p: f"New{uuid.uuid4().hex[:6]}" for p in NULLABLE}
    updates["externalId"] = str(uuid.uuid4())
    got = patched(client, created["id"], ops(*({"op": "replace", "path": p, "value": v} for p, v in updates.items())))
    assert {p: read(got, p) for p in updates} == updates
    assert len(got["emails"]) == 2 and len(got["phoneNumbers"]) == 3 and len(got["addresses"]) == 2


def test_group_create_and_update_round_trip(client: ScimClient):
    member = post_user(client, full_user())
    body = entra_group(members=[member["id"]])
    created = post_group(client, body)
    assert created["id"] and created["displayName"] == body["displayName"]
    assert created["externalId"] == body["externalId"] and created["members"][0]["value"] == member["id"]
    updates = {"displayName": f"Renamed {uuid.uuid4()}", "externalId": str(uuid.uuid4())}
    response = client.patch(
        f"/Groups/{created['id']}", ops(*({"op": "replace", "path": k, "value": v} for k, v in updates.items()))
    )
    assert response.status_code in (200, 204), response.text
    got = client.get(f"/Groups/{created['id']}").json()
    assert {k: got.get(k) for k in updates} == updates
    assert [m["value"] for m in got["members"]] == [member["id"]]


def _pages(client: ScimClient, endpoint: str, count: int) -> list[dict[str, Any]]:
    pages, start = [], 1
    while True:
        response = client.get(endpoint, params={"startIndex": start, "count": count})
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        start += len(page["Resources"])
        if not page["Resources"] or start > page["totalResults"]:
            return pages


@pytest.mark.parametrize("endpoint", ["/Users", "/Groups"])
def test_pagination_with_count_5(client: ScimClient, endpoint: str):
    total = 12
    if endpoint == "/Users":
        created = {post_user(client, full_user())["id"] for _ in range(total)}
    else:
        created = {post_group(client, entra_group())["id"] for _ in range(total)}
    pages = _pages(client, endpoint, 5)
    assert [p["startIndex"] for p in pages] == [1, 6, 11]
    assert [p["itemsPerPage"] for p in pages] == [len(p["Resources"]) for p in pages] == [5, 5, 2]
    assert {p["totalResults"] for p in pages} == {total}
    ids = [r["id"] for p in pages for r in p["Resources"]]
    assert len(ids) == len(set(ids)) and set(ids) == created
    beyond = client.get(endpoint, params={"startIndex": total + 1, "count": 5}).json()
    assert (beyond["startIndex"], beyond["itemsPerPage"], beyond["Resources"], beyond["totalResults"]) == (
        total + 1,
        0,
        [],
        total,
    )


def test_manager_set_change_remove(client: ScimClient):
    user, first, second = (post_user(client, full_user()) for _ in range(3))
    path = f"{ENTERPRISE}:manager"
    steps = [("Add", first["id"]), ("replace", second["id"]), ("replace", "")]
    for op, value in steps:
        response = client.patch(f"/Users/{user['id']}", ops({"op": op, "path": path, "value": value}))
        assert response.status_code in (200, 204), response.text
        got = client.get(f"/Users/{user['id']}").json()
        manager = (got.get(ENTERPRISE) or {}).get("manager")
        assert (manager or {}).get("value", "") == value
        assert manager is None or manager == {"value": value}
