"""CPU milliseconds per SCIM request kind, in-process: the app's functions called directly on one thread,
no HTTP server, over a private in-memory Azurite (`python -m tools.bench cpu`). Production does not run
our local host, so this is the figure to optimise: on Flex Consumption one Python worker is one core.

Each request goes through everything a deployed invocation does (authentication, the pipeline frame,
the service, the storage SDK's HTTP exchange with Azurite, serialisation); only the Functions host's
own HTTP handling is missing. CPU is this process's (time.process_time), so Azurite's share is not in it.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func

from tools import processes

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BASE = "http://127.0.0.1:7071"
_WARMUP = 20  # requests per kind before measuring: first-use imports and connection set-up are cold start


@dataclass(frozen=True)
class KindCost:
    kind: str
    cpu_ms: float  # median over rounds of (CPU of a round / requests in it)
    storage_calls: float  # per request, as the X-Storage-Calls header reports (authentication included)


Request = Callable[[int], func.HttpRequest]


@contextmanager
def _azurite() -> Iterator[str]:
    port = processes.free_port()
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as scratch:
        process = processes.start_azurite(port, Path(scratch) / "azurite.log")
        try:
            yield processes.connection_string(port)
        finally:
            processes.stop(process)


def _request(method: str, path: str, token: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    return func.HttpRequest(
        method=method,
        url=f"{BASE}/scim/v2/{path}" + (f"?{query}" if query else ""),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
        params=params or {},
        route_params={"id": path.split("/")[1]} if "/" in path else {},
        body=json.dumps(body).encode() if body is not None else b"",
    )


def _measure(
    call: Callable[[func.HttpRequest], func.HttpResponse], make: Request, requests: int, rounds: int
) -> tuple[float, float]:
    for i in range(_WARMUP):
        call(make(requests * rounds + i))  # the last seeded users: never measured
    per_round, calls = [], []
    n = 0
    for _ in range(rounds):
        batch = [make(n + i) for i in range(requests)]  # built outside the timed part
        n += requests
        started = time.process_time()
        responses = [call(request) for request in batch]
        per_round.append((time.process_time() - started) * 1000 / requests)
        for response in responses:
            if response.status_code >= 400:
                raise RuntimeError(f"{response.status_code} {response.get_body()[:300]!r}")
            calls.append(int(response.headers.get("X-Storage-Calls", "-1")))
    return statistics.median(per_round), statistics.mean(calls)


def run(requests: int = 40, rounds: int = 3) -> list[KindCost]:
    with _azurite() as connection:
        os.environ["SCIM_STORAGE_CONNECTION_STRING"] = connection
        os.environ.setdefault("SCIM_PUBLIC_BASE_URL", BASE)
        import function_app  # after the environment: the composition root reads the settings once
        from scim_handlers import app_context
        from shared import tenants
        from tools.localhost.functions import index

        functions = {f.invocable.name: f.invocable for f in index(function_app.app).http}
        _, token = tenants.create_tenant(app_context.current().storage, "bench-cpu")
        post, get, patch, list_ = (functions[n] for n in ("users_create", "users_get", "users_patch", "users_list"))
        total = _WARMUP + requests * rounds
        seeded = [
            json.loads(post(_request("POST", "Users", token, {"userName": f"seed{i}@bench.example"})).get_body())["id"]
            for i in range(total)
        ]
        run_id = uuid.uuid4().hex[:8]
        kinds: list[tuple[str, Callable[[func.HttpRequest], Any], Request]] = [
            ("GET /Users/{id}", get, lambda i: _request("GET", f"Users/{seeded[i]}", token)),
            (
                "GET /Users?filter=userName eq",
                list_,
                lambda i: _request("GET", "Users", token, params={"filter": f'userName eq "seed{i}@bench.example"'}),
            ),
            (
                "POST /Users",
                post,
                lambda i: _request("POST", "Users", token, {"userName": f"new{run_id}-{i}@bench.example"}),
            ),
            (
                "PATCH /Users/{id}",
                patch,
                lambda i: _request(
                    "PATCH",
                    f"Users/{seeded[i]}",
                    token,
                    {
                        "schemas": [PATCH_OP],
                        "Operations": [
                            {"op": "Replace", "path": "displayName", "value": f"Name {i}"},
                            {"op": "Replace", "path": "title", "value": f"Title {i}"},
                        ],
                    },
                ),
            ),
        ]
        return [KindCost(label, *_measure(call, make, requests, rounds)) for label, call, make in kinds]


def describe(costs: list[KindCost]) -> str:
    lines = [f"{'request kind':<34} {'CPU ms/request':>15} {'storage calls/request':>22}"]
    lines += [f"{c.kind:<34} {c.cpu_ms:>15.2f} {c.storage_calls:>22.1f}" for c in costs]
    lines.append("(in-process, one thread, no HTTP server; median of rounds; storage calls include the auth read)")
    return "\n".join(lines)
