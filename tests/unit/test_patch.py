"""shared.scim.patch.apply_patch: every PATCH shape Entra sends (docs/ENTRA.md §3.4-3.7, §4.4-4.6), in both
dialects, plus the RFC 7644 §3.5.2 error cases. Pure functions on dicts, no I/O."""

from __future__ import annotations

import copy
import itertools

import pytest

from shared.scim.errors import ScimError
from shared.scim.patch import MemberChanges, apply_patch, changed_attributes
from shared.scim.schema import EMPLOYEE, ENTERPRISE_USER, GROUP, GROUP_SCHEMA, USER, USER_SCHEMA

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENT = ENTERPRISE_USER
CUSTOM = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
META = {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "lastModified": "2024-01-01T00:00:00Z"}
_MISSING = object()


def op(verb: str, path: str | None = None, value=_MISSING) -> dict:
    out: dict = {"op": verb}
    if path is not None:
        out["path"] = path
    if value is not _MISSING:
        out["value"] = value
    return out


def user(**attrs) -> dict:
    doc = {"schemas": [USER], "id": "u1", "userName": "bob@contoso.com", "meta": dict(META)}
    doc.update(attrs)
    extensions = [uri for uri in (ENT, EMPLOYEE) if uri in doc]
    doc["schemas"] = [USER, *extensions]
    return doc


def group(**attrs) -> dict:
    doc = {"schemas": [GROUP], "id": "g1", "displayName": "Sales", "meta": {"resourceType": "Group"}}
    doc.update(attrs)
    return doc


def patch(resource: dict, *ops: dict, schema=USER_SCHEMA):
    return apply_patch(resource, {"schemas": [PATCH_OP], "Operations": list(ops)}, schema)


def patched(resource: dict, *ops: dict, schema=USER_SCHEMA) -> dict:
    return patch(resource, *ops, schema=schema).resource


def without_meta(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "meta"}


# --- default mode (ENTRA.md §3.4) -------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["Add", "add", "ADD", "Replace", "replace", "REPLACE", "rePlace"])
def test_op_names_in_any_case_set_a_string(verb):
    assert patched(user(), op(verb, "nickName", "Babs"))["nickName"] == "Babs"


@pytest.mark.parametrize(
    "verb,value,expected",
    [
        ("Replace", "False", False),  # default mode
        ("Replace", "True", True),
        ("Replace", "false", False),
        ("replace", False, False),  # flag mode
        ("replace", True, True),
        ("Replace", False, False),  # the current tutorial mixes the two
        ("Add", "True", True),
    ],
)
def test_active_as_string_or_boolean(verb, value, expected):
    start = user(active=not expected)
    result = patch(start, op(verb, "active", value))
    assert result.resource["active"] is expected
    assert result.changed == ["active"]


def test_default_mode_documented_body_one_op_per_attribute():
    ops = [
        op("Replace", "displayName", "Pvlo"),
        op("Replace", 'emails[type eq "work"].value', "TestBcwqnm@test.microsoft.com"),
        op("Replace", "name.givenName", "Gtfd"),
        op("Replace", "name.familyName", "Pkqf"),
        op("Replace", "externalId", "Eqpj"),
        op("Replace", f"{ENT}:employeeNumber", "Eqpj"),
    ]
    result = patch(user(name={"givenName": "Old", "formatted": "Old Name"}), *ops)
    assert without_meta(result.resource) == {
        "schemas": [USER, ENT],
        "id": "u1",
        "userName": "bob@contoso.com",
        "displayName": "Pvlo",
        "emails": [{"type": "work", "value": "TestBcwqnm@test.microsoft.com"}],
        "name": {"givenName": "Gtfd", "familyName": "Pkqf", "formatted": "Old Name"},
        "externalId": "Eqpj",
        ENT: {"employeeNumber": "Eqpj"},
    }
    assert result.resource["meta"] == META
    assert sorted(result.changed) == sorted(["displayName", "emails", "externalId", "name", f"{ENT}:employeeNumber"])


def test_default_mode_replace_username():
    new = "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    result = patch(user(), op("Replace", "userName", new))
    assert result.resource["userName"] == new
    assert result.changed == ["userName"]


def test_default_mode_replace_work_email_and_family_name():
    start = user(
        emails=[
            {"type": "work", "value": "old@contoso.com", "primary": True},
            {"type": "home", "value": "bob@home.org"},
        ],
        name={"givenName": "Bob", "familyName": "Old"},
    )
    doc = patched(
        start,
        op("Replace", 'emails[type eq "work"].value', "updatedEmail@microsoft.com"),
        op("Replace", "name.familyName", "updatedFamilyName"),
    )
    assert doc["emails"] == [
        {"type": "work", "value": "updatedEmail@microsoft.com", "primary": True},
        {"type": "home", "value": "bob@home.org"},
    ]
    assert doc["name"] == {"givenName": "Bob", "familyName": "updatedFamilyName"}


# --- flag mode (aadOptscim062020) -------------------------------------------------------------------


