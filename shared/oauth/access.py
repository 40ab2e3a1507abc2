"""Access tokens issued by the token endpoint.

An access token is opaque (256 random bits), stored only as its SHA-256 digest, in the same `K:<digest>`
row a SCIM request already authenticates with (shared.tenants): a SCIM call costs the same one point read
whatever the method. The row carries `expires` (checked at read time, no write needed to end it) and
`source` (the secret id it was issued from, or `federation`). A signed JWT would save that read but could
not be revoked before it expires; the row is revoked by deleting it, so revocation is immediate.

Each token also has an index row `T:<tenant>` / `A:<digest>` (source, expires) in the tenant partition, so a
revocation (secret revoked, method turned off, integration disabled) finds the tenant's tokens with one
query instead of a scan of every token row.

Publishing order: the index row, then the token row, then a fresh read of the tenant; if the source no
longer counts (secret revoked, method off, integration disabled) both rows are deleted and the request
refused. A revoker writes the tenant first and lists index rows after, so either its listing sees our index
row (and deletes the token row; if our create came after that delete, our re-read sees its write) or our
re-read, which follows the index write, sees its write. The sweep reads the index rows before the tenant
for the same reason: a source it does not find on the later tenant read was gone before the token.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from shared import clock, tenants
from shared.oauth import clients
from shared.oauth.errors import invalid_client
from shared.store import keys
from shared.store.client import Storage
from shared.store.table import Entity
from shared.tokens import token_hash

ACCESS_PREFIX = "scimat_"


def source_allowed(tenant: Entity, source: str) -> bool:
    """May a token of this source authenticate: integration on, its method on, and its secret still active
    (or, for federation, a configuration present)."""
    if not tenants.access_live(tenant, source):
        return False
    if source == tenants.FEDERATION:
        return clients.federation_of(tenant) is not None
    return any(item.id == source and item.active() for item in clients.secrets_of(tenant))


def issue(storage: Storage, tenant: Entity, source: str) -> tuple[str, int]:
    """A new access token for the tenant (as read by the caller) and its lifetime in seconds."""
    tenant_id = tenant["tenantId"]
    token = ACCESS_PREFIX + secrets.token_urlsafe(32)
    digest = token_hash(token)
    minutes = clients.access_minutes(tenant)
    expires = clock.iso(clock.now() + timedelta(minutes=minutes))
    storage.tenants.create(
        {
            "PartitionKey": tenants.tenant_pk(tenant_id),
            "RowKey": tenants.ACCESS_INDEX + digest,
            "source": source,
            "expires": expires,
        }
    )
    flags = tenants.copied_fields(tenant)
    storage.tenants.create(
        {
            "PartitionKey": tenants.TOKEN_PREFIX + digest,
            "RowKey": tenants.TOKEN_ROW,
            "tenantId": tenant_id,
            "source": source,
            "expires": expires,
            **flags,
        }
    )
    fresh = storage.tenants.get(tenants.tenant_pk(tenant_id), tenants.TENANT_ROW)
    if fresh is None or not source_allowed(fresh, source):
        tenants.delete_access(storage, tenant_id, digest)
        raise invalid_client()
    if tenants.copied_fields(fresh) != flags:  # a settings or stale write came between: it may have missed us
        storage.tenants.update(
            {
                "PartitionKey": tenants.TOKEN_PREFIX + digest,
                "RowKey": tenants.TOKEN_ROW,
                **tenants.copied_fields(fresh),
            },
            etag=None,
            replace=False,
        )
    return token, minutes * 60


def sweep(storage: Storage, tenant_id: str) -> int:
    """Delete the tenant's access tokens that expired or whose source no longer counts (what a crash in a
    revocation left behind). One query of the index rows, then a delete pair per token removed."""
    rows = tenants.access_index(storage, tenant_id)
    tenant = storage.tenants.get(tenants.tenant_pk(tenant_id), tenants.TENANT_ROW)  # after the rows: module doc
    swept = 0
    for index in rows:
        if tenant is not None and not tenants.expired(index) and source_allowed(tenant, str(index.get("source"))):
            continue
        tenants.delete_access(storage, tenant_id, keys.suffix(index["RowKey"], tenants.ACCESS_INDEX))
        swept += 1
    return swept
