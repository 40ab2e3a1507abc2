"""attributes / excludedAttributes (RFC 7644 §3.4.2.5, §3.9) on stored resource dicts."""

from __future__ import annotations

import copy

import pytest

from shared.scim.errors import ScimError
from shared.scim.projection import parse_attribute_list, project
from shared.scim.schema import (
    EMPLOYEE,
    ENTERPRISE_USER,
    GROUP,
    GROUP_SCHEMA,
    USER,
    USER_SCHEMA,
    AttrDef,
    ResourceSchema,
)

USER_DOC = {
    "schemas": [USER, ENTERPRISE_USER, EMPLOYEE],
    "id": "u1",
    "externalId": "ext-1",
    "userName": "alice@example.com",
    "name": {"givenName": "Alice", "familyName": "Young"},
    "active": True,
    "emails": [{"value": "a@work", "type": "work", "primary": True}, {"value": "a@home", "type": "home"}],
    "meta": {"resourceType": "User", "lastModified": "2024-01-01T00:00:00Z"},
    ENTERPRISE_USER: {"department": "Eng", "manager": {"value": "m1"}},
    EMPLOYEE: {"status": "staged"},
}
GROUP_DOC = {
    "schemas": [GROUP],
    "id": "g1",
    "displayName": "Sales",
    "members": [{"value": "u1", "display": "Alice"}, {"value": "u2"}],
    "meta": {"resourceType": "Group"},
}


def keys(doc: dict) -> set[str]:
    return set(doc)


@pytest.mark.parametrize(
    "raw,expected",
    [
        (None, None),
        ("", None),
        (" , ,", None),
        ("userName", ["userName"]),
        (" userName , name.givenName ,", ["userName", "name.givenName"]),
        (["userName", " emails "], ["userName", "emails"]),
        (["userName,id"], ["userName", "id"]),
        ([], None),
    ],
)
def test_parse_attribute_list(raw, expected):
    assert parse_attribute_list(raw) == expected


@pytest.mark.parametrize("raw", [5, {"a": 1}, ["userName", 3]])
def test_parse_attribute_list_rejects_non_strings(raw):
    with pytest.raises(ScimError) as raised:
        parse_attribute_list(raw)
    assert (raised.value.status, raised.value.scim_type) == (400, "invalidValue")


def test_no_parameters_returns_every_default_attribute():
    assert project(USER_DOC, USER_SCHEMA, None, None) == USER_DOC


@pytest.mark.parametrize(
    "attributes,expected",
    [
        (["userName"], {"schemas": [USER], "id": "u1", "userName": "alice@example.com"}),
        (["USERNAME", "nope"], {"schemas": [USER], "id": "u1", "userName": "alice@example.com"}),
        (["id"], {"schemas": [USER], "id": "u1"}),
        (["name.givenName"], {"schemas": [USER], "id": "u1", "name": {"givenName": "Alice"}}),
        (
            ["name.givenName", "name"],
            {"schemas": [USER], "id": "u1", "name": {"givenName": "Alice", "familyName": "Young"}},
        ),
        (
            ["name", "name.givenName"],
            {"schemas": [USER], "id": "u1", "name": {"givenName": "Alice", "familyName": "Young"}},
        ),
        (["emails.value"], {"schemas": [USER], "id": "u1", "emails": [{"value": "a@work"}, {"value": "a@home"}]}),
        (["emails.display"], {"schemas": [USER], "id": "u1"}),  # no entry has one: the attribute is left out
        (["name.nope"], {"schemas": [USER], "id": "u1"}),
        ([f"{USER}:name.familyName"], {"schemas": [USER], "id": "u1", "name": {"familyName": "Young"}}),
        ([f"{USER.upper()}:USERNAME"], {"schemas": [USER], "id": "u1", "userName": "alice@example.com"}),
        (["manager"], {"schemas": [USER, ENTERPRISE_USER], "id": "u1", ENTERPRISE_USER: {"manager": {"value": "m1"}}}),
        (
            [f"{ENTERPRISE_USER}:manager"],
            {"schemas": [USER, ENTERPRISE_USER], "id": "u1", ENTERPRISE_USER: {"manager": {"value": "m1"}}},
        ),
        (
            [f"{ENTERPRISE_USER}:manager.value"],
            {"schemas": [USER, ENTERPRISE_USER], "id": "u1", ENTERPRISE_USER: {"manager": {"value": "m1"}}},
        ),
        (
            [ENTERPRISE_USER.lower()],
            {"schemas": [USER, ENTERPRISE_USER], "id": "u1", ENTERPRISE_USER: USER_DOC[ENTERPRISE_USER]},
        ),
        (
            [EMPLOYEE, "active"],
            {"schemas": [USER, EMPLOYEE], "id": "u1", "active": True, EMPLOYEE: {"status": "staged"}},
        ),
        ([f"{ENTERPRISE_USER}:employeeNumber"], {"schemas": [USER], "id": "u1"}),  # asked for, but not stored
        (["urn:example:unknown:2.0:User:thing", "urn:example:unknown:2.0:User"], {"schemas": [USER], "id": "u1"}),
        (["meta.lastModified"], {"schemas": [USER], "id": "u1", "meta": {"lastModified": "2024-01-01T00:00:00Z"}}),
    ],
)
def test_attributes(attributes, expected):
    assert project(USER_DOC, USER_SCHEMA, attributes, None) == expected


