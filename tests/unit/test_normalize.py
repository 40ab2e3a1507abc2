"""POST/PUT body cleaning: every body shape ENTRA.md quotes, RFC 7643 rules, and the errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.scim.errors import ScimError
from shared.scim.normalize import clean_resource, clean_value
from shared.scim.schema import EMPLOYEE, ENTERPRISE_USER, GROUP, GROUP_SCHEMA, USER, USER_SCHEMA

ADSCIM = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
MISSPELT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"
CUSTOM = "urn:ietf:params:scim:schemas:extension:Foo:2.0:User"


def user(**attrs: Any) -> dict[str, Any]:
    return {"schemas": [USER], "userName": "jo@example.com", **attrs}


CASES: list[tuple[str, Any, dict[str, Any]]] = [
    (
        "entra current documented body",
        {
            "schemas": [USER, ENTERPRISE_USER],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
            "active": True,
            "emails": [
                {
                    "primary": True,
                    "type": "work",
                    "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com",
                }
            ],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
        },
        {
            "schemas": [USER],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
            "active": True,
            "emails": [
                {
                    "primary": True,
                    "type": "work",
                    "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com",
                }
            ],
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        },
    ),
    (
        "entra 2019 body: nulls, flat enterprise attributes, misspelt URN",
        {
            "schemas": [USER, MISSPELT],
            "externalId": "jyoung",
            "userName": "jyoung@testuser.com",
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
        },
        {
            "schemas": [USER],
            "externalId": "jyoung",
            "userName": "jyoung@testuser.com",
            "active": True,
            "displayName": "Joy Young",
            "emails": [{"type": "work", "value": "jyoung@Contoso.com", "primary": True}],
            "name": {"familyName": "Young", "givenName": "Joy"},
        },
    ),
    (
        "enterprise extension object with a bare manager id",
        user(**{ENTERPRISE_USER: {"manager": "123456"}}),
        user(schemas=[USER, ENTERPRISE_USER], **{ENTERPRISE_USER: {"manager": {"value": "123456"}}}),
    ),
    (
        "phone numbers kept exactly as sent",
        user(
            phoneNumbers=[
                {"value": "555-555-5555", "type": "work"},
                {"value": "+1 (555) 555-5555", "type": "mobile"},
                {"value": "555-555-5555", "type": "fax"},
            ]
        ),
        user(
            phoneNumbers=[
                {"value": "555-555-5555", "type": "work"},
                {"value": "+1 (555) 555-5555", "type": "mobile"},
                {"value": "555-555-5555", "type": "fax"},
            ]
        ),
    ),
    (
        "flat enterprise attributes move into the extension",
        user(
            department="Tech", employeeNumber="42", costCenter="CC1", organization="Org", division="Div", manager="m1"
        ),
        user(
            schemas=[USER, ENTERPRISE_USER],
            **{
                ENTERPRISE_USER: {
                    "department": "Tech",
                    "employeeNumber": "42",
                    "costCenter": "CC1",
                    "organization": "Org",
                    "division": "Div",
                    "manager": {"value": "m1"},
                }
            },
        ),
    ),
    (
        "URN-qualified top-level keys, also the misspelt and the legacy dotted URN",
        user(
            **{
                f"{ENTERPRISE_USER}:department": "Tech",
                f"{MISSPELT}:costCenter": "CC",
                f"{ENTERPRISE_USER}.division": "D",
                f"{USER}:title": "Boss",
            }
        ),
        user(
            schemas=[USER, ENTERPRISE_USER],
            title="Boss",
            **{ENTERPRISE_USER: {"department": "Tech", "costCenter": "CC", "division": "D"}},
        ),
    ),
    (
        "the misspelt URN as an object key is the enterprise extension",
        user(**{MISSPELT: {"employeeNumber": "7"}}),
        user(schemas=[USER, ENTERPRISE_USER], **{ENTERPRISE_USER: {"employeeNumber": "7"}}),
    ),
    (
        "extension URN key in another letter case",
        user(**{ENTERPRISE_USER.upper(): {"Department": "Tech"}}),
        user(schemas=[USER, ENTERPRISE_USER], **{ENTERPRISE_USER: {"department": "Tech"}}),
    ),
    (
        "custom extension object and attribute keys are ignored",
        user(**{CUSTOM: {"attr": "x"}, f"{CUSTOM}:attr": "y"}),
        user(),
    ),
    (
        "unknown, misspelt and duplicate schemas entries are ignored",
        {"schemas": ["urn:bogus", USER, USER, ENTERPRISE_USER, CUSTOM], "userName": "jo@example.com"},
        user(),
    ),
    (
        "read-only and write-only attributes are dropped",
        user(id="client-id", password="secret", groups=[{"value": "g1"}], **{EMPLOYEE: {"status": "active"}}),
        user(),
    ),
    (
        "a read-only extension is dropped whatever its shape",
        user(**{EMPLOYEE: "active"}),
        user(),
    ),
    ("unknown top-level keys are dropped", user(favouriteColour="blue", nested={"a": 1}), user()),
    (
        "attribute and sub-attribute names are canonicalised",
        {
            "UserName": "jo@example.com",
            "NAME": {"GivenName": "Jo"},
            "Emails": [{"Value": "jo@example.com", "Type": "work", "Primary": "True"}],
        },
        user(name={"givenName": "Jo"}, emails=[{"value": "jo@example.com", "type": "work", "primary": True}]),
    ),
    ("active 'False' is a boolean", user(active="False"), user(active=False)),
    ("active 'TRUE' is a boolean", user(active="TRUE"), user(active=True)),
    ("active false stays false", user(active=False), user(active=False)),
    ("empty manager string is no manager", user(manager=""), user()),
    (
        "2019 manager list shape",
        user(manager=[{"$ref": "http://x/scim/Users/2819c223", "value": "2819c223"}]),
        user(
            schemas=[USER, ENTERPRISE_USER],
            **{ENTERPRISE_USER: {"manager": {"value": "2819c223", "$ref": "http://x/scim/Users/2819c223"}}},
        ),
    ),
    (
        "manager object kept, its read-only displayName dropped",
        user(**{ENTERPRISE_USER: {"manager": {"value": "m1", "displayName": "Boss"}}}),
        user(schemas=[USER, ENTERPRISE_USER], **{ENTERPRISE_USER: {"manager": {"value": "m1"}}}),
    ),
    (
        "a single object for a multi-valued attribute",
        user(emails={"value": "jo@example.com"}),
        user(emails=[{"value": "jo@example.com"}]),
    ),
    (
        "null entries and empty strings vanish",
        user(emails=[None, {"value": "a@b", "display": ""}], title="", nickName=None),
        user(emails=[{"value": "a@b"}]),
    ),
    ("a number for a string attribute becomes its text", user(externalId=42), user(externalId="42")),
    (
        "roles kept as sent",
        user(roles=[{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]),
        user(roles=[{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]),
    ),
    (
        "stringified role JSON kept as a string",
        user(roles=[{"value": '{"id":"06b0","value":"25","displayName":"Role1234"}', "primary": False}]),
        user(roles=[{"value": '{"id":"06b0","value":"25","displayName":"Role1234"}', "primary": False}]),
    ),
]


@pytest.mark.parametrize(("body", "expected"), [(b, e) for _, b, e in CASES], ids=[c[0] for c in CASES])
def test_user_bodies(body: Any, expected: dict[str, Any]) -> None:
    assert clean_resource(body, USER_SCHEMA) == expected


GROUP_CASES: list[tuple[str, Any, dict[str, Any]]] = [
    (
        "entra group create drops the ADSCIM URN and client meta",
        {
            "schemas": [GROUP, ADSCIM],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
        },
        {"schemas": [GROUP], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName"},
    ),
    (
        "members kept for the caller, $ref null dropped",
        {"displayName": "G", "members": [{"value": "u1", "$ref": None}, {"Value": "u2", "type": "User"}]},
        {"schemas": [GROUP], "displayName": "G", "members": [{"value": "u1"}, {"value": "u2", "type": "User"}]},
    ),
    ("empty members list dropped", {"displayName": "G", "members": []}, {"schemas": [GROUP], "displayName": "G"}),
    (
        "user attributes on a group are unknown",
        {"displayName": "G", "userName": "x", ENTERPRISE_USER: {"department": "D"}},
        {"schemas": [GROUP], "displayName": "G"},
    ),
]


@pytest.mark.parametrize(("body", "expected"), [(b, e) for _, b, e in GROUP_CASES], ids=[c[0] for c in GROUP_CASES])
def test_group_bodies(body: Any, expected: dict[str, Any]) -> None:
    assert clean_resource(body, GROUP_SCHEMA) == expected


def test_input_is_not_mutated() -> None:
    body = user(active="True", emails={"Value": "a@b"}, department="D")
    snapshot = copy.deepcopy(body)
    clean_resource(body, USER_SCHEMA)
    assert body == snapshot


ERRORS: list[tuple[str, Any, Any, str, str]] = [
    ("body is a list", USER_SCHEMA, [user()], "invalidSyntax", ""),
    ("body is a string", USER_SCHEMA, "x", "invalidSyntax", ""),
    ("body is null", USER_SCHEMA, None, "invalidSyntax", ""),
    ("userName missing", USER_SCHEMA, {"displayName": "x"}, "invalidValue", "userName"),
    ("userName empty", USER_SCHEMA, {"userName": ""}, "invalidValue", "userName"),
    ("userName blank", USER_SCHEMA, {"userName": "  "}, "invalidValue", "userName"),
    ("userName an object", USER_SCHEMA, {"userName": {"a": 1}}, "invalidValue", "userName"),
    ("string attribute given a list", USER_SCHEMA, user(displayName=["a"]), "invalidValue", "displayName"),
    ("string attribute given a boolean", USER_SCHEMA, user(title=True), "invalidValue", "title"),
    ("complex attribute given a scalar", USER_SCHEMA, user(name="Jo"), "invalidValue", "name"),
    ("multi-valued complex given strings", USER_SCHEMA, user(emails=["a@b"]), "invalidValue", "emails"),
    (
        "sub-attribute of the wrong type",
        USER_SCHEMA,
        user(name={"givenName": ["Jo"]}),
        "invalidValue",
        "name.givenName",
    ),
    ("boolean given a word", USER_SCHEMA, user(active="yes"), "invalidValue", "active"),
    (
        "boolean sub-attribute given a number",
        USER_SCHEMA,
        user(emails=[{"value": "a@b", "primary": 1}]),
        "invalidValue",
        "emails.primary",
    ),
    ("extension given a scalar", USER_SCHEMA, user(**{ENTERPRISE_USER: "x"}), "invalidValue", ENTERPRISE_USER),
    ("manager given a number list", USER_SCHEMA, user(manager=[5]), "invalidValue", "manager"),
    ("group displayName missing", GROUP_SCHEMA, {"externalId": "x"}, "invalidValue", "displayName"),
    ("group displayName null", GROUP_SCHEMA, {"displayName": None}, "invalidValue", "displayName"),
    ("member without value", GROUP_SCHEMA, {"displayName": "G", "members": [{"$ref": "x"}]}, "invalidValue", "members"),
    (
        "member with empty value",
        GROUP_SCHEMA,
        {"displayName": "G", "members": [{"value": ""}]},
        "invalidValue",
        "members",
    ),
    (
        "member with numeric value",
        GROUP_SCHEMA,
        {"displayName": "G", "members": [{"value": 5}]},
        "invalidValue",
        "members",
    ),
    ("member given as a bare id", GROUP_SCHEMA, {"displayName": "G", "members": ["u1"]}, "invalidValue", "members"),
    (
        "member with only a display",
        GROUP_SCHEMA,
        {"displayName": "G", "members": [{"display": "Jo"}]},
        "invalidValue",
        "members",
    ),
]


@pytest.mark.parametrize(("schema", "body", "scim_type", "named"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(schema: Any, body: Any, scim_type: str, named: str) -> None:
    with pytest.raises(ScimError) as caught:
        clean_resource(body, schema)
    assert (caught.value.status, caught.value.scim_type) == (400, scim_type)
    assert named in caught.value.detail


def _attr(name: str) -> Any:
    found = USER_SCHEMA.attribute(name)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("title", None, None),
        ("title", "", None),
        ("title", "CEO", "CEO"),
        ("active", "false", False),
        ("active", True, True),
        ("emails", [], None),
        ("emails", {"VALUE": "a@b", "unknown": 1}, [{"value": "a@b"}]),
        ("name", {"givenName": None}, None),
        ("manager", {"value": ""}, None),
        ("manager", [], None),
        ("manager", "m1", {"value": "m1"}),
        ("emails", "", None),
    ],
)
def test_clean_value(name: str, value: Any, expected: Any) -> None:
    assert clean_value(_attr(name), value, name) == expected
