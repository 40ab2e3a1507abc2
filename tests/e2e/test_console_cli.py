"""`python -m tools.admin console-link` and `tenant link`: the console's sign-in from a shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from shared import tenants
from shared.store.client import Storage

ROOT = Path(__file__).resolve().parents[2]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.admin", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_console_link_prints_a_one_time_url_on_the_public_base(
    azurite: str, live_server: str, console_tenant: dict
) -> None:
    env = {"SCIM_STORAGE_CONNECTION_STRING": azurite, "SCIM_PUBLIC_BASE_URL": live_server}
    done = _cli(env, "console-link", "--tenant", console_tenant["tenantId"], "--json")
    assert done.returncode == 0, done.stderr
    url = json.loads(done.stdout)["url"]
    assert url.startswith(live_server + "/admin/signin/local?code=")
    http = requests.Session()
    assert http.get(url, timeout=60).url == f"{live_server}/admin/t/{console_tenant['tenantId']}"
    assert requests.get(url, allow_redirects=False, timeout=60).headers["Location"] == "/admin/signin"  # used


def test_console_link_is_refused_against_azure_storage(azurite: str) -> None:
    env = {"SCIM_STORAGE_CONNECTION_STRING": azurite, "SCIM_STORAGE_ENDPOINT": "https://x.table.core.windows.net"}
    done = _cli(env, "console-link", "--json")
    assert done.returncode == 1 and "only against the local Azurite" in done.stderr and done.stdout == ""


def test_tenant_link_makes_the_entra_tenant_findable(
    azurite: str, tenant_storage: Storage, console_tenant: dict
) -> None:
    tid = str(uuid.uuid4())

    def link(entra_tenant_id: str) -> subprocess.CompletedProcess:
        args = ["tenant", "link", "--tenant", console_tenant["tenantId"], "--entra-tenant-id", entra_tenant_id]
        return _cli({"SCIM_STORAGE_CONNECTION_STRING": azurite}, *args)

    done = link(tid)
    assert done.returncode == 0, done.stderr
    assert tenants.get_tenant(tenant_storage, console_tenant["tenantId"])["entraTenantId"] == tid
    bad = link("contoso")
    assert bad.returncode == 1 and "GUID" in bad.stderr
