"""Failed token-endpoint attempts, counted per client id and per source address in fixed windows.

Only failures are counted, and only a failing attempt past the threshold is answered 429 (with
Retry-After) instead of 401: a correct request is always served. Entra's provisioning service calls from
addresses every Entra customer shares, so one customer's wrong secret must never lock out another's
token requests; and the secrets are 256-bit random, so slowing guesses matters for noise and cost, not for
their strength. Correct requests therefore cost no counter read at all.

One row per key (`R:<kind>:<sha256(key)>` / `window`: window start, failures) in the tenants table, shared
by every instance; a new window resets it. Increments are ETag-conditional (a lost race retries), so
instances do not lose counts; the key is hashed (addresses are personal data, ids may hold any character).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared import clock
from shared.store.client import Storage
from shared.store.errors import AlreadyExists, EtagMismatch, RowMissing
from shared.store.table import etag_of

THRESHOLD = 10  # failures per window before a failure is answered 429
WINDOW_SECONDS = 300
_ROW = "window"
_RETRIES = 5


@dataclass(frozen=True)
class Verdict:
    counts: tuple[int, ...]  # failures per key in this window, this one included
    retry_after: int  # seconds until the window ends

    @property
    def limited(self) -> bool:
        return any(count > THRESHOLD for count in self.counts)

    @property
    def burst_started(self) -> bool:
        """True once per window and key: the failure that crossed the threshold (audited)."""
        return THRESHOLD + 1 in self.counts


def _pk(kind: str, key: str) -> str:
    return f"R:{kind}:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _count(storage: Storage, pk: str, window: int) -> int:
    for _ in range(_RETRIES):
        row = storage.tenants.get(pk, _ROW)
        fresh = {"PartitionKey": pk, "RowKey": _ROW, "window": window, "failures": 1}
        try:
            if row is None:
                storage.tenants.create(fresh)
                return 1
            if int(row.get("window", 0)) != window:
                storage.tenants.update(fresh, etag=etag_of(row))
                return 1
            failures = int(row.get("failures", 0)) + 1
            storage.tenants.update({**fresh, "failures": failures}, etag=etag_of(row))
            return failures
        except (AlreadyExists, EtagMismatch, RowMissing):
            continue
    return THRESHOLD + 2  # contended this hard: count it as limited


def record_failure(storage: Storage, *, client_id: str | None, address: str | None) -> Verdict:
    """Count one failed attempt under each key present; what the caller answers depends on the verdict."""
    now = int(clock.now().timestamp())
    window = now - now % WINDOW_SECONDS
    counts = [_count(storage, _pk(kind, key), window) for kind, key in (("c", client_id), ("a", address)) if key]
    return Verdict(counts=tuple(counts), retry_after=max(1, window + WINDOW_SECONDS - now))
