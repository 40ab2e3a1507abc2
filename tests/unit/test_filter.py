"""Filters: parsing (with Entra's tolerance) and evaluation on plain dicts (hints: test_query_plan.py)."""

from __future__ import annotations

import pytest
from scim2_models.path import ScimFilter

from shared.query_plan import member_values
from shared.scim.errors import ScimError
from shared.scim.filter import entry_matches, matches, parse_filter
from shared.scim.limits import MAX_FILTER_LENGTH
from shared.scim.schema import EMPLOYEE, ENTERPRISE_USER, GROUP, GROUP_SCHEMA, USER, USER_SCHEMA

ALICE_ID = "2819c223f7e6b1e5a1b2c3d4e5f60718"
ALICE = {
    "schemas": [USER, ENTERPRISE_USER, EMPLOYEE],
    "id": ALICE_ID,
    "externalId": "JYoung",
    "userName": "Alice@Example.com",
    "name": {"givenName": "Alice", "familyName": "Young"},
    "displayName": "Alice Young",
    "title": "",
    "active": True,
    "emails": [
        {"value": "alice@work.example", "type": "work", "primary": True},
        {"value": "alice@home.example", "type": "home"},
    ],
    "phoneNumbers": [{"value": "+1 555 0100", "type": "mobile"}],
    "meta": {"resourceType": "User", "created": "2024-01-01T10:00:00Z", "lastModified": "2024-03-01T10:00:00.1234567Z"},
    ENTERPRISE_USER: {"employeeNumber": "0123", "department": "Engineering", "manager": {"value": "456"}},
    EMPLOYEE: {"status": "staged"},
}
SALES = {
    "schemas": [GROUP],
    "id": "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
    "displayName": "Sales",
    "members": [{"value": "u1", "display": "One"}, {"value": "u2"}, {"value": "u3", "type": "User"}],
}


def user_matches(text: str, resource: dict = ALICE) -> bool:
    return matches(parse_filter(text), resource, USER_SCHEMA)


