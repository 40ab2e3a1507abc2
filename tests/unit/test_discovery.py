"""Discovery documents: valid RFC 7643 documents advertising exactly what we implement."""

from __future__ import annotations

import pytest
from scim2_models import ResourceType, Schema, ServiceProviderConfig

from shared.scim import discovery
from shared.scim.errors import ScimError
from shared.scim.listing import MAX_RESULTS
from shared.scim.schema import EMPLOYEE, ENTERPRISE_USER, GROUP, USER

BASE = "https://scim.example.com/scim/v2"


def _attributes(attrs):
    for attr in attrs:
        yield attr
        yield from _attributes(attr.get("subAttributes", []))


def _values(doc):
    if isinstance(doc, dict):
        for value in doc.values():
            yield value
            yield from _values(value)
    elif isinstance(doc, list):
        for value in doc:
            yield value
            yield from _values(value)


def test_service_provider_config():
    spc = discovery.service_provider_config(BASE)
    ServiceProviderConfig.model_validate(spc)
    assert spc["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert spc["patch"]["supported"] and spc["sort"]["supported"] and spc["etag"]["supported"]
    assert spc["filter"] == {"supported": True, "maxResults": MAX_RESULTS}
    assert not spc["bulk"]["supported"] and not spc["changePassword"]["supported"]
    (scheme,) = spc["authenticationSchemes"]
    assert scheme["type"] == "oauthbearertoken" and scheme["primary"] is True
    assert spc["meta"] == {"resourceType": "ServiceProviderConfig", "location": f"{BASE}/ServiceProviderConfig"}


def test_resource_types():
    user, group = discovery.resource_types(BASE)
    for doc in (user, group):
        ResourceType.model_validate(doc)
        assert doc["meta"] == {"resourceType": "ResourceType", "location": f"{BASE}/ResourceTypes/{doc['id']}"}
    assert (user["id"], user["endpoint"], user["schema"]) == ("User", "/Users", USER)
    assert user["schemaExtensions"] == [
        {"schema": ENTERPRISE_USER, "required": False},
        {"schema": EMPLOYEE, "required": False},
    ]
    assert (group["id"], group["endpoint"], group["schema"]) == ("Group", "/Groups", GROUP)
    assert not group.get("schemaExtensions")


def test_get_resource_type():
    assert discovery.get_resource_type(BASE, "Group") == discovery.resource_types(BASE)[1]


@pytest.mark.parametrize("type_id", ["user", "Users", "Nope", ""])
def test_unknown_resource_type_is_404(type_id):
    with pytest.raises(ScimError) as raised:
        discovery.get_resource_type(BASE, type_id)
    assert raised.value.status == 404


def test_schemas_are_valid_documents():
    docs = discovery.schemas(BASE)
    assert [d["id"] for d in docs] == [USER, ENTERPRISE_USER, EMPLOYEE, GROUP]
    for doc in docs:
        Schema.model_validate(doc)
        assert doc["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:Schema"]
        assert doc["meta"] == {"resourceType": "Schema", "location": f"{BASE}/Schemas/{doc['id']}"}
        assert None not in list(_values(doc))  # nulls omitted


def test_attribute_characteristics_use_rfc_camel_case():
    for doc in discovery.schemas(BASE):
        for attr in _attributes(doc["attributes"]):
            assert attr["mutability"] in {"readWrite", "readOnly", "immutable", "writeOnly"}
            assert attr["returned"] in {"always", "default", "request", "never"}
            assert attr["uniqueness"] in {"none", "server", "global"}
            assert isinstance(attr["multiValued"], bool) and isinstance(attr["required"], bool)
            assert attr["description"]
            if attr["type"] == "reference":
                assert attr["referenceTypes"]


def test_every_type_sub_attribute_has_canonical_values():
    types = [a for doc in discovery.schemas(BASE) for a in _attributes(doc["attributes"]) if a["name"] == "type"]
    assert len(types) >= 8
    assert all(t.get("canonicalValues") for t in types)


def _user_attribute(name):
    user = discovery.get_schema(BASE, USER)
    return next((a for a in user["attributes"] if a["name"] == name), None)


def test_user_schema_leaves_out_what_validators_reject():
    assert _user_attribute("password") is None
    assert [s["name"] for s in _user_attribute("emails")["subAttributes"]] == ["value", "type"]
    assert _user_attribute("emails")["subAttributes"][1]["canonicalValues"] == ["work", "home", "other"]
    assert _user_attribute("groups")["mutability"] == "readOnly"
    assert _user_attribute("userName")["uniqueness"] == "server" and _user_attribute("userName")["required"]


def test_enterprise_and_employee_schemas():
    manager = next(a for a in discovery.get_schema(BASE, ENTERPRISE_USER)["attributes"] if a["name"] == "manager")
    assert [s["name"] for s in manager["subAttributes"]] == ["value", "$ref", "displayName"]
    (status,) = discovery.get_schema(BASE, EMPLOYEE)["attributes"]
    assert status["mutability"] == "readOnly" and status["canonicalValues"] == [
        "staged",
        "invited",
        "active",
        "archived",
    ]


def test_group_schema():
    attrs = {a["name"]: a for a in discovery.get_schema(BASE, GROUP)["attributes"]}
    assert set(attrs) == {"externalId", "displayName", "members"}
    assert attrs["displayName"]["required"] and attrs["displayName"]["uniqueness"] == "server"
    members = {s["name"]: s for s in attrs["members"]["subAttributes"]}
    assert set(members) == {"value", "type", "$ref"}  # display is accepted but not kept
    assert members["value"]["mutability"] == "immutable"


def test_core_schemas_advertise_external_id_and_only_it_of_the_common_attributes():
    # RFC 7643 leaves common attributes out; Microsoft's gallery validator needs the mapped externalId listed.
    for schema_id, advertised in ((USER, True), (GROUP, True), (ENTERPRISE_USER, False), (EMPLOYEE, False)):
        names = [a["name"] for a in discovery.get_schema(BASE, schema_id)["attributes"]]
        assert names.count("externalId") == int(advertised), schema_id
        assert "id" not in names and "meta" not in names
    external = next(a for a in discovery.get_schema(BASE, USER)["attributes"] if a["name"] == "externalId")
    assert (external["type"], external["multiValued"], external["required"]) == ("string", False, False)
    assert (external["caseExact"], external["mutability"], external["returned"], external["uniqueness"]) == (
        True,
        "readWrite",
        "default",
        "none",
    )


@pytest.mark.parametrize("schema_id", [USER.upper(), "urn:ietf:params:scim:schemas:core:2.0:Nope", "User", ""])
def test_unknown_schema_is_404(schema_id):
    with pytest.raises(ScimError) as raised:
        discovery.get_schema(BASE, schema_id)
    assert raised.value.status == 404
