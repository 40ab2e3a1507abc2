"""The admin console over HTTP through the local host: sign-in, sessions, CSRF, security headers,
tenant isolation on every registered route, and the audit actor of console changes."""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest
import requests

from scim_handlers.console.routes import ROUTES
from scim_handlers.console.web import ConsoleRoute
from shared import audit
from shared.store.client import Storage
from tests.support.console import ConsoleClient, sign_in_link
from tests.support.scim import ScimClient

OTHER_ID = uuid.uuid4().hex


def _path(route: ConsoleRoute, tenant_id: str) -> str:
    path = "/admin/" + route.route if route.route else "/admin"
    return (
        path.replace("{tenant}", tenant_id)
        .replace("{group}", OTHER_ID)
        .replace("{id}", OTHER_ID)
        .replace("{file}", "console.css")
    )


def _call(client: ConsoleClient, route: ConsoleRoute, tenant_id: str) -> requests.Response:
    path = _path(route, tenant_id)
    return client.get(path) if "GET" in route.methods else client.post(path, {})


def test_every_route_refuses_another_tenants_admin(
    console_login, console_tenant: dict, tenant_storage: Storage
) -> None:
    own = console_login(console_tenant["tenantId"])
    other = console_login(None)  # an operator creates tenant B
    created = other.post("/admin/operator/tenants", {"name": "Tenant B"})
    assert created.status_code == 201, created.text
    b = created.json()["tenantId"]
    probed = 0
    for route in ROUTES:
        if route.access in ("public", "signed_in"):
            continue
        answer = _call(own, route, b)
        assert answer.status_code in (403, 404), (route.name, answer.status_code, answer.text[:200])
        probed += 1
    assert probed >= 14
    # and B's token still works: nothing of A's reached it
    assert tenant_storage.tenants.get(f"T:{b}", "tenant") is not None


def test_unauthenticated_requests_reach_nothing(live_server: str, console_tenant: dict) -> None:
    anonymous = ConsoleClient(live_server, requests.Session())
    for route in ROUTES:
        if route.access == "public":
            continue
        answer = _call(anonymous, route, console_tenant["tenantId"])
        expected = 401 if route.api else 303
        assert answer.status_code == expected, (route.name, answer.status_code)
        if not route.api:
            assert answer.headers["Location"] == "/admin/signin"


def test_a_forged_principal_header_is_refused(live_server: str) -> None:
    claims = {
        "auth_typ": "aad",
        "claims": [
            {"typ": "roles", "val": "Console.Operator"},
            {"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": str(uuid.uuid4())},
        ],
    }
    forged = {
        "X-MS-CLIENT-PRINCIPAL": base64.b64encode(json.dumps(claims).encode()).decode(),
        "X-MS-CLIENT-PRINCIPAL-IDP": "aad",
        "X-MS-CLIENT-PRINCIPAL-NAME": "mallory@example.com",
    }
    page = requests.get(live_server + "/admin/operator", headers=forged, allow_redirects=False, timeout=60)
    assert page.status_code == 303 and page.headers["Location"] == "/admin/signin"
    api = requests.post(
        live_server + "/admin/operator/tenants",
        json={"name": "x"},
        headers={**forged, "Origin": live_server},
        timeout=60,
    )
    assert api.status_code == 401


def test_a_sign_in_link_works_once(
    live_server: str, azurite: str, tenant_storage: Storage, console_tenant: dict
) -> None:
    secret = sign_in_link(tenant_storage, azurite, console_tenant["tenantId"])
    first = requests.get(
        live_server + "/admin/signin/local", params={"code": secret}, allow_redirects=False, timeout=60
    )
    assert first.status_code == 303 and "console_session=" in first.headers["Set-Cookie"]
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # plain HTTP locally
    again = requests.get(
        live_server + "/admin/signin/local", params={"code": secret}, allow_redirects=False, timeout=60
    )
    assert again.status_code == 303 and again.headers["Location"] == "/admin/signin"
    assert "Set-Cookie" not in again.headers


