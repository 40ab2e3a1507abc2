"""The token endpoint's rules, independent of HTTP: RFC 6749 §4.4 client credentials, with the client
authenticated by a secret (client_secret_post or client_secret_basic, §2.3.1) or an RFC 7523 client
assertion (workload identity federation). The HTTP edge (scim_handlers/oauth.py) hands in the raw body,
its content type, the Authorization header and the caller's address, and renders what comes back.

Every authentication failure is the same `invalid_client`, never saying which half was wrong; failures
are counted (shared.oauth.ratelimit) and, past the threshold, answered 429.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from shared import audit, tenants
from shared.audit import ACTOR_SCIM, Target
from shared.oauth import access, clients, ratelimit
from shared.oauth.errors import (
    INVALID_REQUEST,
    INVALID_SCOPE,
    UNSUPPORTED_GRANT_TYPE,
    OAuthError,
    invalid_client,
)
from shared.store.client import Storage
from shared.store.table import Entity

FORM = "application/x-www-form-urlencoded"
CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPE = "scim"
MAX_FORM_BYTES = 64 * 1024  # an assertion is a few KiB; nothing legitimate comes near this
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3
ISSUE_AUDIT_SECONDS = 600  # at most one `oauth.token.issue` event per tenant, source and instance this often


class TooManyFailures(OAuthError):
    """A failed attempt past the threshold: 429 with Retry-After instead of 401."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("invalid_client", "too many failed attempts; retry later", status=429)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Credentials:
    client_id: str
    secret: str | None = None
    assertion: str | None = None


def _bad(description: str) -> OAuthError:
    return OAuthError(INVALID_REQUEST, description)


def parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """The form parameters. RFC 6749 §3.2: a parameter sent twice is invalid_request; one sent without a
    value counts as omitted."""
    if (content_type or "").split(";")[0].strip().lower() != FORM:
        raise _bad(f"the request body must be {FORM}")
    if len(body) > MAX_FORM_BYTES:
        raise _bad("the request body is too large")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise _bad("the request body is not a valid form") from None
    names = [name for name, _ in pairs]
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated is not None:
        raise _bad(f"the parameter {repeated[:40]!r} appears more than once")
    return {name: value for name, value in pairs if value != ""}


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """client_secret_basic: both halves are form-urlencoded before Base64 (RFC 6749 §2.3.1)."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_client("malformed Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise invalid_client("malformed Basic credentials")
    return unquote_plus(client_id), unquote_plus(secret)


def credentials(form: dict[str, str], basic: tuple[str, str] | None) -> Credentials:
    """Who the client says it is, by exactly one method (RFC 6749 §2.3: never more than one)."""
    assertion, assertion_type = form.get("client_assertion"), form.get("client_assertion_type")
    in_body = [m for m in ("client_secret", "client_assertion") if m in form]
    if basic is not None:
        if in_body:
            raise _bad("use one client authentication method, not Basic and body credentials together")
        if "client_id" in form and form["client_id"] != basic[0]:
            raise _bad("client_id differs from the Basic credentials")
        return Credentials(client_id=basic[0], secret=basic[1])
    if len(in_body) > 1:
        raise _bad("use one client authentication method, not a secret and an assertion together")
    if assertion is not None or assertion_type is not None:
        if assertion is None or assertion_type is None:
            raise _bad("client_assertion and client_assertion_type go together")
        if assertion_type != JWT_BEARER:
            raise invalid_client("unsupported client_assertion_type")
    client_id = form.get("client_id")
    if not in_body:
        raise invalid_client("no client authentication included")
    if client_id is None:
        raise _bad("client_id is missing")
    return Credentials(client_id=client_id, secret=form.get("client_secret"), assertion=assertion)


def check_grant(form: dict[str, str]) -> None:
    grant = form.get("grant_type")
    if grant is None:
        raise _bad("grant_type is missing")
    if grant != CLIENT_CREDENTIALS:
        raise OAuthError(UNSUPPORTED_GRANT_TYPE, f"only {CLIENT_CREDENTIALS} is supported")
    scope = form.get("scope")
    if scope is not None and not all(_SCOPE_TOKEN.fullmatch(token) for token in scope.split(" ")):
        raise OAuthError(INVALID_SCOPE, "the scope is malformed")  # a well-formed unknown scope is ignored


def _authenticate(storage: Storage, found: Credentials) -> tuple[Entity, str, clients.Secret | None]:
    """(tenant, token source, the secret used) or invalid_client."""
    try:
        tenant = tenants.get_entity(storage, found.client_id)
    except tenants.TenantNotFound:
        raise invalid_client() from None
    methods = tenants.methods_of(tenant)
    if not tenant.get("enabled"):
        raise invalid_client()
    if found.assertion is not None:
        config = clients.federation_of(tenant)
        if tenants.FEDERATION not in methods or config is None:
            raise invalid_client()
        # Imported here: the JOSE stack is needed only by federated tenants (cold start of the app).
        from shared.oauth import federation

        settings = federation.Federation(
            issuer=config["issuer"], jwks_url=config["jwksUrl"], subject=config["subject"], audience=config["audience"]
        )
        federation.verify_assertion(storage, found.client_id, settings, found.assertion)
        return tenant, tenants.FEDERATION, None
    if found.secret is None or tenants.CLIENT_SECRET not in methods:
        raise invalid_client()
    used = clients.match_secret(tenant, found.secret)
    if used is None:
        raise invalid_client()
    return tenant, used.id, used


_issue_lock = threading.Lock()
_issue_seen: dict[tuple[str, str], tuple[float, int]] = {}


def _audit_issue(storage: Storage, tenant: Entity, source: str) -> None:
    """Sampled: one event per tenant, source and instance per ten minutes, carrying how many were issued
    meanwhile, so a client that asks for a token per call cannot flood the audit log."""
    key = (tenant["tenantId"], source)
    now = time.monotonic()
    with _issue_lock:
        last, count = _issue_seen.get(key, (float("-inf"), 0))
        due = now - last >= ISSUE_AUDIT_SECONDS
        _issue_seen[key] = (now, 0) if due else (last, count + 1)
    if due:
        details = {"source": source, "issuedSinceLastEvent": count + 1}
        target = Target("Tenant", tenant["tenantId"], tenant["name"])
        audit.record(storage, tenant["tenantId"], ACTOR_SCIM, "oauth.token.issue", target, details=details)


def _failed(storage: Storage, error: OAuthError, client_id: str | None, address: str | None) -> OAuthError:
    """Count an authentication failure; past the threshold it becomes a 429 (a burst start is audited)."""
    verdict = ratelimit.record_failure(storage, client_id=client_id, address=address)
    if verdict.burst_started and client_id:
        try:
            tenant = tenants.get_entity(storage, client_id)
        except tenants.TenantNotFound:
            tenant = None
        if tenant is not None:
            target = Target("Tenant", client_id, tenant["name"])
            audit.record(storage, client_id, ACTOR_SCIM, "oauth.token.failures", target, details={"window": "5m"})
    return TooManyFailures(verdict.retry_after) if verdict.limited else error


def token(
    storage: Storage, body: bytes, content_type: str | None, authorization: str | None, address: str | None
) -> tuple[dict[str, Any], str]:
    """The token response (RFC 6749 §5.1) and the tenant it was issued for, or an OAuthError."""
    form = parse_form(body, content_type)
    client_id: str | None = None
    try:
        basic = parse_basic(authorization)
        check_grant(form)
        found = credentials(form, basic)
        client_id = found.client_id
        tenant, source, used = _authenticate(storage, found)
        issued, lifetime = access.issue(storage, tenant, source)
    except OAuthError as error:
        if error.status != 401 and error.error != "invalid_grant":
            raise
        raise _failed(storage, error, client_id, address) from None
    if used is not None:
        clients.note_use(storage, tenant, used)
    _audit_issue(storage, tenant, source)
    return {"access_token": issued, "token_type": "Bearer", "expires_in": lifetime, "scope": SCOPE}, tenant["tenantId"]
