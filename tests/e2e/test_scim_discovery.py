"""Discovery endpoints advertise exactly what is implemented."""

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_service_provider_config(client):
    response = client.get("/ServiceProviderConfig")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/scim+json")
    spc = response.json()
    assert spc["patch"]["supported"] and spc["filter"]["supported"] and spc["sort"]["supported"] and spc["etag"]["supported"]
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
    for attribute in user["attributes"]:
        if attribute["type"] == "complex" and attribute["multiValued"]:
            for sub in attribute.get("subAttributes", []):
                if sub["name"] == "type":
                    assert sub.get("canonicalValues"), attribute["name"]
    assert client.get(f"/Schemas/{ENTERPRISE}").status_code == 200
    assert client.get("/Schemas/urn:nope").status_code == 404
