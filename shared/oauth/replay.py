"""Assertions already used: a replayed client assertion must not buy a second access token.

Instances share nothing but storage, so the memory of used assertions is a row per assertion in the
tenants table, created only if absent: the storage service decides which of two racing instances was
first, and the loser's `AlreadyExists` is the replay. Rows live in the tenant's own partition
`J:<tenantId>` (RowKey: SHA-256 of the assertion's id, so no claim value becomes a key), which keeps them
away from the tenant and token rows and lets `purge` drop the expired ones with one partition query.
A row is needed only until the assertion expires: after that the expiry check refuses the token anyway.
The token endpoint purges after each accepted assertion: Entra asks for a token about once an hour and an
assertion lives about that long, so the partition stays a handful of rows and the purge a small query
plus a delete or two, on the token path and never on a SCIM request.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from shared import clock
from shared.store.client import Storage
from shared.store.errors import AlreadyExists

PARTITION_PREFIX = "J:"


def _pk(tenant_id: str) -> str:
    return PARTITION_PREFIX + tenant_id


def first_use(storage: Storage, tenant_id: str, assertion_id: str, expires: datetime) -> bool:
    """Record the assertion `assertion_id` of `tenant_id`; False if it was recorded before (a replay).
    One storage call; StorageUnavailable propagates (better a 503 than a token for a possible replay)."""
    row = {
        "PartitionKey": _pk(tenant_id),
        "RowKey": hashlib.sha256(assertion_id.encode("utf-8")).hexdigest(),
        "expires": clock.iso(expires),
    }
    try:
        storage.tenants.create(row)
    except AlreadyExists:
        return False
    return True


def purge(storage: Storage, tenant_id: str) -> int:
    """Delete the tenant's rows of assertions that have expired; returns how many."""
    now = clock.now()
    expired = [
        row["RowKey"]
        for row in storage.tenants.query(_pk(tenant_id), select=["RowKey", "expires"])
        if clock.parse_iso(row["expires"]) <= now
    ]
    for row_key in expired:
        storage.tenants.delete(_pk(tenant_id), row_key)
    return len(expired)
