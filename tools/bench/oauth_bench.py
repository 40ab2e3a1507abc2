"""`python -m tools.bench.oauth_bench [--repeat N]`: the token endpoint's latency (median = p50) and storage
calls, and the storage calls of one SCIM request under each authentication method, over HTTP through the
local host and a private in-memory Azurite. Prints figures; nothing asserts timings."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import requests

from shared import tenants
from shared.config import Settings
from shared.oauth import manage
from shared.store.client import Storage
from tools import processes
from tools.bench.requests_bench import _measure

TOKEN = "/oauth2/token"


def measure(storage: Storage, base: str, repeat: int) -> None:
    view, old = tenants.create_tenant(storage, "bench-oauth")
    tid = view["tenantId"]
    _, token = tenants.rotate_token(storage, tid, grace_minutes=60)
    secret = manage.create_secret(storage, tid)["clientSecret"]
    session = requests.Session()
    form = {"grant_type": "client_credentials", "client_id": tid, "client_secret": secret}
    basic = {"grant_type": "client_credentials"}
    _measure("POST /oauth2/token (client_secret_post)", repeat, lambda i: session.post(base + TOKEN, data=form))
    _measure(
        "POST /oauth2/token (client_secret_basic)",
        repeat,
        lambda i: session.post(base + TOKEN, data=basic, auth=(tid, secret)),
    )
    access = session.post(base + TOKEN, data=form).json()["access_token"]
    url = base + "/scim/v2/Users?filter=userName+eq+%22nobody%22"
    for label, credential in [("secret token", token), ("previous token in grace", old), ("access token", access)]:
        session.headers["Authorization"] = f"Bearer {credential}"
        session.get(url)  # the first request of a tenant flushes its health counters
        _measure(f"GET /Users?filter with the {label}", repeat, lambda i: session.get(url))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.oauth_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-oauth-"))
    started = []
    try:
        azurite_port, port = processes.free_port(), processes.free_port()
        started.append(processes.start_azurite(azurite_port, scratch / "azurite.log"))
        connection = processes.connection_string(azurite_port)
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "SCIM_STORAGE_CONNECTION_STRING": connection, "SCIM_PUBLIC_BASE_URL": base}
        started.append(processes.start_localhost(port, env, scratch / "localhost.log"))
        measure(Storage(Settings.from_env({"SCIM_STORAGE_CONNECTION_STRING": connection})), base, args.repeat)
    finally:
        for process in reversed(started):
            processes.stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
