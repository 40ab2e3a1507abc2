"""The Entra simulator's decisions without I/O: Entra's create bodies, what differs between the mapped
source and the stored resource, and the exact PATCH operations for each kind of change in the default
dialect and in the aadOptscim062020 (flag) dialect."""

from __future__ import annotations

import pytest

from tools.entra_sim import diff, mapping, patch
from tools.entra_sim.directory import SourceGroup, SourceUser
from tools.entra_sim.patch import DEFAULT, FLAG
from tools.entra_sim.transport import retry_delay, route_kind, split_tenant_url

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MANAGER = f"{ENTERPRISE}:manager"
WORK_EMAIL = 'emails[type eq "work"].value'


def source(**changes: object) -> SourceUser:
    base = dict(
        id="src-1",
        userPrincipalName="ada@contoso.example",
        mailNickname="ada",
        displayName="Ada Lovelace",
        givenName="Ada",
        surname="Lovelace",
        mail="ada@contoso.example",
        jobTitle="Engineer",
        department="R&D",
        employeeId="E1",
        telephoneNumber="+1 425 555 0100",
        streetAddress="1 Main Street",
        postalCode="98052",
    )
    return SourceUser(**(base | changes))


def stored(user: SourceUser) -> dict:
    """What a faithful server returns for the POST Entra sent: the same values plus server fields."""
    return mapping.user_post_body(mapping.user_targets(user)) | {
        "id": "u1",
        "meta": {"resourceType": "User", "version": 'W/"1"'},
    }


def user_ops(new: SourceUser, old: SourceUser, dialect: patch.Dialect) -> list[dict]:
    return patch.attribute_ops(diff.attribute_changes(mapping.user_targets(new), stored(old)), dialect)


def test_user_post_body_is_entras_documented_shape():
    assert mapping.user_post_body(mapping.user_targets(source())) == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": "ada",
        "userName": "ada@contoso.example",
        "displayName": "Ada Lovelace",
        "title": "Engineer",
        "emails": [{"primary": True, "type": "work", "value": "ada@contoso.example"}],
        "name": {"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"},
        "phoneNumbers": [{"type": "work", "value": "+1 425 555 0100"}],
        "addresses": [{"type": "work", "streetAddress": "1 Main Street", "postalCode": "98052"}],
        ENTERPRISE: {"department": "R&D", "employeeNumber": "E1"},
        "active": True,
        "meta": {"resourceType": "User"},
        "roles": [],
    }


def test_group_post_body_carries_the_adscim_urn_and_no_members():
    group = SourceGroup(id="g-1", displayName="Sales", members=("src-1",))
    assert mapping.group_post_body(mapping.group_targets(group)) == {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:Group",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
        ],
        "externalId": "g-1",
        "displayName": "Sales",
        "meta": {"resourceType": "Group"},
    }


@pytest.mark.parametrize("dialect", [DEFAULT, FLAG])
def test_unchanged_user_needs_no_operation(dialect):
    assert user_ops(source(), source(), dialect) == []


def test_names_and_types_are_compared_case_insensitively():
    resource = {
        "id": "u1",
        "UserName": "ada@contoso.example",
        "externalId": "ada",
        "Active": True,
        "displayName": "Ada Lovelace",
        "title": "Engineer",
        "Name": {"GivenName": "Ada", "familyName": "Lovelace", "Formatted": "Ada Lovelace"},
        "Emails": [{"Type": "Work", "Value": "ada@contoso.example", "primary": True}],
        "phoneNumbers": [{"type": "WORK", "value": "+1 425 555 0100"}],
        "addresses": [{"type": "work", "streetAddress": "1 Main Street", "postalCode": "98052"}],
        ENTERPRISE.upper(): {"Department": "R&D", "employeeNumber": "E1", "manager": {"value": "m1"}},
    }
    assert diff.attribute_changes(mapping.user_targets(source()), resource) == []


