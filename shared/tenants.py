"""Tenants (customer organisations), their secret token and SCIM integration settings.

Rows in the tenants table:
- `T:<tenantId>` / `tenant`: name, settings, integration state, the current token's digest. The source of
  truth: admin writes are conditional on its ETag (retried a few times), flag writes merge only their fields.
- `K:<sha256(token)>` / `token`: the lookup a SCIM request authenticates with, carrying the few settings
  the SCIM path needs, so that authentication costs exactly one point read. It must exist (and be active)
  only while the tenant row references it: enabled, with that digest.

The two rows live in different partitions (no shared transaction), so their writes are ordered instead:
- A token row is *published* in two steps: created `pending` (never accepted) before the tenant write, then
  activated by a merge conditional on that row's ETag after a fresh read of the tenant row confirmed it
  references the digest. A missing row is never re-created: that could revive a revoked token.
- A token is *revoked* by deleting its row before the tenant write (whatever crashes later, the old token is
  dead) and again after it: a publisher that read the tenant before our write can only have created its row
  before that second delete, so the delete removes it (or its activation finds the row gone and fails).
- Flag writes on a token row are merges that require the row to exist: they never resurrect it.
- A crash between the steps leaves the tenant with no working token rather than two; reconciliation
  (`repair_tokens`) deletes token rows the tenant does not reference and activates a pending one it does.
  A crash right after the old row's deletion leaves no token at all: the admin rotates again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared import audit, clock
from shared.audit import ACTOR_ADMIN, Target
from shared.errors import Conflict, Invalid, NotFound
from shared.store import keys
from shared.store.client import Storage
from shared.store.errors import AlreadyExists, EtagMismatch, RowMissing
from shared.store.table import Entity, etag_of, timestamp_of
from shared.tokens import new_token, token_hash, token_hint

TENANT_ROW = "tenant"
TOKEN_ROW = "token"
TOKEN_PREFIX = "K:"
DEFAULT_RETENTION_DAYS = 90
SCIM_PATH = "/scim/v2"
_STAGING_QUIET = timedelta(minutes=5)  # longer than an admin request lives
_RETRIES = 5  # admin writes losing the tenant row's ETag race (SCIM's stale-flag merges, a second admin)


class TenantNotFound(NotFound):
    pass


@dataclass(frozen=True)
class TenantAuth:
    """What a SCIM request knows about its tenant after authentication."""

    tenant_id: str
    auto_invite: bool
    stale: bool = False


def tenant_pk(tenant_id: str) -> str:
    return f"T:{tenant_id}"


def _token_pk(digest: str) -> str:
    return TOKEN_PREFIX + digest


DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:7071"  # the local host's default port (make run sets the real one)


def public_base_url(configured: str | None) -> str:
    return (configured or DEFAULT_PUBLIC_BASE_URL).rstrip("/")


def tenant_url(configured_base_url: str | None) -> str:
    return public_base_url(configured_base_url) + SCIM_PATH


def _copied_fields(tenant: Entity) -> Entity:
    """The tenant settings a token row carries for the SCIM path."""
    return {"autoInvite": bool(tenant.get("autoInvite", False)), "stale": bool(tenant.get("stale", False))}


def _references(tenant: Entity | None, digest: str) -> bool:
    return tenant is not None and bool(tenant.get("enabled")) and tenant.get("tokenHash") == digest


def _busy() -> Conflict:
    return Conflict("The tenant was changed concurrently; retry the request.")


def view(tenant: Entity) -> dict[str, Any]:
    """The admin's view of a tenant: settings and integration state, never the token digest."""
    return {
        "tenantId": tenant["tenantId"],
        "name": tenant["name"],
        "created": tenant["created"],
        "integrationEnabled": bool(tenant["enabled"]),
        "autoInvite": bool(tenant.get("autoInvite", False)),
        "retentionDays": int(tenant.get("retentionDays", DEFAULT_RETENTION_DAYS)),
        "tokenHint": tenant.get("tokenHint"),
        "tokenCreated": tenant.get("tokenCreated"),
        "syncState": "stale" if tenant.get("stale") else "ok",
        "entraTenantId": tenant.get("entraTenantId") or None,  # shared.console.tenant_links
    }


def _revoke(storage: Storage, digest: str) -> None:
    storage.tenants.delete(_token_pk(digest), TOKEN_ROW)


def _stage_token(storage: Storage, tenant_id: str, digest: str) -> None:
    """Create the token row `pending` (never accepted): harmless until activated, so it precedes the
    tenant write and a crash after that write leaves something for reconciliation to activate."""
    try:
        storage.tenants.create(
            {"PartitionKey": _token_pk(digest), "RowKey": TOKEN_ROW, "tenantId": tenant_id, "pending": True}
        )
    except AlreadyExists:
        pass