@pytest.mark.parametrize(
    "text,expected",
    [
        # strings: userName is case-insensitive, id and externalId are caseExact
        ('userName eq "alice@example.com"', True),
        ('USERNAME Eq "ALICE@EXAMPLE.COM"', True),
        ('userName eq "bob@example.com"', False),
        ('externalId eq "JYoung"', True),
        ('externalId eq "jyoung"', False),
        (f'id eq "{ALICE_ID}"', True),
        (f'id eq "{ALICE_ID.upper()}"', False),
        ('userName ne "bob@example.com"', True),
        ('userName ne "ALICE@example.com"', False),
        ('userName co "EXAMPLE"', True),
        ('userName co "bob"', False),
        ('userName sw "alice"', True),
        ('userName sw "example"', False),
        ('userName ew ".COM"', True),
        ('userName ew "alice"', False),
        ('userName gt "a"', True),
        ('userName gt "b"', False),
        ('userName ge "ALICE@example.com"', True),
        ('userName lt "b"', True),
        ('userName lt "alice"', False),
        ('userName le "alice@example.com"', True),
        ('name.givenName eq "ALICE"', True),
        ('name.familyName sw "Old"', False),
        # presence: present and not empty
        ("userName pr", True),
        ("title pr", False),
        ("nickName pr", False),
        ("name pr", True),
        ("emails pr", True),
        ("emails.type pr", True),
        ("name.middleName pr", False),
        # missing attribute: only ne holds
        ('nickName eq "x"', False),
        ('nickName ne "x"', True),
        ('nickName co "x"', False),
        ('nickName gt "a"', False),
        # unknown attribute: matches nothing, ne included
        ('nope eq "x"', False),
        ('nope ne "x"', False),
        ("nope pr", False),
        ('name.nope eq "x"', False),
        ('urn:example:other:2.0:User:foo eq "x"', False),
        # null
        ("nickName eq null", True),
        ("userName eq null", False),
        ("userName ne null", True),
        ("nickName ne null", False),
        # precedence: and binds tighter than or; not and parentheses
        ('userName sw "alice" or userName eq "x" and active eq false', True),
        ('(userName sw "alice" or userName eq "x") and active eq false', False),
        ('userName eq "x" or userName eq "y" or displayName co "young"', True),
        ("userName pr and active eq true and title pr", False),
        ('not (userName eq "x")', True),
        ("not (active eq true)", False),
        ("not (nickName pr)", True),
        ('not (userName eq "x" or active eq true)', False),
        # booleans, also as Entra's "True"/"False" strings
        ("active eq true", True),
        ('active eq "True"', True),
        ('active eq "false"', False),
        ("active ne false", True),
        ("active eq False", False),
        # dateTime compared as instants
        ('meta.lastModified gt "2024-02-01T00:00:00Z"', True),
        ('meta.lastModified lt "2024-03-01T10:00:00.2Z"', True),
        ('meta.lastModified gt "2024-03-01T10:00:00.2Z"', False),
        ('meta.created eq "2024-01-01T12:00:00+02:00"', True),
        ('meta.created ne "2024-01-01T12:00:00+02:00"', False),
        ('meta.created ge "2024-01-01T10:00:00Z"', True),
        ('meta.created gt "2024-01-01T10:00:00Z"', False),
        ('meta.created le "2024-01-01T10:00:00"', True),
        ('meta.created sw "2024-01"', True),
        # multi-valued: any value matches; ne is "no value equals"
        ('emails.value eq "alice@home.example"', True),
        ('emails.type eq "other"', False),
        ('emails.value ew "@WORK.example"', True),
        ('emails.value ne "alice@home.example"', False),
        ('emails.value ne "bob@home.example"', True),
        # a complex attribute without a sub-attribute compares its value
        ('emails eq "ALICE@home.example"', True),
        ('emails co "home"', True),
        ('emails eq "bob@home.example"', False),
        # value paths: one entry must satisfy the whole inner filter
        ('emails[type eq "work" and value co "@work"]', True),
        ('emails[type eq "home" and primary eq true]', False),
        ('emails[type eq "work"].value eq "alice@work.example"', True),
        ('emails[type eq "work"].value eq "alice@home.example"', False),
        ('emails[type eq "work"].value eq "x" or userName pr', True),
        ('emails[primary eq "True"].value eq "alice@work.example"', True),
        ('emails[TYPE eq "WORK"]', True),
        ('phoneNumbers[type eq "mobile"]', True),
        ("emails[nope pr]", False),
        ('not (emails[type eq "other"])', True),
        ('nope[value eq "x"]', False),
        # extension attributes: un-qualified, URN-qualified, any case
        ('manager eq "456"', True),
        ("manager eq 456", True),
        ('manager.value eq "456"', True),
        (f'{ENTERPRISE_USER}:manager eq "456"', True),
        (f'{ENTERPRISE_USER}:manager.value eq "456"', True),
        (f'{ENTERPRISE_USER.upper()}:DEPARTMENT eq "engineering"', True),
        ('department eq "Sales"', False),
        ("employeeNumber eq 0123", True),
        ("employeeNumber eq 123", False),
        ('status eq "STAGED"', True),
        (f'{EMPLOYEE}:status eq "staged"', True),
        (f'{USER}:userName sw "alice"', True),
        (f'{USER}:name.givenName eq "alice"', True),
        # what Entra sends
        ("externalId eq JYoung", True),
        ("externalId eq jyoung", False),
        (f"id eq {ALICE_ID} and manager eq 456", True),
        (f"id eq {ALICE_ID} and manager eq 457", False),
    ],
)
def test_user_filters(text, expected):
    assert user_matches(text) is expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ('members eq "u1"', True),
        ('members.value eq "u2"', True),
        ('members[value eq "u3"]', True),
        ('members eq "U1"', False),  # ids are caseExact
        ('members eq "u9"', False),
        ('members[value eq "u3" and type eq "user"]', True),
        ('members[value eq "u1" and type eq "User"]', False),
        ('members.display eq "one"', True),
        ('displayName eq "sales"', True),
        (f'id eq "{SALES["id"]}" and members eq "u2"', True),
        ("members pr", True),
    ],
)
def test_group_filters(text, expected):
    assert matches(parse_filter(text), SALES, GROUP_SCHEMA) is expected


def test_a_group_without_members():
    assert not matches(parse_filter('members eq "u1"'), {"id": "g", "displayName": "Empty"}, GROUP_SCHEMA)
    assert not matches(parse_filter("members pr"), {"id": "g", "displayName": "Empty", "members": []}, GROUP_SCHEMA)


