"""What a list page costs on a large tenant: a private Azurite seeded through its database file with N
users (tools.bench.seed), then `GET /Users?startIndex=..&count=C` pages walked in order and one page
near the end asked again after the walk. Storage calls and wall time per page, measured on the
services in process (the HTTP request adds its one authentication read)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from shared import tenants
from shared.query import USERS, run_query
from shared.resources import Scope
from shared.scim.listing import parse_list_params
from shared.store import counter
from shared.store.client import DIRECTORY_TABLE
from tools.bench import azurite
from tools.bench.seed import Shape, rows

_BASE_URL = "http://bench.local/scim/v2"


def _page(scope: Scope, start: int, count: int) -> tuple[int, float, dict[str, Any]]:
    params = parse_list_params({"startIndex": start, "count": count})
    started = time.perf_counter()
    with counter.counting() as calls:
        result = run_query(scope, USERS, params)
    return calls.total, (time.perf_counter() - started) * 1000, result


def run(users: int, count: int, pages: int | None) -> dict[str, Any]:
    """Seed `users`, walk the first `pages` pages (all when None), then ask the last page again."""
    with tempfile.TemporaryDirectory(prefix="bench-paging-") as scratch:
        location = Path(scratch)
        with azurite.running(location, keep_changes=True) as storage:
            tenant_id = tenants.create_tenant(storage, "bench-paging")[0]["tenantId"]
        azurite.append_rows(location, DIRECTORY_TABLE, rows(tenant_id, Shape(users, 0, 0)))
        with azurite.running(location) as storage:
            scope = Scope(storage=storage, tenant_id=tenant_id, base_url=_BASE_URL)
            last = users - count + 1
            starts = list(range(1, last + 1, count))[:pages]
            walk = [_page(scope, start, count) for start in starts]
            seen = sum(len(result["Resources"]) for _, _, result in walk)
            calls, ms, result = _page(scope, last, count)
    return {
        "users": users,
        "count": count,
        "walk": {
            "pages": len(walk),
            "resources": seen,
            "callsPerPage": {"median": statistics.median(c for c, _, _ in walk), "max": max(c for c, _, _ in walk)},
            "msPerPage": {"median": round(statistics.median(m for _, m, _ in walk), 1)},
            "callsTotal": sum(c for c, _, _ in walk),
        },
        "last": {
            "startIndex": last,
            "calls": calls,
            "ms": round(ms, 1),
            "itemsPerPage": result["itemsPerPage"],
            "totalResults": result["totalResults"],
        },
    }


def describe(result: dict[str, Any]) -> str:
    walk, last = result["walk"], result["last"]
    return "\n".join(
        [
            f"tenant of {result['users']:,} users, pages of {result['count']}",
            f"walk: {walk['pages']} pages in order, {walk['resources']:,} resources, storage calls per page median "
            f"{walk['callsPerPage']['median']} (max {walk['callsPerPage']['max']}), {walk['callsTotal']:,} in all, "
            f"median {walk['msPerPage']['median']} ms a page",
            f"then GET /Users?startIndex={last['startIndex']}&count={result['count']}: {last['calls']} storage calls, "
            f"{last['ms']} ms, {last['itemsPerPage']} of totalResults {last['totalResults']:,}",
        ]
    )
