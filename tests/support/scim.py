"""A small SCIM client for the HTTP tests: the tenant's token and SCIM defaults."""

from __future__ import annotations

import json
from typing import Any

import requests

SCIM_JSON = "application/scim+json"


class ScimClient:
    """requests with the tenant's token and SCIM defaults; paths are relative to the Tenant URL."""

    def __init__(self, tenant_url: str, token: str | None):
        self.base = tenant_url
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(
        self, method: str, path: str, *, json_body: Any = None, raw: bytes | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = kwargs.pop("headers", {})
        data = raw
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", SCIM_JSON)
        return self.session.request(method, self.base + path, data=data, headers=headers, timeout=60, **kwargs)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("PUT", path, json_body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)


def user_body(user_name: str, **extra: Any) -> dict:
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, **extra}