def _activate_token(storage: Storage, tenant_id: str, digest: str, *, our_write: str | None = None) -> bool:
    """Activate the staged row of `digest` if the tenant references it (else remove it); True if valid.
    A missing row was revoked and is not re-created (that could revive a revoked token), except by the
    rotation or enable that wrote the tenant row `our_write` while that write is still the latest: then
    the deletion came from an operation that lost to ours (a disable's delete reaching our staged row)."""
    pk = _token_pk(digest)
    for _ in range(_RETRIES):
        row = storage.tenants.get(pk, TOKEN_ROW)
        tenant = storage.tenants.get(tenant_pk(tenant_id), TENANT_ROW)  # after the row's ETag: see module doc
        if row is None:
            if our_write is None or tenant is None or etag_of(tenant) != our_write:
                return False
            _stage_token(storage, tenant_id, digest)
            continue
        try:
            if not _references(tenant, digest):
                storage.tenants.delete(pk, TOKEN_ROW, etag=etag_of(row))
                return False
            fields = {"PartitionKey": pk, "RowKey": TOKEN_ROW, "pending": False, **_copied_fields(tenant)}  # type: ignore[arg-type]
            storage.tenants.update(fields, etag=etag_of(row), replace=False)
            return True
        except (EtagMismatch, RowMissing):
            continue  # a flag merge or a revocation came between: decide again on fresh rows
    return False


def _is_unicode_text(text: str) -> bool:
    try:
        text.encode("utf-8")  # a lone UTF-16 surrogate (JSON's "\\ud800") has no UTF-8 form
    except UnicodeEncodeError:
        return False
    return True


def create_tenant(storage: Storage, name: str, *, actor: str = ACTOR_ADMIN) -> tuple[dict[str, Any], str]:
    name = (name or "").strip()
    if not name:
        raise Invalid("A tenant needs a non-empty name.")
    if not _is_unicode_text(name):
        raise Invalid("A tenant name must be Unicode text (it holds a lone UTF-16 surrogate).")
    tenant_id = uuid.uuid4().hex
    token = new_token()
    tenant: Entity = {
        "PartitionKey": tenant_pk(tenant_id),
        "RowKey": TENANT_ROW,
        "tenantId": tenant_id,
        "name": name[:256],
        "created": clock.iso(),
        "enabled": True,
        "autoInvite": False,
        "retentionDays": DEFAULT_RETENTION_DAYS,
        "tokenHash": token_hash(token),
        "tokenHint": token_hint(token),
        "tokenCreated": clock.iso(),
        "stale": False,
    }
    _stage_token(storage, tenant_id, tenant["tokenHash"])
    storage.tenants.create(tenant)
    _activate_token(storage, tenant_id, tenant["tokenHash"])
    audit.record(storage, tenant_id, actor, "tenant.create", Target("Tenant", tenant_id, tenant["name"]))
    return view(tenant), token


def get_entity(storage: Storage, tenant_id: str) -> Entity:
    # Tenant ids are issued like resource ids; anything else (a "/" from a URL, say) names no tenant.
    entity = storage.tenants.get(tenant_pk(tenant_id), TENANT_ROW) if keys.is_resource_id(tenant_id or "") else None
    if entity is None:
        raise TenantNotFound(f"Tenant {tenant_id!r} not found.")
    return entity


def get_tenant(storage: Storage, tenant_id: str) -> dict[str, Any]:
    return view(get_entity(storage, tenant_id))


def list_tenants(storage: Storage) -> list[dict[str, Any]]:
    rows = storage.tenants.scan_rows(TENANT_ROW, pk_low="T:", pk_high="T;")
    return [view(row) for row in rows]


def authenticate(storage: Storage, token: str | None) -> TenantAuth | None:
    if not token:
        return None
    row = storage.tenants.get(_token_pk(token_hash(token)), TOKEN_ROW)
    if row is None or row.get("pending"):
        return None
    return TenantAuth(
        tenant_id=row["tenantId"], auto_invite=bool(row.get("autoInvite", False)), stale=bool(row.get("stale", False))
    )


def rotate_token(storage: Storage, tenant_id: str, *, actor: str = ACTOR_ADMIN) -> tuple[dict[str, Any], str]:
    """A new token; the previous one stops working before this returns (and for good)."""
    token = new_token()
    for _ in range(_RETRIES):
        tenant = get_entity(storage, tenant_id)
        old_digest = tenant["tokenHash"]
        _revoke(storage, old_digest)  # first: from any crash point on, the old token is dead
        if tenant["enabled"]:
            _stage_token(storage, tenant_id, token_hash(token))
        tenant.update(tokenHash=token_hash(token), tokenHint=token_hint(token), tokenCreated=clock.iso())
        try:
            written = storage.tenants.update(tenant, etag=etag_of(tenant))
        except EtagMismatch:
            continue
        _revoke(storage, old_digest)
        if tenant["enabled"]:
            _activate_token(storage, tenant_id, tenant["tokenHash"], our_write=written)
        audit.record(storage, tenant_id, actor, "token.rotate", Target("Token", tenant_id, tenant["tokenHint"]))
        return view(tenant), token
    raise _busy()


