"""shared.scim.limits: lone surrogates and the documented caps are 400s raised by the protocol layer, before
any storage work; shared.scim.casing: the case-insensitive rule never merges distinct names. No I/O."""

from __future__ import annotations

import json

import pytest

from shared.scim import limits
from shared.scim.casing import fold
from shared.scim.errors import ScimError
from shared.scim.filter import matches, parse_filter
from shared.scim.listing import parse_list_params, sort_resources
from shared.scim.normalize import clean_resource
from shared.scim.patch import apply_patch
from shared.scim.schema import ENTERPRISE_USER, GROUP_SCHEMA, USER_SCHEMA
from shared.store.keys import displayname_key, username_key

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LONE = "\ud800"
USER_DOC = {"schemas": [USER_SCHEMA.core], "userName": "bob"}
GROUP_DOC = {"schemas": [GROUP_SCHEMA.core], "displayName": "Sales"}
MEMBER = "0" * 32


def _patch(doc: dict, *operations: dict, schema=USER_SCHEMA):
    return apply_patch(doc, {"schemas": [PATCH_OP], "Operations": list(operations)}, schema)


def _fails(scim_type: str, fn, *args, **kwargs) -> ScimError:
    with pytest.raises(ScimError) as caught:
        fn(*args, **kwargs)
    assert (caught.value.status, caught.value.scim_type) == (400, scim_type), caught.value.detail
    return caught.value


# --- lone surrogates (item 2) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"userName": LONE},
        {"userName": "ok" + LONE},
        {"userName": "bob", "externalId": LONE},
        {"userName": "bob", "name": {"givenName": LONE}},
        {"userName": "bob", "emails": [{"value": "a@b.c", "type": "work" + LONE}]},
        {"userName": "bob", ENTERPRISE_USER: {"department": LONE}},
        {"userName": "bob", "urn:ietf:params:scim:schemas:extension:Custom:2.0:User:x": LONE},  # ignored attributes too
        {"userName": "bob", LONE: "key"},
    ],
    ids=range(8),
)
def test_lone_surrogates_in_a_user_body_are_rejected(body):
    _fails("invalidValue", clean_resource, body, USER_SCHEMA)


def test_lone_surrogates_in_a_group_name_or_member_are_rejected():
    _fails("invalidValue", clean_resource, {"displayName": "\udfff"}, GROUP_SCHEMA)
    _fails("invalidValue", clean_resource, {"displayName": "ok", "members": [{"value": LONE}]}, GROUP_SCHEMA)


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "displayName", "value": LONE},
        {"op": "replace", "value": {"userName": LONE}},
        {"op": "add", "path": f'emails[type eq "{LONE}"].value', "value": "a@b.c"},
        {"op": "add", "path": "emails", "value": [{"value": LONE}]},
    ],
)
def test_lone_surrogates_in_patch_values_and_paths_are_rejected(operation):
    _fails("invalidValue", _patch, USER_DOC, operation)


def test_lone_surrogates_in_member_patches_are_rejected():
    _fails(
        "invalidValue",
        _patch,
        GROUP_DOC,
        {"op": "add", "path": "members", "value": [{"value": LONE}]},
        schema=GROUP_SCHEMA,
    )
    _fails(
        "invalidValue", _patch, GROUP_DOC, {"op": "remove", "path": f'members[value eq "{LONE}"]'}, schema=GROUP_SCHEMA
    )


def test_lone_surrogates_in_filters_and_list_parameters_are_rejected():
    _fails("invalidFilter", parse_filter, f'userName eq "{LONE}"')
    _fails("invalidValue", parse_list_params, {"sortBy": LONE})
    _fails("invalidValue", parse_list_params, {"attributes": ["userName", LONE]})


def test_paired_surrogates_are_ordinary_text():
    emoji = json.loads('"\\ud83d\\ude00"')  # JSON's escaped pair is one character
    assert clean_resource({"userName": emoji}, USER_SCHEMA)["userName"] == "\U0001f600"
    assert matches(parse_filter(f'userName eq "{emoji}"'), {"userName": emoji}, USER_SCHEMA)


# --- caps (items 3 and 4) -------------------------------------------------------------------------------


