"""Rotate, disable and enable racing SCIM traffic on a stale tenant (whose first request clears the stale
flag) and the reconciler, over HTTP: afterwards the old token is 401, nothing answered 5xx, and what the
admin API shows is what authentication does."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import requests

from shared import tenants
from shared.tokens import token_hash
from tests.support.crash import token_rows

TRIALS = 20


def _scim_status(base: str, token: str) -> int:
    response = requests.get(
        f"{base}/scim/v2/Users",
        params={"filter": 'userName eq "nobody"'},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    return response.status_code


def _trial(base: str, storage, trial: int) -> None:
    view, old_token = tenants.create_tenant(storage, f"race-{trial}")
    tid = view["tenantId"]
    tenants.set_stale(storage, tid, True)
    admin = f"{base}/api/admin/tenants/{tid}"
    statuses: list[int] = []
    issued: list[str] = []

    def scim() -> None:
        statuses.extend(_scim_status(base, old_token) for _ in range(3))

    def admin_post(path: str) -> Callable[[], None]:
        def post() -> None:
            response = requests.post(f"{admin}/{path}", timeout=60)
            statuses.append(response.status_code)
            if path == "token" and response.status_code == 200:
                issued.append(response.json()["token"])

        return post

    def reconcile() -> None:
        statuses.append(
            requests.post(
                f"{base}/api/admin/reconcile", params={"tenant": tid, "force": "true"}, timeout=120
            ).status_code
        )

    actions = [scim, scim, admin_post("token"), admin_post("token"), reconcile]
    actions += [admin_post("disable")] if trial % 2 else [admin_post("disable"), admin_post("enable")]
    barrier = threading.Barrier(len(actions))
    threads = [threading.Thread(target=lambda a=a: (barrier.wait(), a())) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(status < 500 for status in statuses), statuses
    assert _scim_status(base, old_token) == 401
    shown = requests.get(admin, timeout=60).json()
    tenant = tenants.get_entity(storage, tid)
    assert shown["integrationEnabled"] == tenant["enabled"]
    for token in issued:
        works = tenant["enabled"] and token_hash(token) == tenant["tokenHash"]
        assert _scim_status(base, token) == (200 if works else 401)
    expected = {"K:" + tenant["tokenHash"]} if tenant["enabled"] else set()
    assert {
        row["PartitionKey"] for row in token_rows(storage, tid) if not row.get("pending")
    } == expected  # pending: never valid


@pytest.mark.parametrize("trial", range(TRIALS))
def test_rotate_and_disable_racing_scim_and_the_reconciler(live_server, tenant_storage, trial):
    _trial(live_server, tenant_storage, trial)
