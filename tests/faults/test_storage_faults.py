"""Storage stopped, frozen (SIGSTOP: the kernel accepts connections, nobody answers) and slow, under a
dedicated Azurite (persisted on disk, so it can restart) behind a delaying proxy and a dedicated host.

A SCIM request facing unavailable storage answers 503 with Retry-After well before the SDK's 300 s
default; the host recovers without a restart; every write that got a 2xx is readable afterwards. The
bounds are loose on purpose (a loaded CI machine): the measured times are printed (`-s`)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from shared import reconcile, tenants
from shared.config import Settings
from shared.store.client import Storage
from shared.store.errors import StorageUnavailable
from tests.faults.proxy import DelayProxy
from tools import processes

BOUND_SECONDS = 60  # far below the SDK default (300 s per read, plus retries); the measured times are ~1-10 s


class Rig:
    def __init__(self, root: Path):
        self.root = root
        self.azurite_port = processes.free_port()
        self.azurite = self.start_azurite()
        self.proxy = DelayProxy(self.azurite_port)
        self.connection = processes.connection_string(self.proxy.port)
        self.storage = Storage(Settings.from_env({"SCIM_STORAGE_CONNECTION_STRING": self.connection}))

    def start_azurite(self):
        command = [
            str(processes.AZURITE_TABLE),
            "--location",
            str(self.root / "data"),
            "--tableHost",
            "127.0.0.1",
            "--tablePort",
            str(self.azurite_port),
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
        ]
        return processes.start(command, self.azurite_port, self.root / "azurite.log", timeout=30)

    def signal_azurite(self, sig: int) -> None:
        os.killpg(self.azurite.pid, sig)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    rig = Rig(tmp_path_factory.mktemp("faults"))
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SCIM_STORAGE_CONNECTION_STRING": rig.connection, "SCIM_PUBLIC_BASE_URL": base}
    host = processes.start_localhost(port, env, rig.root / "localhost.log")
    rig.base = base
    view, token = tenants.create_tenant(rig.storage, "faults")
    rig.tenant_id = view["tenantId"]
    rig.session = requests.Session()
    rig.session.headers["Authorization"] = f"Bearer {token}"
    yield rig
    processes.stop(host)
    try:
        rig.signal_azurite(signal.SIGCONT)
    except ProcessLookupError:
        pass
    processes.stop(rig.azurite)
    rig.proxy.close()


def _timed(rig: Rig, method: str, path: str, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = rig.session.request(method, f"{rig.base}/scim/v2{path}", timeout=BOUND_SECONDS * 2, **kwargs)
    return response, time.monotonic() - started


def _create(rig: Rig, name: str) -> requests.Response:
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}
    response, _ = _timed(rig, "POST", "/Users", json=body, headers={"Content-Type": "application/scim+json"})
    return response


def _unavailable(rig: Rig, label: str) -> None:
    for method, path, body in (
        ("GET", '/Users?filter=userName eq "x"', None),
        ("POST", "/Users", {"userName": f"lost-{label}"}),
    ):
        response, seconds = _timed(rig, method, path, json=body)
        print(f"\n{label}: {method} answered {response.status_code} after {seconds:.1f} s")
        assert response.status_code == 503, response.text
        assert response.headers.get("Retry-After")
        assert response.json()["status"] == "503"
        assert seconds < BOUND_SECONDS


def _recovered(rig: Rig, acknowledged: list[str]) -> None:
    deadline = time.monotonic() + BOUND_SECONDS
    while True:  # pooled connections that died with storage may cost one more 503 each
        response, _ = _timed(rig, "GET", "/Users?count=1000")
        if response.status_code == 200 or time.monotonic() > deadline:
            break
    assert response.status_code == 200
    names = {user["userName"] for user in response.json()["Resources"]}
    assert set(acknowledged) <= names


def test_frozen_storage_answers_503_and_recovers(rig):
    acknowledged = [n for n in ("before-freeze",) if _create(rig, n).status_code == 201]
    assert acknowledged
    rig.signal_azurite(signal.SIGSTOP)
    try:
        _unavailable(rig, "frozen")
    finally:
        rig.signal_azurite(signal.SIGCONT)
    _recovered(rig, acknowledged)


def test_stopped_storage_answers_503_and_recovers_after_a_restart(rig):
    acknowledged = [n for n in ("before-stop",) if _create(rig, n).status_code == 201]
    assert acknowledged
    rig.signal_azurite(signal.SIGINT)  # Azurite's own shutdown saves its database (SIGTERM would not)
    rig.azurite.wait(timeout=30)
    try:
        _unavailable(rig, "stopped")
    finally:
        rig.azurite = rig.start_azurite()
    _recovered(rig, acknowledged + ["before-freeze"])


def test_slow_storage_is_served_until_it_exceeds_the_read_timeout(rig):
    rig.proxy.delay = 0.3
    try:
        response, seconds = _timed(rig, "GET", "/Users?count=5")
        print(f"\nslow (0.3 s per answer): GET answered {response.status_code} after {seconds:.1f} s")
        assert response.status_code == 200
        rig.proxy.delay = 15  # beyond the client's read timeout
        _unavailable(rig, "slow (15 s per answer)")
    finally:
        rig.proxy.delay = 0
    _recovered(rig, ["before-freeze", "before-stop"])


def test_the_timer_facing_frozen_storage_ends_and_the_next_tick_runs(rig):
    rig.signal_azurite(signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert reconcile.run_timer(rig.storage) == []
        seconds = time.monotonic() - started
        print(f"\nfrozen: reconciliation tick ended after {seconds:.1f} s")
        assert seconds < BOUND_SECONDS
        with pytest.raises(StorageUnavailable):
            reconcile.run_now(rig.storage, tenant_id=rig.tenant_id, force=True)
    finally:
        rig.signal_azurite(signal.SIGCONT)
    reports = reconcile.run_now(rig.storage, tenant_id=rig.tenant_id, force=True)
    assert reports[0].get("complete") is True
