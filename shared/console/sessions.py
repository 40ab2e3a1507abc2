"""Console sessions, kept on the server: the cookie holds a random id, storage only its SHA-256 digest.

Row `S:<digest>` / `session` in the tenants table: the principal, a per-session CSRF token, the absolute
expiry (8 hours) and the last time it was used (idle timeout 30 minutes, refreshed at most once a minute
so that browsing costs one read per request, not a read and a write).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from shared import clock
from shared.console.principal import Forbidden, Principal, SignInRequired
from shared.store.client import Storage
from shared.store.errors import RowMissing

SESSION_ROW = "session"
LIFETIME = timedelta(hours=8)
IDLE_TIMEOUT = timedelta(minutes=30)
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf_token: str


def _pk(session_id: str) -> str:
    return "S:" + hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def create(storage: Storage, principal: Principal) -> str:
    """A new session for `principal`; returns the id the cookie carries (never stored)."""
    session_id = secrets.token_urlsafe(32)
    now = clock.now()
    storage.tenants.create(
        {
            "PartitionKey": _pk(session_id),
            "RowKey": SESSION_ROW,
            "kind": principal.kind,
            "name": principal.name[:256],
            "tenantId": principal.tenant_id,
            "csrf": secrets.token_urlsafe(32),
            "expires": clock.iso(now + LIFETIME),
            "lastSeen": clock.iso(now),
        }
    )
    return session_id


def load(storage: Storage, session_id: str | None) -> Session:
    """The live session of this id; SignInRequired if there is none (unknown, expired, idle too long)."""
    row = storage.tenants.get(_pk(session_id), SESSION_ROW) if session_id else None
    if row is None:
        raise SignInRequired("Sign in to use the admin console.")
    now = clock.now()
    last_seen = clock.parse_iso(row["lastSeen"])
    if clock.parse_iso(row["expires"]) <= now or last_seen + IDLE_TIMEOUT <= now:
        storage.tenants.delete(row["PartitionKey"], SESSION_ROW)
        raise SignInRequired("Your session has ended; sign in again.")
    if last_seen + _TOUCH_EVERY <= now:
        try:
            fields = {"PartitionKey": row["PartitionKey"], "RowKey": SESSION_ROW, "lastSeen": clock.iso(now)}
            storage.tenants.update(fields, etag=None, replace=False)
        except RowMissing:  # signed out meanwhile
            raise SignInRequired("Sign in to use the admin console.") from None
    principal = Principal(row["kind"], row["name"], tenant_id=row.get("tenantId"))
    return Session(principal, row["csrf"])


def end(storage: Storage, session_id: str | None) -> None:
    if session_id:
        storage.tenants.delete(_pk(session_id), SESSION_ROW)


def check_csrf(session: Session, supplied: str | None) -> None:
    """State-changing calls carry the session's CSRF token (header or form field), compared in constant time."""
    if not supplied or not hmac.compare_digest(supplied.encode("utf-8"), session.csrf_token.encode("utf-8")):
        raise Forbidden("The request did not carry this session's CSRF token; reload the page and retry.")