def test_flag_mode_documented_body_pathless_replace_with_dotted_and_urn_keys():
    ops = [
        op("replace", 'emails[type eq "work"].value', "bob@contoso.com"),
        op(
            "replace",
            value={
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                f"{ENT}:employeeNumber": "Aklq",
            },
        ),
    ]
    doc = patched(user(name={"formatted": "F"}), *ops)
    assert without_meta(doc) == {
        "schemas": [USER, ENT],
        "id": "u1",
        "userName": "bob@contoso.com",
        "displayName": "Bjfe",
        "emails": [{"type": "work", "value": "bob@contoso.com"}],
        "name": {"formatted": "F", "givenName": "Kkom", "familyName": "Unua"},
        ENT: {"employeeNumber": "Aklq"},
    }


@pytest.mark.parametrize(
    "value,expected",
    [
        ({"active": False, "userName": "someone"}, {"active": False, "userName": "someone"}),
        ({"name.formatted": "Joy Young"}, {"name": {"formatted": "Joy Young"}}),
        ({"DisplayName": "X", "NAME.GIVENNAME": "G"}, {"displayName": "X", "name": {"givenName": "G"}}),
        ({"id": "hijack", "schemas": ["x"], "meta": {"created": "x"}, "title": "T"}, {"title": "T"}),
        ({f"{ENT}:department": "D", f"{ENT}:manager": "m1"}, {ENT: {"department": "D", "manager": {"value": "m1"}}}),
        ({ENT: {"department": "D", "manager": "m1"}}, {ENT: {"department": "D", "manager": {"value": "m1"}}}),
        ({f"{CUSTOM}:CustomAttribute": "x", "title": "T"}, {"title": "T"}),
        ({"urn:ietf:params:scim:schemas:core:2.0:User:title": "T"}, {"title": "T"}),
    ],
)
def test_flag_mode_pathless_replace(value, expected):
    doc = patched(user(), op("replace", value=value))
    for key, want in expected.items():
        assert doc[key] == want
    assert doc["id"] == "u1"
    assert doc["meta"] == META
    assert not any(k.startswith(CUSTOM) for k in doc)


def test_flag_mode_replace_work_email_primary():
    start = user(emails=[{"type": "work", "value": "w@x.com"}, {"type": "home", "value": "h@x.com", "primary": True}])
    doc = patched(start, op("replace", 'emails[type eq "work"].primary', True))
    assert doc["emails"] == [
        {"type": "work", "value": "w@x.com", "primary": True},
        {"type": "home", "value": "h@x.com"},
    ]


def test_flag_mode_add_department_by_urn_path():
    result = patch(user(), op("add", f"{ENT}:department", "Tech Infrastructure"))
    assert result.resource[ENT] == {"department": "Tech Infrastructure"}
    assert result.resource["schemas"] == [USER, ENT]
    assert result.changed == [f"{ENT}:department"]


def test_observed_replace_organization():
    assert patched(user(), op("Replace", f"{ENT}:organization", "COMPANY1"))[ENT] == {"organization": "COMPANY1"}


# --- typed paths: create and merge entries ----------------------------------------------------------


def test_three_address_ops_make_one_entry():
    ops = [
        op("add", 'addresses[type eq "work"].formatted', "USZLTUSJXBYV"),
        op("add", 'addresses[type eq "work"].locality', "OSGODHEVDCVD"),
        op("add", 'addresses[type eq "work"].region', "YMVMOEMXAYGD"),
    ]
    result = patch(user(), *ops)
    assert result.resource["addresses"] == [
        {"type": "work", "formatted": "USZLTUSJXBYV", "locality": "OSGODHEVDCVD", "region": "YMVMOEMXAYGD"}
    ]
    assert result.changed == ["addresses"]


def test_phone_numbers_of_three_types_make_three_entries():
    ops = [op("Add", f'phoneNumbers[type eq "{t}"].value', "555-555-5555") for t in ("work", "mobile", "fax")]
    assert patched(user(), *ops)["phoneNumbers"] == [
        {"type": "work", "value": "555-555-5555"},
        {"type": "mobile", "value": "555-555-5555"},
        {"type": "fax", "value": "555-555-5555"},
    ]


WORK = {"type": "work", "value": "w@x.com", "primary": True}
HOME = {"type": "home", "value": "h@x.com"}


