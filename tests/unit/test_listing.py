"""List parameters, sorting, paging and the ListResponse envelope."""

from __future__ import annotations

import pytest

from shared.scim.errors import ScimError
from shared.scim.listing import MAX_RESULTS, ListParams, list_response, page, parse_list_params, sort_resources
from shared.scim.schema import ENTERPRISE_USER, GROUP_SCHEMA, USER_SCHEMA


def test_defaults():
    assert parse_list_params({}) == ListParams(None, 1, None, None, "ascending", None, None)


def test_query_parameters_any_case():
    params = parse_list_params(
        {
            "FILTER": 'userName eq "a"',
            "startindex": "11",
            "Count": "5",
            "sortBy": "userName",
            "SORTORDER": "Descending",
            "attributes": "userName, emails",
            "excludedattributes": "members",
            "aadOptscim062020": "",  # unknown parameters are ignored
        }
    )
    assert params == ListParams('userName eq "a"', 11, 5, "userName", "descending", ["userName", "emails"], ["members"])


def test_search_request_body():
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'displayName sw "S"',
        "startIndex": 2,
        "count": 10.0,
        "attributes": ["displayName", "id"],
        "excludedAttributes": ["members"],
    }
    params = parse_list_params(body)
    assert (params.filter, params.start_index, params.count) == ('displayName sw "S"', 2, 10)
    assert (params.attributes, params.excluded_attributes) == (["displayName", "id"], ["members"])


@pytest.mark.parametrize(
    "start,count,expected",
    [
        ("0", None, (1, None)),
        ("-5", "-1", (1, 0)),
        ("1", "0", (1, 0)),
        (" 6 ", "5", (6, 5)),
        ("1", str(MAX_RESULTS + 1), (1, MAX_RESULTS)),
        ("1", "100000", (1, MAX_RESULTS)),
        ("", "", (1, None)),
    ],
)
def test_paging_parameters_are_clamped(start, count, expected):
    params = parse_list_params({"startIndex": start, "count": count})
    assert (params.start_index, params.count) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"startIndex": "one"},
        {"count": "1.5"},
        {"count": 2.5},
        {"count": True},
        {"startIndex": [1]},
        {"sortOrder": "up"},
        {"sortOrder": 1},
        {"sortBy": 3},
        {"attributes": 7},
    ],
)
def test_malformed_parameters_are_400_invalid_value(params):
    with pytest.raises(ScimError) as raised:
        parse_list_params(params)
    assert (raised.value.status, raised.value.scim_type) == (400, "invalidValue")


def test_non_string_filter_is_invalid_filter():
    with pytest.raises(ScimError) as raised:
        parse_list_params({"filter": {"userName": "a"}})
    assert raised.value.scim_type == "invalidFilter"


# --- sorting ----------------------------------------------------------------------------------------

PEOPLE = [
    {
        "id": "1",
        "userName": "bob",
        "externalId": "b",
        "name": {"familyName": "Young"},
        "active": True,
        "emails": [{"value": "z@x", "type": "home"}, {"value": "a@x", "type": "work", "primary": True}],
        "meta": {"created": "2024-01-01T12:00:00+02:00"},
        ENTERPRISE_USER: {"department": "eng"},
    },
    {
        "id": "2",
        "userName": "Alice",
        "externalId": "a",
        "active": False,
        "emails": [{"value": "m@x", "type": "work"}, {"value": "b@x", "type": "home"}],
        "meta": {"created": "2024-01-01T11:00:00Z"},
    },
    {
        "id": "3",
        "userName": "carol",
        "externalId": "C",
        "name": {"familyName": "adams"},
        "meta": {"created": "2024-01-01T09:00:00Z"},
        ENTERPRISE_USER: {"department": "Eng"},
    },
    {
        "id": "4",
        "userName": "alice2",
        "externalId": "B",
        "name": {"familyName": "Young"},
        "active": True,
        "emails": [{"value": "c@x"}],
        "meta": {"created": "2023-12-31T23:00:00Z"},
        ENTERPRISE_USER: {"department": "art"},
    },
]