def test_state_changes_need_the_csrf_token_and_the_origin(console_login, console_tenant: dict) -> None:
    admin_ = console_login(console_tenant["tenantId"])
    path = f"/admin/t/{console_tenant['tenantId']}/api/token"
    assert admin_.post(path, csrf="").status_code == 403
    assert admin_.post(path, csrf="not-the-token").status_code == 403
    assert admin_.post(path, origin="https://evil.example").status_code == 403
    old = ScimClient(admin_.base + "/scim/v2", console_tenant["token"])
    assert old.request("GET", "/Users").status_code == 200  # none of those rotated the token
    assert admin_.post(path).status_code == 200


def test_pages_carry_the_security_headers(console_login, console_tenant: dict) -> None:
    admin_ = console_login(console_tenant["tenantId"])
    for path in (f"/admin/t/{console_tenant['tenantId']}/employees", "/admin/static/console.js", "/admin/signin"):
        answer = admin_.get(path)
        assert answer.status_code == 200, path
        csp = answer.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
    page = admin_.get(f"/admin/t/{console_tenant['tenantId']}/settings").text
    assert "<script>" not in page and "style=" not in page  # nothing inline: CSP would block it


def test_console_changes_are_audited_with_the_signed_in_person(
    console_login, console_tenant: dict, tenant_storage: Storage
) -> None:
    admin_ = console_login(console_tenant["tenantId"])
    t = console_tenant["tenantId"]
    token = admin_.post(f"/admin/t/{t}/api/token").json()["token"]
    assert admin_.post(f"/admin/t/{t}/api/settings", {"autoInvite": True, "retentionDays": 30}).status_code == 200
    assert admin_.post(f"/admin/t/{t}/api/integration", {"enabled": False}).status_code == 200
    events, _ = audit.list_events(tenant_storage, t, limit=10)
    actors = {e["action"]: e["actor"] for e in events}
    for action in ("token.rotate", "settings.update", "integration.disable"):
        assert actors[action] == "console:tenantAdmin:local tenant admin"
    scim = ScimClient(admin_.base + "/scim/v2", token)
    assert scim.request("GET", "/Users").status_code == 401  # disabled: the token was revoked


def test_bad_console_input_is_a_clear_4xx(console_login, console_tenant: dict) -> None:
    admin_ = console_login(console_tenant["tenantId"])
    t = console_tenant["tenantId"]
    assert admin_.post(f"/admin/t/{t}/api/settings", {"retentionDays": "soon"}).status_code == 400
    assert admin_.post(f"/admin/t/{t}/api/invite", {"ids": "x"}).status_code == 400
    bad = admin_.get(f"/admin/t/{t}/employees", params={"status": "sleeping"})
    assert bad.status_code == 400 and "Unknown status" in bad.text
    assert admin_.get(f"/admin/t/{t}/audit", params={"since": "yesterday"}).status_code == 400
    assert admin_.get(f"/admin/t/{t}/employees", params={"after": "../x"}).status_code == 400


def test_scim_errors_sent_to_entra_show_on_the_dashboard(console_login, console_tenant: dict) -> None:
    admin_ = console_login(console_tenant["tenantId"])
    scim = ScimClient(admin_.base + "/scim/v2", console_tenant["token"])
    sent = scim.request("POST", "/Users", json_body={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]})
    assert sent.status_code == 400
    filtered = scim.request("GET", "/Users", params={"filter": 'userName eq "secret-value'})
    assert filtered.status_code == 400
    page = admin_.get(f"/admin/t/{console_tenant['tenantId']}").text
    assert re.search(r"<td>400</td>", page)
    assert sent.json()["detail"].replace("'", "&#39;").replace('"', "&#34;") in page
    assert "secret-value" not in page and "detail withheld" in page


@pytest.mark.parametrize("who", ["operator", "tenant"])
def test_home_sends_each_principal_to_their_screen(console_login, console_tenant: dict, who: str) -> None:
    client = console_login(None if who == "operator" else console_tenant["tenantId"])
    answer = client.get("/admin")
    expected = "/admin/operator" if who == "operator" else f"/admin/t/{console_tenant['tenantId']}"
    assert answer.status_code == 303 and answer.headers["Location"] == expected