def set_enabled(storage: Storage, tenant_id: str, enabled: bool, *, actor: str = ACTOR_ADMIN) -> dict[str, Any]:
    for _ in range(_RETRIES):
        tenant = get_entity(storage, tenant_id)
        switching_on = enabled and not tenant["enabled"]  # enabling an enabled tenant revives nothing
        if switching_on:
            _stage_token(storage, tenant_id, tenant["tokenHash"])
        elif not enabled:
            _revoke(storage, tenant["tokenHash"])
        tenant["enabled"] = enabled
        try:
            written = storage.tenants.update(tenant, etag=etag_of(tenant))
        except EtagMismatch:
            continue
        if switching_on:
            _activate_token(storage, tenant_id, tenant["tokenHash"], our_write=written)
        elif not enabled:
            _revoke(storage, tenant["tokenHash"])
        action = "integration.enable" if enabled else "integration.disable"
        audit.record(storage, tenant_id, actor, action, Target("Tenant", tenant_id, tenant["name"]))
        return view(tenant)
    raise _busy()


def _merge_token_row(storage: Storage, digest: str, fields: Entity) -> None:
    """Merge fields into an existing token row only: a revoked token's row stays gone."""
    try:
        storage.tenants.update(
            {"PartitionKey": _token_pk(digest), "RowKey": TOKEN_ROW, **fields}, etag=None, replace=False
        )
    except RowMissing:
        pass


def update_settings(
    storage: Storage,
    tenant_id: str,
    *,
    auto_invite: bool | None = None,
    retention_days: int | None = None,
    actor: str = ACTOR_ADMIN,
) -> dict[str, Any]:
    if retention_days is not None and not 1 <= retention_days <= 3650:
        raise Invalid("retentionDays must be between 1 and 3650.")
    for _ in range(_RETRIES):
        tenant = get_entity(storage, tenant_id)
        changed: list[str] = []
        if auto_invite is not None and bool(tenant.get("autoInvite")) != auto_invite:
            tenant["autoInvite"] = auto_invite
            changed.append("autoInvite")
        if retention_days is not None and int(tenant.get("retentionDays", DEFAULT_RETENTION_DAYS)) != retention_days:
            tenant["retentionDays"] = retention_days
            changed.append("retentionDays")
        if not changed:
            return view(tenant)
        try:
            storage.tenants.update(tenant, etag=etag_of(tenant))
        except EtagMismatch:
            continue
        if "autoInvite" in changed:
            _merge_token_row(storage, tenant["tokenHash"], {"autoInvite": tenant["autoInvite"]})
        audit.record(
            storage,
            tenant_id,
            actor,
            "settings.update",
            Target("Tenant", tenant_id, tenant["name"]),
            changed=changed,
        )
        return view(tenant)
    raise _busy()


def set_stale(storage: Storage, tenant_id: str, stale: bool) -> None:
    """Mark or clear `stale` on the tenant and on its token row (where the next SCIM request sees it).

    Merges of these fields only. Marking writes the tenant first, clearing the token row first: however a
    mark and a clear interleave, the token row is never left clear while the tenant says stale (the
    opposite heals itself: the next SCIM request clears again)."""
    tenant = get_entity(storage, tenant_id)
    fields: Entity = {"stale": stale, **({"staleSince": clock.iso()} if stale else {})}
    tenant_merge = {"PartitionKey": tenant_pk(tenant_id), "RowKey": TENANT_ROW, **fields}
    if not stale:
        _merge_token_row(storage, tenant["tokenHash"], {"stale": False})
    try:
        storage.tenants.update(tenant_merge, etag=None, replace=False)
    except RowMissing:
        return
    if stale:
        _merge_token_row(storage, tenant["tokenHash"], {"stale": True})


def repair_tokens(storage: Storage, tenant_id: str) -> int:
    """Delete the tenant's token rows it no longer references; activate the one it does if a crash left
    it pending (mid-rotation, mid-enable, mid-creation). Returns how many rows were repaired.

    Token rows are keyed by digest, so finding a tenant's rows scans them all (one query per 1,000)."""
    rows = [
        r
        for r in storage.tenants.scan_rows(TOKEN_ROW, pk_low=TOKEN_PREFIX, pk_high="K;")
        if r.get("tenantId") == tenant_id
    ]
    tenant = storage.tenants.get(tenant_pk(tenant_id), TENANT_ROW)  # read after the rows: see the module doc
    quiet_since = clock.now() - _STAGING_QUIET
    repaired = 0
    for row in rows:
        if _references(tenant, row["PartitionKey"][len(TOKEN_PREFIX) :]):
            continue
        if row.get("pending") and timestamp_of(row) > quiet_since:
            continue  # staged by a rotation or an enable that may still be running (never valid meanwhile)
        try:
            storage.tenants.delete(row["PartitionKey"], TOKEN_ROW, etag=etag_of(row))
        except (EtagMismatch, RowMissing):
            continue  # changed since the scan: the next cycle looks again
        repaired += 1
    for row in rows:
        digest = row["PartitionKey"][len(TOKEN_PREFIX) :]
        if row.get("pending") and _references(tenant, digest) and _activate_token(storage, tenant_id, digest):
            repaired += 1
    return repaired
