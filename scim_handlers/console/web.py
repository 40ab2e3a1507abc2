"""The console's frame: every console route is a `ConsoleRoute` registered through `register`, which
loads the session, applies the authorisation rule its kind names, checks CSRF and Origin on state
changes and adds the security headers. A route cannot opt out by forgetting a call.

Kinds: `public` (sign-in, static files), `signed_in` (any session), `operator` (operators only), `tenant`
(the `{tenant}` in the route must be the principal's tenant, or any for an operator). Pages answer errors
as HTML (a missing session redirects to the sign-in page); `api` routes answer JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.cookies import SimpleCookie
from typing import Any, Literal
from urllib.parse import urlsplit

import azure.functions as func

from scim_handlers import app_context
from scim_handlers.admin import ADMIN_EDGE
from scim_handlers.console.render import render_page
from scim_handlers.pipeline import Reply, parse_json, serve
from shared import tenants
from shared.config import Settings
from shared.console import sessions
from shared.console.principal import Forbidden, Principal, require_operator, require_tenant
from shared.errors import Invalid
from shared.scim.errors import ScimError
from shared.store.client import Storage

bp = func.Blueprint()
PREFIX = "admin"
SIGN_IN_PATH = "/admin/signin"
COOKIE = "console_session"
Access = Literal["public", "signed_in", "operator", "tenant"]
_STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self' https://login.microsoftonline.com"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # sign-in links carry their secret in the query
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _html_error(error: ScimError) -> Reply:
    if error.status == 401:
        return Reply(303, None, {"Location": SIGN_IN_PATH})
    body = render_page("error.html", None, status=error.status, detail=error.detail)
    return Reply(error.status, body, dict(error.headers))


# The JSON API answers errors as the admin API does; pages answer them as HTML.
API_EDGE = replace(
    ADMIN_EDGE,
    event="console.request",
    logger=logging.getLogger("console.request"),
    internal_detail="Something went wrong on our side; try again.",
)
PAGE_EDGE = replace(API_EDGE, content_type="text/html; charset=utf-8", error_reply=_html_error)


@dataclass
class Request:
    """One console request as handlers see it."""

    req: func.HttpRequest
    storage: Storage
    settings: Settings
    session: sessions.Session | None = None
    set_cookies: list[str] = field(default_factory=list)

    @property
    def principal(self) -> Principal:
        assert self.session is not None, "public routes have no principal"
        return self.session.principal

    @property
    def tenant_id(self) -> str:
        return self.req.route_params["tenant"]

    def param(self, name: str) -> str | None:
        return (self.req.params.get(name) or "").strip() or None

    def json(self) -> dict[str, Any]:
        body = parse_json(self.req.get_body() or b"")
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise Invalid("The body must be a JSON object.")
        return body

    def cookie(self, name: str) -> str | None:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.req.headers.get("Cookie") or "")
        except Exception:  # a malformed Cookie header is no session, not an error
            return None
        morsel = jar.get(name)
        return morsel.value if morsel else None


Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class ConsoleRoute:
    name: str
    route: str  # below admin/
    methods: tuple[str, ...]
    access: Access
    api: bool
    handler: Handler


ROUTES: list[ConsoleRoute] = []
"""Every console route, in registration order (tests enumerate it to probe each one)."""


def secure_cookies(settings: Settings) -> bool:
    """`Secure` wherever the app is served over HTTPS (Azure); plain HTTP only on this machine."""
    return (settings.public_base_url or "").startswith("https://")


def cookie_header(settings: Settings, name: str, value: str, *, max_age: int, same_site: str = "Strict") -> str:
    secure = "; Secure" if secure_cookies(settings) or same_site == "None" else ""
    return f"{name}={value}; Path=/admin; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"


def _expected_origin(request: Request) -> str:
    base = request.settings.public_base_url
    parts = urlsplit(base or request.req.url)
    return f"{parts.scheme}://{parts.netloc}"


def check_origin(request: Request) -> None:
    """Browsers send Origin on every POST; a state change from another origin is refused outright."""
    origin = request.req.headers.get("Origin")
    if origin is None or origin.rstrip("/") != _expected_origin(request):
        raise Forbidden("This request did not come from the console's own pages.")


def _authorise(route: ConsoleRoute, request: Request) -> None:
    if route.access == "public":
        return
    request.session = sessions.load(request.storage, request.cookie(COOKIE))
    if request.req.method.upper() in _STATE_CHANGING:
        check_origin(request)
        supplied = request.req.headers.get("X-CSRF-Token")
        sessions.check_csrf(request.session, supplied)
    if route.access == "operator":
        require_operator(request.principal)
    if route.access == "tenant":
        require_tenant(request.principal, request.tenant_id)  # before existence: no probing other tenants
        tenants.get_entity(request.storage, request.tenant_id)


@dataclass(frozen=True)
class _Exchange:
    req: func.HttpRequest
    route: str
    tenant_id: str | None


def register(
    name: str, route: str, methods: list[str], access: Access, handler: Handler, *, api: bool = False
) -> ConsoleRoute:
    entry = ConsoleRoute(name, route, tuple(methods), access, api, handler)
    ROUTES.append(entry)

    def trigger(req: func.HttpRequest) -> func.HttpResponse:
        context = app_context.current()
        request = Request(req, context.storage, context.settings)

        def answer() -> Reply:
            _authorise(entry, request)
            return handler(request)

        exchange = _Exchange(req, route, req.route_params.get("tenant"))
        response = serve(API_EDGE if api else PAGE_EDGE, exchange, answer)
        for name_, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name_, value)
        for cookie in request.set_cookies[:1]:  # func.HttpResponse keeps one value per header name
            response.headers["Set-Cookie"] = cookie
        return response

    trigger.__name__ = name
    path = f"{PREFIX}/{route}" if route else PREFIX
    bp.function_name(name)(bp.route(route=path, methods=methods, auth_level=func.AuthLevel.ANONYMOUS)(trigger))
    return entry


def html(body: bytes, status: int = 200) -> Reply:
    return Reply(status, body, {"Content-Type": "text/html; charset=utf-8"})


def redirect(location: str) -> Reply:
    return Reply(303, None, {"Location": location})