@pytest.mark.parametrize(
    "attribute,stored,equal,unequal",
    [
        (
            "userName",
            "Ann@Example.com",
            ["ann@example.com", "ANN@EXAMPLE.COM"],
            ["ann", "example.com", "ann@example.co", "xann@example.com"],
        ),
        ("externalId", "Ext-7", ["Ext-7"], ["ext-7", "Ext", "Ext-77"]),
        ("title", "Lead", ["lead"], ["Lea", "ead", "Leader"]),
    ],
)
def test_eq_is_whole_value_equality(attribute, stored, equal, unequal):
    """`eq` matches the whole value (case-insensitively unless the attribute is caseExact): never a prefix,
    suffix or substring; `ne` is its exact negation."""
    resource = {"id": "1", "userName": "someone", attribute: stored}
    for value in equal:
        assert user_matches(f'{attribute} eq "{value}"', resource), value
        assert not user_matches(f'{attribute} ne "{value}"', resource), value
    for value in unequal:
        assert not user_matches(f'{attribute} eq "{value}"', resource), value
        assert user_matches(f'{attribute} ne "{value}"', resource), value


def test_stored_boolean_strings_are_tolerated():
    assert user_matches("active eq false", {"id": "1", "active": "False"})
    assert not user_matches("active eq true", {"id": "1", "active": "False"})


def test_number_literal_compares_with_a_string_attribute_as_its_text():
    # the library reads `id eq 123` as a number; evaluation must still match the string id "123"
    node = ScimFilter("id eq 123").ast
    assert node.value == 123
    assert matches(node, {"id": "123"}, USER_SCHEMA)
    assert not matches(node, {"id": "1234"}, USER_SCHEMA)


def test_stored_keys_in_other_case_are_found():
    assert user_matches('USERNAME eq "a"', {"id": "1", "username": "A"})


def test_entry_matches_for_patch_paths():
    emails = USER_SCHEMA.attribute("emails")
    node = parse_filter('type eq "WORK" and value pr')
    assert entry_matches(node, {"type": "work", "value": "a@b"}, emails)
    assert not entry_matches(node, {"type": "home", "value": "a@b"}, emails)


@pytest.mark.parametrize(
    "text",
    [
        "active gt true",  # ordering a boolean
        'active co "t"',
        'active eq "yes"',  # not a boolean
        'name eq "x"',  # complex without a value sub-attribute
        'meta eq "x"',
        'emails gt "a"',  # ordering a complex attribute
        'meta.lastModified gt "yesterday"',  # not a dateTime
        'meta.created eq "2024-13-01"',
        "userName gt null",
        'userName[value eq "x"]',  # not complex
    ],
)
def test_misused_attributes_are_invalid_filters(text):
    with pytest.raises(ScimError) as raised:
        user_matches(text)
    assert (raised.value.status, raised.value.scim_type) == (400, "invalidFilter")


@pytest.mark.parametrize(
    "text",
    ["active gt true", 'userName eq "x" and active gt true', "emails[primary gt true]", 'userName pr or name eq "x"'],
)
def test_misuse_is_reported_whatever_the_data(text):
    # neither a missing attribute nor short-circuit evaluation hides the error
    with pytest.raises(ScimError):
        user_matches(text, {"id": "1", "userName": "a"})


def test_error_detail_names_the_problem():
    with pytest.raises(ScimError) as raised:
        user_matches("active gt true")
    assert "active" in raised.value.detail and "gt" in raised.value.detail


# --- parsing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,value",
    [
        ("externalId eq jyoung", "jyoung"),
        ("userName eq alice@example.com", "alice@example.com"),
        ("id eq 123", "123"),  # digits kept as text
        ("id eq 0123", "0123"),
        ("x eq 1.50", "1.50"),
        ("x eq 12e4", "12e4"),
        ("active eq true", True),
        ("active eq FALSE", False),
        ("x eq null", None),
        ('userName eq "a eq b"', "a eq b"),
        (r'userName eq "say \"eq x\""', 'say "eq x"'),
        ("userName eq truer", "truer"),
        ("userName eq nullable", "nullable"),
        (r"userName eq CONTOSO\alice", "CONTOSO\\alice"),
    ],
)
def test_values_keep_their_text(text, value):
    assert parse_filter(text).value == value


