"""The simulator's OAuth credentials (tools.entra_sim.auth, .assertion, .keys) against a token endpoint and a
SCIM endpoint played by a loopback HTTP server in the test: what it sends to get a token, when it gets a
new one, and that every SCIM request carries the current one. The assertions it signs must pass the
service's own federation validation."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import pytest

from shared.oauth import federation, jwks
from shared.store.client import Storage
from tests.support.loopback import Answer, Loopback, Received, loopback
from tools.entra_sim import assertion, auth, cli, keys

TOKEN_PATH = "/oauth2/token"
EMPTY_LIST = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []}
ISSUER = "https://login.microsoftonline.com/7d3c1a52-6a3b-4e4c-9a51-0f2a4b6c8d9e/v2.0"


def form(request: Received) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(request.body.decode()).items()}


def token_answer(token: str = "at-1", expires_in: Any = 3600, **extra: Any) -> Answer:
    return Answer(
        body=json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": expires_in, **extra}).encode()
    )


class Issued:
    """A token endpoint that issues at-1, at-2, … and remembers what it was sent."""

    def __init__(self, expires_in: int = 3600):
        self.expires_in = expires_in
        self.count = 0

    def __call__(self, request: Received) -> Answer:
        self.count += 1
        return token_answer(f"at-{self.count}", self.expires_in)


@pytest.fixture
def server() -> Iterator[Loopback]:
    with loopback() as endpoint:
        endpoint.answer("/scim/v2/Users", Answer(body=json.dumps(EMPTY_LIST).encode()))
        endpoint.answer("/scim/v2/Groups", Answer(body=json.dumps(EMPTY_LIST).encode()))
        yield endpoint


def secret_endpoint(server: Loopback, *, basic: bool = False, secret: str = "s3cret") -> auth.TokenEndpoint:
    return auth.client_secret(server.url(TOKEN_PATH), "client-1", secret, basic=basic, scope=None, announce=print)


def test_client_secret_post_sends_the_grant_and_both_halves_in_the_form(server):
    server.answer(TOKEN_PATH, Issued())
    assert secret_endpoint(server).bearer() == "at-1"
    (sent,) = server.received
    assert sent.method == "POST" and sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(sent) == {"grant_type": "client_credentials", "client_id": "client-1", "client_secret": "s3cret"}
    assert "Authorization" not in sent.headers


def test_client_secret_basic_form_urlencodes_both_halves_first(server):
    server.answer(TOKEN_PATH, Issued())
    assert secret_endpoint(server, basic=True, secret="a b:c/é+").bearer() == "at-1"
    (sent,) = server.received
    scheme, encoded = sent.headers["Authorization"].split(" ")
    user, password = base64.b64decode(encoded).decode().split(":")
    assert scheme == "Basic" and (user, password) == ("client-1", "a+b%3Ac%2F%C3%A9%2B")
    assert unquote_plus(password) == "a b:c/é+"
    assert form(sent) == {"grant_type": "client_credentials"}


def test_a_scope_is_sent_only_when_asked_for(server):
    server.answer(TOKEN_PATH, Issued())
    endpoint = auth.client_secret(server.url(TOKEN_PATH), "c", "s", basic=False, scope="scim", announce=print)
    endpoint.bearer()
    assert form(server.received[0])["scope"] == "scim"


def test_the_token_is_reused_until_shortly_before_it_expires(server):
    server.answer(TOKEN_PATH, Issued(expires_in=3600))
    now = [0.0]
    endpoint = auth.TokenEndpoint(server.url(TOKEN_PATH), lambda: ({"client_id": "c"}, {}), clock=lambda: now[0])
    assert endpoint.bearer() == "at-1"
    now[0] = 3600 - auth.REFRESH_MARGIN_SECONDS - 1
    assert endpoint.bearer() == "at-1"
    now[0] += 1
    assert endpoint.bearer() == "at-2"
    assert endpoint.fetches == 2


def test_a_short_lived_token_is_renewed_at_half_its_lifetime(server):
    server.answer(TOKEN_PATH, Issued(expires_in=100))
    now = [0.0]
    endpoint = auth.TokenEndpoint(server.url(TOKEN_PATH), lambda: ({}, {}), clock=lambda: now[0])
    endpoint.bearer()
    now[0] = 49
    assert endpoint.bearer() == "at-1"
    now[0] = 50
    assert endpoint.bearer() == "at-2"


@pytest.mark.parametrize(
    "answer",
    [
        Answer(401, b'{"error": "invalid_client"}'),
        Answer(200, b"not json"),
        token_answer(token=""),
        token_answer(expires_in="3600"),
        token_answer(expires_in=0),
        token_answer(token_type="mac"),
    ],
    ids=["401", "not-json", "no-token", "expires-in-text", "expires-in-zero", "not-bearer"],
)
def test_an_unusable_token_answer_is_a_token_error(server, answer):
    server.answer(TOKEN_PATH, answer)
    with pytest.raises(auth.TokenError) as caught:
        secret_endpoint(server).bearer()
    assert caught.value.status == answer.status and caught.value.url == server.url(TOKEN_PATH)


def test_no_answer_is_a_token_error_without_status():
    endpoint = auth.client_secret("http://127.0.0.1:9/oauth2/token", "c", "s", basic=False, scope=None, announce=print)
    with pytest.raises(auth.TokenError) as caught:
        endpoint.bearer()
    assert caught.value.status is None


# --- federation -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signing_key() -> assertion.SigningKey:
    return assertion.new_key()


def test_federation_sends_a_fresh_signed_assertion_per_token_request(server, signing_key):
    server.answer(TOKEN_PATH, Issued(expires_in=100))
    signer = assertion.AssertionSigner(signing_key, "kid-1", ISSUER, "sub-1", "api://app")
    now = [0.0]
    endpoint = auth.federated(server.url(TOKEN_PATH), "client-1", signer, scope=None, announce=print)
    endpoint._clock = lambda: now[0]  # type: ignore[method-assign]  # moved by hand below
    endpoint.bearer()
    now[0] = 60
    endpoint.bearer()
    forms = [form(r) for r in server.received]
    assert [f["client_assertion_type"] for f in forms] == [auth.ASSERTION_TYPE] * 2
    assert {f["grant_type"] for f in forms} == {"client_credentials"} and {f["client_id"] for f in forms} == {
        "client-1"
    }
    assert "client_secret" not in forms[0]
    assert forms[0]["client_assertion"] != forms[1]["client_assertion"]


def test_the_simulators_assertions_pass_the_services_validation(signing_key):
    """The rehearsal must exercise the real rules: the JWKS the simulator serves, the claims it signs."""
    kid = assertion.thumbprint(signing_key)
    signer = assertion.AssertionSigner(signing_key, kid, ISSUER, "sub-1", "api://app")
    jwks.keys.clear()
    with assertion.serve_jwks(assertion.jwks(signing_key, kid), 0) as jwks_url:
        trust = federation.check_federation(ISSUER, jwks_url, "sub-1", "api://app")
        storage = Storage.in_memory()
        federation.verify_assertion(storage, "a" * 32, trust, signer.sign())
        federation.verify_assertion(storage, "a" * 32, trust, signer.sign())  # a new jti each time
    jwks.keys.clear()


def test_the_thumbprint_is_rfc_7638s():
    """RFC 7638 §3.1's example key and its thumbprint."""
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs"
        "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajr"
        "n1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    example = {"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert assertion.jwk_thumbprint(example) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_keys_creates_a_private_key_once_and_writes_its_jwks(tmp_path: Path):
    key_file, jwks_file = tmp_path / "key.pem", tmp_path / "jwks.json"
    out = io.StringIO()
    assert keys.main(["--key", str(key_file), "--jwks", str(jwks_file), "--json"], stdout=out) == 0
    first = json.loads(out.getvalue())
    assert key_file.stat().st_mode & 0o077 == 0
    assert json.loads(jwks_file.read_text()) == first["jwks"]
    (published,) = first["jwks"]["keys"]
    assert published["kid"] == first["kid"] and "d" not in published and published["alg"] == "RS256"
    again = io.StringIO()
    assert keys.main(["--key", str(key_file), "--json"], stdout=again) == 0
    assert json.loads(again.getvalue())["kid"] == first["kid"]  # the same key, reused


