"""OAuth operations interrupted after each of their writes: a rotation with grace never leaves the previous
token valid past its grace period, and a secret revocation's access tokens die by the admin's retry or by
the next reconciliation cycle (odd crash points try the cycle first, even ones the retry)."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from urllib.parse import urlencode

from shared import tenants
from shared.errors import NotFound
from shared.oauth import endpoint, manage
from tests.race.test_crash_points import _crash_points, _run
from tests.support.fixtures_reconcile import cycle


def _access_token(storage, tid: str, secret: str) -> str:
    form = urlencode({"grant_type": "client_credentials", "client_id": tid, "client_secret": secret}).encode()
    return endpoint.token(storage, form, endpoint.FORM, None, f"crash-{tid}")[0]["access_token"]


def test_rotation_with_grace_crashing_after_each_write(storage, frozen):
    def attempt(allowed: int) -> bool:
        view, old = tenants.create_tenant(storage, f"crash-grace-{allowed}")
        tid = view["tenantId"]
        completed = _run(storage, allowed, lambda: tenants.rotate_token(storage, tid, grace_minutes=30))
        cycle(storage, tid)
        frozen["now"] += timedelta(minutes=30)
        assert tenants.authenticate(storage, old) is None or allowed == 0, f"crash after write {allowed}"
        cycle(storage, tid)
        if not completed:  # the admin saw an error and retries
            _, new = tenants.rotate_token(storage, tid, grace_minutes=30)
            assert tenants.authenticate(storage, new) is not None
        return completed

    assert _crash_points(attempt) >= 3


def test_secret_revocation_crashing_after_each_write(storage, frozen):
    def attempt(allowed: int) -> bool:
        tid = tenants.create_tenant(storage, f"crash-secret-{allowed}")[0]["tenantId"]
        created = manage.create_secret(storage, tid)
        issued = _access_token(storage, tid, created["clientSecret"])
        completed = _run(storage, allowed, lambda: manage.revoke_secret(storage, tid, created["secretId"]))
        if allowed % 2 and allowed > 0:  # the secret is gone from the tenant: the next cycle sweeps what is left
            cycle(storage, tid)
            assert tenants.authenticate(storage, issued) is None, f"crash after write {allowed}"
        if not completed:  # the admin retries: it finishes the job, or says nothing was left of the secret
            with contextlib.suppress(NotFound):
                manage.revoke_secret(storage, tid, created["secretId"])
        assert tenants.authenticate(storage, issued) is None
        assert tenants.access_index(storage, tid) == []
        return completed

    assert _crash_points(attempt) >= 3
