"""The admin operations, shaped as JSON-ready results; the admin HTTP API and the CLI both call these."""

from __future__ import annotations

from typing import Any

from shared import audit, employees, health, invitations, reconcile, tenants
from shared.audit import ACTOR_ADMIN
from shared.config import process_settings
from shared.errors import Invalid
from shared.store.client import Storage


def public_tenant_url() -> str:
    return tenants.tenant_url(process_settings().public_base_url)


def _require_tenant(storage: Storage, tenant_id: str) -> None:
    tenants.get_entity(storage, tenant_id)  # TenantNotFound is a NotFound


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= 1000:
        raise Invalid("limit must be between 1 and 1000.")


def create_tenant(storage: Storage, name: str, *, actor: str = ACTOR_ADMIN) -> dict[str, Any]:
    view, token = tenants.create_tenant(storage, name, actor=actor)
    return {**view, "tenantUrl": public_tenant_url(), "token": token}


def list_tenants(storage: Storage) -> list[dict[str, Any]]:
    return [{**t, "tenantUrl": public_tenant_url()} for t in tenants.list_tenants(storage)]


def show_tenant(storage: Storage, tenant_id: str) -> dict[str, Any]:
    _require_tenant(storage, tenant_id)
    return {
        **tenants.get_tenant(storage, tenant_id),
        "tenantUrl": public_tenant_url(),
        "health": health.summary(storage, tenant_id),
    }


def rotate_token(
    storage: Storage, tenant_id: str, grace_minutes: int = 0, *, actor: str = ACTOR_ADMIN
) -> dict[str, Any]:
    _require_tenant(storage, tenant_id)
    view, token = tenants.rotate_token(storage, tenant_id, grace_minutes, actor=actor)
    return {**view, "tenantUrl": public_tenant_url(), "token": token}


def set_enabled(storage: Storage, tenant_id: str, enabled: bool, *, actor: str = ACTOR_ADMIN) -> dict[str, Any]:
    _require_tenant(storage, tenant_id)
    return tenants.set_enabled(storage, tenant_id, enabled, actor=actor)


def settings(
    storage: Storage,
    tenant_id: str,
    *,
    auto_invite: bool | None = None,
    retention_days: int | None = None,
    actor: str = ACTOR_ADMIN,
) -> dict[str, Any]:
    _require_tenant(storage, tenant_id)
    return tenants.update_settings(
        storage, tenant_id, auto_invite=auto_invite, retention_days=retention_days, actor=actor
    )


def tenant_health(storage: Storage, tenant_id: str) -> dict[str, Any]:
    _require_tenant(storage, tenant_id)
    view = tenants.get_tenant(storage, tenant_id)
    return {
        "integrationEnabled": view["integrationEnabled"],
        "syncState": view["syncState"],
        **health.summary(storage, tenant_id),
    }


def list_employees(storage: Storage, tenant_id: str, **query: Any) -> dict[str, Any]:
    """`query`: status, search, limit, continuation, as employees.list_employees takes them."""
    _require_tenant(storage, tenant_id)
    items, token = employees.list_employees(storage, tenant_id, **query)
    return {"employees": items, "continuation": token}


def invite(
    storage: Storage,
    tenant_id: str,
    *,
    ids: list[str] | None = None,
    all_staged: bool = False,
    confirm_count: int | None = None,
    actor: str = ACTOR_ADMIN,
) -> list[dict[str, Any]]:
    _require_tenant(storage, tenant_id)
    return employees.invite_employees(
        storage, tenant_id, ids=ids, all_staged=all_staged, confirm_count=confirm_count, actor=actor
    )


def retry_invitation(storage: Storage, tenant_id: str, user_id: str) -> dict[str, Any]:
    _require_tenant(storage, tenant_id)
    return employees.retry_invitation(storage, tenant_id, user_id)


def invitation_template(
    storage: Storage, tenant_id: str, changes: dict[str, Any] | None = None, *, reset: bool = False
) -> dict[str, Any]:
    """Show the tenant's invitation template and send rate, or change them (changes, reset)."""
    _require_tenant(storage, tenant_id)
    if changes or reset:
        return invitations.set_settings(storage, tenant_id, changes or {}, reset=reset)
    return invitations.get_settings(storage, tenant_id)


def activate(storage: Storage, tenant_id: str, user_id: str) -> dict[str, Any]:
    _require_tenant(storage, tenant_id)
    return employees.activate_employee(storage, tenant_id, user_id)


def delete_employee(storage: Storage, tenant_id: str, user_id: str, *, actor: str = ACTOR_ADMIN) -> dict[str, Any]:
    _require_tenant(storage, tenant_id)
    return employees.delete_employee(storage, tenant_id, user_id, actor=actor)


def audit_log(
    storage: Storage,
    tenant_id: str,
    *,
    limit: int = 100,
    since: str | None = None,
    until: str | None = None,
    action: str | None = None,
    target_id: str | None = None,
    continuation: str | None = None,
) -> dict[str, Any]:
    _require_tenant(storage, tenant_id)
    _check_limit(limit)
    events, token = audit.list_events(
        storage,
        tenant_id,
        limit=limit,
        since=since,
        until=until,
        action=action,
        target_id=target_id,
        continuation=continuation,
    )
    return {"events": events, "continuation": token}


def cycles(storage: Storage, tenant_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
    _require_tenant(storage, tenant_id)
    _check_limit(limit)
    return reconcile.list_reports(storage, tenant_id, limit=limit)


def outbox(storage: Storage, tenant_id: str, *, state: str | None = None) -> list[dict[str, Any]]:
    """Invitations with their delivery state and content (what the console shows as sent invitations)."""
    _require_tenant(storage, tenant_id)
    return invitations.list_outbox(storage, tenant_id, state=state)
