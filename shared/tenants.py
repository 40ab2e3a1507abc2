"""Tenants (customer organisations), their secret token and SCIM integration settings.

Rows in the tenants table:
- `T:<tenantId>` / `tenant`: name, settings, integration state, the current token's digest.
- `K:<sha256(token)>` / `token`: the lookup a SCIM request authenticates with, carrying the few settings
  the SCIM path needs, so that authentication costs exactly one point read. It exists only while the
  integration is enabled: rotating or disabling deletes it, which revokes the old token at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from shared import audit, clock
from shared.audit import ACTOR_ADMIN, Target
from shared.errors import Invalid, NotFound
from shared.store import keys
from shared.store.client import Storage
from shared.store.table import Entity, etag_of
from shared.tokens import new_token, token_hash, token_hint

TENANT_ROW = "tenant"
TOKEN_ROW = "token"
DEFAULT_RETENTION_DAYS = 90
SCIM_PATH = "/scim/v2"


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
    return f"K:{digest}"


def tenant_url(public_base_url: str | None) -> str:
    return (public_base_url or "http://127.0.0.1:7071").rstrip("/") + SCIM_PATH


def _token_entity(digest: str, tenant: Entity) -> Entity:
    return {
        "PartitionKey": _token_pk(digest),
        "RowKey": TOKEN_ROW,
        "tenantId": tenant["tenantId"],
        "autoInvite": bool(tenant.get("autoInvite", False)),
        "stale": bool(tenant.get("stale", False)),
    }


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
    }


def _is_unicode_text(text: str) -> bool:
    try:
        text.encode("utf-8")  # a lone UTF-16 surrogate (JSON's "\\ud800") has no UTF-8 form
    except UnicodeEncodeError:
        return False
    return True


def create_tenant(storage: Storage, name: str) -> tuple[dict[str, Any], str]:
    name = (name or "").strip()
    if not name:
        raise Invalid("A tenant needs a non-empty name.")
    if not _is_unicode_text(name):
        raise Invalid("A tenant name must be Unicode text (it holds a lone UTF-16 surrogate).")
    tenant_id = uuid.uuid4().hex
    token = new_token()
    digest = token_hash(token)
    tenant: Entity = {
        "PartitionKey": tenant_pk(tenant_id),
        "RowKey": TENANT_ROW,
        "tenantId": tenant_id,
        "name": name[:256],
        "created": clock.iso(),
        "enabled": True,
        "autoInvite": False,
        "retentionDays": DEFAULT_RETENTION_DAYS,
        "tokenHash": digest,
        "tokenHint": token_hint(token),
        "tokenCreated": clock.iso(),
        "stale": False,
    }
    storage.tenants.create(tenant)
    storage.tenants.upsert(_token_entity(digest, tenant), replace=True)
    audit.record(storage, tenant_id, ACTOR_ADMIN, "tenant.create", Target("Tenant", tenant_id, tenant["name"]))
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
    if row is None:
        return None
    return TenantAuth(
        tenant_id=row["tenantId"], auto_invite=bool(row.get("autoInvite", False)), stale=bool(row.get("stale", False))
    )


def rotate_token(storage: Storage, tenant_id: str) -> tuple[dict[str, Any], str]:
    """A new token; the previous one stops working before this returns."""
    tenant = get_entity(storage, tenant_id)
    old_digest = tenant["tokenHash"]
    token = new_token()
    tenant.update(tokenHash=token_hash(token), tokenHint=token_hint(token), tokenCreated=clock.iso())
    storage.tenants.update(tenant, etag=etag_of(tenant))
    storage.tenants.delete(_token_pk(old_digest), TOKEN_ROW)
    if tenant["enabled"]:
        storage.tenants.upsert(_token_entity(tenant["tokenHash"], tenant), replace=True)
    audit.record(storage, tenant_id, ACTOR_ADMIN, "token.rotate", Target("Token", tenant_id, tenant["tokenHint"]))
    return view(tenant), token


def set_enabled(storage: Storage, tenant_id: str, enabled: bool) -> dict[str, Any]:
    tenant = get_entity(storage, tenant_id)
    tenant["enabled"] = enabled
    storage.tenants.update(tenant, etag=etag_of(tenant))
    if enabled:
        storage.tenants.upsert(_token_entity(tenant["tokenHash"], tenant), replace=True)
    else:
        storage.tenants.delete(_token_pk(tenant["tokenHash"]), TOKEN_ROW)
    action = "integration.enable" if enabled else "integration.disable"
    audit.record(storage, tenant_id, ACTOR_ADMIN, action, Target("Tenant", tenant_id, tenant["name"]))
    return view(tenant)


def update_settings(
    storage: Storage, tenant_id: str, *, auto_invite: bool | None = None, retention_days: int | None = None
) -> dict[str, Any]:
    tenant = get_entity(storage, tenant_id)
    changed: list[str] = []
    if auto_invite is not None and bool(tenant.get("autoInvite")) != auto_invite:
        tenant["autoInvite"] = auto_invite
        changed.append("autoInvite")
    if retention_days is not None:
        if not 1 <= retention_days <= 3650:
            raise Invalid("retentionDays must be between 1 and 3650.")
        if int(tenant.get("retentionDays", DEFAULT_RETENTION_DAYS)) != retention_days:
            tenant["retentionDays"] = retention_days
            changed.append("retentionDays")
    if changed:
        storage.tenants.update(tenant, etag=etag_of(tenant))
        if tenant["enabled"]:
            storage.tenants.upsert(_token_entity(tenant["tokenHash"], tenant), replace=True)
        audit.record(
            storage, tenant_id, ACTOR_ADMIN, "settings.update", Target("Tenant", tenant_id, tenant["name"]), changed=changed
        )
    return view(tenant)


def set_stale(storage: Storage, tenant_id: str, stale: bool) -> None:
    """Mark or clear `stale` on the tenant and on its token row (where the next SCIM request sees it)."""
    tenant = get_entity(storage, tenant_id)
    tenant["stale"] = stale
    tenant["staleSince"] = clock.iso() if stale else None
    storage.tenants.update({k: v for k, v in tenant.items() if v is not None}, etag=None)
    if tenant["enabled"]:
        storage.tenants.upsert(_token_entity(tenant["tokenHash"], tenant), replace=True)
