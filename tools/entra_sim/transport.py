"""HTTP to the Tenant URL as Entra sends it: bearer token, `application/scim+json` bodies, filters
URL-encoded with `+` for spaces, 60 s per request, and `429` answered by waiting `Retry-After` (a bounded
number of times). Every request actually sent is counted in the cycle's log. The bearer token comes from
the run's credentials before each request (an access token is renewed before it expires); when none can be
had, the request is not sent and fails with the token endpoint's answer."""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

from tools.entra_sim.auth import Credentials, TokenError
from tools.entra_sim.report import CycleLog

SCIM_JSON = "application/scim+json"
REQUEST_TIMEOUT_SECONDS = 60  # the ceiling Microsoft states for Entra's requests
MAX_RETRIES_AFTER_429 = 5
MAX_RETRY_AFTER_SECONDS = 60.0
DEFAULT_RETRY_AFTER_SECONDS = 1.0
RESPONSE_EXCERPT = 2000
TOKEN_KIND = "POST token endpoint"  # a failed token request, in the place of the SCIM request it stopped


@dataclass(frozen=True)
class Exchange:
    """One logical request and the answer it finally got (status None: no answer at all)."""

    kind: str
    method: str
    url: str
    body: Any
    status: int | None
    text: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def describe(self) -> dict[str, Any]:
        return {
            "request": {"method": self.method, "url": self.url, "body": self.body},
            "response": {"status": self.status, "body": self.text[:RESPONSE_EXCERPT]},
        }


def split_tenant_url(url: str) -> tuple[str, str]:
    """(base without query or trailing slash, its query string): Entra appends /Users to the base."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", "")), parts.query


def retry_delay(header: str | None) -> float:
    """Seconds to wait for a Retry-After value (delta-seconds or an HTTP date), bounded."""
    if header is None:
        return DEFAULT_RETRY_AFTER_SECONDS
    try:
        seconds = float(header)
    except ValueError:
        try:
            seconds = (email.utils.parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER_SECONDS
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def route_kind(method: str, path: str, params: list[tuple[str, str]]) -> str:
    """The summary's request kinds: `POST /Users`, `PATCH /Groups`, `DELETE /Users`... GET, the one method
    with several routes, is split into `GET /Users?filter` (lookups) and `GET /Users/{id}`."""
    resource, _, scim_id = path.strip("/").partition("/")
    if any(k == "filter" for k, _ in params):
        resource += "?filter"
    elif method == "GET" and scim_id:
        resource += "/{id}"
    return f"{method} /{resource}"


class Transport:
    def __init__(self, tenant_url: str, credentials: Credentials, sleep: Callable[[float], None] = time.sleep):
        self.base, _ = split_tenant_url(tenant_url)
        self._credentials = credentials
        self._sleep = sleep
        self._local = threading.local()

    def _session(self) -> requests.Session:
        # One session per worker thread: requests.Session is not documented as thread-safe.
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def send(
        self, log: CycleLog, method: str, path: str, params: list[tuple[str, str]] | None = None, body: Any = None
    ) -> Exchange:
        params = params or []
        url = self.base + path + ("?" + urlencode(params) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": SCIM_JSON} if data is not None else {}
        kind = route_kind(method, path, params)
        retries = 0
        while True:
            try:
                headers["Authorization"] = f"Bearer {self._credentials.bearer()}"
            except TokenError as exc:
                return Exchange(TOKEN_KIND, "POST", exc.url, None, exc.status, exc.text)
            log.count(kind)
            try:
                response = self._session().request(
                    method, url, data=data, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
                )
            except requests.RequestException as exc:
                return Exchange(kind, method, url, body, None, f"{type(exc).__name__}: {exc}")
            if response.status_code != 429 or retries == MAX_RETRIES_AFTER_429:
                return Exchange(kind, method, url, body, response.status_code, response.text)
            retries += 1
            log.throttled()
            self._sleep(retry_delay(response.headers.get("Retry-After")))
