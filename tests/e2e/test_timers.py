"""tools.localhost fires the reconciliation timer on its (app-setting) schedule; --no-timers keeps it quiet."""

from __future__ import annotations

import os
import time

from shared import reconcile, tenants
from tools import processes


def test_localhost_fires_the_reconciliation_timer(azurite, tenant_storage, tmp_path):
    view, _ = tenants.create_tenant(tenant_storage, "timer-org")
    port = processes.free_port()
    env = {**os.environ, "SCIM_STORAGE_CONNECTION_STRING": azurite, "SCIM_RECONCILE_SCHEDULE": "*/2 * * * * *"}
    process = processes.start_localhost(port, env, tmp_path / "localhost.log", timers=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not reconcile.list_reports(tenant_storage, view["tenantId"]):
            time.sleep(0.5)
    finally:
        processes.stop(process)
    reports = reconcile.list_reports(tenant_storage, view["tenantId"])
    assert reports and reports[0]["complete"] is True, (tmp_path / "localhost.log").read_text()[-2000:]


def test_no_timers_flag_keeps_the_timer_off(live_server, tenant_storage):
    view, _ = tenants.create_tenant(tenant_storage, "quiet-org")
    time.sleep(1)
    assert reconcile.list_reports(tenant_storage, view["tenantId"]) == []
