"""The cost of one reconciliation cycle for a seeded tenant: wall-clock seconds and storage calls."""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from shared import reconcile, tenants
from shared.store.client import DIRECTORY_TABLE, Storage
from tools.bench import azurite
from tools.bench.seed import Shape, rows, seed


def _new_tenant(storage: Storage) -> str:
    return tenants.create_tenant(storage, f"bench-{uuid.uuid4().hex[:8]}")[0]["tenantId"]


def _progress(written: int) -> None:
    print(f"seeded {written:,} rows", file=sys.stderr, flush=True)


def _cycle(storage: Storage, tenant_id: str) -> dict[str, Any]:
    report = reconcile.run_now(storage, tenant_id=tenant_id, force=True)[0]
    return {
        "seconds": report["durationSeconds"],
        "storageCalls": report["storageCalls"],
        "complete": report["complete"],
        "repairsTotal": report["repairsTotal"],
    }


def on_storage(storage: Storage, shape: Shape) -> dict[str, Any]:
    """Against a configured storage account: seed through the API, then one forced cycle."""
    tenant_id = _new_tenant(storage)
    started = time.monotonic()
    written = seed(storage, tenant_id, shape, progress=_progress)
    seeded = {"rows": written, "seconds": round(time.monotonic() - started, 1), "via": "API transactions"}
    return {"shape": shape.__dict__, "seed": seeded, "cycle": _cycle(storage, tenant_id)}


def on_own_azurite(shape: Shape) -> dict[str, Any]:
    """Against a private Azurite: seed through its database file, then one forced cycle via the API."""
    with tempfile.TemporaryDirectory(prefix="bench-azurite-") as scratch:
        location = Path(scratch)
        with azurite.running(location, keep_changes=True) as storage:
            tenant_id = _new_tenant(storage)  # also creates the tables
        started = time.monotonic()
        written = azurite.append_rows(location, DIRECTORY_TABLE, rows(tenant_id, shape))
        seeded = {"rows": written, "seconds": round(time.monotonic() - started, 1), "via": "Azurite database file"}
        with azurite.running(location) as storage:
            return {"shape": shape.__dict__, "seed": seeded, "cycle": _cycle(storage, tenant_id)}


def describe(result: dict[str, Any]) -> str:
    shape, seeded, cycle = result["shape"], result["seed"], result["cycle"]
    calls = cycle["storageCalls"]
    by_kind = ", ".join(f"{kind} {count:,}" for kind, count in sorted(calls.items()) if kind != "total")
    return "\n".join(
        [
            f"tenant: {shape['users']:,} users, {shape['groups']:,} groups, {shape['memberships']:,} memberships "
            f"({seeded['rows']:,} rows seeded via {seeded['via']} in {seeded['seconds']} s)",
            f"one reconciliation cycle: {cycle['seconds']} s, {calls['total']:,} storage calls ({by_kind})",
            f"complete: {cycle['complete']}, repairs: {cycle['repairsTotal']}",
        ]
    )
