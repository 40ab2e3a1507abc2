"""Helpers shared by the reconciliation tests: a forced clock, one-cycle runs, row and audit reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shared import clock, reconcile
from shared.audit import list_events
from shared.config import Settings
from shared.store.client import Storage

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def settings(budget_seconds: int = 240) -> Settings:
    return Settings.from_env(
        {
            "SCIM_RECONCILE_INTERVAL_MINUTES": "45",
            "SCIM_RECONCILE_TIME_BUDGET_SECONDS": str(budget_seconds),
            "SCIM_STORAGE_CONNECTION_STRING": "unused",  # the tests pass their own Storage
        }
    )


@pytest.fixture
def frozen() -> Iterator[dict[str, datetime]]:
    """A clock the test moves by hand (`frozen["now"] += timedelta(...)`); restored afterwards."""
    moment = {"now": datetime.now(UTC)}
    clock.set_clock(lambda: moment["now"])
    yield moment
    clock.set_clock(None)


def cycle(storage: Storage, tenant_id: str, *, force: bool = True, budget_seconds: int = 240) -> dict[str, Any]:
    return reconcile.run_now(storage, tenant_id=tenant_id, force=force, settings=settings(budget_seconds))[0]


def row_keys(storage: Storage, tenant_id: str, prefix: str) -> set[str]:
    return {r["RowKey"] for r in storage.directory.query(tenant_id, prefix=prefix, select=["RowKey"])}


def actions(storage: Storage, tenant_id: str, prefix: str = "") -> list[str]:
    """Audit actions, newest first, optionally only those starting with prefix."""
    return [e["action"] for e in list_events(storage, tenant_id, limit=10_000)[0] if e["action"].startswith(prefix)]


def patch(op: str, user_ids: list[str]) -> dict[str, Any]:
    return {
        "schemas": [PATCH_OP],
        "Operations": [{"op": op, "path": "members", "value": [{"value": u} for u in user_ids]}],
    }