@pytest.mark.parametrize(
    "emails,ops,expected",
    [
        # creating the entry when its type is missing
        (None, [op("add", 'emails[type eq "work"].value', "n@x.com")], [{"type": "work", "value": "n@x.com"}]),
        (None, [op("Replace", 'emails[type eq "work"].value', "n@x.com")], [{"type": "work", "value": "n@x.com"}]),
        ([HOME], [op("add", 'emails[type eq "work"].value', "n@x.com")], [HOME, {"type": "work", "value": "n@x.com"}]),
        # capitalised names (Entra: `emails[type eq "other"].Value`) land on canonical keys
        (None, [op("Add", 'emails[type eq "other"].Value', "o@x.com")], [{"type": "other", "value": "o@x.com"}]),
        (None, [op("add", 'Emails[Type eq "work"].Value', "n@x.com")], [{"type": "work", "value": "n@x.com"}]),
        # updating the matching entry only, keeping its other sub-attributes
        (
            [WORK, HOME],
            [op("Replace", 'emails[type eq "work"].value', "n@x.com")],
            [{**WORK, "value": "n@x.com"}, HOME],
        ),
        ([WORK, HOME], [op("add", 'emails[type eq "home"].value', "n@x.com")], [WORK, {**HOME, "value": "n@x.com"}]),
        # the validator's display / primary sub-attributes
        ([WORK], [op("replace", 'emails[type eq "work"].display', "Work")], [{**WORK, "display": "Work"}]),
        ([WORK], [op("add", 'emails[type eq "work"].primary', False)], [{**WORK, "primary": False}]),
        ([WORK], [op("Replace", 'emails[type eq "work"].primary', "False")], [{**WORK, "primary": False}]),
        # one primary at most: the entry just made primary wins
        (
            [WORK, HOME],
            [op("replace", 'emails[type eq "home"].primary', True)],
            [{"type": "work", "value": "w@x.com"}, {**HOME, "primary": True}],
        ),
        # "" and null clear a sub-attribute; an entry left without data goes
        ([WORK, HOME], [op("replace", 'emails[type eq "work"].value', "")], [HOME]),
        ([WORK, HOME], [op("replace", 'emails[type eq "work"].value', None)], [HOME]),
        ([HOME], [op("replace", 'emails[type eq "work"].value', "")], [HOME]),
        # a typed entry holding only its type and primary flag carries no data and is not kept
        (None, [op("add", 'emails[type eq "work"].primary', True)], None),
        # .primary before .value still ends in one entry
        (
            None,
            [op("add", 'emails[type eq "work"].primary', True), op("add", 'emails[type eq "work"].value', "n@x.com")],
            [{"type": "work", "primary": True, "value": "n@x.com"}],
        ),
        # removal by filter
        ([WORK, HOME], [op("remove", 'emails[type eq "work"]')], [HOME]),
        ([WORK, HOME], [op("Remove", 'emails[type eq "work"].value')], [HOME]),
        ([WORK, HOME], [op("remove", 'emails[type eq "other"]')], [WORK, HOME]),
        ([WORK], [op("remove", 'emails[type eq "work"]')], None),
        # whole-entry add through a filter merges into the entry
        ([WORK, HOME], [op("add", 'emails[type eq "home"]', {"display": "Home"})], [WORK, {**HOME, "display": "Home"}]),
    ],
)
def test_typed_paths(emails, ops, expected):
    start = user(emails=copy.deepcopy(emails)) if emails is not None else user()
    doc = patched(start, *ops)
    assert doc.get("emails") == expected


def test_typed_path_without_an_identity_cannot_create_an_entry():
    with pytest.raises(ScimError) as excinfo:
        patch(user(emails=[HOME]), op("replace", 'emails[value co "zzz"].value', "n@x.com"))
    assert (excinfo.value.status, excinfo.value.scim_type) == (400, "noTarget")


# --- whole multi-valued attributes ------------------------------------------------------------------


@pytest.mark.parametrize(
    "emails,ops,expected",
    [
        ([WORK], [op("add", "emails", [HOME])], [WORK, HOME]),
        ([WORK], [op("add", "emails", [WORK])], [WORK]),  # an identical entry is not duplicated
        ([WORK], [op("replace", "emails", [HOME])], [HOME]),
        (
            [WORK],
            [op("add", "emails", [{**HOME, "primary": True}])],
            [{"type": "work", "value": "w@x.com"}, {**HOME, "primary": True}],
        ),
        ([WORK], [op("add", "emails", {"type": "home", "value": "h@x.com"})], [WORK, HOME]),  # a single object
        ([WORK, HOME], [op("remove", "emails")], None),
        ([WORK], [op("replace", "emails", [])], None),
        ([WORK], [op("replace", "emails", None)], None),
    ],
)
def test_whole_multi_valued_attribute(emails, ops, expected):
    doc = patched(user(emails=copy.deepcopy(emails)), *ops)
    assert doc.get("emails") == expected


# --- clearing optional attributes (the gallery validator sends "" then null) --------------------------


@pytest.mark.parametrize(
    "operation",
    [
        op("replace", "nickName", ""),
        op("replace", "nickName", None),
        op("Remove", "nickName"),
        op("replace", value={"nickName": ""}),
    ],
)
def test_clearing_a_string(operation):
    result = patch(user(nickName="Babs"), operation)
    assert "nickName" not in result.resource
    assert result.changed == ["nickName"]


@pytest.mark.parametrize(
    "name,operation,expected",
    [
        ({"givenName": "G", "familyName": "F"}, op("remove", "name.givenName"), {"familyName": "F"}),
        ({"givenName": "G"}, op("remove", "name.givenName"), None),
        ({"givenName": "G", "familyName": "F"}, op("replace", "name.givenName", ""), {"familyName": "F"}),
        (
            {"givenName": "G", "familyName": "F"},
            op("add", "name", {"middleName": "M"}),
            {"givenName": "G", "familyName": "F", "middleName": "M"},
        ),
        ({"givenName": "G", "familyName": "F"}, op("replace", "name", {"middleName": "M"}), {"middleName": "M"}),
        ({"givenName": "G"}, op("add", "name", {"GivenName": "H"}), {"givenName": "H"}),
        ({"givenName": "G"}, op("remove", "name"), None),
    ],
)
def test_complex_single_valued(name, operation, expected):
    assert patched(user(name=name), operation).get("name") == expected


