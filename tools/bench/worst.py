"""The CPU cost of the most expensive request bodies that fit the 1 MiB limit, measured in-process on the
protocol layer (JSON parsing, body cleaning, PATCH application, filter parsing and evaluation), where the
quadratic traps were. Storage work is bounded separately by the caps (shared.scim.limits) and counted by
the storage-call budgets in tests/integration/test_budget.py."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from scim_handlers.pipeline import MAX_BODY_BYTES
from shared.scim import limits
from shared.scim.errors import ScimError
from shared.scim.filter import matches, parse_filter
from shared.scim.listing import parse_list_params, sort_resources
from shared.scim.normalize import clean_resource
from shared.scim.patch import apply_patch
from shared.scim.schema import ENTERPRISE_USER, GROUP_SCHEMA, USER_SCHEMA

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = {
    "schemas": [USER_SCHEMA.core],
    "userName": "bench",
    "emails": [{"value": f"{i}@x.y", "type": f"t{i}"} for i in range(limits.MAX_ENTRIES)],
}
GROUP = {"schemas": [GROUP_SCHEMA.core], "displayName": "bench"}


def _fill(make: Callable[[int], Any], wrap: Callable[[list[Any]], Any]) -> bytes:
    """The largest body wrap([make(0), make(1), ...]) that stays within MAX_BODY_BYTES."""
    low, high = 0, MAX_BODY_BYTES
    while low < high:  # binary search on the item count
        middle = (low + high + 1) // 2
        if len(json.dumps(wrap([make(i) for i in range(middle)])).encode()) <= MAX_BODY_BYTES:
            low = middle
        else:
            high = middle - 1
    return json.dumps(wrap([make(i) for i in range(low)])).encode()


def _patch(ops: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": ops}


def _cases() -> Iterator[tuple[str, bytes, Callable[[Any], Any]]]:
    on_user = lambda body: apply_patch(USER, body, USER_SCHEMA)  # noqa: E731
    on_group = lambda body: apply_patch(GROUP, body, GROUP_SCHEMA)  # noqa: E731
    yield (
        "PATCH group: one op adding members up to 1 MiB",
        _fill(lambda i: {"value": f"{i:032x}"}, lambda v: _patch([{"op": "add", "path": "members", "value": v}])),
        on_group,
    )
    yield (
        "PATCH group: filtered member removes up to 1 MiB",
        _fill(lambda i: {"op": "remove", "path": f'members[value eq "{i:032x}"]'}, _patch),
        on_group,
    )
    yield (
        "PATCH group: MAX_MEMBERS members (accepted)",
        json.dumps(
            _patch(
                [{"op": "add", "path": "members", "value": [{"value": f"{i:032x}"} for i in range(limits.MAX_MEMBERS)]}]
            )
        ).encode(),
        on_group,
    )
    yield (
        "PATCH user: one op adding emails up to 1 MiB",
        _fill(lambda i: {"value": f"{i}@example.com"}, lambda v: _patch([{"op": "add", "path": "emails", "value": v}])),
        on_user,
    )
    yield (
        "PATCH user: filtered email ops up to 1 MiB",
        _fill(
            lambda i: {
                "op": "replace",
                "path": f'emails[type eq "t{i % limits.MAX_ENTRIES}"].value',
                "value": f"{i}@x.y",
            },
            _patch,
        ),
        on_user,
    )
    yield (
        "PATCH user: MAX_OPERATIONS filtered ops with long values",
        json.dumps(
            _patch(
                [
                    {"op": "add", "path": f'emails[type eq "t{i % limits.MAX_ENTRIES}"].display', "value": "d" * 900}
                    for i in range(limits.MAX_OPERATIONS)
                ]
            )
        ).encode(),
        on_user,
    )
    yield (
        "PATCH user: path-less replaces of every attribute",
        _fill(
            lambda i: {
                "op": "replace",
                "value": {
                    "displayName": str(i),
                    "name.givenName": "g",
                    f"{ENTERPRISE_USER}:department": "d",
                    'emails[type eq "work"].value': "w@x.y",
                },
            },
            _patch,
        ),
        on_user,
    )
    yield (
        "POST user: ignored custom attributes up to 1 MiB",
        _fill(
            lambda i: i,
            lambda v: {
                "userName": "u",
                **{f"urn:ietf:params:scim:schemas:extension:C:2.0:User:a{i}": "v" * 20 for i in v},
            },
        ),
        lambda b: clean_resource(b, USER_SCHEMA),
    )
    yield (
        "POST user: largest accepted document",
        json.dumps(
            {"userName": "u", "roles": [{"value": "r" * 2_500, "type": str(i)} for i in range(limits.MAX_ENTRIES)]}
        ).encode(),
        lambda b: clean_resource(b, USER_SCHEMA),
    )
    users = [{**USER, "userName": f"user{i}", "id": f"{i:032x}"} for i in range(limits.MAX_ENTRIES * 5)]
    terms = [f'emails[type eq "t{i}" and value ew "@z"]' for i in range(limits.MAX_FILTER_LENGTH)]
    most = limits.MAX_FILTER_TERMS // 2  # each term holds two comparisons
    longest = " or ".join(
        terms[: next(n for n in range(most, 0, -1) if len(" or ".join(terms[:n])) <= limits.MAX_FILTER_LENGTH)]
    )
    yield (
        "GET list: most complex filter over 500 users, sorted",
        json.dumps({"filter": longest, "sortBy": "emails.value"}).encode(),
        lambda b: _filter(b, users),
    )


def _filter(body: dict[str, Any], users: list[dict[str, Any]]) -> Any:
    params = parse_list_params(body)
    node = parse_filter(params.filter or "")
    return sort_resources(
        [u for u in users if matches(node, u, USER_SCHEMA)], USER_SCHEMA, params.sort_by, params.sort_order
    )


def run() -> list[dict[str, Any]]:
    results = []
    for label, raw, handle in _cases():
        started = time.process_time()
        try:
            handle(json.loads(raw))
            outcome = "accepted"
        except ScimError as error:
            outcome = f"{error.status} {error.scim_type or ''}".strip()
        results.append(
            {
                "request": label,
                "bytes": len(raw),
                "cpuSeconds": round(time.process_time() - started, 3),
                "outcome": outcome,
            }
        )
    return results


def describe(results: list[dict[str, Any]]) -> str:
    lines = [f"{r['request']:<58} {r['bytes']:>9,} B  {r['cpuSeconds']:7.3f} s CPU  {r['outcome']}" for r in results]
    worst = max(results, key=lambda r: r["cpuSeconds"])
    return "\n".join(lines + [f"worst: {worst['request']} ({worst['cpuSeconds']:.3f} s CPU)"])
