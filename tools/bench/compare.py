"""Our local host over Azurite side by side with scim2-server in memory, under the same Entra-shaped load
(`python -m tools.bench compare`).

The load, per server: every user is looked up by userName (a miss), created, read and patched (two
attributes), as Entra's first cycle does; then groups are created and users added as members in chunks
of 25; then every user is looked up again by userName (a hit). C client threads share the work, each
with one keep-alive session. CPU per request is each process's user+system time (/proc/<pid>/stat)
over the load, divided by the requests it served; the load generator is this process.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from shared import tenants
from shared.config import Settings
from shared.store.client import Storage
from tools import processes

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CHUNK = 25  # members per group PATCH, as Entra sends them
_TICKS = os.sysconf("SC_CLK_TCK")
_ATTEMPTS = 3


@dataclass(frozen=True)
class Load:
    users: int = 300
    groups: int = 10
    threads: int = 8


@dataclass(frozen=True)
class Server:
    name: str
    base: str  # the SCIM base URL
    token: str
    processes: dict[str, int]  # role -> pid whose CPU is charged to this run


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS


class _Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)  # every request sent, retries included
        self.retried: dict[str, int] = defaultdict(int)  # 503s answered (storage timed out) and sent again

    def call(self, session: requests.Session, kind: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        for attempt in range(_ATTEMPTS):
            started = time.perf_counter()
            response = session.request(method, url, **kwargs)
            elapsed = (time.perf_counter() - started) * 1000
            with self._lock:
                self.latencies[kind].append(elapsed)
            if response.status_code != 503 or attempt == _ATTEMPTS - 1:
                break
            with self._lock:
                self.retried[kind] += 1
            time.sleep(1)  # Entra retries a 503 later; a second is enough for an overloaded Azurite
        if response.status_code >= 400:
            raise RuntimeError(f"{kind}: {response.status_code} {response.text[:300]}")
        return response


def _sessions(server: Server) -> Callable[[], requests.Session]:
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            s = requests.Session()
            s.trust_env = False  # no proxy look-ups in the load generator's own CPU
            s.headers.update({"Authorization": f"Bearer {server.token}", "Content-Type": "application/scim+json"})
            local.session = s
        return local.session

    return session


def _drive(server: Server, load: Load) -> dict[str, Any]:
    recorder = _Recorder()
    session = _sessions(server)
    run_id = uuid.uuid4().hex[:8]
    names = [f"user{i}-{run_id}@bench.example" for i in range(load.users)]
    url = server.base

    def provision(name: str) -> str:
        s = session()
        recorder.call(s, "GET filter (miss)", "GET", f"{url}/Users", params={"filter": f'userName eq "{name}"'})
        created = recorder.call(
            s,
            "POST /Users",
            "POST",
            f"{url}/Users",
            json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": name,
                "externalId": name.split("@")[0],
                "active": True,
                "name": {"givenName": "Bench", "familyName": name.split("-")[0]},
                "emails": [{"value": name, "type": "work", "primary": True}],
            },
        ).json()
        user_id = created["id"]
        recorder.call(s, "GET /Users/{id}", "GET", f"{url}/Users/{user_id}")
        recorder.call(
            s,
            "PATCH /Users/{id}",
            "PATCH",
            f"{url}/Users/{user_id}",
            json={
                "schemas": [PATCH_OP],
                "Operations": [
                    {"op": "replace", "path": "displayName", "value": f"Bench {name}"},
                    {"op": "replace", "path": "title", "value": "Engineer"},
                ],
            },
        )
        return user_id

    def group(index: int, members: list[str]) -> None:
        s = session()
        created = recorder.call(
            s,
            "POST /Groups",
            "POST",
            f"{url}/Groups",
            json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": f"group{index}-{run_id}"},
        ).json()
        for start in range(0, len(members), CHUNK):
            recorder.call(
                s,
                "PATCH /Groups add 25",
                "PATCH",
                f"{url}/Groups/{created['id']}",
                json={
                    "schemas": [PATCH_OP],
                    "Operations": [
                        {
                            "op": "add",
                            "path": "members",
                            "value": [{"value": m} for m in members[start : start + CHUNK]],
                        }
                    ],
                },
            )

    def lookup(name: str) -> None:
        recorder.call(session(), "GET filter (hit)", "GET", f"{url}/Users", params={"filter": f'userName eq "{name}"'})

    before = {role: cpu_seconds(pid) for role, pid in server.processes.items()}
    before["load generator"] = time.process_time()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=load.threads) as pool:
        user_ids = list(pool.map(provision, names))
        per_group = max(1, len(user_ids) // max(load.groups, 1))
        shares = [user_ids[i * per_group : (i + 1) * per_group] for i in range(load.groups)]
        list(pool.map(group, range(load.groups), shares))
        list(pool.map(lookup, names))
    wall = time.perf_counter() - started
    after = {role: cpu_seconds(pid) for role, pid in server.processes.items()}
    after["load generator"] = time.process_time()
    total = sum(len(v) for v in recorder.latencies.values())
    return {
        "server": server.name,
        "requests": total,
        "seconds": round(wall, 2),
        "requestsPerSecond": round(total / wall, 1),
        "latencyMs": {
            kind: {"n": len(v), "p50": round(statistics.median(v), 1), "p99": round(_percentile(v, 0.99), 1)}
            for kind, v in recorder.latencies.items()
        },
        "retried503": dict(recorder.retried),
        "cpuMsPerRequest": {role: round((after[role] - before[role]) * 1000 / total, 2) for role in after},
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def _ours(scratch: Path) -> Iterator[Server]:
    azurite_port, host_port = processes.free_port(), processes.free_port()
    azurite = processes.start_azurite(azurite_port, scratch / "azurite.log")
    try:
        connection = processes.connection_string(azurite_port)
        base = f"http://127.0.0.1:{host_port}"
        env = {**os.environ, "SCIM_STORAGE_CONNECTION_STRING": connection, "SCIM_PUBLIC_BASE_URL": base}
        host = processes.start_localhost(host_port, env, scratch / "localhost.log")
        try:
            _, token = tenants.create_tenant(Storage(Settings.from_env(env)), "bench-compare")
            yield Server("ours", f"{base}/scim/v2", token, {"our host": host.pid, "Azurite": azurite.pid})
        finally:
            processes.stop(host)
    finally:
        processes.stop(azurite)


@contextmanager
def _scim2_server(scratch: Path) -> Iterator[Server]:
    port, token = processes.free_port(), uuid.uuid4().hex
    command = [sys.executable, "-m", "scim2_server.testserver.cli", "--port", str(port), "--bearer-token", token]
    process = processes.start(command, port, scratch / "scim2-server.log")
    try:
        yield Server("scim2-server", f"http://127.0.0.1:{port}/v2", token, {"scim2-server": process.pid})
    finally:
        processes.stop(process)


def run(load: Load) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as name, ExitStack() as stack:
        scratch = Path(name)
        reference = _drive(stack.enter_context(_scim2_server(scratch)), load)
        ours = _drive(stack.enter_context(_ours(scratch)), load)
    ours_cpu = ours["cpuMsPerRequest"]["our host"]
    ref_cpu = reference["cpuMsPerRequest"]["scim2-server"]
    return {
        "load": load.__dict__,
        "runs": [reference, ours],
        "ratios": {
            "serverCpuPerRequest": round(ours_cpu / ref_cpu, 2) if ref_cpu else None,
            "serverAndStorageCpuPerRequest": round((ours_cpu + ours["cpuMsPerRequest"]["Azurite"]) / ref_cpu, 2)
            if ref_cpu
            else None,
            "requestsPerSecond": round(ours["requestsPerSecond"] / reference["requestsPerSecond"], 2),
        },
    }


def describe(result: dict[str, Any]) -> str:
    load = result["load"]
    lines = [f"Entra-shaped load: {load['users']} users, {load['groups']} groups, {load['threads']} client threads"]
    for run_ in result["runs"]:
        lines.append("")
        lines.append(
            f"{run_['server']}: {run_['requests']} requests in {run_['seconds']} s = {run_['requestsPerSecond']} requests/s"
        )
        lines.append(f"  {'request kind':<24} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}")
        for kind, figures in run_["latencyMs"].items():
            lines.append(f"  {kind:<24} {figures['n']:>5} {figures['p50']:>8} {figures['p99']:>8}")
        if run_["retried503"]:
            lines.append(f"  retried after 503: {run_['retried503']}")
        cpu = ", ".join(f"{role} {ms} ms" for role, ms in run_["cpuMsPerRequest"].items())
        lines.append(f"  CPU per request: {cpu}")
    ratios = result["ratios"]
    lines.append("")
    lines.append(
        f"ratios ours/scim2-server: host CPU per request {ratios['serverCpuPerRequest']}x (target <= 1.5), "
        f"host+Azurite {ratios['serverAndStorageCpuPerRequest']}x, requests/s {ratios['requestsPerSecond']}x (target >= 0.6)"
    )
    return "\n".join(lines)