def test_active_read_back_as_a_string_is_unchanged():
    assert diff.attribute_changes({"active": False}, {"active": "False"}) == []


def test_a_cleared_source_attribute_sends_nothing():
    # Entra cannot flow nulls to an app: the stored title simply stays.
    assert user_ops(source(jobTitle=None), source(), DEFAULT) == []


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (DEFAULT, [{"op": "Replace", "path": "title", "value": "Architect"}]),
        (FLAG, [{"op": "replace", "path": "title", "value": "Architect"}]),
    ],
)
def test_one_changed_attribute(dialect, expected):
    assert user_ops(source(jobTitle="Architect"), source(), dialect) == expected


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (DEFAULT, [{"op": "Replace", "path": "userName", "value": "ada.l@contoso.example"}]),
        (FLAG, [{"op": "replace", "path": "userName", "value": "ada.l@contoso.example"}]),
    ],
)
def test_user_principal_name_rename(dialect, expected):
    assert user_ops(source(userPrincipalName="ada.l@contoso.example"), source(), dialect) == expected


def test_several_attributes_in_the_default_dialect_get_one_op_each():
    new = source(
        mailNickname="Eqpj",
        displayName="Pvlo",
        mail="x@contoso.example",
        givenName="Gtfd",
        surname="Pkqf",
        employeeId="Eqpj",
    )
    assert user_ops(new, source(), DEFAULT) == [
        {"op": "Replace", "path": "externalId", "value": "Eqpj"},
        {"op": "Replace", "path": "displayName", "value": "Pvlo"},
        {"op": "Replace", "path": WORK_EMAIL, "value": "x@contoso.example"},
        {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
        {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
        {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "Eqpj"},
        {"op": "Replace", "path": "name.formatted", "value": "Gtfd Pkqf"},
    ]


def test_several_attributes_in_the_flag_dialect_share_one_pathless_replace():
    new = source(displayName="Bjfe", mail="x@contoso.example", givenName="Kkom", surname="Unua", employeeId="Aklq")
    assert user_ops(new, source(), FLAG) == [
        {"op": "replace", "path": WORK_EMAIL, "value": "x@contoso.example"},
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
    ]


@pytest.mark.parametrize(
    ("enabled", "dialect", "expected"),
    [
        (False, DEFAULT, [{"op": "Replace", "path": "active", "value": "False"}]),
        (True, DEFAULT, [{"op": "Replace", "path": "active", "value": "True"}]),
        (False, FLAG, [{"op": "replace", "path": "active", "value": False}]),
        (True, FLAG, [{"op": "replace", "path": "active", "value": True}]),
    ],
)
def test_disable_and_re_enable(enabled, dialect, expected):
    assert user_ops(source(accountEnabled=enabled), source(accountEnabled=not enabled), dialect) == expected


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            DEFAULT,
            [
                {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 425 555 0199"},
                {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "R&D"},
            ],
        ),
        (
            FLAG,
            [
                {"op": "add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 425 555 0199"},
                {"op": "add", "path": f"{ENTERPRISE}:department", "value": "R&D"},
            ],
        ),
    ],
)
def test_a_value_the_target_lacks_is_added(dialect, expected):
    assert user_ops(source(mobile="+1 425 555 0199"), source(department=None), dialect) == expected


@pytest.mark.parametrize("dialect", [DEFAULT, FLAG])
def test_an_address_part_changes_within_the_typed_entry(dialect):
    assert user_ops(source(postalCode="10001"), source(), dialect) == [
        {"op": dialect.op("replace"), "path": 'addresses[type eq "work"].postalCode', "value": "10001"}
    ]


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (DEFAULT, [{"op": "Replace", "path": "displayName", "value": "Sales EMEA"}]),
        (FLAG, [{"op": "replace", "path": "displayName", "value": "Sales EMEA"}]),
    ],
)
def test_group_rename(dialect, expected):
    resource = {"id": "g1", "externalId": "g-1", "displayName": "Sales"}
    changes = diff.attribute_changes(mapping.group_targets(SourceGroup(id="g-1", displayName="Sales EMEA")), resource)
    assert patch.attribute_ops(changes, dialect) == expected