def test_whole_core_urn_selects_core_and_common_attributes():
    out = project(USER_DOC, USER_SCHEMA, [USER], None)
    assert out == {k: v for k, v in USER_DOC.items() if k not in (ENTERPRISE_USER, EMPLOYEE)} | {"schemas": [USER]}


@pytest.mark.parametrize(
    "excluded,missing,kept",
    [
        (["userName"], {"userName"}, {"id", "name", "emails", ENTERPRISE_USER}),
        (["USERNAME", "nope", "name.nope"], {"userName"}, {"id", "name"}),
        (["id", "schemas"], set(), {"id", "schemas"}),  # always returned
        (["emails", "meta"], {"emails", "meta"}, {"userName"}),
        (["manager"], set(), {ENTERPRISE_USER}),
        ([ENTERPRISE_USER], {ENTERPRISE_USER}, {EMPLOYEE, "userName"}),
        ([f"{EMPLOYEE}:status"], {EMPLOYEE}, {ENTERPRISE_USER}),  # empty extension objects are dropped
    ],
)
def test_excluded_attributes(excluded, missing, kept):
    out = project(USER_DOC, USER_SCHEMA, None, excluded)
    assert not (missing & keys(out)) and kept <= keys(out)
    assert out["schemas"] == [USER, *(e for e in (ENTERPRISE_USER, EMPLOYEE) if e in out)]


def test_excluding_sub_attributes():
    out = project(USER_DOC, USER_SCHEMA, None, ["emails.primary", "name.givenName", f"{ENTERPRISE_USER}:manager.value"])
    assert out["emails"] == [{"value": "a@work", "type": "work"}, {"value": "a@home", "type": "home"}]
    assert out["name"] == {"familyName": "Young"}
    assert out[ENTERPRISE_USER] == {"department": "Eng"}  # a manager with nothing left is dropped


def test_attributes_win_over_excluded():
    assert project(USER_DOC, USER_SCHEMA, ["userName"], ["userName"]) == {
        "schemas": [USER],
        "id": "u1",
        "userName": "alice@example.com",
    }


def test_excluded_members_of_a_group():
    out = project(GROUP_DOC, GROUP_SCHEMA, None, ["members"])
    assert out == {"schemas": [GROUP], "id": "g1", "displayName": "Sales", "meta": {"resourceType": "Group"}}


def test_group_membership_check_with_attributes_id():
    assert project(GROUP_DOC, GROUP_SCHEMA, ["id"], None) == {"schemas": [GROUP], "id": "g1"}
    assert project(GROUP_DOC, GROUP_SCHEMA, ["members.value"], None)["members"] == [{"value": "u1"}, {"value": "u2"}]


def test_input_is_not_modified():
    before = copy.deepcopy(USER_DOC)
    project(USER_DOC, USER_SCHEMA, ["emails.value", "name.givenName"], None)
    project(USER_DOC, USER_SCHEMA, None, ["emails.type", ENTERPRISE_USER, "name.givenName"])
    assert USER_DOC == before


def test_schemas_are_rebuilt_from_what_remains():
    doc = {**USER_DOC, "schemas": [USER], ENTERPRISE_USER: {}}  # an empty extension object is not shown
    out = project(doc, USER_SCHEMA, None, None)
    assert ENTERPRISE_USER not in out and out["schemas"] == [USER, EMPLOYEE]


class _Returned(ResourceSchema):
    """A schema with `returned` request and never attributes (ours have none left after dropping password)."""

    def _attributes(self, uri):
        return (
            AttrDef("userName", "string", schema=uri),
            AttrDef("secret", "string", returned="never", schema=uri),
            AttrDef("audit", "string", returned="request", schema=uri),
        )


RETURNED = _Returned("User", "/Users", USER, ())
RETURNED_DOC = {"schemas": [USER], "id": "1", "userName": "a", "secret": "s", "audit": "x"}


@pytest.mark.parametrize(
    "attributes,excluded,expected_keys",
    [
        (None, None, {"schemas", "id", "userName"}),
        (None, ["userName"], {"schemas", "id"}),
        (["audit"], None, {"schemas", "id", "audit"}),  # returned=request: only when asked
        (["secret", "userName"], None, {"schemas", "id", "userName"}),  # returned=never: not even when asked
    ],
)
def test_returned_characteristic(attributes, excluded, expected_keys):
    assert keys(project(RETURNED_DOC, RETURNED, attributes, excluded)) == expected_keys
