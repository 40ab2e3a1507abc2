"""Generated hostile input: every answer is a success or a 4xx with a SCIM error body, never a 5xx, and
every body (error bodies included) can be rendered as UTF-8.

The bulk runs in-process against the protocol layer (shared.scim: body cleaning, PATCH, list parameters,
filters, sorting); a few hundred cases go over HTTP through the local host and Azurite on one keep-alive
session. Seeds are fixed (FUZZ_SEED). `make test` runs about 1,200 cases; `make fuzz` (SCIM_FUZZ=full)
about 20,800."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, seed, settings

from shared.scim.errors import ScimError
from shared.scim.filter import matches, parse_filter
from shared.scim.listing import parse_list_params, sort_resources
from shared.scim.normalize import clean_resource
from shared.scim.patch import apply_patch
from shared.scim.schema import ENTERPRISE_USER, GROUP_SCHEMA, USER_SCHEMA
from tests.fuzz import strategies

FUZZ_SEED = 20_261_202
FULL = os.environ.get("SCIM_FUZZ") == "full"
# No shrinking: a failure is reported as generated (shrinking a slow HTTP case can take minutes).
_COMMON = dict(
    deadline=None, database=None, suppress_health_check=list(HealthCheck), phases=(Phase.explicit, Phase.generate)
)
IN_PROCESS = settings(max_examples=4_000 if FULL else 250, **_COMMON)
OVER_HTTP = settings(max_examples=800 if FULL else 40, **_COMMON)

SAMPLE_USERS = [
    {
        "schemas": [USER_SCHEMA.core],
        "id": "1" * 32,
        "userName": "Straße",
        "active": True,
        "emails": [{"value": "a@b.c", "type": "work", "primary": True}],
        "meta": {"created": "2024-01-01T00:00:00Z"},
    },
    {
        "schemas": [USER_SCHEMA.core],
        "id": "2" * 32,
        "userName": "strasse",
        "name": {"givenName": "\U0001f600"},
        ENTERPRISE_USER: {"department": "x", "manager": {"value": "1" * 32}},
    },
    {"schemas": [USER_SCHEMA.core], "id": "3" * 32, "userName": "b"},
]
SAMPLE_GROUP = {"schemas": [GROUP_SCHEMA.core], "id": "4" * 32, "displayName": "G", "members": [{"value": "1" * 32}]}


def renders(value: Any) -> None:
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # what the HTTP edge does with every body


def protocol_outcome(fn: Callable[[], Any]) -> None:
    try:
        result = fn()
    except ScimError as error:
        assert 400 <= error.status < 500, error
        renders(error.to_body())
        return
    renders(result)


# --- in-process: the protocol layer -------------------------------------------------------------------


@seed(FUZZ_SEED)
@IN_PROCESS
@given(body=strategies.user_body(), group=strategies.group_body())
def test_cleaning_bodies(body, group):
    protocol_outcome(lambda: clean_resource(body, USER_SCHEMA))
    protocol_outcome(lambda: clean_resource(group, GROUP_SCHEMA))


@seed(FUZZ_SEED + 1)
@IN_PROCESS
@given(body=strategies.patch_body())
def test_patching_users(body):
    protocol_outcome(lambda: apply_patch(SAMPLE_USERS[1], body, USER_SCHEMA).resource)


@seed(FUZZ_SEED + 2)
@IN_PROCESS
@given(body=strategies.patch_body())
def test_patching_groups(body):
    def run() -> Any:
        result = apply_patch(SAMPLE_GROUP, body, GROUP_SCHEMA)
        return {"resource": result.resource, "add": result.members.add if result.members else None}

    protocol_outcome(run)


@seed(FUZZ_SEED + 3)
@IN_PROCESS
@given(params=strategies.list_params())
def test_list_parameters_filters_and_sorting(params):
    def run() -> Any:
        parsed = parse_list_params(params)
        node = parse_filter(parsed.filter) if parsed.filter else None
        matched = [u for u in SAMPLE_USERS if node is None or matches(node, u, USER_SCHEMA)]
        groups = [g for g in [SAMPLE_GROUP] if node is None or matches(node, g, GROUP_SCHEMA)]
        return sort_resources(matched, USER_SCHEMA, parsed.sort_by, parsed.sort_order) + sort_resources(
            groups, GROUP_SCHEMA, parsed.sort_by, parsed.sort_order
        )

    protocol_outcome(run)


# --- over HTTP: the whole service ----------------------------------------------------------------------


def assert_answered(response: requests.Response) -> None:
    assert response.status_code < 500, f"{response.status_code} {response.text[:300]}"
    # 414: a request line over http.server's 64 KiB is refused before the app (Azure's front end does the same)
    if response.status_code >= 400 and response.status_code not in (405, 414):
        body = response.json()
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["detail"], body


@pytest.fixture
def targets(client) -> dict[str, str]:
    user = client.post("/Users", {"userName": "fuzz-target"}).json()["id"]
    group = client.post("/Groups", {"displayName": "fuzz-target"}).json()["id"]
    return {"user": user, "group": group}


@seed(FUZZ_SEED + 10)
@OVER_HTTP
@given(user=strategies.user_body(), group=strategies.group_body())
def test_http_create(client, user, group):
    assert_answered(client.post("/Users", user))
    assert_answered(client.post("/Groups", group))


@seed(FUZZ_SEED + 11)
@OVER_HTTP
@given(body=strategies.patch_body())
def test_http_patch(client, targets, body):
    assert_answered(client.patch(f"/Users/{targets['user']}", body))
    assert_answered(client.patch(f"/Groups/{targets['group']}", body))


@seed(FUZZ_SEED + 12)
@OVER_HTTP
@given(params=strategies.list_params())
def test_http_list_and_search(client, params):
    query = urlencode({k: v for k, v in params.items() if isinstance(v, str)}, errors="surrogatepass")  # bytes as sent
    assert_answered(client.get("/Users?" + query))
    assert_answered(client.get("/Groups?" + query))
    assert_answered(client.post("/.search", params))


@seed(FUZZ_SEED + 13)
@OVER_HTTP
@given(
    prefix=strategies.st.sampled_from([b"", b"\xef\xbb\xbf", b" \n"]),
    body=strategies.user_body(),
    encoding=strategies.st.sampled_from(["utf-8", "utf-16", "utf-32", "latin-1"]),
    allow_nan=strategies.st.booleans(),
)
def test_http_raw_bodies(client, prefix, body, encoding, allow_nan):
    text = json.dumps(body, ensure_ascii=False, allow_nan=True) if allow_nan else json.dumps(body)
    # latin-1 cannot carry every character: replace those (the body is still not UTF-8 JSON)
    raw = prefix + text.encode(encoding, errors="surrogatepass" if encoding.startswith("utf") else "replace")
    assert_answered(client.request("POST", "/Users", raw=raw, headers={"Content-Type": "application/scim+json"}))


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
def test_http_deeply_nested_bodies(client, depth):
    raw = ('{"userName": "deep", "urn:x:deep": ' + "[" * depth + "]" * depth + "}").encode()
    assert_answered(client.request("POST", "/Users", raw=raw, headers={"Content-Type": "application/scim+json"}))