# --- manager (ENTRA.md §3.5) ------------------------------------------------------------------------

MGR = f"{ENT}:manager"


@pytest.mark.parametrize(
    "start,operation,expected",
    [
        (None, op("Add", MGR, "271"), {"manager": {"value": "271"}}),
        (None, op("add", MGR, "271"), {"manager": {"value": "271"}}),
        ({"manager": {"value": "271"}}, op("replace", MGR, "second"), {"manager": {"value": "second"}}),
        ({"manager": {"value": "271"}}, op("replace", MGR, ""), None),
        ({"manager": {"value": "271"}}, op("replace", MGR, None), None),
        ({"manager": {"value": "271"}}, op("Remove", MGR), None),
        ({"manager": {"value": "271"}, "department": "D"}, op("replace", MGR, ""), {"department": "D"}),
        ({"manager": {"value": "271"}, "department": "D"}, op("Remove", MGR), {"department": "D"}),
        (None, op("replace", MGR, {"value": "271"}), {"manager": {"value": "271"}}),
        (None, op("replace", f"{MGR}.value", "271"), {"manager": {"value": "271"}}),
        # the 2019 documented shape: unqualified path, a one-element list with $ref
        (
            None,
            op("Add", "manager", [{"$ref": "http://x/scim/Users/2819c223", "value": "2819c223"}]),
            {"manager": {"$ref": "http://x/scim/Users/2819c223", "value": "2819c223"}},
        ),
        ({"manager": {"value": "old"}}, op("Add", "manager", "new"), {"manager": {"value": "new"}}),
        ({"manager": {"value": "271"}}, op("replace", value={MGR: ""}), None),
    ],
)
def test_manager(start, operation, expected):
    doc = patched(user(**({ENT: start} if start else {})), operation)
    assert doc.get(ENT) == expected
    assert doc["schemas"] == ([USER, ENT] if expected else [USER])


# --- roles (ENTRA.md §3.6) --------------------------------------------------------------------------

