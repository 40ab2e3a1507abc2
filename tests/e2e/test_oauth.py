"""OAuth client credentials end to end through the local host: the CLI and admin API contract, a token from
SCIM_PUBLIC_BASE_URL + /oauth2/token, SCIM calls with it (same auth cost as the secret token), and the
admin API refusing it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from tests.support.scim import ScimClient

ROOT = Path(__file__).resolve().parents[2]


def cli_json(azurite: str, base: str, *args: str):
    env = {**os.environ, "SCIM_STORAGE_CONNECTION_STRING": azurite, "SCIM_PUBLIC_BASE_URL": base}
    done = subprocess.run(
        [sys.executable, "-m", "tools.admin", *args, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _token(url: str, **form: str) -> requests.Response:
    return requests.post(
        url,
        data={"grant_type": "client_credentials", **form},
        headers={"X-Forwarded-For": uuid.uuid4().hex},
        timeout=60,
    )


def test_cli_secret_then_token_then_scim(azurite, live_server, scim_tenant):
    tid = scim_tenant["tenantId"]
    created = cli_json(azurite, live_server, "tenant", "oauth-secret", "--tenant", tid, "--expires-days", "365")
    assert set(created) == {"clientId", "clientSecret", "secretId", "tokenEndpoint", "expires"}
    assert created["tokenEndpoint"] == live_server + "/oauth2/token"

    answer = _token(created["tokenEndpoint"], client_id=created["clientId"], client_secret=created["clientSecret"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    access = answer.json()["access_token"]
    assert 3600 <= answer.json()["expires_in"] <= 21600

    scim = ScimClient(scim_tenant["tenantUrl"], access)
    bearer = ScimClient(scim_tenant["tenantUrl"], scim_tenant["token"])
    query = {"filter": 'userName eq "nobody@example.com"'}
    bearer.get("/Users", params=query)  # the tenant's first request flushes its health counters (one write)
    with_access, with_bearer = scim.get("/Users", params=query), bearer.get("/Users", params=query)
    assert with_access.status_code == with_bearer.status_code == 200
    assert with_access.headers["X-Storage-Calls"] == with_bearer.headers["X-Storage-Calls"]  # one auth read each
    assert (
        scim.post(
            "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "oauth@example.com"}
        ).status_code
        == 201
    )

    admin = requests.get(
        f"{live_server}/api/admin/tenants/{tid}", headers={"Authorization": f"Bearer {access}"}, timeout=60
    )
    assert admin.status_code == 401  # access tokens are for SCIM routes only

    listed = cli_json(azurite, live_server, "tenant", "oauth-secrets", "--tenant", tid)
    assert [s["secretId"] for s in listed["secrets"]] == [created["secretId"]] and listed["secrets"][0]["lastUsed"]
    revoked = cli_json(
        azurite, live_server, "tenant", "oauth-secret-revoke", "--tenant", tid, "--secret-id", created["secretId"]
    )
    assert revoked["revoked"] is True
    assert scim.get("/Users", params=query).status_code == 401

    federation = cli_json(
        azurite,
        live_server,
        "tenant",
        "federation",
        "--tenant",
        tid,
        "--issuer",
        "https://login.example/t/v2.0",
        "--jwks-url",
        "https://login.example/t/keys",
        "--subject",
        "sub",
        "--audience",
        "api://aud",
    )
    assert federation == {"clientId": tid, "tokenEndpoint": live_server + "/oauth2/token"}


def test_basic_and_errors_over_http(live_server, scim_tenant):
    url = live_server + "/oauth2/token"
    refused = requests.post(
        url, data={"grant_type": "client_credentials"}, auth=(scim_tenant["tenantId"], "x"), timeout=60
    )
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")
    assert refused.json()["error"] == "invalid_client"
    wrong_type = requests.post(url, json={"grant_type": "client_credentials"}, timeout=60)
    assert wrong_type.status_code == 400 and wrong_type.json()["error"] == "invalid_request"


def test_admin_api_oauth_routes_and_grace(live_server, scim_tenant):
    admin = f"{live_server}/api/admin/tenants/{scim_tenant['tenantId']}"
    created = requests.post(f"{admin}/oauth/secrets", json={"expiresDays": 400}, timeout=60)
    assert created.status_code == 201 and created.json()["tokenEndpoint"] == live_server + "/oauth2/token"
    assert requests.post(f"{admin}/oauth/secrets", json={"expiresDays": 2000}, timeout=60).status_code == 400
    assert (
        requests.patch(f"{admin}/oauth", json={"accessTokenMinutes": 120}, timeout=60).json()["accessTokenMinutes"]
        == 120
    )
    answer = _token(
        live_server + "/oauth2/token",
        client_id=created.json()["clientId"],
        client_secret=created.json()["clientSecret"],
    )
    assert answer.json()["expires_in"] == 7200
    methods = requests.patch(f"{admin}/methods", json={"client_secret": False}, timeout=60)
    assert methods.status_code == 200 and "client_secret" not in methods.json()["methods"]
    scim = ScimClient(scim_tenant["tenantUrl"], answer.json()["access_token"])
    assert scim.get("/Users").status_code == 401
    assert requests.patch(f"{admin}/methods", json={"client_secret": "yes"}, timeout=60).status_code == 400
    deleted = requests.delete(f"{admin}/oauth/secrets/{created.json()['secretId']}", timeout=60)
    assert deleted.status_code == 200 and deleted.json()["revoked"] is True
    assert requests.delete(f"{admin}/oauth/secrets/nope", timeout=60).status_code == 404
    bad = requests.put(
        f"{admin}/oauth/federation",
        json={"issuer": "i", "jwksUrl": "http://x/keys", "subject": "s", "audience": "a"},
        timeout=60,
    )
    assert bad.status_code == 400

    rotated = requests.post(f"{admin}/token", json={"graceMinutes": 30}, timeout=60)
    assert rotated.status_code == 200 and rotated.json()["previousTokenValidUntil"]
    assert ScimClient(scim_tenant["tenantUrl"], scim_tenant["token"]).get("/Users").status_code == 200
    assert ScimClient(scim_tenant["tenantUrl"], rotated.json()["token"]).get("/Users").status_code == 200
    assert requests.post(f"{admin}/token", json={"graceMinutes": 1441}, timeout=60).status_code == 400
