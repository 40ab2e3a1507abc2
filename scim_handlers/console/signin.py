"""Signing in and out: one-time local links (Azurite only), Entra ID (OpenID Connect form_post)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from scim_handlers.console.render import render_page
from scim_handlers.console.web import COOKIE, Reply, Request, cookie_header, html, redirect, register
from shared.console import entra, local, sessions
from shared.console.principal import Principal, SignInRequired
from shared.errors import NotFound

NONCE_COOKIE = "console_nonce"
SESSION_MAX_AGE = int(sessions.LIFETIME.total_seconds())


def _entra_config(request: Request) -> entra.EntraConfig | None:
    s = request.settings
    if not (s.console_entra_client_id and s.console_operator_tenant_id):
        return None
    return entra.EntraConfig(s.console_entra_client_id, s.console_operator_tenant_id)


def _start_session(request: Request, principal: Principal) -> Reply:
    session_id = sessions.create(request.storage, principal)
    request.set_cookies.append(cookie_header(request.settings, COOKIE, session_id, max_age=SESSION_MAX_AGE))
    return redirect("/admin")


def _sign_in_page(request: Request) -> Reply:
    return html(
        render_page(
            "signin.html",
            None,
            entra=_entra_config(request) is not None,
            local=local.local_sign_in_allowed(request.settings),
        )
    )


def _local(request: Request) -> Reply:
    principal = local.consume_link(request.storage, request.settings, request.param("code") or "")
    return _start_session(request, principal)


def _entra_start(request: Request) -> Reply:
    config = _entra_config(request)
    if config is None:
        raise NotFound("Entra ID sign-in is not configured for this console.")
    nonce = entra.new_nonce()
    # Entra posts the ID token back cross-site (form_post): only a SameSite=None cookie comes along.
    request.set_cookies.append(cookie_header(request.settings, NONCE_COOKIE, nonce, max_age=600, same_site="None"))
    redirect_uri = f"{request.settings.public_base_url}/admin/signin/entra"
    return Reply(302, None, {"Location": config.authorize_url(redirect_uri, nonce, nonce)})


def _entra_callback(request: Request) -> Reply:
    config = _entra_config(request)
    if config is None:
        raise NotFound("Entra ID sign-in is not configured for this console.")
    form = dict(parse_qsl((request.req.get_body() or b"").decode("ascii", "replace")))
    nonce = request.cookie(NONCE_COOKIE)
    if not nonce or form.get("state") != nonce or "id_token" not in form:
        raise SignInRequired("The sign-in response does not belong to this browser; sign in again.")
    claims = entra.validate_id_token(config, form["id_token"], nonce)
    return _start_session(request, entra.principal_from_claims(request.storage, config, claims))


def _sign_out(request: Request) -> Reply:
    sessions.end(request.storage, request.cookie(COOKIE))
    request.set_cookies.append(cookie_header(request.settings, COOKIE, "", max_age=0))
    return Reply(200, {"signedOut": True, "location": "/admin/signin"})


def _home(request: Request) -> Reply:
    principal = request.principal
    return redirect("/admin/operator" if principal.is_operator else f"/admin/t/{principal.tenant_id}")


register("console_home", "", ["GET"], "signed_in", _home)
register("console_signin", "signin", ["GET"], "public", _sign_in_page)
register("console_signin_local", "signin/local", ["GET"], "public", _local)
register("console_signin_entra", "signin/entra", ["GET"], "public", _entra_start)
register("console_signin_entra_callback", "signin/entra", ["POST"], "public", _entra_callback)
register("console_signout", "signout", ["POST"], "signed_in", _sign_out, api=True)