def test_operations_per_patch_are_capped():
    fine = [{"op": "replace", "path": "displayName", "value": str(i)} for i in range(limits.MAX_OPERATIONS)]
    assert _patch(USER_DOC, *fine).resource["displayName"] == str(limits.MAX_OPERATIONS - 1)
    error = _fails("tooMany", _patch, USER_DOC, *fine, fine[0])
    assert f"{limits.MAX_OPERATIONS:,} PATCH operations" in error.detail


def test_entries_per_multi_valued_attribute_are_capped_on_create_and_across_patch_operations():
    emails = [{"value": f"{i}@x.y"} for i in range(limits.MAX_ENTRIES + 1)]
    _fails("tooMany", clean_resource, {"userName": "bob", "emails": emails}, USER_SCHEMA)
    _fails("tooMany", _patch, USER_DOC, {"op": "add", "path": "emails", "value": emails})
    half = limits.MAX_ENTRIES // 2 + 1
    ops = [
        {"op": "add", "path": "emails", "value": emails[:half]},
        {"op": "add", "path": "emails", "value": emails[half:]},
    ]
    _fails("tooMany", _patch, USER_DOC, *ops)
    typed = [
        {"op": "add", "path": f'emails[type eq "t{i}"].value', "value": "a@b.c"} for i in range(limits.MAX_ENTRIES + 1)
    ]
    _fails("tooMany", _patch, USER_DOC, *typed)
    assert len(_patch(USER_DOC, *typed[:-1]).resource["emails"]) == limits.MAX_ENTRIES


def test_member_values_per_request_are_capped_within_and_across_operations():
    many = [{"value": f"{i:032x}"} for i in range(limits.MAX_MEMBERS + 1)]
    _fails("tooMany", clean_resource, {"displayName": "G", "members": many}, GROUP_SCHEMA)
    _fails("tooMany", _patch, GROUP_DOC, {"op": "add", "path": "members", "value": many}, schema=GROUP_SCHEMA)
    filtered = [{"op": "remove", "path": f'members[value eq "{m["value"]}"]'} for m in many[:-1]]
    _fails(
        "tooMany",
        _patch,
        GROUP_DOC,
        *filtered[:-1],
        {"op": "add", "path": "members", "value": many[:2]},
        schema=GROUP_SCHEMA,
    )
    result = _patch(GROUP_DOC, {"op": "add", "path": "members", "value": many[:-1]}, schema=GROUP_SCHEMA)
    assert len(result.members.add) == limits.MAX_MEMBERS


def test_member_changes_keep_order_and_last_word():
    ops = [
        {"op": "add", "path": "members", "value": [{"value": "a" * 32}, {"value": "b" * 32}, {"value": "a" * 32}]},
        {"op": "remove", "path": "members", "value": [{"value": "b" * 32}]},
        {"op": "add", "path": "members", "value": [{"value": "c" * 32}]},
    ]
    changes = _patch(GROUP_DOC, *ops, schema=GROUP_SCHEMA).members
    assert [e["value"] for e in changes.add] == ["a" * 32, "c" * 32]
    assert changes.remove == {"b" * 32}


