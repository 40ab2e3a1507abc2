"""The console's OAuth, federation, webhook and invitation sections through the local host: each change
goes through the shared services as the signed-in person, secrets are shown once, and the pages show what
the services hold (the route-by-route isolation probes in test_console.py cover these routes too)."""

from __future__ import annotations

import requests

from shared import audit
from shared.store.client import Storage
from tests.support.scim import ScimClient, user_body

ACTOR = "console:tenantAdmin:local tenant admin"


def test_client_secret_from_the_console_gets_a_token_then_revoke_stops_it(
    console_login, console_tenant: dict, tenant_storage: Storage
) -> None:
    t = console_tenant["tenantId"]
    admin_ = console_login(t)
    created = admin_.post(f"/admin/t/{t}/api/oauth/secrets")
    assert created.status_code == 201
    secret = created.json()
    page = admin_.get(f"/admin/t/{t}/settings/connections").text
    assert secret["clientSecret"] not in page and secret["clientSecret"][-4:] in page  # the hint, never the value
    assert f'value="{admin_.base}/oauth2/token"' in page and f'value="{t}"' in page

    form = {"grant_type": "client_credentials", "client_id": t, "client_secret": secret["clientSecret"]}
    access = requests.post(admin_.base + "/oauth2/token", data=form, timeout=60).json()["access_token"]
    scim = ScimClient(admin_.base + "/scim/v2", access)
    assert scim.request("GET", "/Users").status_code == 200

    revoked = admin_.post(f"/admin/t/{t}/api/oauth/secrets/{secret['secretId']}/revoke")
    assert revoked.status_code == 200
    assert scim.request("GET", "/Users").status_code == 401  # its access tokens die with it
    events, _ = audit.list_events(tenant_storage, t, limit=20)
    actors = {e["action"]: e["actor"] for e in events}
    assert actors["oauth.secret.create"] == ACTOR and actors["oauth.secret.revoke"] == ACTOR


def test_federation_fields_are_checked_and_saved(console_login, console_tenant: dict) -> None:
    t = console_tenant["tenantId"]
    admin_ = console_login(t)
    values = {
        "issuer": "https://login.microsoftonline.com/7d3c1a52-6a3b-4e4c-9a51-0f2a4b6c8d9e/v2.0",
        "jwksUrl": "http://keys.example/jwks",
        "subject": "workload-object-id",
        "audience": "api://provisioning",
    }
    refused = admin_.post(f"/admin/t/{t}/api/oauth/federation", values)
    assert refused.status_code == 400 and "JWKS URL" in refused.json()["detail"]
    values["jwksUrl"] = "https://login.microsoftonline.com/7d3c1a52-6a3b-4e4c-9a51-0f2a4b6c8d9e/discovery/v2.0/keys"
    saved = admin_.post(f"/admin/t/{t}/api/oauth/federation", values)
    assert saved.status_code == 200 and saved.json()["clientId"] == t
    page = admin_.get(f"/admin/t/{t}/settings/connections").text
    assert all(f'value="{v}"' in page for v in values.values())


def test_webhook_added_in_the_console_receives_signed_events(console_login, console_tenant: dict, receiver) -> None:
    t = console_tenant["tenantId"]
    admin_ = console_login(t)
    assert admin_.post(f"/admin/t/{t}/api/webhooks", {"url": "ftp://127.0.0.1/x"}).status_code == 400
    path = f"/console-{t}"
    added = admin_.post(f"/admin/t/{t}/api/webhooks", {"url": receiver.url(path)})
    assert added.status_code == 201
    receiver.secrets[path] = added.json()["secret"]
    page = admin_.get(f"/admin/t/{t}/settings/connections").text
    assert receiver.url(path) in page and added.json()["secret"] not in page
    scim = ScimClient(admin_.base + "/scim/v2", console_tenant["token"])
    assert scim.request("POST", "/Users", json_body=user_body("hooked@example.com")).status_code == 201
    assert [e["type"] for e in receiver.events(path)] == ["employee.staged"]
    removed = admin_.post(f"/admin/t/{t}/api/webhooks/{added.json()['webhookId']}/remove")
    assert removed.status_code == 200
    assert receiver.url(path) not in admin_.get(f"/admin/t/{t}/settings/connections").text


def test_sent_invitations_show_with_their_contents(console_login, console_tenant: dict) -> None:
    t = console_tenant["tenantId"]
    admin_ = console_login(t)
    scim = ScimClient(admin_.base + "/scim/v2", console_tenant["token"])
    user = scim.request("POST", "/Users", json_body=user_body("invitee@example.com")).json()
    answer = admin_.post(f"/admin/t/{t}/api/invite", {"ids": [user["id"]]})
    assert answer.status_code == 200 and answer.json()["employees"] == [{"id": user["id"], "status": "invited"}]
    page = admin_.get(f"/admin/t/{t}/invitations").text
    assert "invitee@example.com" in page and "<td>sent</td>" in page and "<details><summary>" in page
    assert admin_.get(f"/admin/t/{t}/invitations", params={"state": "lost"}).status_code == 400