STRINGIFIED = '{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}'
ADMIN = {"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}


@pytest.mark.parametrize(
    "roles,operation,expected",
    [
        (None, op("Add", "roles", [{"value": STRINGIFIED}]), [{"value": STRINGIFIED}]),
        (
            None,
            op(
                "Add",
                "roles",
                [
                    {"value": STRINGIFIED, "primary": False},
                    {"value": STRINGIFIED.replace("25", "26"), "primary": False},
                ],
            ),
            [{"value": STRINGIFIED, "primary": False}, {"value": STRINGIFIED.replace("25", "26"), "primary": False}],
        ),
        ([{"value": STRINGIFIED}], op("Add", "roles", [{"value": STRINGIFIED}]), [{"value": STRINGIFIED}]),
        ([{"value": STRINGIFIED}], op("replace", "roles", [ADMIN]), [ADMIN]),
        ([ADMIN, {"value": STRINGIFIED}], op("Remove", "roles", [{"value": STRINGIFIED}]), [ADMIN]),
        ([ADMIN], op("Remove", "roles"), None),
    ],
)
def test_roles(roles, operation, expected):
    doc = patched(user(**({"roles": roles} if roles else {})), operation)
    assert doc.get("roles") == expected


def test_remove_with_a_value_filter_removes_every_matching_entry():
    second_work = {"type": "work", "value": "w2@x.com"}
    start = user(
        emails=[copy.deepcopy(WORK), copy.deepcopy(HOME), second_work],
        roles=[{"value": "a", "type": "t"}, {"value": "b"}, {"value": "c", "type": "t"}],
    )
    result = patch(start, op("remove", 'emails[type eq "work"]'), op("remove", 'roles[type eq "t"]'))
    assert result.resource["emails"] == [HOME]
    assert result.resource["roles"] == [{"value": "b"}]
    assert result.changed == ["emails", "roles"]
    cleared = patched(start, op("remove", 'emails[type eq "work"].value'))
    assert cleared["emails"] == [HOME]  # entries left with only their type carry no data and go too


def test_member_remove_with_a_value_filter_removes_every_id_named():
    result = patch(
        group(), op("remove", f'members[value eq "{U1}" or value eq "{U2}" or value eq "{U3}"]'), schema=GROUP_SCHEMA
    )
    assert result.members.remove == {U1, U2, U3} and result.members.add == []


# --- envelope, legacy and ignored paths -------------------------------------------------------------


def test_empty_operations_change_nothing():
    start = user(nickName="Babs", **{ENT: {"department": "D"}})
    result = patch(start)
    assert result.resource == start
    assert result.changed == []
    assert not result.members


def test_operation_keys_are_case_insensitive():
    body = {"schemas": [PATCH_OP], "operations": [{"OP": "Add", "PATH": "nickName", "VALUE": "Babs"}]}
    assert apply_patch(user(), body, USER_SCHEMA).resource["nickName"] == "Babs"


def test_body_without_schemas_is_accepted():
    body = {"Operations": [op("add", 'addresses[type eq "work"].region', "R")]}
    assert apply_patch(user(), body, USER_SCHEMA).resource["addresses"] == [{"type": "work", "region": "R"}]


@pytest.mark.parametrize(
    "path",
    [
        f"{ENT}.department",  # legacy customappsso jobs
        f"{ENT}:department",
        f"{ENT.upper()}:department",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0User:department",  # the misspelt URN
        "department",
    ],
)
def test_extension_attribute_paths(path):
    result = patch(user(), op("Replace", path, "Sales"))
    assert result.resource[ENT] == {"department": "Sales"}
    assert result.changed == [f"{ENT}:department"]


@pytest.mark.parametrize(
    "operation",
    [
        op("Add", f"{CUSTOM}:CustomAttribute", "x"),
        op("Replace", f"{CUSTOM}:CustomAttribute", "x"),
        op("Remove", f"{CUSTOM}:CustomAttribute"),
        op("Add", CUSTOM, {"CustomAttribute": "x"}),
        op("replace", value={f"{CUSTOM}:CustomAttribute": "x"}),
    ],
)
def test_unknown_custom_extension_is_ignored(operation):
    start = user()
    result = patch(start, operation)
    assert result.resource == start
    assert result.changed == []


def test_whole_extension_path():
    doc = patched(user(), op("add", ENT, {"department": "D", "manager": "m1", "id": "ignored"}))
    assert doc[ENT] == {"department": "D", "manager": {"value": "m1"}}
    doc = patched(doc, op("remove", ENT))
    assert ENT not in doc
    assert doc["schemas"] == [USER]


def test_schemas_follow_the_extensions_present():
    start = user(**{ENT: {"department": "D"}})
    assert patched(start, op("Remove", f"{ENT}:department"))["schemas"] == [USER]
    assert patched(user(), op("Add", f"{ENT}:costCenter", "42"))["schemas"] == [USER, ENT]


def test_input_is_not_modified():
    start = user(emails=[copy.deepcopy(WORK)], **{ENT: {"department": "D"}})
    before = copy.deepcopy(start)
    patch(
        start,
        op("replace", 'emails[type eq "work"].value', "n@x.com"),
        op("remove", f"{ENT}:department"),
        op("add", "title", "T"),
    )
    assert start == before


def test_unstored_password_is_accepted_and_ignored():
    start = user()
    result = patch(start, op("replace", "password", "secret"))
    assert "password" not in result.resource
    assert result.changed == []


# --- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,status,scim_type",
    [
        ({"Operations": [op("move", "nickName", "x")]}, 400, "invalidSyntax"),
        ({"Operations": [{"path": "nickName", "value": "x"}]}, 400, "invalidSyntax"),
        ({"Operations": [op("", "nickName", "x")]}, 400, "invalidSyntax"),
        ({"Operations": [{"op": 5, "path": "nickName"}]}, 400, "invalidSyntax"),
        ([op("add", "nickName", "x")], 400, "invalidSyntax"),
        ("not json", 400, "invalidSyntax"),
        ({"schemas": [PATCH_OP]}, 400, "invalidSyntax"),
        ({"Operations": {"op": "add"}}, 400, "invalidSyntax"),
        ({"Operations": ["add"]}, 400, "invalidSyntax"),
    ],
)
def test_envelope_errors(body, status, scim_type):
    with pytest.raises(ScimError) as excinfo:
        apply_patch(user(), body, USER_SCHEMA)
    assert (excinfo.value.status, excinfo.value.scim_type) == (status, scim_type)


