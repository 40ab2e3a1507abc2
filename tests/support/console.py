"""Console fixtures: a signed-in browser-less session (requests) for a tenant admin or an operator,
through a real one-time link consumed by the live local host."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests

from shared import tenants
from shared.config import Settings
from shared.console import local
from shared.store.client import Storage


@dataclass
class ConsoleClient:
    base: str
    http: requests.Session
    csrf: str = ""

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.http.get(self.base + path, allow_redirects=False, timeout=60, **kwargs)  # type: ignore[arg-type]

    def post(
        self, path: str, body: object = None, *, origin: str | None = None, csrf: str | None = None
    ) -> requests.Response:
        headers = {"Origin": origin or self.base, "X-CSRF-Token": self.csrf if csrf is None else csrf}
        return self.http.post(self.base + path, json=body or {}, headers=headers, allow_redirects=False, timeout=60)


def sign_in_link(storage: Storage, connection: str, tenant_id: str | None) -> str:
    return local.create_link(storage, Settings.from_env({"SCIM_STORAGE_CONNECTION_STRING": connection}), tenant_id)


@pytest.fixture
def console_login(live_server: str, azurite: str, tenant_storage: Storage) -> Callable[[str | None], ConsoleClient]:
    """Sign in as that tenant's admin (or an operator with None) and read the page's CSRF token."""

    def login(tenant_id: str | None) -> ConsoleClient:
        client = ConsoleClient(live_server, requests.Session())
        secret = sign_in_link(tenant_storage, azurite, tenant_id)
        answer = client.get("/admin/signin/local", params={"code": secret})
        assert answer.status_code == 303, answer.text
        home = client.get(answer.headers["Location"])
        page = client.get(home.headers["Location"])
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert found is not None
        client.csrf = found.group(1)
        return client

    return login


@pytest.fixture
def console_tenant(tenant_storage: Storage) -> dict:
    view, token = tenants.create_tenant(tenant_storage, f"org-{uuid.uuid4().hex[:8]}")
    return {**view, "token": token}
