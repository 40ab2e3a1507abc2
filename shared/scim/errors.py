"""SCIM errors as values: raised anywhere in the domain, rendered in exactly one place (the HTTP edge)."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimError(Exception):
    """An error with a SCIM meaning: HTTP status, optional RFC 7644 §3.12 scimType, human detail."""

    def __init__(self, status: int, scim_type: str | None, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.scim_type = scim_type
        self.detail = detail
        self.headers = headers or {}

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body

    def __repr__(self) -> str:
        return f"ScimError({self.status}, {self.scim_type!r}, {self.detail!r})"
