"""The tenant screens' JSON API, called by console.js: every change goes through shared.admin with the
signed-in person as the audit actor (CSRF and Origin are checked by the frame, scim_handlers.console.web)."""

from __future__ import annotations

from typing import Any

from scim_handlers.console.web import Reply, Request, register
from shared import admin, employees
from shared.errors import Invalid
from shared.lifecycle import STAGED


def _bool(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise Invalid(f"{name} must be true or false.")


def _token(request: Request) -> Reply:
    rotated = admin.rotate_token(request.storage, request.tenant_id, actor=request.principal.actor)
    keep = ("token", "tokenHint", "tokenCreated", "tenantUrl", "integrationEnabled")
    return Reply(200, {k: rotated[k] for k in keep})


def _integration(request: Request) -> Reply:
    enabled = _bool(request.json(), "enabled")
    if enabled is None:
        raise Invalid("Say whether the integration is enabled (enabled: true or false).")
    return Reply(200, admin.set_enabled(request.storage, request.tenant_id, enabled, actor=request.principal.actor))


def _settings(request: Request) -> Reply:
    body = request.json()
    retention = body.get("retentionDays")
    if retention is not None and (isinstance(retention, bool) or not isinstance(retention, int)):
        raise Invalid("retentionDays must be a whole number of days.")
    view = admin.settings(
        request.storage,
        request.tenant_id,
        auto_invite=_bool(body, "autoInvite"),
        retention_days=retention,
        actor=request.principal.actor,
    )
    return Reply(200, view)


def _invite(request: Request) -> Reply:
    body = request.json()
    ids = body.get("ids")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
        raise Invalid("ids must be a list of employee ids.")
    confirm = body.get("confirmCount")
    if confirm is not None and (isinstance(confirm, bool) or not isinstance(confirm, int)):
        raise Invalid("confirmCount must be the number of staged employees the confirmation showed.")
    invited = admin.invite(
        request.storage,
        request.tenant_id,
        ids=ids,
        all_staged=bool(_bool(body, "allStaged")),
        confirm_count=confirm,
        actor=request.principal.actor,
    )
    return Reply(200, {"employees": [{"id": e["id"], "status": e["status"]} for e in invited]})


def _staged_count(request: Request) -> Reply:
    return Reply(200, {"staged": employees.count_with_status(request.storage, request.tenant_id, STAGED)})


def _delete(request: Request) -> Reply:
    deleted = admin.delete_employee(
        request.storage, request.tenant_id, request.req.route_params["id"], actor=request.principal.actor
    )
    return Reply(200, {"id": deleted["id"], "deleted": True})


register("console_api_token", "t/{tenant}/api/token", ["POST"], "tenant", _token, api=True)
register("console_api_integration", "t/{tenant}/api/integration", ["POST"], "tenant", _integration, api=True)
register("console_api_settings", "t/{tenant}/api/settings", ["POST"], "tenant", _settings, api=True)
register("console_api_invite", "t/{tenant}/api/invite", ["POST"], "tenant", _invite, api=True)
register("console_api_staged", "t/{tenant}/api/staged-count", ["GET"], "tenant", _staged_count, api=True)
register("console_api_delete", "t/{tenant}/api/employees/{id}/delete", ["POST"], "tenant", _delete, api=True)
