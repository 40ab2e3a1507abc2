"""The SCIM edge of the request pipeline: authentication, the request as SCIM handlers see it, and SCIM
error bodies. Every SCIM route goes through `run`, which serves it in the shared frame
(scim_handlers.pipeline: counting, body parsing, the one error path, the log line).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import azure.functions as func

from scim_handlers import app_context
from scim_handlers.pipeline import Edge, Reply, parse_json, serve
from shared import health, tenants
from shared.events import delivery
from shared.resources import Scope
from shared.scim.errors import ScimError

SCIM_CONTENT_TYPE = "application/scim+json"


def error_reply(error: ScimError) -> Reply:
    return Reply(error.status, error.to_body(), dict(error.headers))


SCIM_EDGE = Edge(
    event="scim.request",
    logger=logging.getLogger("scim.request"),
    content_type=SCIM_CONTENT_TYPE,
    error_reply=error_reply,
    internal_detail="Internal error; the request can be retried.",
)


@dataclass
class Call:
    """One SCIM request as the handlers see it: no Azure types beyond the raw request."""

    req: func.HttpRequest
    route: str
    route_params: dict[str, str]
    authenticated_scope: Scope | None = None  # set by run() once the bearer token is checked

    @property
    def params(self) -> dict[str, str]:
        """Query parameters with case-insensitive names (first occurrence wins)."""
        out: dict[str, str] = {}
        for key, value in self.req.params.items():
            out.setdefault(key.lower(), value)
        return out

    def param(self, name: str) -> str | None:
        return self.params.get(name.lower())

    def header(self, name: str) -> str | None:
        return self.req.headers.get(name)

    def json(self) -> Any:
        body = parse_json(self.req.get_body() or b"")
        if body is None:
            raise ScimError(400, "invalidSyntax", "The request body is empty; a JSON object is expected.")
        return body

    @property
    def scope(self) -> Scope:
        """The authenticated tenant's scope (routes that require authentication only)."""
        assert self.authenticated_scope is not None, "route requires authentication"
        return self.authenticated_scope

    @property
    def tenant_id(self) -> str | None:
        return self.authenticated_scope.tenant_id if self.authenticated_scope else None


def _bearer(req: func.HttpRequest) -> str | None:
    header = req.headers.get("Authorization") or ""
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _authenticate(call: Call) -> Scope:
    context = app_context.current()
    storage = context.storage
    auth = tenants.authenticate(storage, _bearer(call.req))
    if auth is None:
        raise ScimError(
            401,
            None,
            "A valid bearer token is required: use the secret token generated for your tenant.",
            headers={"WWW-Authenticate": 'Bearer realm="scim"'},
        )
    if auth.stale:
        tenants.set_stale(storage, auth.tenant_id, False)
    return Scope(
        storage=storage,
        tenant_id=auth.tenant_id,
        base_url=context.scim_base_url,
        auto_invite=auth.auto_invite,
        webhooks=auth.webhooks,
    )


def _is_test_connection(call: Call, reply: Reply) -> bool:
    # Entra's Test Connection: a userName/externalId filter on a random GUID that must find nothing.
    return (
        call.req.method == "GET"
        and call.route == "Users"
        and bool(call.param("filter"))
        and isinstance(reply.body, dict)
        and reply.body.get("totalResults") == 0
    )


def _is_change(call: Call, reply: Reply) -> bool:
    # A write that succeeded (a POST to .search answers 200, a create 201): its events go out right away.
    method = call.req.method.upper()
    return reply.status < 300 and (method in ("PUT", "PATCH", "DELETE") or (method == "POST" and reply.status == 201))


def run(call: Call, handler: Callable[[Call], Reply], *, authenticated: bool = True) -> func.HttpResponse:
    def answer() -> Reply:
        if authenticated:
            call.authenticated_scope = _authenticate(call)
        return handler(call)

    def observe(reply: Reply) -> None:
        if (
            call.authenticated_scope is not None and reply.status != 503
        ):  # no counter flush against storage that is down
            scope = call.authenticated_scope
            health.observe(
                scope.storage,
                scope.tenant_id,
                error=reply.status >= 400,
                test_connection=_is_test_connection(call, reply),
            )
            if scope.webhooks and _is_change(call, reply):  # no endpoints: no query, reconciliation drops events
                delivery.after_change(scope.storage, scope.tenant_id)
            if reply.status >= 400 and isinstance(reply.body, dict):
                health.record_error(
                    scope.storage,
                    scope.tenant_id,
                    method=call.req.method,
                    route=call.route,
                    status=reply.status,
                    scim_type=reply.body.get("scimType"),
                    detail=reply.body.get("detail"),
                    had_filter=call.param("filter") is not None,
                )

    return serve(
        SCIM_EDGE, call, answer, observe=observe, log_fields={"adscimVersion": call.req.headers.get("ADSCIMVersion")}
    )