@pytest.mark.parametrize(
    "operation,scim_type",
    [
        # unknown or malformed attributes
        (op("add", "foo", "x"), "invalidPath"),
        (op("replace", value={"foo": "x"}), "invalidPath"),
        (op("replace", "name.foo", "x"), "invalidPath"),
        (op("replace", f"{ENT}:foo", "x"), "invalidPath"),
        (op("replace", 'emails[type eq "work"', "x"), "invalidPath"),
        (op("replace", 'userName[type eq "work"]', "x"), "invalidPath"),
        (op("replace", "members", [{"value": "u2"}]), "invalidPath"),  # not a User attribute
        (op("replace", 5, "x"), "invalidPath"),
        # remove needs a target
        (op("remove"), "noTarget"),
        (op("Remove", "", None), "noTarget"),
        (op("remove", value={"nickName": "x"}), "noTarget"),
        # read-only attributes
        (op("replace", "id", "other"), "mutability"),
        (op("remove", "id"), "mutability"),
        (op("replace", "meta.created", "2020-01-01T00:00:00Z"), "mutability"),
        (op("replace", "meta", {"created": "x"}), "mutability"),
        (op("add", "groups", [{"value": "g1"}]), "mutability"),
        (op("replace", f"{EMPLOYEE}:status", "active"), "mutability"),
        # required and type-checked values
        (op("remove", "userName"), "invalidValue"),
        (op("Remove", "userName"), "invalidValue"),
        (op("replace", "userName", ""), "invalidValue"),
        (op("replace", "userName", None), "invalidValue"),
        (op("replace", value={"userName": ""}), "invalidValue"),
        (op("replace", "active", "yes"), "invalidValue"),
        (op("replace", "active", 1), "invalidValue"),
        (op("replace", "name", "Bob"), "invalidValue"),
        (op("add", "emails", "bob@x.com"), "invalidValue"),
        (op("add", "emails", [{"value": ["a", "b"]}]), "invalidValue"),
        (op("replace", "title", {"x": 1}), "invalidValue"),
        (op("replace", "displayName", True), "invalidValue"),
        (op("replace", value="displayName"), "invalidValue"),
        (op("replace", value=["displayName"]), "invalidValue"),
        (op("add", ENT, "Sales"), "invalidValue"),
    ],
)
def test_operation_errors(operation, scim_type):
    start = user(emails=[copy.deepcopy(WORK)])
    with pytest.raises(ScimError) as excinfo:
        patch(start, operation)
    assert (excinfo.value.status, excinfo.value.scim_type) == (400, scim_type)


def test_an_error_in_a_later_op_discards_the_whole_patch():
    start = user()
    with pytest.raises(ScimError):
        patch(start, op("add", "nickName", "Babs"), op("add", "foo", "x"))
    assert "nickName" not in start


# --- groups (ENTRA.md §4.4-4.6) ---------------------------------------------------------------------

U1, U2, U3 = "f648f8d5ea4e4cd38e9c", "10263a6910a84ef9a581dd9b8dcc0eae", "7f4bc1a3-285e-48ae-8202-5accb43efb0e"


@pytest.mark.parametrize(
    "ops,replace_all,add,remove",
    [
        # add (default and flag mode), many per op, duplicates collapse
        ([op("Add", "members", [{"$ref": None, "value": U1}])], False, [U1], set()),
        ([op("add", "members", [{"value": U2}])], False, [U2], set()),
        ([op("add", "members", [{"value": U1}, {"value": U2}, {"value": U1}])], False, [U1, U2], set()),
        ([op("add", "members", {"value": U1})], False, [U1], set()),
        ([op("add", f'members[value eq "{U1}"]')], False, [U1], set()),
        # default-mode remove names the members to drop, never the whole list
        ([op("Remove", "members", [{"$ref": None, "value": U1}])], False, [], {U1}),
        ([op("Remove", "members", [{"value": U1}, {"value": U2}])], False, [], {U1, U2}),
        # flag-mode remove by filtered path
        ([op("remove", f'members[value eq "{U3}"]')], False, [], {U3}),
        ([op("remove", f'members[value eq "{U1}" or value eq "{U2}"]')], False, [], {U1, U2}),
        # remove without value clears; replace clears then adds
        ([op("remove", "members")], True, [], set()),
        ([op("replace", "members", [{"value": U3}])], True, [U3], set()),
        ([op("Replace", "members", [])], True, [], set()),
        ([op("replace", value={"members": [{"value": U3}]})], True, [U3], set()),
        # several ops combine in order
        ([op("add", "members", [{"value": U1}]), op("remove", "members", [{"value": U1}])], False, [], {U1}),
        ([op("remove", "members", [{"value": U1}]), op("add", "members", [{"value": U1}])], False, [U1], set()),
        ([op("remove", "members"), op("add", "members", [{"value": U2}])], True, [U2], set()),
    ],
)
def test_group_member_ops(ops, replace_all, add, remove):
    start = group()
    result = patch(start, *ops, schema=GROUP_SCHEMA)
    changes = result.members
    assert isinstance(changes, MemberChanges)
    assert changes.replace_all is replace_all
    assert [e["value"] for e in changes.add] == add
    assert changes.remove == remove
    assert "members" not in result.resource  # members never live in the document
    assert result.changed == ["members"]
    assert without_meta(result.resource) == without_meta(start)


def test_group_member_entries_keep_only_known_sub_attributes():
    result = patch(group(), op("Add", "members", [{"$ref": None, "value": U1, "bogus": 1}]), schema=GROUP_SCHEMA)
    assert result.members.add == [{"value": U1}]


def test_group_remove_with_empty_list_changes_nothing():
    result = patch(group(), op("Remove", "members", []), schema=GROUP_SCHEMA)
    assert not result.members
    assert result.changed == []


