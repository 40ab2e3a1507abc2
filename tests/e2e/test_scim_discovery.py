"""Discovery endpoints advertise exactly what is implemented."""

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_service_provider_config(client):
    response = client.get("/ServiceProviderConfig")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/scim+json")
    spc = response.json()
    assert (
        spc["patch"]["supported"]
        and spc["filter"]["supported"]
        and spc["sort"]["supported"]
        and spc["etag"]["supported"]
    )
    assert spc["bulk"]["supported"] is False and spc["filter"]["maxResults"] > 0


def test_resource_types_and_schemas(client):
    types = {t["id"]: t for t in client.get("/ResourceTypes").json()["Resources"]}
    assert set(types) == {"User", "Group"}
    assert ENTERPRISE in {e["schema"] for e in types["User"]["schemaExtensions"]}
    assert client.get("/ResourceTypes/User").json()["endpoint"] == "/Users"
    schemas = {s["id"]: s for s in client.get("/Schemas").json()["Resources"]}
    user = schemas["urn:ietf:params:scim:schemas:core:2.0:User"]
    names = {a["name"] for a in user["attributes"]}
    assert "userName" in names and "password" not in names
    typed = {
        a["name"]: s
        for a in user["attributes"]
        if a["type"] == "complex" and a["multiValued"]
        for s in a.get("subAttributes", [])
        if s["name"] == "type"
    }
    assert set(typed) == {"emails", "phoneNumbers", "ims", "photos", "addresses", "roles", "groups"}
    assert all(sub.get("canonicalValues") for sub in typed.values()), typed
    members = next(
        a for a in schemas["urn:ietf:params:scim:schemas:core:2.0:Group"]["attributes"] if a["name"] == "members"
    )
    assert next(s for s in members["subAttributes"] if s["name"] == "type")["canonicalValues"] == [
        "User"
    ]  # no nested groups
    assert client.get(f"/Schemas/{ENTERPRISE}").status_code == 200
    assert client.get("/Schemas/urn:nope").status_code == 404