def test_keys_refuses_a_file_that_is_not_a_private_key(tmp_path: Path):
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    err = io.StringIO()
    assert keys.main(["--key", str(bad)], stderr=err) == 2
    assert "cannot read a private key" in err.getvalue()


# --- the command line ------------------------------------------------------------------------------------------


def run(tmp_path: Path, server: Loopback, *auth_args: str) -> tuple[int, dict, str]:
    directory = tmp_path / "empty.json"
    directory.write_text(json.dumps({"snapshots": [{"users": [], "groups": []}]}))
    out, err = io.StringIO(), io.StringIO()
    argv = ["--url", server.url("/scim/v2"), "--directory", str(directory), "--json", *auth_args]
    code = cli.main(argv, stdout=out, stderr=err)
    return code, (json.loads(out.getvalue()) if out.getvalue() else {}), err.getvalue()


def scim_bearers(server: Loopback) -> list[str]:
    return [r.headers["Authorization"] for r in server.received if r.path.startswith("/scim/v2/")]


def test_a_run_with_client_credentials_sends_the_access_token_on_every_scim_request(tmp_path, server):
    server.answer(TOKEN_PATH, Issued())
    oauth = ["--token-url", server.url(TOKEN_PATH), "--client-id", "c", "--client-secret", "s"]
    code, summary, err = run(tmp_path, server, *oauth, "--client-auth", "basic")
    assert code == 0 and summary["failures"] == []
    assert scim_bearers(server) == ["Bearer at-1", "Bearer at-1"]  # Test Connection's two probes
    assert server.hits(TOKEN_PATH) == 1 and "[token] new access token" in err


