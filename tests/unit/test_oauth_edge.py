"""The token endpoint's HTTP edge in-process over in-memory storage: RFC 6749 §5.1/§5.2 bodies and headers,
Basic's challenge, 429 with Retry-After, and 503 with Retry-After when storage is down."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from urllib.parse import urlencode

import azure.functions as func
import pytest

from scim_handlers import app_context, oauth
from shared import tenants
from shared.config import Settings
from shared.oauth import manage, ratelimit
from shared.store.client import Storage
from shared.store.errors import StorageUnavailable
from shared.store.memory import MemoryTable

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def storage() -> Iterator[Storage]:
    previous = app_context._installed
    storage = Storage.in_memory()
    app_context.install(app_context.AppContext(settings=Settings.from_env({}), storage=storage))
    yield storage
    app_context._installed = previous


def _post(body: bytes, content_type: str = FORM, **headers: str) -> func.HttpResponse:
    req = func.HttpRequest(
        "POST", "http://x/oauth2/token", headers={"Content-Type": content_type, **headers}, body=body
    )
    return oauth.oauth_token.build().get_user_function()(req)


def _form(**fields: str) -> bytes:
    return urlencode({"grant_type": "client_credentials", **fields}).encode()


def _json(response: func.HttpResponse) -> dict:
    return json.loads(response.get_body())


def _no_store(response: func.HttpResponse) -> bool:
    return response.headers.get("Cache-Control") == "no-store" and response.headers.get("Pragma") == "no-cache"


def _client(storage: Storage) -> tuple[str, str]:
    tid = tenants.create_tenant(storage, "edge")[0]["tenantId"]
    return tid, manage.create_secret(storage, tid)["clientSecret"]


def test_a_token_is_issued_without_caching(storage):
    tid, secret = _client(storage)
    response = _post(_form(client_id=tid, client_secret=secret, scope="api://x/.default"))
    assert response.status_code == 200 and _no_store(response)
    assert response.headers["Content-Type"] == "application/json"
    body = _json(response)
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "scim")
    assert tenants.authenticate(storage, body["access_token"]).tenant_id == tid


def test_basic_credentials_work_and_their_failure_is_a_401_basic_challenge(storage):
    tid, secret = _client(storage)
    basic = "Basic " + base64.b64encode(f"{tid}:{secret}".encode()).decode()
    assert _post(_form(), Authorization=basic).status_code == 200
    wrong = "Basic " + base64.b64encode(f"{tid}:nope".encode()).decode()
    refused = _post(_form(), Authorization=wrong)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")
    assert _json(refused)["error"] == "invalid_client" and _no_store(refused)
    posted = _post(_form(client_id=tid, client_secret="nope"))
    assert posted.status_code == 401 and "WWW-Authenticate" not in posted.headers


@pytest.mark.parametrize(
    "body, content_type, error",
    [
        (b'{"grant_type":"client_credentials"}', "application/json", "invalid_request"),
        (b"grant_type=client_credentials&grant_type=client_credentials", FORM, "invalid_request"),
        (b"grant_type=password&client_id=a&client_secret=b", FORM, "unsupported_grant_type"),
        (b"grant_type=client_credentials&scope=%22", FORM, "invalid_scope"),
    ],
)
def test_request_errors_are_rfc_6749_json(storage, body, content_type, error):
    response = _post(body, content_type)
    assert response.status_code == 400 and _json(response)["error"] == error and _no_store(response)
    assert set(_json(response)) == {"error", "error_description"}


def test_failures_past_the_threshold_are_429_with_retry_after(storage):
    tid, secret = _client(storage)
    headers = {"X-Forwarded-For": "203.0.113.9, 10.0.0.1"}
    statuses = [_post(_form(client_id=tid, client_secret="x"), **headers).status_code for _ in range(11)]
    assert statuses == [401] * ratelimit.THRESHOLD + [429]
    limited = _post(_form(client_id=tid, client_secret="x"), **headers)
    assert 1 <= int(limited.headers["Retry-After"]) <= ratelimit.WINDOW_SECONDS and _no_store(limited)
    assert _post(_form(client_id=tid, client_secret=secret), **headers).status_code == 200


class _Down(MemoryTable):
    def get(self, pk: str, rk: str):
        raise StorageUnavailable("down")


def test_storage_down_is_503_with_retry_after(storage):
    app_context.install(app_context.AppContext(settings=Settings.from_env({}), storage=Storage(open_table=_Down)))
    response = _post(_form(client_id="0" * 32, client_secret="x"))
    assert response.status_code == 503 and response.headers["Retry-After"] and _no_store(response)
    assert _json(response)["error"] == "temporarily_unavailable"