def ids(resources):
    return [r["id"] for r in resources]


@pytest.mark.parametrize(
    "sort_by,order,expected",
    [
        ("userName", "ascending", ["2", "4", "1", "3"]),  # case-insensitive
        ("USERNAME", "descending", ["3", "1", "4", "2"]),
        ("externalId", "ascending", ["4", "3", "2", "1"]),  # caseExact: uppercase first
        ("name.familyName", "ascending", ["3", "1", "4", "2"]),  # ties keep their order, missing last
        ("name.familyName", "descending", ["2", "1", "4", "3"]),  # missing first, ties still in input order
        ("emails", "ascending", ["1", "4", "2", "3"]),  # primary value, else the first
        ("emails.value", "ascending", ["1", "4", "2", "3"]),
        ("emails.type", "descending", ["3", "4", "1", "2"]),  # the primary entry's type, else the first entry's
        ("meta.created", "ascending", ["4", "3", "1", "2"]),  # instants, not text
        ("active", "ascending", ["2", "1", "4", "3"]),
        ("department", "ascending", ["4", "1", "3", "2"]),
        (f"{ENTERPRISE_USER}:department", "descending", ["2", "1", "3", "4"]),
        ("nope", "descending", ["1", "2", "3", "4"]),  # unknown attribute: order kept
        ("nickName", "descending", ["1", "2", "3", "4"]),
    ],
)
def test_sort(sort_by, order, expected):
    assert ids(sort_resources(PEOPLE, USER_SCHEMA, sort_by, order)) == expected


def test_no_sort_keeps_the_order():
    assert sort_resources(PEOPLE, USER_SCHEMA, None, "descending") is PEOPLE


def test_sort_does_not_modify_its_input():
    before = ids(PEOPLE)
    sort_resources(PEOPLE, USER_SCHEMA, "userName", "ascending")
    assert ids(PEOPLE) == before


@pytest.mark.parametrize("sort_by", ["name", "meta", 'emails[type eq "work"].value', "a b", "userName eq"])
def test_unsortable_sort_by_is_400(sort_by):
    with pytest.raises(ScimError) as raised:
        sort_resources(PEOPLE, USER_SCHEMA, sort_by, "ascending")
    assert (raised.value.status, raised.value.scim_type) == (400, "invalidValue")


def test_sort_groups_by_display_name():
    groups = [{"id": "1", "displayName": "b"}, {"id": "2", "displayName": "A"}, {"id": "3"}]
    assert ids(sort_resources(groups, GROUP_SCHEMA, "displayName", "ascending")) == ["2", "1", "3"]


# --- paging and the envelope ------------------------------------------------------------------------

ELEVEN = [{"id": str(i)} for i in range(1, 12)]


@pytest.mark.parametrize(
    "start,count,expected",
    [
        (1, None, [str(i) for i in range(1, 12)]),
        (1, 5, ["1", "2", "3", "4", "5"]),
        (6, 5, ["6", "7", "8", "9", "10"]),
        (11, 5, ["11"]),
        (12, 5, []),
        (100, None, []),
        (1, 0, []),
        (3, 0, []),
    ],
)
def test_page(start, count, expected):
    assert ids(page(ELEVEN, start, count)) == expected


def test_paging_through_with_startindex_plus_items():
    seen, start = [], 1
    while True:
        chunk = page(ELEVEN, start, 5)
        response = list_response(chunk, len(ELEVEN), start)
        assert response["startIndex"] == start and response["totalResults"] == 11
        seen += ids(response["Resources"])
        start += response["itemsPerPage"]
        if start > response["totalResults"]:
            break
    assert seen == ids(ELEVEN)


def test_list_response():
    assert list_response([{"id": "1"}], 7, 3) == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 7,
        "startIndex": 3,
        "itemsPerPage": 1,
        "Resources": [{"id": "1"}],
    }
    assert list_response([], 0, 1)["itemsPerPage"] == 0
