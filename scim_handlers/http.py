"""Request parsing, authentication, response rendering and the one place where errors become responses.

Every SCIM route goes through `run`: it authenticates the bearer token, counts storage calls, turns a
ScimError (or any unexpected exception) into a SCIM error body, and writes one structured log line.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

import azure.functions as func

from shared import health, tenants
from shared.config import Settings
from shared.resources import Scope
from shared.scim.errors import ScimError
from shared.store import counter
from shared.store.client import default_storage
from shared.store.errors import StorageUnavailable

SCIM_CONTENT_TYPE = "application/scim+json"
MAX_BODY_BYTES = 1024 * 1024
SCIM_PREFIX = "/scim/v2"
RETRY_AFTER_SECONDS = "30"  # storage unavailable: when a client (Entra) should try again

log = logging.getLogger("scim.request")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One SCIM request as the handlers see it: no Azure types beyond the raw request."""

    req: func.HttpRequest
    route: str
    route_params: dict[str, str]
    scope: Scope | None = None

    @property
    def params(self) -> dict[str, str]:
        """Query parameters with case-insensitive names (first occurrence wins)."""
        out: dict[str, str] = {}
        for key, value in self.req.params.items():
            out.setdefault(key.lower(), value)
        return out

    def param(self, name: str) -> str | None:
        return self.params.get(name.lower())

    def header(self, name: str) -> str | None:
        return self.req.headers.get(name)

    def json(self) -> Any:
        raw = self.req.get_body() or b""
        if len(raw) > MAX_BODY_BYTES:
            raise ScimError(413, None, f"The request body exceeds {MAX_BODY_BYTES} bytes.")
        if not raw.strip():
            raise ScimError(400, "invalidSyntax", "The request body is empty; a JSON object is expected.")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ScimError(400, "invalidSyntax", f"The request body is not valid JSON: {exc}.") from exc

    @property
    def tenant(self) -> Scope:
        assert self.scope is not None, "route requires authentication"
        return self.scope


def scim_base_url(req: func.HttpRequest) -> str:
    configured = Settings.from_env().public_base_url
    if configured:
        return configured + SCIM_PREFIX
    parts = urlsplit(req.url)
    return f"{parts.scheme}://{parts.netloc}{SCIM_PREFIX}"


def render(reply: Reply) -> func.HttpResponse:
    headers = {"Content-Type": SCIM_CONTENT_TYPE, **reply.headers}
    body = None if reply.body is None else json.dumps(reply.body, ensure_ascii=False)
    return func.HttpResponse(body=body, status_code=reply.status, headers=headers)


def error_reply(error: ScimError) -> Reply:
    return Reply(error.status, error.to_body(), dict(error.headers))


def _bearer(req: func.HttpRequest) -> str | None:
    header = req.headers.get("Authorization") or ""
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _authenticate(call: Call) -> Scope:
    storage = default_storage()
    auth = tenants.authenticate(storage, _bearer(call.req))
    if auth is None:
        raise ScimError(
            401,
            None,
            "A valid bearer token is required: use the secret token generated for your tenant.",
            headers={"WWW-Authenticate": 'Bearer realm="scim"'},
        )
    if auth.stale:
        tenants.set_stale(storage, auth.tenant_id, False)
    return Scope(storage=storage, tenant_id=auth.tenant_id, base_url=scim_base_url(call.req), auto_invite=auth.auto_invite)


def _is_test_connection(call: Call, reply: Reply) -> bool:
    # Entra's Test Connection: a userName/externalId filter on a random GUID that must find nothing.
    return (
        call.req.method == "GET"
        and call.route == "Users"
        and bool(call.param("filter"))
        and isinstance(reply.body, dict)
        and reply.body.get("totalResults") == 0
    )


def run(call: Call, handler: Callable[[Call], Reply], *, authenticated: bool = True) -> func.HttpResponse:
    started = time.perf_counter()
    storage_down = False
    with counter.counting() as calls:
        try:
            if authenticated:
                call.scope = _authenticate(call)
            reply = handler(call)
        except ScimError as error:
            reply = error_reply(error)
        except StorageUnavailable:
            storage_down = True
            log.warning("storage unavailable on %s %s", call.req.method, call.route, exc_info=True)
            reply = error_reply(ScimError(503, None, "Storage is temporarily unavailable; retry later.", headers={"Retry-After": RETRY_AFTER_SECONDS}))
        except Exception:
            log.exception("unhandled error on %s %s", call.req.method, call.route)
            reply = error_reply(ScimError(500, None, "Internal error; the request can be retried."))
        if call.scope is not None and not storage_down:  # no counter flush against storage that is down
            try:
                health.observe(
                    call.scope.storage,
                    call.scope.tenant_id,
                    error=reply.status >= 400,
                    test_connection=_is_test_connection(call, reply),
                )
            except Exception:  # health counters must never fail a request
                log.warning("health counter flush failed", exc_info=True)
    log.info(
        json.dumps(
            {
                "event": "scim.request",
                "tenant": call.scope.tenant_id if call.scope else None,
                "method": call.req.method,
                "route": call.route,
                "status": reply.status,
                "durationMs": round((time.perf_counter() - started) * 1000, 1),
                "storageCalls": calls.total,
                "storageCallsByKind": calls.by_kind,
                "adscimVersion": call.req.headers.get("ADSCIMVersion"),
            },
            separators=(",", ":"),
        )
    )
    response = render(reply)
    response.headers["X-Storage-Calls"] = str(calls.total)
    return response
