"""POST /oauth2/token: the OAuth 2.0 token endpoint (shared.oauth.endpoint has the rules). Anonymous, like
the SCIM routes: the client authenticates in the request. Served in the shared frame with its own edge,
whose error body is RFC 6749 §5.2 JSON; every answer carries `Cache-Control: no-store` (§5.1)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import azure.functions as func

from scim_handlers import app_context
from scim_handlers.pipeline import Edge, Reply, serve
from shared.oauth import endpoint
from shared.oauth.errors import INVALID_REQUEST, OAuthError
from shared.scim.errors import ScimError

bp = func.Blueprint()
TOKEN_ROUTE = "oauth2/token"  # host.json's routePrefix is empty: SCIM_PUBLIC_BASE_URL + "/oauth2/token"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_CODES = {503: "temporarily_unavailable", 500: "server_error"}


def _frame_error(error: ScimError) -> Reply:
    """What the frame itself refuses (storage down, an unexpected failure) in the edge's vocabulary."""
    code = _CODES.get(error.status, INVALID_REQUEST)
    return Reply(error.status, {"error": code, "error_description": error.detail}, {**error.headers, **NO_STORE})


OAUTH_EDGE = Edge(
    event="oauth.request",
    logger=logging.getLogger("oauth.request"),
    content_type="application/json",
    error_reply=_frame_error,
    internal_detail="Internal error; the request can be retried.",
)


@dataclass
class TokenCall:
    req: func.HttpRequest
    route: str = TOKEN_ROUTE
    tenant_id: str | None = None


def _address(req: func.HttpRequest) -> str | None:
    """The caller: the first hop of X-Forwarded-For, which Azure's front ends set (the local host sets it to
    the peer)."""
    first = (req.headers.get("X-Forwarded-For") or "").split(",")[0].strip()
    return first or None


def _refusal(error: OAuthError, used_basic: bool) -> Reply:
    headers = dict(NO_STORE)
    if error.status == 401 and used_basic:
        headers["WWW-Authenticate"] = 'Basic realm="oauth"'
    if isinstance(error, endpoint.TooManyFailures):
        headers["Retry-After"] = str(error.retry_after)
    return Reply(error.status, {"error": error.error, "error_description": error.description}, headers)


@bp.function_name("oauth_token")
@bp.route(route=TOKEN_ROUTE, methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def oauth_token(req: func.HttpRequest) -> func.HttpResponse:
    call = TokenCall(req)
    authorization = req.headers.get("Authorization")

    def answer() -> Reply:
        try:
            body, call.tenant_id = endpoint.token(
                app_context.current().storage,
                req.get_body() or b"",
                req.headers.get("Content-Type"),
                authorization,
                _address(req),
            )
        except OAuthError as error:
            return _refusal(error, (authorization or "").strip().lower().startswith("basic "))
        return Reply(200, body, dict(NO_STORE))

    return serve(OAUTH_EDGE, call, answer)
