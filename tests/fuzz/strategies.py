"""Hypothesis strategies for what a hostile or broken SCIM client can send: JSON bodies near the real shapes
(known attribute names in odd cases, wrong types, lone surrogates, long and emoji-heavy strings), PATCH
operations, filters (grammar-shaped and raw text) and list parameters."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from shared.scim.schema import EMPLOYEE, ENTERPRISE_USER, GROUP, USER

URNS = [
    USER,
    GROUP,
    ENTERPRISE_USER,
    EMPLOYEE,
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0User",
    "urn:ietf:params:scim:schemas:extension:Custom:2.0:User",
]
USER_NAMES = [
    "userName",
    "externalId",
    "displayName",
    "nickName",
    "title",
    "active",
    "name",
    "emails",
    "phoneNumbers",
    "addresses",
    "roles",
    "groups",
    "meta",
    "id",
    "password",
    "x509Certificates",
    "UserName",
    "EMAILS",
]
GROUP_NAMES = ["displayName", "externalId", "members", "meta", "id", "DisplayName"]
SUBS = ["value", "type", "primary", "display", "givenName", "familyName", "formatted", "streetAddress", "$ref", "Value"]
EXT_NAMES = ["department", "employeeNumber", "manager", "organization", "status", "costCenter"]
OPS = ["add", "Add", "replace", "Replace", "remove", "Remove", "ADD", "move", "", None, 1]
FILTER_OPS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ"]
FILTER_ATTRS = [
    "userName",
    "externalId",
    "id",
    "displayName",
    "active",
    "emails",
    "emails.value",
    "emails.type",
    "meta.created",
    "meta.lastModified",
    "name.givenName",
    "members",
    "members.value",
    "title",
    "unknown",
    f"{ENTERPRISE_USER}:department",
    f"{ENTERPRISE_USER}:manager",
    f"{USER}:userName",
]

# Text: mostly ordinary, sometimes hostile (lone surrogates, controls, quotes, emoji runs, long runs).
_ALPHABET = st.characters(exclude_categories=())  # surrogates included
_ATOMS = st.sampled_from(
    ["\ud800", "\udfff", "\U0001f600", "\x00", '"', "\\", "ß", "ſ", "ﬁ", "é", "e\u0301", "/", "#", "?", " "]
)
text = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=_ALPHABET, max_size=12),
    st.lists(_ATOMS, max_size=8).map("".join),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["x", "\U0001f600", "é"]), st.sampled_from([1_000, 16_384, 17_000, 33_000])
    ),
)
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    st.sampled_from(["True", "False", "", "true"]),
)
json_value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(text, st.sampled_from(SUBS)), inner, max_size=4)
    ),
    max_leaves=12,
)


def _attribute_value(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    entry = st.dictionaries(st.sampled_from(SUBS), scalar, max_size=4)
    value = st.one_of(scalar, entry, st.lists(st.one_of(entry, scalar), max_size=5), json_value)
    return st.dictionaries(st.sampled_from(names), value, max_size=6)


def user_body() -> st.SearchStrategy[Any]:
    extension = st.fixed_dictionaries(
        {},
        optional={
            ENTERPRISE_USER: st.one_of(_attribute_value(EXT_NAMES), scalar),
            EMPLOYEE: _attribute_value(EXT_NAMES),
        },
    )
    body = st.builds(
        lambda a, e, s: {**a, **e, **({"schemas": s} if s is not None else {})},
        _attribute_value(USER_NAMES),
        extension,
        st.one_of(st.none(), st.lists(st.sampled_from(URNS), max_size=3)),
    )
    # well-typed bodies, so hostile text reaches the value checks instead of failing on a wrong type first
    typed = st.fixed_dictionaries(
        {"userName": text},
        optional={
            "externalId": text,
            "displayName": text,
            "title": text,
            ENTERPRISE_USER: st.fixed_dictionaries({"department": text}),
            "emails": st.lists(
                st.fixed_dictionaries({"value": text, "type": st.sampled_from(["work", "other"])}), max_size=3
            ),
        },
    )
    return st.one_of(body, body.map(lambda b: {"userName": "fuzz", **b}), typed, json_value)


def group_body() -> st.SearchStrategy[Any]:
    members = st.lists(
        st.one_of(st.fixed_dictionaries({"value": st.one_of(text, st.just("0" * 32))}), scalar), max_size=5
    )
    body = st.builds(
        lambda a, m: {**a, **({"members": m} if m is not None else {})},
        _attribute_value(GROUP_NAMES),
        st.one_of(st.none(), members),
    )
    return st.one_of(body, body.map(lambda b: {"displayName": "fuzz", **b}), json_value)


def filter_text() -> st.SearchStrategy[str]:
    literal = st.one_of(
        text.map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
        st.sampled_from(["true", "false", "null", "42", "1e400", '"2024-01-01T00:00:00Z"', "bare"]),
    )
    comparison = st.builds(
        lambda a, o, v: f"{a} {o} {v}", st.sampled_from(FILTER_ATTRS), st.sampled_from(FILTER_OPS), literal
    )
    present = st.sampled_from(FILTER_ATTRS).map(lambda a: f"{a} pr")
    atom = st.one_of(
        comparison,
        present,
        st.builds(lambda c: f"emails[{c}]", comparison),
        st.builds(lambda c: f"members[{c}]", comparison),
    )
    expression = st.recursive(
        atom,
        lambda inner: st.one_of(
            st.builds(lambda a, o, b: f"{a} {o} {b}", inner, st.sampled_from(["and", "or", "AND"]), inner),
            inner.map(lambda e: f"not ({e})"),
            inner.map(lambda e: f"({e})"),
        ),
        max_leaves=6,
    )
    return st.one_of(expression, text, st.builds(lambda e, t: e + t, expression, text))


def path() -> st.SearchStrategy[Any]:
    sub = st.sampled_from(["", ".value", ".type", ".primary", ".givenName", ".bogus"])
    named = st.builds(
        lambda a, s: a + s,
        st.sampled_from(USER_NAMES + GROUP_NAMES + [f"{ENTERPRISE_USER}:{n}" for n in EXT_NAMES] + URNS),
        sub,
    )
    filtered = st.builds(
        lambda a, f, s: f"{a}[{f}]{s}",
        st.sampled_from(["emails", "members", "addresses", "phoneNumbers", "name"]),
        filter_text(),
        sub,
    )
    return st.one_of(st.none(), named, filtered, text, st.integers())


def patch_body() -> st.SearchStrategy[Any]:
    operation = st.fixed_dictionaries(
        {"op": st.sampled_from(OPS)},
        optional={
            "path": path(),
            "value": st.one_of(json_value, _attribute_value(USER_NAMES + GROUP_NAMES + EXT_NAMES + URNS)),
        },
    )
    body = st.fixed_dictionaries(
        {"Operations": st.lists(operation, max_size=5)},
        optional={"schemas": st.lists(st.sampled_from(URNS), max_size=2)},
    )
    typed_op = st.fixed_dictionaries(
        {
            "op": st.sampled_from(["replace", "add", "Add"]),
            "path": st.sampled_from(
                ["displayName", "title", 'emails[type eq "work"].value', "name.givenName", "externalId", "userName"]
            ),
            "value": text,
        }
    )
    typed = st.fixed_dictionaries({"Operations": st.lists(typed_op, min_size=1, max_size=3)})
    return st.one_of(
        body,
        typed,
        st.fixed_dictionaries({"operations": st.one_of(json_value, st.lists(operation, max_size=3))}),
        json_value,
    )


def list_params() -> st.SearchStrategy[dict[str, Any]]:
    names = [
        "filter",
        "startIndex",
        "count",
        "sortBy",
        "sortOrder",
        "attributes",
        "excludedAttributes",
        "FILTER",
        "unknown",
    ]
    values = {
        "filter": filter_text(),
        "sortBy": st.one_of(st.sampled_from(FILTER_ATTRS + [ENTERPRISE_USER, "name", "emails", "meta"]), text),
        "attributes": st.one_of(
            st.sampled_from(["userName", "members", "emails.value,name", ENTERPRISE_USER, "groups"]), text
        ),
    }
    odd = st.one_of(
        text, st.sampled_from(["1", "-5", "0", "10", "1e3", "ascending", "descending", "99999999999999999999"])
    )

    def value(name: str) -> st.SearchStrategy[Any]:
        return values.get(name, odd)

    return st.lists(st.sampled_from(names), max_size=4, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({k: value(k) for k in keys})
    )
