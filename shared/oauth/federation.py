"""Workload identity federation: a tenant's trust in Entra's signed client assertion (RFC 7523 §2.2, §3).

The tenant admin copies four values from Entra (issuer, JWKS URL, subject, audience); `check_federation`
validates them once, when they are configured, and `verify_assertion` checks an assertion against them at
the token endpoint. Every rule that refuses an assertion answers the same `invalid_client` (RFC 7523 §3.2,
RFC 6749 §5.2) and logs which rule it was, never the assertion or its claim values.

Decisions this module makes (docs/deploy.md repeats them for admins):
- Audience: Entra's guide shows the audience once with the `/.default` scope suffix. That suffix names a
  scope, not an audience, so it is dropped on configuration, and an assertion's `aud` value matches with
  or without it. The same resource either way: this widens nothing.
- `iss` and `tid`: Microsoft's key sets are shared by all Entra tenants, so the signature alone does not
  say whose assertion it is; `iss` does. An issuer on a Microsoft sign-in host must name one tenant
  (`https://login.microsoftonline.com/<tenant id>/v2.0`; `common`/`organizations` are refused when
  configured), and the assertion must carry that same `tid`. Any other issuer (a local rehearsal issuer)
  is bound by exact `iss` equality alone; its `tid`, if any, is not interpreted.
- Replay: the assertion's `jti` identifies it, else Entra's `uti`; an assertion with neither is identified
  by its SHA-256, so the very same token is still refused a second time while a freshly signed one passes.
- Lifetime: `exp` is required, `nbf` and `iat` are checked when present, all with 5 minutes of skew, and
  an `exp` more than a day ahead is refused (it would also keep its replay row that long).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt

from shared import clock
from shared.errors import Invalid
from shared.oauth import jwks, replay
from shared.oauth.errors import OAuthError, invalid_client
from shared.store.client import Storage

log = logging.getLogger(__name__)

MAX_ASSERTION_BYTES = 16 * 1024
CLOCK_SKEW = timedelta(minutes=5)
MAX_AHEAD = timedelta(hours=24)
MAX_URL = 2048
MAX_VALUE = 1024
SCOPE_SUFFIX = "/.default"
REFUSED = "the client assertion was not accepted"

# Sign-in hosts whose issuers are `https://<host>/<tenant id>/v2.0` (v1: `https://sts.windows.net/<id>/`).
ENTRA_HOSTS = frozenset(
    {"login.microsoftonline.com", "login.microsoftonline.us", "login.partner.microsoftonline.cn", "sts.windows.net"}
)
_TENANT_ID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_jws = jwt.PyJWS(options={"enforce_minimum_key_length": True})  # RSA below 2048 bits is refused


@dataclass(frozen=True)
class Federation:
    """A tenant's federation trust, as `check_federation` normalized it."""

    issuer: str
    jwks_url: str
    subject: str
    audience: str


class _Refused(Exception):
    """One rule refused the assertion; the message names the rule (for the log, not the client)."""


def _audience(value: str) -> str:
    return value.removesuffix(SCOPE_SUFFIX)


def issuer_tenant(issuer: str) -> str | None:
    """The Entra tenant id an issuer on a Microsoft sign-in host names (lowercase); None for other hosts.
    Raises Invalid for a Microsoft issuer that names no single tenant."""
    parts = urlsplit(issuer)
    if (parts.hostname or "") not in ENTRA_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if not segments or not _TENANT_ID.match(segments[0]):
        raise Invalid(
            "The issuer must name one Entra tenant: https://login.microsoftonline.com/<tenant id>/v2.0 "
            "(not common, organizations or consumers)."
        )
    return segments[0].lower()


def _text(name: str, value: str, limit: int) -> str:
    value = value.strip()  # pasted values often carry a space or a line break at either end
    if not value:
        raise Invalid(f"The {name} must not be empty.")
    if len(value) > limit:
        raise Invalid(f"The {name} must be at most {limit} characters.")
    if _CONTROL.search(value):
        raise Invalid(f"The {name} must not contain control characters.")
    return value


def check_federation(issuer: str, jwks_url: str, subject: str, audience: str) -> Federation:
    """The four values from Entra, validated and normalized, or Invalid saying what to fix."""
    issuer = _text("issuer", issuer, MAX_URL)
    if urlsplit(issuer).scheme != "https" or not urlsplit(issuer).hostname:
        raise Invalid("The issuer must be an https URL, e.g. https://login.microsoftonline.com/<tenant id>/v2.0.")
    issuer_tenant(issuer)
    jwks_url = _text("JWKS URL", jwks_url, MAX_URL)
    problem = jwks.url_problem(jwks_url)
    if problem is not None:
        raise Invalid(f"The JWKS URL is not allowed: {problem}.")
    subject = _text("subject", subject, MAX_VALUE)
    audience = _audience(_text("audience", audience, MAX_VALUE))
    if not audience:
        raise Invalid("The audience must not be empty.")
    return Federation(issuer=issuer, jwks_url=jwks_url, subject=subject, audience=audience)


