"""The request pipeline over HTTP: what a body must be to be JSON, that every failure (rendering included)
answers through the one error path, and that the request's Host header never reaches a URL we render."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from shared import tenants
from shared.store import keys
from shared.store.rows import get_document, put_document
from tests.e2e.test_scim_users import assert_error, create, patch_body
from tests.support.scim import SCIM_JSON, ScimClient, user_body
from tools import processes

DEEP = b'{"userName": "deep", "displayName": ' + b"[" * 1000 + b"]" * 1000 + b"}"


def post_raw(client: ScimClient, path: str, raw: bytes) -> requests.Response:
    return client.request("POST", path, raw=raw, headers={"Content-Type": SCIM_JSON})


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(DEEP, id="nested-1000-levels"),
        pytest.param('{"userName": "utf16"}'.encode("utf-16"), id="utf-16-with-bom"),
        pytest.param('{"userName": "utf16"}'.encode("utf-16-le"), id="utf-16-without-bom"),
        pytest.param('{"userName": "utf32"}'.encode("utf-32"), id="utf-32"),
        pytest.param(b'{"userName": "nan", "displayName": NaN}', id="NaN"),
        pytest.param(b'{"userName": "inf", "displayName": -Infinity}', id="Infinity"),
        pytest.param(b'{"userName": "exp", "displayName": 1e400}', id="huge-exponent"),
        pytest.param(b'{"userName": "dup1", "userName": "dup2"}', id="duplicate-keys"),
    ],
)
def test_bodies_that_are_not_json_are_400_invalid_syntax(client, raw):
    assert_error(post_raw(client, "/Users", raw), 400, "invalidSyntax")


def test_a_utf8_byte_order_mark_is_ignored(client):
    # RFC 8259 §8.1: parsers MAY ignore a BOM rather than treat it as an error; we do.
    response = post_raw(client, "/Users", b"\xef\xbb\xbf" + json.dumps(user_body("bom@example.com")).encode())
    assert response.status_code == 201, response.text
    assert response.json()["userName"] == "bom@example.com"


def test_over_long_patch_is_413(client):
    user = create(client, "big-patch")
    big = json.dumps(patch_body({"op": "replace", "path": "displayName", "value": "a" * (1024 * 1024)})).encode()
    response = client.request("PATCH", f"/Users/{user['id']}", raw=big, headers={"Content-Type": SCIM_JSON})
    assert_error(response, 413)


def test_root_search_without_filter_lists_everything(client):
    # RFC 7644 §3.4.3: every SearchRequest attribute is optional; no filter means every resource.
    user = create(client, "searched")
    response = client.post("/.search", {})
    assert response.status_code == 200, response.text
    assert user["id"] in [r["id"] for r in response.json()["Resources"]]


def test_a_stored_lone_surrogate_does_not_make_the_user_unreadable(client, scim_tenant, tenant_storage):
    # Written before input was checked: the row exists, and every read must still answer cleanly.
    user = create(client, "surrogate")
    directory = tenant_storage.directory
    entity = directory.get(scim_tenant["tenantId"], keys.user_key(user["id"]))
    doc = get_document(entity)
    doc["displayName"] = "bad \ud800 name"
    directory.upsert(put_document({"PartitionKey": entity["PartitionKey"], "RowKey": entity["RowKey"]}, doc))
    got = client.get(f"/Users/{user['id']}")
    assert got.status_code == 200, got.text
    assert got.json()["displayName"] == "bad \ud800 name"
    listed = client.get("/Users")
    assert listed.status_code == 200 and user["id"] in [r["id"] for r in listed.json()["Resources"]]


# --- admin API ---------------------------------------------------------------------------------------


def assert_admin_error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


@pytest.fixture
def admin_api(live_server) -> str:
    return live_server + "/api/admin"


@pytest.fixture
def admin_tenant(admin_api) -> str:
    created = requests.post(f"{admin_api}/tenants", json={"name": f"hardened-{uuid.uuid4().hex[:6]}"}, timeout=30)
    assert created.status_code == 201
    return created.json()["tenantId"]


def test_admin_tenant_id_with_a_slash_is_4xx(admin_api):
    response = requests.get(f"{admin_api}/tenants/a%2Fb", timeout=30)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]


def test_admin_negative_limit_is_400(admin_api, admin_tenant):
    body = assert_admin_error(
        requests.get(f"{admin_api}/tenants/{admin_tenant}/cycles", params={"limit": "-5"}, timeout=30), 400
    )
    assert "limit" in body["detail"]


def test_admin_retention_beyond_a_double_is_400(admin_api, admin_tenant):
    raw = b'{"retentionDays": 1e400}'
    response = requests.patch(
        f"{admin_api}/tenants/{admin_tenant}/settings",
        data=raw,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert_admin_error(response, 400)


def test_admin_deep_json_is_400(admin_api):
    raw = b'{"name": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    assert_admin_error(
        requests.post(f"{admin_api}/tenants", data=raw, headers={"Content-Type": "application/json"}, timeout=30), 400
    )


def test_admin_lone_surrogate_in_a_tenant_name_is_400(admin_api):
    raw = b'{"name": "Contoso \\ud800"}'
    assert_admin_error(
        requests.post(f"{admin_api}/tenants", data=raw, headers={"Content-Type": "application/json"}, timeout=30), 400
    )


def test_admin_audit_time_errors_speak_the_api_not_python(admin_api, admin_tenant):
    response = requests.get(
        f"{admin_api}/tenants/{admin_tenant}/audit", params={"since": "2024-01-01T00:00:00+25:00"}, timeout=30
    )
    body = assert_admin_error(response, 400)
    assert "timedelta" not in body["detail"] and "since" in body["detail"]


# --- the Host header ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unconfigured_server(azurite: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local host with SCIM_PUBLIC_BASE_URL unset, where the Host header used to become the base URL."""
    port = processes.free_port()
    # Empty, not absent: the local host fills in an absent setting from its bind address.
    env = {**os.environ, "SCIM_PUBLIC_BASE_URL": "", "SCIM_STORAGE_CONNECTION_STRING": azurite}
    log_path: Path = tmp_path_factory.mktemp("unconfigured") / "localhost.log"
    process = processes.start_localhost(port, env, log_path)
    yield f"http://127.0.0.1:{port}"
    processes.stop(process)


def test_a_forged_host_header_never_reaches_rendered_urls(unconfigured_server, tenant_storage):
    _, token = tenants.create_tenant(tenant_storage, f"host-{uuid.uuid4().hex[:6]}")
    client = ScimClient(unconfigured_server + "/scim/v2", token)
    forged = {"Host": "evil.example"}
    response = client.post("/Users", user_body("host@example.com"), headers=forged)
    assert response.status_code == 201, response.text
    expected = tenants.tenant_url(None) + "/Users/" + response.json()["id"]
    assert response.json()["meta"]["location"] == expected and response.headers["Location"] == expected
    spc = client.get("/ServiceProviderConfig", headers=forged).json()
    assert "evil.example" not in json.dumps(spc)