def test_unchanged_group_needs_no_operation():
    resource = {"id": "g1", "externalId": "g-1", "displayName": "Sales", "meta": {"resourceType": "Group"}}
    assert diff.attribute_changes(mapping.group_targets(SourceGroup(id="g-1", displayName="Sales")), resource) == []


def test_membership_delta():
    assert diff.member_changes(["a", "b", "c"], ["c", "b", "a"]) == ([], [])
    assert diff.member_changes(["d", "a", "b"], ["a", "c", "e"]) == (["b", "d"], ["c", "e"])


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            DEFAULT,
            [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": "u1"}, {"$ref": None, "value": "u2"}]}],
        ),
        (FLAG, [{"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]),
    ],
)
def test_member_add_lists_several_members_in_one_op(dialect, expected):
    assert patch.member_add_ops(["u1", "u2"], dialect) == expected


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            DEFAULT,
            [
                {
                    "op": "Remove",
                    "path": "members",
                    "value": [{"$ref": None, "value": "u1"}, {"$ref": None, "value": "u2"}],
                }
            ],
        ),
        (
            FLAG,
            [{"op": "remove", "path": 'members[value eq "u1"]'}, {"op": "remove", "path": 'members[value eq "u2"]'}],
        ),
    ],
)
def test_member_remove(dialect, expected):
    assert patch.member_remove_ops(["u1", "u2"], dialect) == expected


@pytest.mark.parametrize(
    ("manager", "dialect", "expected"),
    [
        ("m1", DEFAULT, [{"op": "Add", "path": MANAGER, "value": "m1"}]),
        ("m1", FLAG, [{"op": "add", "path": MANAGER, "value": "m1"}]),
        (None, DEFAULT, [{"op": "Replace", "path": MANAGER, "value": ""}]),
        (None, FLAG, [{"op": "replace", "path": MANAGER, "value": ""}]),
    ],
)
def test_manager_is_set_with_a_bare_id_and_cleared_with_an_empty_string(manager, dialect, expected):
    assert patch.manager_ops(manager, dialect) == expected


def test_patch_envelope():
    assert patch.body([]) == {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({ENTERPRISE: {"manager": {"value": "m1", "$ref": "../Users/m1"}}}, "m1"),
        ({ENTERPRISE: {"manager": "m1"}}, "m1"),
        ({ENTERPRISE: {"manager": {"value": ""}}}, None),
        ({ENTERPRISE: {"department": "R&D"}}, None),
        ({}, None),
    ],
)
def test_manager_id_as_a_server_returns_it(resource, expected):
    assert mapping.manager_id(resource) == expected


@pytest.mark.parametrize(
    ("method", "path", "params", "kind"),
    [
        ("GET", "/Users", [("filter", 'userName eq "a"')], "GET /Users?filter"),
        ("GET", "/Groups", [("excludedAttributes", "members"), ("filter", 'displayName eq "a"')], "GET /Groups?filter"),
        ("GET", "/Groups/g1", [("excludedAttributes", "members")], "GET /Groups/{id}"),
        ("DELETE", "/Groups/g1", [], "DELETE /Groups"),
        ("PATCH", "/Users/u1", [], "PATCH /Users"),
        ("POST", "/Groups", [], "POST /Groups"),
    ],
)
def test_route_kinds(method, path, params, kind):
    assert route_kind(method, path, params) == kind


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, 1.0), ("3", 3.0), ("0", 0.0), ("soon", 1.0), ("86400", 60.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_is_honoured_within_bounds(header, seconds):
    assert retry_delay(header) == seconds


def test_the_tenant_url_query_is_not_part_of_the_base():
    assert split_tenant_url("https://api.example.com/scim/v2/?aadOptscim062020") == (
        "https://api.example.com/scim/v2",
        "aadOptscim062020",
    )
