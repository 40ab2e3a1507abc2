"""The OAuth admin operations as JSON-ready results: the admin HTTP API, the CLI (and the web console)
call these, so each rule lives once (in shared.oauth.clients and shared.tenants)."""

from __future__ import annotations

from typing import Any

from shared import tenants
from shared.audit import ACTOR_ADMIN
from shared.config import process_settings
from shared.oauth import clients
from shared.store.client import Storage
from shared.store.table import Entity

TOKEN_PATH = "/oauth2/token"


def token_endpoint() -> str:
    """SCIM_PUBLIC_BASE_URL + /oauth2/token: the Token URL an admin pastes into Entra."""
    return tenants.public_base_url(process_settings().public_base_url) + TOKEN_PATH


def _client(tenant: Entity) -> dict[str, Any]:
    return {"clientId": tenant["tenantId"], "tokenEndpoint": token_endpoint()}


def view(tenant: Entity) -> dict[str, Any]:
    """Everything the admin (and the console) shows about the tenant's OAuth client; never a digest."""
    federation = clients.federation_of(tenant)
    return {
        **_client(tenant),
        "methods": sorted(tenants.methods_of(tenant)),
        "accessTokenMinutes": clients.access_minutes(tenant),
        "secrets": [item.public() for item in clients.secrets_of(tenant)],
        "warnings": clients.expiry_warnings(tenant),
        "federation": federation,
    }


def show(storage: Storage, tenant_id: str) -> dict[str, Any]:
    return view(tenants.get_entity(storage, tenant_id))


def create_secret(
    storage: Storage, tenant_id: str, expires_days: int = clients.DEFAULT_SECRET_DAYS, *, actor: str = ACTOR_ADMIN
) -> dict[str, Any]:
    """The contract's shape: clientId, clientSecret (shown this once), secretId, tokenEndpoint, expires."""
    record, value = clients.create_secret(storage, tenant_id, expires_days, actor=actor)
    return {
        "clientId": tenant_id,
        "clientSecret": value,
        "secretId": record.id,
        "tokenEndpoint": token_endpoint(),
        "expires": record.expires,
    }


def revoke_secret(storage: Storage, tenant_id: str, secret_id: str, *, actor: str = ACTOR_ADMIN) -> dict[str, Any]:
    removed = clients.revoke_secret(storage, tenant_id, secret_id, actor=actor)
    return {"clientId": tenant_id, "secretId": secret_id, "hint": removed.hint if removed else None, "revoked": True}


def set_federation(
    storage: Storage,
    tenant_id: str,
    *,
    issuer: str,
    jwks_url: str,
    subject: str,
    audience: str,
    actor: str = ACTOR_ADMIN,
) -> dict[str, Any]:
    """The contract's shape: the two values Entra needs back, clientId and tokenEndpoint."""
    return _client(clients.set_federation(storage, tenant_id, issuer, jwks_url, subject, audience, actor=actor))


def settings(storage: Storage, tenant_id: str, *, access_token_minutes: int | None = None) -> dict[str, Any]:
    if access_token_minutes is not None:
        return view(clients.set_access_minutes(storage, tenant_id, access_token_minutes))
    return show(storage, tenant_id)


def set_methods(storage: Storage, tenant_id: str, changes: dict[str, bool]) -> dict[str, Any]:
    tenants.set_methods(storage, tenant_id, changes)
    return show(storage, tenant_id)