def test_bare_values_inside_value_paths_and_logic():
    node = parse_filter("emails[type eq work] and (manager eq 456 or userName sw al)")
    assert node.terms[0].val_filter.value == "work"
    assert [t.value for t in node.terms[1].terms] == ["456", "al"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "userName",
        "userName eq",
        'userName xx "a"',
        'userName eq "a',
        '(userName eq "a"',
        'userName eq "a" and',
        'userName pr "x"',
        'emails[type eq "work"',
        'emails[value eq "a" and emails[type eq "b"]]',
        "displayName eq Sales Team",
        'not userName eq "a"',
        "x" * 4097,
        'userName eq "' + "a" * 4090 + '"',
        "not (" * 40 + "userName pr" + ")" * 40,
    ],
)
def test_syntax_errors_are_400_invalid_filter(text):
    with pytest.raises(ScimError) as raised:
        parse_filter(text)
    assert (raised.value.status, raised.value.scim_type) == (400, "invalidFilter")
    assert raised.value.detail


def test_syntax_error_detail_points_at_the_clients_text():
    with pytest.raises(ScimError) as raised:
        parse_filter('userName xx "a"')
    assert "column 10" in raised.value.detail and "'xx \"a\"'" in raised.value.detail


def test_long_filter_within_the_limits_parses():
    value = "u" * 390
    text = " or ".join(f'userName eq "{value}{i}"' for i in range(10))  # 10 comparisons, ~4,000 characters
    assert 4000 < len(text) <= 4096
    assert user_matches(text, {"id": "1", "userName": (value + "9").upper()})


def test_filter_length_limit_is_inclusive():
    """MAX_FILTER_LENGTH characters parse; one more is invalidFilter."""
    head = 'userName eq "'
    exact = head + "a" * (MAX_FILTER_LENGTH - len(head) - 1) + '"'
    assert len(exact) == MAX_FILTER_LENGTH and parse_filter(exact).value.startswith("a")
    with pytest.raises(ScimError) as too_long:
        parse_filter(exact[:-1] + 'a"')
    assert too_long.value.scim_type == "invalidFilter"


def test_a_quoted_value_and_a_bare_value_in_one_filter():
    node = parse_filter('userName eq "Alice@Example.com" and externalId eq JYoung')
    assert [t.value for t in node.terms] == ["Alice@Example.com", "JYoung"]
    assert user_matches('userName eq "alice@example.com" and externalId eq JYoung')


def test_lt_is_strict_and_le_is_not():
    assert not user_matches('userName lt "alice@example.com"')
    assert user_matches('userName le "alice@example.com"')
    assert not user_matches('userName gt "alice@example.com"')


def test_a_boolean_literal_compares_with_a_string_attribute_as_its_text():
    assert user_matches("externalId eq true", {"id": "1", "externalId": "true"})
    assert not user_matches("externalId eq true", {"id": "1", "externalId": "TRUE"})  # externalId is caseExact
    assert user_matches("externalId eq false", {"id": "1", "externalId": "false"})
    assert not user_matches("externalId eq false", {"id": "1", "externalId": "true"})


def test_a_stored_value_that_is_not_a_date_matches_no_date_comparison():
    broken = {"id": "1", "meta": {"created": "yesterday", "lastModified": "not a date"}}
    for op in ("eq", "gt", "lt", "ge", "le"):
        assert not user_matches(f'meta.lastModified {op} "2024-01-01T00:00:00Z"', broken), op


# --- membership tests (the plan's member_values must not change the answer) ------------------------


@pytest.mark.parametrize(
    "text",
    [
        'members eq "u1"',
        'members eq "u9"',
        'members.value eq "u2" and displayName eq "Sales"',
        'members[value eq "u3"] or members eq "u9"',
        'not (members eq "u1")',
        'not (members eq "u9") and members eq "u2"',
    ],
)
def test_member_values_suffice_to_evaluate_the_filter(text):
    # the query engine renders only the tested members: the answer must not change
    node = parse_filter(text)
    tested = member_values(node)
    partial = {**SALES, "members": [m for m in SALES["members"] if m["value"] in tested]}
    assert matches(node, partial, GROUP_SCHEMA) == matches(node, SALES, GROUP_SCHEMA)
