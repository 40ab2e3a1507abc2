"""Query planning: which index rows answer a filter, which members a group filter tests."""

from __future__ import annotations

import pytest

from shared.query_plan import IndexHint, index_hint, member_values
from shared.scim.filter import parse_filter
from shared.scim.schema import ENTERPRISE_USER, GROUP, GROUP_SCHEMA, USER, USER_SCHEMA

# --- index hints ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,hint",
    [
        ('userName eq "a@b"', IndexHint("userName", "a@b")),
        ('USERNAME eq "A@B"', IndexHint("userName", "A@B")),
        ('id eq "x" and userName eq "a"', IndexHint("id", "x")),
        ('externalId eq "e" and userName eq "a"', IndexHint("userName", "a")),
        ("externalId eq jyoung", IndexHint("externalId", "jyoung")),
        ("id eq 123 and manager eq 456", IndexHint("id", "123")),
        (f'{USER}:userName eq "a"', IndexHint("userName", "a")),
        ('(active eq true and externalId eq "e") and id eq "x"', IndexHint("id", "x")),
        ('userName eq "a" and emails[type eq "work"]', IndexHint("userName", "a")),
        ('userName eq "a" or id eq "x"', None),
        ('not (userName eq "a")', None),
        ('userName ne "a"', None),
        ('userName co "a"', None),
        ("userName pr", None),
        ("userName eq null", None),
        ("id eq true", None),
        ('emails.value eq "x"', None),
        ('displayName eq "x"', None),  # not indexed for users
        (f'{ENTERPRISE_USER}:employeeNumber eq "1"', None),
        (f'{ENTERPRISE_USER}:userName eq "a"', None),
    ],
)
def test_user_index_hints(text, hint):
    assert index_hint(parse_filter(text), USER_SCHEMA) == hint


@pytest.mark.parametrize(
    "text,hint",
    [
        ('displayName eq "Sales"', IndexHint("displayName", "Sales")),
        ('id eq "g" and members eq "u"', IndexHint("id", "g")),
        ('externalId eq "e" and displayName eq "d"', IndexHint("displayName", "d")),
        ('externalId eq "e"', IndexHint("externalId", "e")),
        ('userName eq "a"', None),
        ('members eq "u"', None),
    ],
)
def test_group_index_hints(text, hint):
    assert index_hint(parse_filter(text), GROUP_SCHEMA) == hint


# --- membership tests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,ids",
    [
        ('displayName eq "x"', frozenset()),
        ('id eq "g"', frozenset()),
        ('members eq "u1"', frozenset({"u1"})),
        ('members.value eq "u1"', frozenset({"u1"})),
        ('members[value eq "u1"]', frozenset({"u1"})),
        ('MEMBERS.VALUE eq "u1"', frozenset({"u1"})),
        ('members[Value eq "u1"]', frozenset({"u1"})),
        (f'{GROUP}:members eq "u1"', frozenset({"u1"})),
        ('id eq "g" and members eq "u1"', frozenset({"u1"})),
        ("id eq g and members eq u1", frozenset({"u1"})),
        ('members eq "u1" or members[value eq "u2"]', frozenset({"u1", "u2"})),
        ('not (members eq "u1")', frozenset({"u1"})),
        ("members pr", None),
        ('members.display eq "x"', None),
        ('members co "u"', None),
        ('members ne "u1"', None),
        ("members eq null", None),
        ('members[type eq "User"]', None),
        ('members[value eq "u1" or value eq "u2"]', None),
        ('members eq "u1" and members pr', None),
    ],
)
def test_member_values(text, ids):
    assert member_values(parse_filter(text)) == ids
