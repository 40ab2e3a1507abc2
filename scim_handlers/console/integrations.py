"""The console's sections for what Entra and the password manager's platform connect with beyond the Secret
Token: OAuth client credentials and workload identity federation (shared.oauth.manage), change-event webhooks
(shared.events.service), and the invitations the mail channel sent (shared.admin.outbox). Pages read, the JSON
API changes; every change goes through the same services as the admin API and CLI, as the signed-in person."""

from __future__ import annotations

from typing import Any

from scim_handlers.console.tenant_pages import render_tenant_page
from scim_handlers.console.web import Reply, Request, register
from shared import admin, invitations
from shared.errors import Invalid
from shared.events import service as webhooks
from shared.oauth import manage

INVITATION_STATES = (
    invitations.QUEUED,
    invitations.SENDING,
    invitations.FAILED,
    invitations.SENT,
    invitations.GIVEN_UP,
    invitations.CANCELLED,
)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise Invalid(f"{name} must be text.")
    return value


def _connections(request: Request) -> Reply:
    s, t = request.storage, request.tenant_id
    return render_tenant_page(
        request,
        "connections.html",
        "settings",
        tenant_url=admin.public_tenant_url(),
        oauth=manage.show(s, t),
        webhooks=webhooks.list_webhooks(s, t),
    )


def _invitations(request: Request) -> Reply:
    state = request.param("state")
    if state is not None and state not in INVITATION_STATES:
        raise Invalid(f"Unknown invitation state {state!r}; use one of {', '.join(INVITATION_STATES)}.")
    s, t = request.storage, request.tenant_id
    sent = sorted(admin.outbox(s, t, state=state), key=lambda i: i.get("created") or "", reverse=True)
    return render_tenant_page(
        request, "invitations.html", "invitations", invitations=sent, states=INVITATION_STATES, state=state or ""
    )


def _new_secret(request: Request) -> Reply:
    created = manage.create_secret(request.storage, request.tenant_id, actor=request.principal.actor)
    return Reply(201, {k: created[k] for k in ("clientId", "clientSecret", "secretId", "expires")})


def _revoke_secret(request: Request) -> Reply:
    secret_id = request.req.route_params["secret"]
    return Reply(
        200, manage.revoke_secret(request.storage, request.tenant_id, secret_id, actor=request.principal.actor)
    )


def _federation(request: Request) -> Reply:
    body = request.json()
    return Reply(
        200,
        manage.set_federation(
            request.storage,
            request.tenant_id,
            issuer=_text(body, "issuer"),
            jwks_url=_text(body, "jwksUrl"),
            subject=_text(body, "subject"),
            audience=_text(body, "audience"),
            actor=request.principal.actor,
        ),
    )


def _add_webhook(request: Request) -> Reply:
    added = webhooks.add(request.storage, request.tenant_id, _text(request.json(), "url"))
    return Reply(201, {"webhookId": added["webhookId"], "secret": added["secret"]})


def _remove_webhook(request: Request) -> Reply:
    removed = webhooks.remove(request.storage, request.tenant_id, request.req.route_params["id"])
    return Reply(200, {"webhookId": removed["webhookId"], "removed": True})


register("console_connections", "t/{tenant}/settings/connections", ["GET"], "tenant", _connections)
register("console_invitations", "t/{tenant}/invitations", ["GET"], "tenant", _invitations)
register("console_api_secret_new", "t/{tenant}/api/oauth/secrets", ["POST"], "tenant", _new_secret, api=True)
register(
    "console_api_secret_revoke",
    "t/{tenant}/api/oauth/secrets/{secret}/revoke",
    ["POST"],
    "tenant",
    _revoke_secret,
    api=True,
)
register("console_api_federation", "t/{tenant}/api/oauth/federation", ["POST"], "tenant", _federation, api=True)
register("console_api_webhook_add", "t/{tenant}/api/webhooks", ["POST"], "tenant", _add_webhook, api=True)
register(
    "console_api_webhook_remove", "t/{tenant}/api/webhooks/{id}/remove", ["POST"], "tenant", _remove_webhook, api=True
)