@pytest.mark.parametrize(
    "operation,scim_type",
    [
        (op("add", "members", [{"value": ""}]), "invalidValue"),
        (op("add", "members", [{"display": "Bob"}]), "invalidValue"),
        (op("add", "members", [{"value": True}]), "invalidValue"),
        (op("add", "members", ["u1"]), "invalidValue"),
        (op("replace", "members.value", "u1"), "mutability"),
        (op("remove", 'members[display eq "Bob"]'), "invalidFilter"),
        (op("remove", 'members[value co "u"]'), "invalidFilter"),
        (op("remove", "displayName"), "invalidValue"),
        (op("replace", "displayName", ""), "invalidValue"),
        (op("remove"), "noTarget"),
        (op("replace", "userName", "x"), "invalidPath"),
    ],
)
def test_group_errors(operation, scim_type):
    with pytest.raises(ScimError) as excinfo:
        patch(group(), operation, schema=GROUP_SCHEMA)
    assert (excinfo.value.status, excinfo.value.scim_type) == (400, scim_type)


@pytest.mark.parametrize(
    "ops,expected,changed",
    [
        (
            [op("Replace", "displayName", "1879db59updatedDisplayName")],
            {"displayName": "1879db59updatedDisplayName"},
            ["displayName"],
        ),
        ([op("replace", value={"displayName": "New"})], {"displayName": "New"}, ["displayName"]),
        ([op("replace", "externalId", "e2")], {"externalId": "e2"}, ["externalId"]),
        (
            [op("replace", value={"displayName": "New", "externalId": "e2"})],
            {"displayName": "New", "externalId": "e2"},
            ["displayName", "externalId"],
        ),
        ([op("Replace", "displayName", "Sales")], {"displayName": "Sales"}, []),
    ],
)
def test_group_rename_and_attributes(ops, expected, changed):
    result = patch(group(externalId="e1"), *ops, schema=GROUP_SCHEMA)
    for key, value in expected.items():
        assert result.resource[key] == value
    assert sorted(result.changed) == sorted(changed)
    assert result.members is None or not result.members


# --- further RFC 7644 §3.5.2 and Entra edge cases ---------------------------------------------------

WORK_PHONE = {"type": "work", "value": "+1 (555) 555-5555"}


@pytest.mark.parametrize(
    "start,ops,expected",
    [
        # Entra's mapped address, office and phone paths, capitalised sub-attributes; values kept as sent
        (
            {},
            [
                op("Add", 'addresses[type eq "work"].streetAddress', "1 Main St"),
                op("Add", 'addresses[type eq "work"].postalCode', "98052"),
                op("Add", 'addresses[type eq "other"].Formatted', "Building 4"),
                op("Add", 'phoneNumbers[type eq "work"].value', "+1 (555) 555-5555"),
            ],
            {
                "addresses": [
                    {"type": "work", "streetAddress": "1 Main St", "postalCode": "98052"},
                    {"type": "other", "formatted": "Building 4"},
                ],
                "phoneNumbers": [WORK_PHONE],
            },
        ),
        # the validator's null update: "" and null on several optional attributes in one PATCH
        (
            {
                "title": "T",
                "name": {"givenName": "G", "familyName": "F"},
                "emails": [WORK, HOME],
                ENT: {"department": "D"},
            },
            [
                op("replace", "title", ""),
                op("replace", "name.givenName", None),
                op("replace", 'emails[type eq "home"].value', ""),
                op("replace", f"{ENT}:department", None),
            ],
            {"title": _MISSING, "name": {"familyName": "F"}, "emails": [WORK], ENT: _MISSING, "schemas": [USER]},
        ),
        # replace through a filter swaps the entry but keeps what selected it; no match creates it
        (
            {"emails": [WORK, HOME]},
            [op("replace", 'emails[type eq "work"]', {"value": "n@x.com"})],
            {"emails": [{"type": "work", "value": "n@x.com"}, HOME]},
        ),
        (
            {},
            [op("replace", 'phoneNumbers[type eq "work"]', {"value": "+1 (555) 555-5555"})],
            {"phoneNumbers": [WORK_PHONE]},
        ),
        ({"emails": [WORK, HOME]}, [op("replace", 'emails[type eq "home"]', None)], {"emails": [WORK]}),
        # and-filters: matched case-insensitively; when nothing matches, every equality seeds the new entry
        (
            {"emails": [WORK]},
            [op("replace", 'emails[type eq "WORK" and primary eq true].value', "n@x.com")],
            {"emails": [{**WORK, "value": "n@x.com"}]},
        ),
        (
            {"emails": [HOME]},
            [op("add", 'emails[type eq "work" and primary eq "False"].value', "n@x.com")],
            {"emails": [HOME, {"type": "work", "primary": False, "value": "n@x.com"}]},
        ),
        # an entry that keeps another sub-attribute survives losing its value
        (
            {"emails": [HOME]},
            [op("add", 'emails[type eq "home"].display', "Home"), op("remove", 'emails[type eq "home"].value')],
            {"emails": [{"type": "home", "display": "Home"}]},
        ),
        # core URN as a path or a qualified path; the enterprise URN as a path merges its object
        ({}, [op("replace", USER, {"title": "CTO"})], {"title": "CTO"}),
        (
            {"name": {"givenName": "G"}},
            [op("replace", f"{USER}:name.familyName", "F")],
            {"name": {"givenName": "G", "familyName": "F"}},
        ),
        (
            {ENT: {"department": "D", "manager": {"value": "m1"}}},
            [op("replace", ENT, {"costCenter": "C", "manager": "m2"})],
            {ENT: {"department": "D", "manager": {"value": "m2"}, "costCenter": "C"}},
        ),
        ({}, [op("add", value={ENT: {"division": "V"}})], {ENT: {"division": "V"}}),
        # un-qualified extension attributes resolve to the extension
        ({}, [op("replace", "employeeNumber", "7")], {ENT: {"employeeNumber": "7"}}),
        # a bare number for a string attribute is kept as its text
        ({}, [op("replace", "externalId", 42)], {"externalId": "42"}),
        # later ops see earlier ones
        ({}, [op("add", "title", "A"), op("remove", "title")], {"title": _MISSING}),
    ],
)
def test_more_paths(start, ops, expected):
    doc = patched(user(**copy.deepcopy(start)), *ops)
    for key, value in expected.items():
        assert doc.get(key, _MISSING) == value, key


