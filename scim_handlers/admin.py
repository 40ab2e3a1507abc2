"""/api/admin/...: the admin portal's API. Protected by Functions keys in Azure (AuthLevel.FUNCTION);
a SCIM bearer token is never accepted here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import azure.functions as func

from scim_handlers import app_context
from scim_handlers.pipeline import Edge, Reply, parse_json, serve
from shared import admin, reconcile
from shared.errors import Invalid
from shared.events import delivery
from shared.events import service as webhooks
from shared.oauth import manage
from shared.scim.errors import ScimError
from shared.store.client import Storage

bp = func.Blueprint()
ADMIN_CYCLE_BUDGET_SECONDS = 120

Handler = Callable[[Storage, func.HttpRequest, dict[str, str]], Any]

ADMIN_EDGE = Edge(
    event="admin.request",
    logger=logging.getLogger("admin.request"),
    content_type="application/json",
    error_reply=lambda error: Reply(
        error.status, {"status": error.status, "detail": error.detail}, dict(error.headers)
    ),
    internal_detail="Internal error.",
)


@dataclass(frozen=True)
class AdminCall:
    req: func.HttpRequest
    route: str  # below /api/admin, as requested
    tenant_id: str | None


def _json_body(req: func.HttpRequest) -> dict[str, Any]:
    body = parse_json(req.get_body() or b"")
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise Invalid("Body must be a JSON object.")
    return body


def _int(value: Any, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise Invalid(f"{name} must be a whole number.")
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise Invalid(f"{name} must be a whole number.") from None


def _bool(value: Any, name: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    raise Invalid(f"{name} must be true or false.")


def _serve(req: func.HttpRequest, handler: Handler, success: int = 200) -> func.HttpResponse:
    context = app_context.current()
    call = AdminCall(req, req.url.split("?")[0].split("/api/admin", 1)[-1], req.route_params.get("tenant"))

    def answer() -> Reply:
        if (req.headers.get("Authorization") or "").lower().startswith("bearer "):
            raise ScimError(401, None, "The admin API does not accept SCIM tokens; use a function key.")
        return Reply(success, handler(context.storage, req, dict(req.route_params)))

    def observe(reply: Reply) -> None:
        if req.method.upper() != "GET" and reply.status < 300 and call.tenant_id:
            delivery.after_change(context.storage, call.tenant_id)  # the change's events, right away

    return serve(ADMIN_EDGE, call, answer, observe=observe)


def _route(name: str, route: str, methods: list[str], handler: Handler, success: int = 200) -> None:
    def trigger(req: func.HttpRequest) -> func.HttpResponse:
        return _serve(req, handler, success)

    trigger.__name__ = name
    bp.function_name(name)(
        bp.route(route="api/admin/" + route, methods=methods, auth_level=func.AuthLevel.FUNCTION)(trigger)
    )


def _settings(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    body = _json_body(r)
    retention = body.get("retentionDays")
    return admin.settings(
        s,
        p["tenant"],
        auto_invite=_bool(body.get("autoInvite"), "autoInvite"),
        retention_days=None if retention is None else _int(retention, "retentionDays", 0),
    )


def _invite(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    body = _json_body(r)
    ids = body.get("ids")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
        raise Invalid("ids must be a list of employee ids.")
    confirm = body.get("confirmCount")
    return admin.invite(
        s,
        p["tenant"],
        ids=ids,
        all_staged=bool(_bool(body.get("allStaged"), "allStaged")),
        confirm_count=None if confirm is None else _int(confirm, "confirmCount", 0),
    )


def _template(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    body = _json_body(r)
    reset = bool(_bool(body.pop("reset", None), "reset"))
    if not body and not reset:
        raise Invalid("Send the template fields to change (subject, text, html, invitationUrl, ratePerMinute).")
    return admin.invitation_template(s, p["tenant"], body, reset=reset)


def _reconcile(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    # Stay well inside the HTTP request timeout (~230 s); an unfinished cycle resumes on the next tick.
    settings = app_context.current().settings
    settings = replace(
        settings, reconcile_time_budget_seconds=min(settings.reconcile_time_budget_seconds, ADMIN_CYCLE_BUDGET_SECONDS)
    )
    force = r.params.get("force", "").lower() in ("1", "true")
    return reconcile.run_now(s, tenant_id=r.params.get("tenant") or None, force=force, settings=settings)


def _cycles(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    return admin.cycles(s, p["tenant"], limit=_int(r.params.get("limit"), "limit", 20))


_route(
    "admin_tenants_create",
    "tenants",
    ["POST"],
    lambda s, r, p: admin.create_tenant(s, str(_json_body(r).get("name") or "")),
    201,
)
_route("admin_tenants_list", "tenants", ["GET"], lambda s, r, p: admin.list_tenants(s))
_route("admin_tenant_show", "tenants/{tenant}", ["GET"], lambda s, r, p: admin.show_tenant(s, p["tenant"]))
_route(
    "admin_tenant_token",
    "tenants/{tenant}/token",
    ["POST"],
    lambda s, r, p: admin.rotate_token(s, p["tenant"], _int(_json_body(r).get("graceMinutes"), "graceMinutes", 0)),
)
_route(
    "admin_tenant_disable",
    "tenants/{tenant}/disable",
    ["POST"],
    lambda s, r, p: admin.set_enabled(s, p["tenant"], False),
)
_route(
    "admin_tenant_enable", "tenants/{tenant}/enable", ["POST"], lambda s, r, p: admin.set_enabled(s, p["tenant"], True)
)
_route(
    "admin_tenant_settings_get", "tenants/{tenant}/settings", ["GET"], lambda s, r, p: admin.settings(s, p["tenant"])
)
_route("admin_tenant_settings_set", "tenants/{tenant}/settings", ["PATCH"], _settings)
_route("admin_tenant_health", "tenants/{tenant}/health", ["GET"], lambda s, r, p: admin.tenant_health(s, p["tenant"]))
_route(
    "admin_employees_list",
    "tenants/{tenant}/employees",
    ["GET"],
    lambda s, r, p: admin.list_employees(
        s,
        p["tenant"],
        status=r.params.get("status") or None,
        limit=_int(r.params.get("limit"), "limit", 100),
        continuation=r.params.get("continuation") or None,
    ),
)
_route("admin_employees_invite", "tenants/{tenant}/employees/invite", ["POST"], _invite)
_route(
    "admin_employee_activate",
    "tenants/{tenant}/employees/{id}/activate",
    ["POST"],
    lambda s, r, p: admin.activate(s, p["tenant"], p["id"]),
)
_route(
    "admin_employee_delete",
    "tenants/{tenant}/employees/{id}",
    ["DELETE"],
    lambda s, r, p: admin.delete_employee(s, p["tenant"], p["id"]),
)
_route(
    "admin_employee_invitation_retry",
    "tenants/{tenant}/employees/{id}/invitation/retry",
    ["POST"],
    lambda s, r, p: admin.retry_invitation(s, p["tenant"], p["id"]),
)
_route(
    "admin_outbox",
    "tenants/{tenant}/outbox",
    ["GET"],
    lambda s, r, p: admin.outbox(s, p["tenant"], state=r.params.get("state") or None),
)
_route(
    "admin_invitation_template_get",
    "tenants/{tenant}/invitation-template",
    ["GET"],
    lambda s, r, p: admin.invitation_template(s, p["tenant"]),
)
_route("admin_invitation_template_set", "tenants/{tenant}/invitation-template", ["PATCH"], _template)
_route(
    "admin_audit",
    "tenants/{tenant}/audit",
    ["GET"],
    lambda s, r, p: admin.audit_log(
        s,
        p["tenant"],
        limit=_int(r.params.get("limit"), "limit", 100),
        since=r.params.get("since") or None,
        until=r.params.get("until") or None,
        action=r.params.get("action") or None,
        target_id=r.params.get("targetId") or None,
        continuation=r.params.get("continuation") or None,
    ),
)
_route("admin_reconcile", "reconcile", ["POST"], _reconcile)
_route("admin_cycles", "tenants/{tenant}/cycles", ["GET"], _cycles)


# --- OAuth: client secrets, federation, methods, access-token lifetime (shared.oauth.manage) -------------


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string.")
    return value


def _methods(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    body = _json_body(r)
    return manage.set_methods(s, p["tenant"], {name: bool(_bool(on, name)) for name, on in body.items()})


def _oauth_settings(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    minutes = _json_body(r).get("accessTokenMinutes")
    return manage.settings(
        s, p["tenant"], access_token_minutes=None if minutes is None else _int(minutes, "accessTokenMinutes", 0)
    )


def _federation(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    body = _json_body(r)
    return manage.set_federation(
        s,
        p["tenant"],
        issuer=_text(body, "issuer"),
        jwks_url=_text(body, "jwksUrl"),
        subject=_text(body, "subject"),
        audience=_text(body, "audience"),
    )


_route("admin_oauth_show", "tenants/{tenant}/oauth", ["GET"], lambda s, r, p: manage.show(s, p["tenant"]))
_route("admin_oauth_settings", "tenants/{tenant}/oauth", ["PATCH"], _oauth_settings)
_route("admin_oauth_methods", "tenants/{tenant}/methods", ["PATCH"], _methods)
_route(
    "admin_oauth_secret_create",
    "tenants/{tenant}/oauth/secrets",
    ["POST"],
    lambda s, r, p: manage.create_secret(
        s, p["tenant"], _int(_json_body(r).get("expiresDays"), "expiresDays", manage.clients.DEFAULT_SECRET_DAYS)
    ),
    201,
)
_route(
    "admin_oauth_secret_revoke",
    "tenants/{tenant}/oauth/secrets/{secret}",
    ["DELETE"],
    lambda s, r, p: manage.revoke_secret(s, p["tenant"], p["secret"]),
)
_route("admin_oauth_federation", "tenants/{tenant}/oauth/federation", ["PUT"], _federation)


# Change events (webhooks): shared.events.service.
def _webhook_add(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    return webhooks.add(s, p["tenant"], _json_body(r).get("url") or "")


def _webhook_retry(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    delivery_id = _json_body(r).get("deliveryId")
    if delivery_id is not None and not isinstance(delivery_id, str):
        raise Invalid("deliveryId must be a string.")
    return webhooks.retry(s, p["tenant"], p["id"], delivery_id=delivery_id)


def _webhook_deliveries(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    failed = r.params.get("failed", "").lower() in ("1", "true")
    return webhooks.deliveries(s, p["tenant"], webhook_id=r.params.get("webhookId") or None, failed=failed)


def _on_webhook(operation: Callable[[Storage, str, str], Any]) -> Handler:
    """An operation on one endpoint that takes nothing but its id."""
    return lambda s, r, p: operation(s, p["tenant"], p["id"])


_route("admin_webhooks_add", "tenants/{tenant}/webhooks", ["POST"], _webhook_add, 201)
_route(
    "admin_webhooks_list", "tenants/{tenant}/webhooks", ["GET"], lambda s, r, p: webhooks.list_webhooks(s, p["tenant"])
)


_route("admin_webhook_remove", "tenants/{tenant}/webhooks/{id}", ["DELETE"], _on_webhook(webhooks.remove))
_route(
    "admin_webhook_rotate_secret",
    "tenants/{tenant}/webhooks/{id}/rotate-secret",
    ["POST"],
    _on_webhook(webhooks.rotate_secret),
)
_route("admin_webhook_resume", "tenants/{tenant}/webhooks/{id}/resume", ["POST"], _on_webhook(webhooks.resume))
_route("admin_webhook_retry", "tenants/{tenant}/webhooks/{id}/retry", ["POST"], _webhook_retry)
_route("admin_webhook_deliveries", "tenants/{tenant}/webhook-deliveries", ["GET"], _webhook_deliveries)
