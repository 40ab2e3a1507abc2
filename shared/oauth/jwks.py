"""The signing keys of a federation issuer: fetched from its JWKS URL, cached in process by `kid`.

Entra signs its assertions with a key named by `kid`, published at the issuer's JWKS URL and rotated from
time to time. We keep each URL's keys for `CACHE_TTL`; a `kid` we do not know makes us fetch the set again,
but at most once per `REFETCH_INTERVAL` per URL, so a stream of made-up `kid`s cannot make us hammer the
issuer. When the endpoint is down or answers garbage, the keys we have stay in use and only an unknown
`kid` fails: an outage at the issuer must not stop tenants whose keys we already hold.

The fetch is defensive because the URL is configured by a tenant admin and the answer comes from the
network: https only (loopback hosts excepted, for local rehearsal), a timeout, a size cap, no redirects
(a redirect could lead anywhere; Microsoft's key endpoints answer directly), and a set that is not a JWKS
is an error value, never a crash. Symmetric (`oct`) keys are dropped on reading: a key the issuer
publishes can never be an HMAC secret, and keeping none means no header can select one.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt

from shared import clock

log = logging.getLogger(__name__)

CACHE_TTL = timedelta(hours=1)
REFETCH_INTERVAL = timedelta(seconds=60)
FETCH_TIMEOUT_SECONDS = 3.0
MAX_JWKS_BYTES = 64 * 1024
MAX_KEYS = 100
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

# The asymmetric algorithms Entra may sign with, and the key each needs (kty, and the curve for EC).
# HMAC (HS*) and `none` are absent on purpose: a public JWKS cannot hold a shared secret.
ALGORITHMS: dict[str, tuple[str, str | None]] = {
    **{f"RS{bits}": ("RSA", None) for bits in (256, 384, 512)},
    **{f"PS{bits}": ("RSA", None) for bits in (256, 384, 512)},
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
}


class KeyUnavailable(Exception):
    """No usable key for this `kid` and algorithm (unknown, of another type, or the set is unreachable)."""


class FetchFailed(Exception):
    """The JWKS endpoint did not answer with a usable key set."""


def url_problem(url: str) -> str | None:
    """Why `url` may not serve keys (None if it may): https, or http on a loopback host for local tests."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "it is not a URL"
    if not host:
        return "it has no host"
    if parts.username is not None or parts.password is not None:
        return "it must not carry credentials"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return None
    return "it must use https (http only on 127.0.0.1, ::1 or localhost, for local testing)"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # a 3xx then surfaces as an HTTPError
        return None


_opener = urllib.request.build_opener(_NoRedirects())


def _usable(jwk: Any) -> bool:
    """A public signing key of a type we verify with (the rest of a set, e.g. encryption keys, is ignored)."""
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
        return False
    if jwk.get("use", "sig") != "sig" or jwk.get("kty") not in ("RSA", "EC") or "d" in jwk:
        return False
    try:
        jwt.PyJWK(jwk)
    except (jwt.PyJWTError, TypeError, ValueError):
        return False
    return True


def parse_jwks(body: bytes) -> dict[str, dict[str, Any]]:
    """The usable keys of a JWKS document by `kid`; FetchFailed if it is not a JWKS at all."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise FetchFailed("the answer is not JSON") from exc
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or len(keys) > MAX_KEYS:
        raise FetchFailed("the answer is not a JWKS (an object with a list of keys)")
    return {jwk["kid"]: jwk for jwk in keys if _usable(jwk)}


def fetch(url: str) -> dict[str, dict[str, Any]]:
    """GET the key set at `url` within the limits above; FetchFailed on any failure."""
    problem = url_problem(url)
    if problem is not None:
        raise FetchFailed(f"the JWKS URL is not allowed: {problem}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with _opener.open(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            body = response.read(MAX_JWKS_BYTES + 1)
    except (OSError, ValueError) as exc:  # URLError, HTTPError (incl. any 3xx), timeouts, bad URLs
        raise FetchFailed(f"{type(exc).__name__}") from exc
    if len(body) > MAX_JWKS_BYTES:
        raise FetchFailed(f"the answer exceeds {MAX_JWKS_BYTES} bytes")
    return parse_jwks(body)


@dataclass
class _Entry:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetched: datetime | None = None  # when `keys` last came from the endpoint
    attempted: datetime | None = None  # when we last tried, successful or not
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fresh(self, now: datetime) -> bool:
        return self.fetched is not None and now - self.fetched < CACHE_TTL

    def may_fetch(self, now: datetime) -> bool:
        return self.attempted is None or now - self.attempted >= REFETCH_INTERVAL


class KeyCache:
    """Keys per JWKS URL, shared by every request of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def _entry(self, url: str) -> _Entry:
        with self._lock:
            return self._entries.setdefault(url, _Entry())

    def jwk(self, url: str, kid: str) -> dict[str, Any]:
        """The key `kid` of the set at `url`, fetching the set when it is stale or lacks `kid` (rate-limited)."""
        entry = self._entry(url)
        with entry.lock:  # one fetch per URL at a time; the others wait for its result
            now = clock.now()
            if (kid not in entry.keys or not entry.fresh(now)) and entry.may_fetch(now):
                entry.attempted = now
                try:
                    entry.keys, entry.fetched = fetch(url), now
                except FetchFailed as exc:
                    log.warning("JWKS fetch from %s failed (%s); keeping %d cached keys", url, exc, len(entry.keys))
            jwk = entry.keys.get(kid)
        if jwk is None:
            raise KeyUnavailable("no key with this kid")
        return jwk

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def verification_key(jwk: dict[str, Any], algorithm: str) -> jwt.PyJWK:
    """`jwk` bound to `algorithm`, if the algorithm is one we accept and fits the key; else KeyUnavailable."""
    needed = ALGORITHMS.get(algorithm)
    if needed is None:
        raise KeyUnavailable("algorithm not accepted")
    kty, crv = needed
    if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
        raise KeyUnavailable("the algorithm does not fit the key's type")
    if "alg" in jwk and jwk["alg"] != algorithm:
        raise KeyUnavailable("the key is published for another algorithm")
    try:
        return jwt.PyJWK(jwk, algorithm)
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise KeyUnavailable("unusable key") from exc


keys = KeyCache()  # the process's cache: keys outlive a request, as the issuer's rotation period allows
