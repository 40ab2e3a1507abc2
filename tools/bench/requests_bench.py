"""Storage calls and latency per SCIM request kind, over HTTP through the local host."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import requests

from shared import tenants
from shared.store.client import Storage
from tools import processes

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _measure(label: str, repeat: int, call: Callable[[int], requests.Response]) -> None:
    durations, calls = [], []
    for i in range(repeat):
        started = time.perf_counter()
        response = call(i)
        durations.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 400:
            raise RuntimeError(f"{label}: {response.status_code} {response.text[:300]}")
        calls.append(int(response.headers.get("X-Storage-Calls", "-1")))
    print(
        f"{label:<58} storage calls {statistics.median(calls):>4.0f} (incl. 1 auth read)   median {statistics.median(durations):6.1f} ms   p95 {sorted(durations)[int(0.95 * (len(durations) - 1))]:6.1f} ms"
    )


def run(storage: Storage, connection: str, repeat: int, bulk: int = 1000) -> None:
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SCIM_STORAGE_CONNECTION_STRING": connection, "SCIM_PUBLIC_BASE_URL": base}
    process = processes.start_localhost(port, env, Path(tempfile.mkdtemp()) / "localhost.log")
    try:
        _, token = tenants.create_tenant(storage, "bench-requests")
        s = requests.Session()
        s.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"})
        url = base + "/scim/v2"
        s.get(url + "/Users?count=0")  # first request of the hour flushes health counters once
        users = [
            s.post(url + "/Users", json={"userName": f"seed{i}", "externalId": f"e{i}"}).json()["id"] for i in range(50)
        ]
        big = s.post(url + "/Groups", json={"displayName": "Big", "members": [{"value": u} for u in users]}).json()[
            "id"
        ]
        small = s.post(url + "/Groups", json={"displayName": "Small"}).json()["id"]
        _measure(
            "POST /Users",
            repeat,
            lambda i: s.post(url + "/Users", json={"userName": f"b{i}-{uuid.uuid4().hex[:6]}", "externalId": f"x{i}"}),
        )
        _measure("GET /Users/{id}", repeat, lambda i: s.get(f"{url}/Users/{users[i % 50]}"))
        _measure(
            'GET /Users?filter=userName eq "..."',
            repeat,
            lambda i: s.get(url + "/Users", params={"filter": f'userName eq "seed{i % 50}"'}),
        )
        _measure(
            'GET /Users?filter=externalId eq "..."',
            repeat,
            lambda i: s.get(url + "/Users", params={"filter": f'externalId eq "e{i % 50}"'}),
        )
        _measure(
            'GET /Users?filter=userName eq "<random guid>" (Test Connection)',
            repeat,
            lambda i: s.get(url + "/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'}),
        )
        _measure(
            "PATCH /Users/{id} (replace displayName)",
            repeat,
            lambda i: s.patch(
                f"{url}/Users/{users[i % 50]}",
                json={
                    "schemas": [PATCH_OP],
                    "Operations": [{"op": "Replace", "path": "displayName", "value": f"n{i}"}],
                },
            ),
        )
        _measure(
            "GET /Groups/{id}?excludedAttributes=members",
            repeat,
            lambda i: s.get(f"{url}/Groups/{big}", params={"excludedAttributes": "members"}),
        )
        _measure(
            "GET /Groups?filter=displayName eq ...&excludedAttributes=members",
            repeat,
            lambda i: s.get(
                url + "/Groups", params={"filter": 'displayName eq "Big"', "excludedAttributes": "members"}
            ),
        )
        _measure(
            "PATCH /Groups/{id} re-add an existing member (no write)",
            repeat,
            lambda i: s.patch(
                f"{url}/Groups/{big}",
                json={
                    "schemas": [PATCH_OP],
                    "Operations": [{"op": "Add", "path": "members", "value": [{"value": users[i % 50]}]}],
                },
            ),
        )
        _measure(
            "PATCH /Groups/{id} add 1 new member",
            repeat,
            lambda i: s.patch(
                f"{url}/Groups/{small}",
                json={
                    "schemas": [PATCH_OP],
                    "Operations": [{"op": "Add", "path": "members", "value": [{"value": users[i % 50]}]}],
                },
            ),
        )
        fresh = [s.post(url + "/Users", json={"userName": f"k{i}"}).json()["id"] for i in range(bulk)]
        thousand = s.post(url + "/Groups", json={"displayName": "Thousand"}).json()["id"]
        started = time.perf_counter()
        response = s.patch(
            f"{url}/Groups/{thousand}",
            json={
                "schemas": [PATCH_OP],
                "Operations": [{"op": "Add", "path": "members", "value": [{"value": u} for u in fresh]}],
            },
        )
        print(
            f"{f'PATCH /Groups/{{id}} adding {bulk:,} members in one op':<58} storage calls {response.headers.get('X-Storage-Calls')}   {(time.perf_counter() - started) * 1000:.0f} ms   status {response.status_code}"
        )
    finally:
        processes.stop(process)