def _signed_claims(federation: Federation, assertion: str) -> dict[str, Any]:
    """The assertion's claims once its signature verified with a key of the configured set."""
    if len(assertion) > MAX_ASSERTION_BYTES or not assertion.isascii():
        raise _Refused("size or characters")
    try:
        header = _jws.get_unverified_header(assertion)
    except jwt.PyJWTError as exc:
        raise _Refused("unreadable header") from exc
    algorithm, kid = header.get("alg"), header.get("kid")
    if not isinstance(algorithm, str) or algorithm not in jwks.ALGORITHMS:
        raise _Refused("algorithm not accepted")
    if not isinstance(kid, str):
        raise _Refused("no kid")
    try:
        key = jwks.verification_key(jwks.keys.jwk(federation.jwks_url, kid), algorithm)
        payload = _jws.decode_complete(assertion, key=key, algorithms=[algorithm])["payload"]
        claims = json.loads(payload)
    except jwks.KeyUnavailable as exc:
        raise _Refused(f"key: {exc}") from exc
    except (jwt.PyJWTError, ValueError) as exc:
        raise _Refused("signature or payload") from exc
    if not isinstance(claims, dict):
        raise _Refused("payload is not a claims object")
    return claims


def _instant(claims: dict[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Refused(f"{name} is not a number")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _Refused(f"{name} out of range") from exc


def _check_times(claims: dict[str, Any], now: datetime) -> datetime:
    """The assertion's expiry, if it is within its lifetime now (with CLOCK_SKEW either way)."""
    expires = _instant(claims, "exp")
    if expires is None:
        raise _Refused("no exp")
    if now >= expires + CLOCK_SKEW:
        raise _Refused("expired")
    if expires > now + MAX_AHEAD + CLOCK_SKEW:
        raise _Refused("exp too far ahead")
    not_before = _instant(claims, "nbf")
    if not_before is not None and now < not_before - CLOCK_SKEW:
        raise _Refused("not yet valid (nbf)")
    issued = _instant(claims, "iat")
    if issued is not None and (issued > now + CLOCK_SKEW or issued > expires):
        raise _Refused("iat in the future or after exp")
    return expires


def _check_identity(federation: Federation, claims: dict[str, Any]) -> None:
    if claims.get("iss") != federation.issuer:
        raise _Refused("iss")
    if claims.get("sub") != federation.subject:
        raise _Refused("sub")
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else audiences
    if not isinstance(audiences, list) or not any(
        isinstance(a, str) and _audience(a) == federation.audience for a in audiences
    ):
        raise _Refused("aud")
    tenant = issuer_tenant(federation.issuer)
    tid = claims.get("tid")
    if tenant is not None and not (isinstance(tid, str) and tid.lower() == tenant):
        raise _Refused("tid does not match iss")


def _assertion_id(claims: dict[str, Any], assertion: str) -> str:
    for name in ("jti", "uti"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return f"{name}:{value}"
    return "sha256:" + hashlib.sha256(assertion.encode("ascii")).hexdigest()


def _refused(tenant_id: str, reason: str) -> OAuthError:
    log.info("client assertion refused for tenant %s: %s", tenant_id, reason)
    return invalid_client(REFUSED)


def verify_assertion(storage: Storage, tenant_id: str, federation: Federation, assertion: str) -> None:
    """Accept `assertion` as `tenant_id`'s client authentication, or raise OAuthError(invalid_client).
    Storage is touched only by an assertion that passes every other rule: one write (its replay row), then
    the purge of expired rows (one query, a delete per expired row). At most one JWKS fetch (see
    shared.oauth.jwks). StorageUnavailable propagates."""
    try:
        claims = _signed_claims(federation, assertion)
        expires = _check_times(claims, clock.now())
        _check_identity(federation, claims)
    except _Refused as exc:
        raise _refused(tenant_id, str(exc)) from None
    if not replay.first_use(storage, tenant_id, _assertion_id(claims, assertion), expires + CLOCK_SKEW):
        raise _refused(tenant_id, "replayed")
    replay.purge(storage, tenant_id)