def test_a_run_with_federation_serves_its_jwks_and_signs_with_the_key(tmp_path, server):
    key_file = tmp_path / "key.pem"
    assert keys.main(["--key", str(key_file)], stdout=io.StringIO()) == 0
    seen: list[str] = []

    def token_endpoint(request: Received) -> Answer:
        seen.append(form(request)["client_assertion"])
        return token_answer("at-fed")

    server.answer(TOKEN_PATH, token_endpoint)
    federation_args = ["--federation-key", str(key_file), "--issuer", ISSUER, "--subject", "s", "--audience", "a"]
    oauth = ["--token-url", server.url(TOKEN_PATH), "--client-id", "c"]
    code, summary, err = run(tmp_path, server, *oauth, *federation_args, "--serve-jwks", "0")
    assert code == 0 and scim_bearers(server) == ["Bearer at-fed", "Bearer at-fed"]
    assert "[federation] JWKS served at http://127.0.0.1:" in err
    header = json.loads(base64.urlsafe_b64decode(seen[0].split(".")[0] + "=="))
    assert header == {"alg": "RS256", "kid": assertion.thumbprint(assertion.load_key(key_file)), "typ": "JWT"}


def test_a_refused_token_request_fails_test_connection_with_the_endpoints_answer(tmp_path, server):
    server.answer(TOKEN_PATH, Answer(401, b'{"error": "invalid_client"}'))
    oauth = ["--token-url", server.url(TOKEN_PATH), "--client-id", "c", "--client-secret", "wrong"]
    code, summary, _ = run(tmp_path, server, *oauth)
    assert code == 1 and summary["cycles"] == []
    reasons = [f["reason"] for f in summary["failures"]]
    assert reasons and all(r.startswith("POST token endpoint answered 401") for r in reasons)
    assert scim_bearers(server) == []  # no SCIM request went out without a token


@pytest.mark.parametrize(
    "auth_args",
    [
        [],
        ["--token", "t", "--client-secret", "s", "--token-url", "http://x/t", "--client-id", "c"],
        ["--client-secret", "s"],
        ["--token", "t", "--token-url", "http://x/t"],
        ["--federation-key", "k.pem", "--token-url", "http://x/t", "--client-id", "c", "--issuer", "i"],
        ["--token", "t", "--serve-jwks", "0"],
    ],
    ids=[
        "none",
        "two-methods",
        "secret-without-endpoint",
        "token-with-endpoint",
        "federation-incomplete",
        "jwks-alone",
    ],
)
def test_incomplete_or_mixed_authentication_is_a_usage_error(tmp_path, server, auth_args, capsys):
    code, _, _ = run(tmp_path, server, *auth_args)
    assert code == 2 and "error:" in capsys.readouterr().err  # argparse writes to sys.stderr
    assert server.received == []


def test_an_unreadable_federation_key_is_a_usage_error(tmp_path, server):
    args = ["--token-url", server.url(TOKEN_PATH), "--client-id", "c", "--federation-key", str(tmp_path / "none.pem")]
    code, _, err = run(tmp_path, server, *args, "--issuer", ISSUER, "--subject", "s", "--audience", "a")
    assert code == 2 and "cannot read a private key" in err