@pytest.mark.parametrize(
    "operation,scim_type",
    [
        (op("add", 'emails[foo eq "x"].value', "x"), "invalidPath"),  # would create {"foo": "x"}
        (op("add", 'emails[name.givenName eq "x"].value', "x"), "invalidPath"),
        (op("add", "emails[type eq work].value", "x"), "invalidPath"),
        (op("replace", 'emails[value co "zzz"].display', "x"), "noTarget"),
        (op("add", f"{MGR}.displayName", "Boss"), "mutability"),
        (op("replace", value={EMPLOYEE: {"status": "archived"}}), "mutability"),
        (op("remove", EMPLOYEE), "mutability"),
        (op("remove", "status"), "mutability"),
        (op("remove", "groups"), "mutability"),
        (op("add"), "invalidValue"),
        (op("replace", ENT, "x"), "invalidValue"),
    ],
)
def test_more_operation_errors(operation, scim_type):
    with pytest.raises(ScimError) as excinfo:
        patch(user(**{EMPLOYEE: {"status": "active"}}), operation)
    assert (excinfo.value.status, excinfo.value.scim_type) == (400, scim_type)


@pytest.mark.parametrize(
    "path,named", [("favouriteColour", "favouriteColour"), ("name.nick", "nick"), (f"{ENT}:shoeSize", "shoeSize")]
)
def test_invalid_path_detail_names_the_attribute(path, named):
    with pytest.raises(ScimError) as excinfo:
        patch(user(), op("add", path, "x"))
    assert named in excinfo.value.detail


def test_member_value_must_be_a_string():
    with pytest.raises(ScimError) as excinfo:
        patch(group(), op("replace", "members", [{"value": 7}]), schema=GROUP_SCHEMA)
    assert (excinfo.value.status, excinfo.value.scim_type) == (400, "invalidValue")


def test_group_rename_with_members_in_one_pathless_replace():
    result = patch(
        group(), op("replace", value={"displayName": "New", "members": [{"value": U1}]}), schema=GROUP_SCHEMA
    )
    assert result.resource["displayName"] == "New"
    assert result.members.replace_all and result.members.add == [{"value": U1}] and not result.members.remove
    assert result.changed == ["displayName", "members"]


def test_changed_lists_extension_attributes_by_urn():
    after = {**user(), "title": "T", ENT: {"department": "D"}}
    assert changed_attributes(user(), after, USER_SCHEMA) == ["title", f"{ENT}:department"]


_ODD_PATHS = [
    None,
    "title",
    "name",
    "name.givenName",
    "emails",
    'emails[type eq "work"]',
    'emails[type eq "work"].value',
    "active",
    "roles",
    "manager",
    ENT,
    "members",
    'members[value eq "a"]',
]
_ODD_VALUES = [
    None,
    "",
    "x",
    0,
    1.5,
    True,
    [],
    {},
    [None],
    ["x"],
    [{}],
    {"value": None},
    {"value": {"nested": 1}},
    [{"value": ["x"]}],
    {"Value": "x", "type": 3},
]


@pytest.mark.parametrize("verb,path", list(itertools.product(["add", "replace", "remove"], _ODD_PATHS)))
def test_odd_values_raise_only_scim_errors(verb, path):
    """Whatever arrives, the outcome is a 4xx ScimError with a detail, or a patched copy that is still a valid
    resource: the input untouched, the required name kept, the core schema first, `changed` telling the truth."""
    for value in _ODD_VALUES:
        for schema, start in ((USER_SCHEMA, user(emails=[copy.deepcopy(WORK)])), (GROUP_SCHEMA, group())):
            before = copy.deepcopy(start)
            try:
                result = patch(start, op(verb, path, value), schema=schema)
            except ScimError as exc:
                assert 400 <= exc.status < 500 and exc.detail, (value, exc)
                continue
            assert start == before
            name = "userName" if schema is USER_SCHEMA else "displayName"
            assert isinstance(result.resource[name], str) and result.resource[name]
            assert result.resource["schemas"][0] == schema.core
            expected_changed = changed_attributes(start, result.resource, schema) + (
                ["members"] if result.members else []
            )
            assert result.changed == expected_changed, value
            assert "members" not in result.resource
