"""/api/admin/...: the admin portal's API. Protected by Functions keys in Azure (AuthLevel.FUNCTION);
a SCIM bearer token is never accepted here."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from typing import Any, Callable

import azure.functions as func

from shared import admin, reconcile
from shared.config import Settings
from shared.errors import NotFound
from shared.scim.errors import ScimError
from shared.store import counter
from shared.store.client import Storage, default_storage
from shared.store.errors import StorageUnavailable
from scim_handlers.http import RETRY_AFTER_SECONDS

bp = func.Blueprint()
ADMIN_CYCLE_BUDGET_SECONDS = 120
log = logging.getLogger("admin.request")

Handler = Callable[[Storage, func.HttpRequest, dict[str, str]], Any]


def _json_body(req: func.HttpRequest) -> dict[str, Any]:
    raw = req.get_body() or b""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ScimError(400, "invalidSyntax", f"Body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ScimError(400, "invalidSyntax", "Body must be a JSON object.")
    return body


def _int(value: Any, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScimError(400, "invalidValue", f"{name} must be a whole number.") from None


def _bool(value: Any, name: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    raise ScimError(400, "invalidValue", f"{name} must be true or false.")


def _reply(status: int, body: Any) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body, ensure_ascii=False), status_code=status, mimetype="application/json")


def _serve(req: func.HttpRequest, handler: Handler, success: int = 200) -> func.HttpResponse:
    started = time.perf_counter()
    with counter.counting() as calls:
        try:
            if (req.headers.get("Authorization") or "").lower().startswith("bearer "):
                raise ScimError(401, None, "The admin API does not accept SCIM tokens; use a function key.")
            response = _reply(success, handler(default_storage(), req, dict(req.route_params)))
        except NotFound as exc:
            response = _reply(404, {"status": 404, "detail": str(exc)})
        except ScimError as exc:
            response = _reply(exc.status, {"status": exc.status, "detail": exc.detail})
        except StorageUnavailable:
            log.warning("admin request: storage unavailable", exc_info=True)
            response = _reply(503, {"status": 503, "detail": "Storage is temporarily unavailable; retry later."})
            response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        except Exception:
            log.exception("admin request failed")
            response = _reply(500, {"status": 500, "detail": "Internal error."})
    log.info(json.dumps({"event": "admin.request", "tenant": req.route_params.get("tenant"), "method": req.method,
                         "route": req.url.split("?")[0].split("/api/admin", 1)[-1], "status": response.status_code,
                         "durationMs": round((time.perf_counter() - started) * 1000, 1), "storageCalls": calls.total}))
    return response


def _route(name: str, route: str, methods: list[str], handler: Handler, success: int = 200) -> None:
    def trigger(req: func.HttpRequest) -> func.HttpResponse:
        return _serve(req, handler, success)

    trigger.__name__ = name
    bp.function_name(name)(bp.route(route="api/admin/" + route, methods=methods, auth_level=func.AuthLevel.FUNCTION)(trigger))


def _settings(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    body = _json_body(r)
    retention = body.get("retentionDays")
    return admin.settings(
        s, p["tenant"], auto_invite=_bool(body.get("autoInvite"), "autoInvite"),
        retention_days=None if retention is None else _int(retention, "retentionDays", 0),
    )


def _invite(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    body = _json_body(r)
    ids = body.get("ids")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
        raise ScimError(400, "invalidValue", "ids must be a list of employee ids.")
    return admin.invite(s, p["tenant"], ids=ids, all_staged=bool(_bool(body.get("allStaged"), "allStaged")))


def _reconcile(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    # Stay well inside the HTTP request timeout (~230 s); an unfinished cycle resumes on the next tick.
    settings = Settings.from_env()
    settings = replace(settings, reconcile_time_budget_seconds=min(settings.reconcile_time_budget_seconds, ADMIN_CYCLE_BUDGET_SECONDS))
    force = r.params.get("force", "").lower() in ("1", "true")
    return reconcile.run_now(s, tenant_id=r.params.get("tenant") or None, force=force, settings=settings)


def _cycles(s: Storage, r: func.HttpRequest, p: dict[str, str]) -> Any:
    admin.show_tenant(s, p["tenant"])
    return reconcile.list_reports(s, p["tenant"], limit=_int(r.params.get("limit"), "limit", 20))


_route("admin_tenants_create", "tenants", ["POST"], lambda s, r, p: admin.create_tenant(s, str(_json_body(r).get("name") or "")), 201)
_route("admin_tenants_list", "tenants", ["GET"], lambda s, r, p: admin.list_tenants(s))
_route("admin_tenant_show", "tenants/{tenant}", ["GET"], lambda s, r, p: admin.show_tenant(s, p["tenant"]))
_route("admin_tenant_token", "tenants/{tenant}/token", ["POST"], lambda s, r, p: admin.rotate_token(s, p["tenant"]))
_route("admin_tenant_disable", "tenants/{tenant}/disable", ["POST"], lambda s, r, p: admin.set_enabled(s, p["tenant"], False))
_route("admin_tenant_enable", "tenants/{tenant}/enable", ["POST"], lambda s, r, p: admin.set_enabled(s, p["tenant"], True))
_route("admin_tenant_settings_get", "tenants/{tenant}/settings", ["GET"], lambda s, r, p: admin.settings(s, p["tenant"]))
_route("admin_tenant_settings_set", "tenants/{tenant}/settings", ["PATCH"], _settings)
_route("admin_tenant_health", "tenants/{tenant}/health", ["GET"], lambda s, r, p: admin.tenant_health(s, p["tenant"]))
_route("admin_employees_list", "tenants/{tenant}/employees", ["GET"], lambda s, r, p: admin.list_employees(
    s, p["tenant"], status=r.params.get("status") or None, limit=_int(r.params.get("limit"), "limit", 100), continuation=r.params.get("continuation") or None))
_route("admin_employees_invite", "tenants/{tenant}/employees/invite", ["POST"], _invite)
_route("admin_employee_activate", "tenants/{tenant}/employees/{id}/activate", ["POST"], lambda s, r, p: admin.activate(s, p["tenant"], p["id"]))
_route("admin_employee_delete", "tenants/{tenant}/employees/{id}", ["DELETE"], lambda s, r, p: admin.delete_employee(s, p["tenant"], p["id"]))
_route("admin_outbox", "tenants/{tenant}/outbox", ["GET"], lambda s, r, p: admin.outbox(s, p["tenant"]))
_route("admin_audit", "tenants/{tenant}/audit", ["GET"], lambda s, r, p: admin.audit_log(
    s, p["tenant"], limit=_int(r.params.get("limit"), "limit", 100), since=r.params.get("since") or None, until=r.params.get("until") or None,
    action=r.params.get("action") or None, target_id=r.params.get("targetId") or None, continuation=r.params.get("continuation") or None))
_route("admin_reconcile", "reconcile", ["POST"], _reconcile)
_route("admin_cycles", "tenants/{tenant}/cycles", ["GET"], _cycles)
