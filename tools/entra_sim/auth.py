"""The three ways Entra authenticates to a SCIM endpoint (ENTRA-AUTH.md), as the simulator's credentials:
a long-lived Secret Token, an access token from the token endpoint with a client secret (RFC 6749 §4.4,
client_secret_post or client_secret_basic), or one bought with a signed client assertion (workload identity
federation, RFC 7523 §2.2). Access tokens are fetched when first needed and again shortly before they
expire, as Entra does; every SCIM request then carries the current one as its Bearer token."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote_plus

import requests

from tools.entra_sim.assertion import AssertionSigner

TOKEN_TIMEOUT_SECONDS = 60
REFRESH_MARGIN_SECONDS = 300.0  # fetch a new token this long before expiry (at most half its lifetime)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RESPONSE_EXCERPT = 500


class TokenError(Exception):
    """The token endpoint gave no usable access token; `status` None: no answer at all."""

    def __init__(self, url: str, status: int | None, text: str):
        super().__init__(f"the token endpoint answered {status}: {text[:RESPONSE_EXCERPT]}")
        self.url = url
        self.status = status
        self.text = text[:RESPONSE_EXCERPT]


class Credentials(Protocol):
    def bearer(self) -> str:
        """The token for `Authorization: Bearer`; TokenError when none can be had."""
        ...


class SecretToken:
    """The long-lived Secret Token an admin pastes into Entra."""

    def __init__(self, token: str):
        self._token = token

    def bearer(self) -> str:
        return self._token


def basic_credentials(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def _access_token(url: str, response: requests.Response) -> tuple[str, float]:
    """(access token, lifetime in seconds) from a token response, or TokenError."""
    try:
        answer: Any = response.json()
    except ValueError:
        answer = None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    lifetime = answer.get("expires_in") if isinstance(answer, dict) else None
    token_type = answer.get("token_type") if isinstance(answer, dict) else None
    if (
        response.status_code != 200
        or not isinstance(token, str)
        or not token
        or not isinstance(token_type, str)
        or token_type.lower() != "bearer"
        or isinstance(lifetime, bool)
        or not isinstance(lifetime, int | float)
        or lifetime <= 0
    ):
        raise TokenError(url, response.status_code, response.text)
    return token, float(lifetime)


class TokenEndpoint:
    """Access tokens from `POST token_url` (grant_type=client_credentials), kept until shortly before expiry.
    `client_auth` gives, per request, the form fields and headers that authenticate the client."""

    def __init__(
        self,
        token_url: str,
        client_auth: Callable[[], tuple[dict[str, str], dict[str, str]]],
        *,
        scope: str | None = None,
        announce: Callable[[str], None] = lambda _text: None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._url = token_url
        self._client_auth = client_auth
        self._scope = scope
        self._announce = announce
        self._clock = clock
        self._lock = threading.Lock()  # one fetch at a time; the other workers wait for its token
        self._token: str | None = None
        self._refresh_at = 0.0
        self.fetches = 0

    def bearer(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._token, self._refresh_at = self._fetch()
            return self._token

    def _fetch(self) -> tuple[str, float]:
        """A new token and when to replace it."""
        fields, headers = self._client_auth()
        form = {"grant_type": "client_credentials", **fields}
        if self._scope is not None:
            form["scope"] = self._scope
        started = self._clock()
        self.fetches += 1
        try:
            response = requests.post(self._url, data=form, headers=headers, timeout=TOKEN_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise TokenError(self._url, None, f"{type(exc).__name__}: {exc}") from exc
        token, lifetime = _access_token(self._url, response)
        self._announce(f"[token] new access token, expires in {lifetime:.0f} s")
        return token, started + lifetime - min(REFRESH_MARGIN_SECONDS, lifetime / 2)


def client_secret(
    token_url: str, client_id: str, secret: str, *, basic: bool, scope: str | None, announce: Callable[[str], None]
) -> TokenEndpoint:
    """Client credentials with a secret: in the form (client_secret_post) or in HTTP Basic."""

    def client_auth() -> tuple[dict[str, str], dict[str, str]]:
        if basic:
            return {}, {"Authorization": basic_credentials(client_id, secret)}
        return {"client_id": client_id, "client_secret": secret}, {}

    return TokenEndpoint(token_url, client_auth, scope=scope, announce=announce)


def federated(
    token_url: str, client_id: str, signer: AssertionSigner, *, scope: str | None, announce: Callable[[str], None]
) -> TokenEndpoint:
    """Client credentials with a freshly signed assertion per token request (a new `jti` each time)."""

    def client_auth() -> tuple[dict[str, str], dict[str, str]]:
        fields = {"client_id": client_id, "client_assertion_type": ASSERTION_TYPE, "client_assertion": signer.sign()}
        return fields, {}

    return TokenEndpoint(token_url, client_auth, scope=scope, announce=announce)