def test_string_values_are_capped_in_utf16_code_units():
    at_cap = "x" * limits.MAX_VALUE_UNITS
    assert clean_resource({"userName": "bob", "title": at_cap}, USER_SCHEMA)["title"] == at_cap
    _fails("invalidValue", clean_resource, {"userName": "bob", "title": at_cap + "x"}, USER_SCHEMA)
    emoji = "\U0001f600" * (limits.MAX_VALUE_UNITS // 2 + 1)  # fewer characters than the cap, more units
    error = _fails("invalidValue", clean_resource, {"userName": "bob", "title": emoji}, USER_SCHEMA)
    assert "UTF-16" in error.detail
    _fails("invalidValue", _patch, USER_DOC, {"op": "replace", "path": "nickName", "value": at_cap + "x"})
    _fails("invalidValue", clean_resource, {"userName": "bob", ENTERPRISE_USER: {"manager": at_cap + "x"}}, USER_SCHEMA)


@pytest.mark.parametrize(
    "body,schema",
    [
        ({"userName": "u" * (limits.MAX_IDENTIFIER_UNITS + 1)}, USER_SCHEMA),
        ({"userName": "bob", "externalId": "e" * (limits.MAX_IDENTIFIER_UNITS + 1)}, USER_SCHEMA),
        ({"displayName": "g" * (limits.MAX_IDENTIFIER_UNITS + 1)}, GROUP_SCHEMA),
    ],
    ids=["userName", "externalId", "group displayName"],
)
def test_identifiers_are_capped(body, schema):
    _fails("invalidValue", clean_resource, body, schema)
    at_cap = {k: v[: limits.MAX_IDENTIFIER_UNITS] if isinstance(v, str) else v for k, v in body.items()}
    clean_resource(at_cap, schema)


def test_every_accepted_identifier_can_be_looked_up_by_a_filter():
    """Item 6: a userName longer than the filter limit used to be accepted but never found."""
    worst = '"\\' * (limits.MAX_IDENTIFIER_UNITS // 2)  # every character needs escaping in a filter
    clean_resource({"userName": worst, "externalId": worst}, USER_SCHEMA)
    for attribute in ("userName", "externalId"):
        text = f"{attribute} eq {json.dumps(worst)}"
        assert len(text) <= limits.MAX_FILTER_LENGTH
        assert matches(parse_filter(text), {"userName": worst, "externalId": worst}, USER_SCHEMA)


def test_documents_are_capped():
    roles = [{"value": "r" * 5_000, "type": str(i)} for i in range(limits.MAX_DOCUMENT_UNITS // 5_000 + 1)][
        : limits.MAX_ENTRIES
    ]
    fields = {
        name: "v" * limits.MAX_VALUE_UNITS
        for name in (
            "title",
            "nickName",
            "profileUrl",
            "displayName",
            "locale",
            "timezone",
            "preferredLanguage",
            "userType",
        )
    }
    body = {"userName": "bob", "roles": roles, **fields}
    error = _fails("invalidValue", clean_resource, body, USER_SCHEMA)
    assert f"{limits.MAX_DOCUMENT_UNITS:,}" in error.detail
    _fails("invalidValue", _patch, USER_DOC, {"op": "add", "value": {k: v for k, v in body.items() if k != "userName"}})


def test_deep_bodies_are_rejected_without_recursion():
    deep: dict = {"userName": "bob"}
    for _ in range(5_000):
        deep = {"x": deep}
    _fails("invalidSyntax", clean_resource, {"userName": "bob", "urn:x:deep": deep}, USER_SCHEMA)
    core = {}
    for _ in range(limits.MAX_DEPTH):
        core = {USER_SCHEMA.core: core}
    _fails("invalidSyntax", _patch, USER_DOC, {"op": "add", "value": core})


# --- case-insensitive rule (item 6) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "one,other", [("straße", "strasse"), ("ſam", "sam"), ("ﬁnn", "finn"), ("οδος", "οδοσ"), ("Straße", "STRASSE")]
)
def test_distinct_names_stay_distinct(one, other):
    assert fold(one) != fold(other)
    assert username_key(one) != username_key(other)
    assert displayname_key(one) != displayname_key(other)
    assert not matches(parse_filter(f'userName eq "{other}"'), {"userName": one}, USER_SCHEMA)


@pytest.mark.parametrize(
    "one,other",
    [("Alice", "aLICE"), ("STRAẞE", "straße"), ("ÄLICE", "älice"), ("e\u0301mile", "\u00e9mile"), ("ΟΔΟΣ", "οδος")],
)
def test_case_and_canonically_equivalent_spellings_are_one_name(one, other):
    assert username_key(one) == username_key(other)
    assert matches(parse_filter(f'userName eq "{other}"'), {"userName": one}, USER_SCHEMA)


def test_sorting_uses_the_same_rule():
    resources = [
        {"id": "1", "userName": "strasse"},
        {"id": "2", "userName": "STRAßE"},
        {"id": "3", "userName": "Straße"},
    ]
    ordered = sort_resources(resources, USER_SCHEMA, "userName", "ascending")
    assert [r["id"] for r in ordered] == ["1", "2", "3"]  # ß sorts after s; the two ß spellings keep their order


def test_filters_are_capped_in_comparisons():
    """A filter is evaluated on every unindexed resource, so its comparisons multiply the scan's CPU."""
    at_cap = " or ".join(['emails[type eq "work" and value ew "@x"]'] * (limits.MAX_FILTER_TERMS // 2))
    parse_filter(at_cap)
    error = _fails("invalidFilter", parse_filter, at_cap + " or userName pr")
    assert f"{limits.MAX_FILTER_TERMS} comparisons" in error.detail
    _fails("invalidFilter", parse_filter, " and ".join(["not (title pr)"] * (limits.MAX_FILTER_TERMS + 1)))
