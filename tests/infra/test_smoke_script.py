"""infra/scripts/smoke-test.sh (the deploy workflow's smoke test) against the local host over Azurite:
it passes on a working endpoint, rotates a dedicated tenant's token, and fails on a wrong answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import requests

from tests.infra.bicep import INFRA

SCRIPT = INFRA / "scripts" / "smoke-test.sh"


def smoke(azurite: str, base_url: str, **extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SCIM_STORAGE_CONNECTION_STRING": azurite,
        "SCIM_PUBLIC_BASE_URL": base_url,
        "PYTHON": sys.executable,
        "SMOKE_ATTEMPTS": "1",
        "SMOKE_DELAY_SECONDS": "0",
        **extra,
    }
    for name in ("SCIM_STORAGE_ENDPOINT", "SCIM_SMOKE_TENANT_ID", "GITHUB_ACTIONS"):
        if name not in extra:
            env.pop(name, None)
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)


def test_passes_against_a_working_endpoint_with_a_throwaway_tenant(azurite, live_server):
    done = smoke(azurite, live_server)
    assert done.returncode == 0, done.stderr
    assert "smoke test passed" in done.stdout


def test_rotates_the_dedicated_smoke_tenant_token(azurite, live_server):
    created = subprocess.run(
        [sys.executable, "-m", "tools.admin", "tenant", "create", "--name", "smoke", "--json"],
        env={**os.environ, "SCIM_STORAGE_CONNECTION_STRING": azurite, "SCIM_PUBLIC_BASE_URL": live_server},
        cwd=INFRA.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    tenant = json.loads(created.stdout)
    done = smoke(azurite, live_server, SCIM_SMOKE_TENANT_ID=tenant["tenantId"])
    assert done.returncode == 0, done.stderr
    old_token = requests.get(
        tenant["tenantUrl"] + "/Users", headers={"Authorization": f"Bearer {tenant['token']}"}, timeout=30
    )
    assert old_token.status_code == 401


def test_fails_when_the_tenant_url_does_not_answer_200(azurite, live_server):
    done = smoke(azurite, live_server + "/not-the-app")
    assert done.returncode == 1
    assert "smoke test FAILED" in done.stderr and "404" in done.stderr
