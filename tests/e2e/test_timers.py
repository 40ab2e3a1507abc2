"""tools.localhost fires the reconciliation timer on its (app-setting) schedule; --no-timers keeps it quiet.

Each host here gets its own Azurite with one tenant, so a reconciliation report in that storage can only
come from that host's timer, and the run that writes it is short."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared import reconcile, tenants
from shared.config import Settings
from shared.store.client import Storage
from tools import processes

EVERY_SECOND = "* * * * * *"
WITNESS_TICKS = 5


@contextmanager
def _host_with_own_storage(log_dir: Path, *, timers: bool) -> Iterator[tuple[Storage, str]]:
    """A local host whose reconciliation timer is due every second, over a private Azurite holding one tenant."""
    azurite_port = processes.free_port()
    azurite = processes.start_azurite(azurite_port, log_dir / "azurite.log")
    try:
        connection = processes.connection_string(azurite_port)
        storage = Storage(Settings.from_env({"SCIM_STORAGE_CONNECTION_STRING": connection}))
        tenant_id = tenants.create_tenant(storage, "timer-org")[0]["tenantId"]
        host_env = {**os.environ, "SCIM_STORAGE_CONNECTION_STRING": connection, "SCIM_RECONCILE_SCHEDULE": EVERY_SECOND}
        host = processes.start_localhost(processes.free_port(), host_env, log_dir / "localhost.log", timers=timers)
        try:
            yield storage, tenant_id
        finally:
            processes.stop(host)
    finally:
        processes.stop(azurite)


def _wait_for(condition, limit: float = 60) -> bool:
    """Poll until condition() holds; the limit only keeps a broken host from hanging the suite."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def test_localhost_fires_the_reconciliation_timer(tmp_path):
    with _host_with_own_storage(tmp_path, timers=True) as (storage, tenant_id):
        fired = _wait_for(lambda: bool(reconcile.list_reports(storage, tenant_id)))
        reports = reconcile.list_reports(storage, tenant_id)
    assert fired and reports[0]["complete"] is True, (tmp_path / "localhost.log").read_text()[-2000:]


def test_no_timers_flag_keeps_the_timer_off(tmp_path):
    """The host under test has a schedule due every second, so without the flag it would reconcile at once
    (the test above). A witness host started after it, with timers on, fires its own every-second timer
    five times; by then the quiet host has had more chances than the witness, and must have used none."""
    quiet_dir, witness_dir = tmp_path / "quiet", tmp_path / "witness"
    quiet_dir.mkdir()
    witness_dir.mkdir()
    ticks = witness_dir / "ticks.txt"
    with _host_with_own_storage(quiet_dir, timers=False) as (storage, tenant_id):
        witness_port = processes.free_port()
        witness_env = {**os.environ, "SAMPLE_TIMER_FILE": str(ticks)}
        witness = processes.start_localhost(
            witness_port, witness_env, witness_dir / "localhost.log", app="tests.support.sample_app:app", timers=True
        )
        try:
            witnessed = _wait_for(lambda: ticks.exists() and len(ticks.read_text().splitlines()) >= WITNESS_TICKS)
        finally:
            processes.stop(witness)
        assert witnessed, (witness_dir / "localhost.log").read_text()[-2000:]
        assert reconcile.list_reports(storage, tenant_id) == []
        assert "reconciliation tick" not in (quiet_dir / "localhost.log").read_text()
