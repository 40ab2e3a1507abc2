"""Workload identity federation: one crafted assertion per validation rule (shared.oauth.federation), keys
generated here, the JWKS served by a real HTTP server on loopback, replay rows in in-memory storage.

Each refusal must be the same RFC 6749 §5.2 `invalid_client` (401): the client learns nothing about which
rule failed."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.errors import Invalid
from shared.oauth import federation as fed
from shared.oauth import jwks, replay
from shared.oauth.errors import OAuthError
from shared.store.client import Storage
from shared.store.errors import StorageUnavailable
from shared.store.memory import MemoryTable
from tests.support import federation as f
from tests.support.loopback import Answer, Loopback, loopback

TENANT = "a" * 32
JWKS_PATH = "/discovery/v2.0/keys"


@pytest.fixture(scope="module")
def rsa_key() -> f.PrivateKey:
    return f.new_key("RS256")


@pytest.fixture
def issuer(rsa_key: f.PrivateKey, frozen: Any) -> Iterator[Loopback]:
    """A JWKS endpoint publishing `rsa_key` as kid `k1`; a clean key cache and a settable clock."""
    jwks.keys.clear()
    with loopback() as server:
        server.answer(JWKS_PATH, Answer(body=f.jwks_body(f.public_jwk(rsa_key, "k1"))))
        yield server
    jwks.keys.clear()


@pytest.fixture
def storage() -> Storage:
    return Storage.in_memory()


def verify(storage: Storage, server: Loopback, assertion: str, **config: str) -> None:
    fed.verify_assertion(storage, TENANT, f.federation(server.url(JWKS_PATH), **config), assertion)


def refused(storage: Storage, server: Loopback, assertion: str, **config: str) -> None:
    with pytest.raises(OAuthError) as caught:
        verify(storage, server, assertion, **config)
    assert (caught.value.error, caught.value.status, caught.value.description) == ("invalid_client", 401, fed.REFUSED)


# --- signature and algorithms -------------------------------------------------------------------------


def test_a_valid_entra_shaped_assertion_is_accepted(storage, issuer, rsa_key):
    verify(storage, issuer, f.sign(rsa_key, "k1"))


@pytest.mark.parametrize("algorithm", sorted(jwks.ALGORITHMS))
def test_every_rsa_and_ec_algorithm_is_accepted_with_a_key_of_its_type(storage, issuer, algorithm):
    key = f.new_key(algorithm)
    issuer.answer(JWKS_PATH, Answer(body=f.jwks_body(f.public_jwk(key, "k-" + algorithm))))
    verify(storage, issuer, f.sign(key, "k-" + algorithm, algorithm))


def test_alg_none_is_refused(storage, issuer):
    refused(storage, issuer, f.unsigned("k1"))


def test_hmac_is_refused_even_with_an_oct_key_in_the_set(storage, issuer, rsa_key):
    secret = b"s" * 32
    oct_key = {"kty": "oct", "kid": "hmac", "k": jwt.utils.base64url_encode(secret).decode(), "use": "sig"}
    issuer.answer(JWKS_PATH, Answer(body=f.jwks_body(f.public_jwk(rsa_key, "k1"), oct_key)))
    refused(storage, issuer, f.sign(secret, "hmac", "HS256"))


def test_hmac_keyed_with_the_published_rsa_key_is_refused(storage, issuer, rsa_key):
    """The classic key confusion: HS256 with the public key's PEM as the secret, naming that key."""
    pem = rsa_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    refused(storage, issuer, f.hs256_by_hand(pem, "k1"))


def test_an_algorithm_that_does_not_fit_the_key_type_is_refused(storage, issuer, rsa_key):
    ec_key = f.new_key("ES256")
    issuer.answer(JWKS_PATH, Answer(body=f.jwks_body(f.public_jwk(rsa_key, "k1"), f.public_jwk(ec_key, "e1"))))
    refused(storage, issuer, f.sign(ec_key, "k1", "ES256"))  # names the RSA key
    refused(storage, issuer, f.sign(rsa_key, "e1", "RS256"))  # names the EC key


def test_an_ec_algorithm_on_a_key_of_another_curve_is_refused(storage, issuer):
    p256 = f.new_key("ES256")
    p384 = f.new_key("ES384")
    issuer.answer(JWKS_PATH, Answer(body=f.jwks_body({**f.public_jwk(p256, "e1")})))
    refused(storage, issuer, f.sign(p384, "e1", "ES384"))


def test_a_key_published_for_another_algorithm_is_not_used_with_this_one(storage, issuer, rsa_key):
    issuer.answer(JWKS_PATH, Answer(body=f.jwks_body(f.public_jwk(rsa_key, "k1", alg="RS512"))))
    refused(storage, issuer, f.sign(rsa_key, "k1", "RS256"))


def test_a_signature_by_another_key_is_refused(storage, issuer):
    refused(storage, issuer, f.sign(f.new_key("RS256"), "k1"))


def test_a_changed_payload_breaks_the_signature(storage, issuer, rsa_key):
    header, _, signature = f.sign(rsa_key, "k1").split(".")
    _, payload, _ = f.sign(rsa_key, "k1", sub="someone-else").split(".")
    refused(storage, issuer, f"{header}.{payload}.{signature}")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_an_rsa_key_below_2048_bits_is_refused(storage, issuer):
    weak = f.new_key("RS256", rsa_bits=1024)
    issuer.answer(JWKS_PATH, Answer(body=f.jwks_body(f.public_jwk(weak, "weak"))))
    refused(storage, issuer, f.sign(weak, "weak"))


def test_a_missing_kid_is_refused(storage, issuer, rsa_key):
    refused(storage, issuer, f.sign(rsa_key, None))


# --- the key cache ---------------------------------------------------------------------------------------


def test_keys_are_cached_by_kid_within_the_ttl(storage, issuer, rsa_key, frozen):
    verify(storage, issuer, f.sign(rsa_key, "k1"))
    frozen["now"] += jwks.CACHE_TTL - timedelta(seconds=1)
    verify(storage, issuer, f.sign(rsa_key, "k1"))
    assert issuer.hits(JWKS_PATH) == 1


def test_an_unknown_kid_refetches_the_set_and_finds_a_rotated_key(storage, issuer, rsa_key, frozen):
    verify(storage, issuer, f.sign(rsa_key, "k1"))
    new = f.new_key("RS256")
    issuer.answer(JWKS_PATH, Answer(body=f.jwks_body(f.public_jwk(rsa_key, "k1"), f.public_jwk(new, "k2"))))
    frozen["now"] += jwks.REFETCH_INTERVAL  # well within the TTL: only the unknown kid makes us fetch
    verify(storage, issuer, f.sign(new, "k2"))
    assert issuer.hits(JWKS_PATH) == 2


def test_refetches_for_unknown_kids_are_rate_limited_per_url(storage, issuer, rsa_key, frozen):
    verify(storage, issuer, f.sign(rsa_key, "k1"))
    for n in range(3):
        refused(storage, issuer, f.sign(rsa_key, f"made-up-{n}"))
    assert issuer.hits(JWKS_PATH) == 1  # the set was fetched just now: no second fetch yet
    frozen["now"] += jwks.REFETCH_INTERVAL
    for n in range(3):
        refused(storage, issuer, f.sign(rsa_key, f"made-up-again-{n}"))
    assert issuer.hits(JWKS_PATH) == 2  # one refetch for the first unknown kid, none for the others


def test_after_the_ttl_the_set_is_fetched_again_and_a_removed_key_stops_working(storage, issuer, rsa_key, frozen):
    verify(storage, issuer, f.sign(rsa_key, "k1"))
    issuer.answer(JWKS_PATH, Answer(body=f.jwks_body(f.public_jwk(f.new_key("RS256"), "k2"))))
    frozen["now"] += jwks.CACHE_TTL
    refused(storage, issuer, f.sign(rsa_key, "k1"))
    assert issuer.hits(JWKS_PATH) == 2


@pytest.mark.parametrize(
    "outage",
    [Answer(503, b"down"), Answer(200, b"<html>not json</html>"), Answer(200, b'{"no": "keys"}')],
    ids=["503", "not-json", "not-a-jwks"],
)
def test_while_the_endpoint_is_down_cached_keys_work_and_only_unknown_kids_fail(
    storage, issuer, rsa_key, frozen, outage
):
    verify(storage, issuer, f.sign(rsa_key, "k1"))
    issuer.answer(JWKS_PATH, outage)
    frozen["now"] += jwks.CACHE_TTL + timedelta(minutes=1)
    verify(storage, issuer, f.sign(rsa_key, "k1"))  # stale but kept: the refetch failed
    frozen["now"] += jwks.REFETCH_INTERVAL
    refused(storage, issuer, f.sign(rsa_key, "k9"))
    assert issuer.hits(JWKS_PATH) == 3


def test_a_redirect_is_not_followed(storage, issuer, rsa_key):
    issuer.answer("/elsewhere", Answer(body=f.jwks_body(f.public_jwk(rsa_key, "k1"))))
    issuer.answer(JWKS_PATH, Answer(302, b"", {"Location": issuer.url("/elsewhere")}))
    refused(storage, issuer, f.sign(rsa_key, "k1"))
    assert issuer.hits("/elsewhere") == 0


def test_a_key_set_over_the_size_limit_is_refused(storage, issuer, rsa_key):
    padding = {"kty": "RSA", "kid": "pad", "n": "A" * jwks.MAX_JWKS_BYTES, "e": "AQAB"}
    issuer.answer(JWKS_PATH, Answer(body=f.jwks_body(f.public_jwk(rsa_key, "k1"), padding)))
    refused(storage, issuer, f.sign(rsa_key, "k1"))


def test_unusable_keys_in_a_set_are_skipped_and_the_others_used(storage, issuer, rsa_key):
    junk: list[Any] = [
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
        {"kid": "no-kty"},
        "not a key",
        {"kty": "RSA"},
    ]
    body = f.jwks_body(*junk, f.public_jwk(rsa_key, "enc", use="enc"), f.public_jwk(rsa_key, "k1"))
    issuer.answer(JWKS_PATH, Answer(body=body))
    verify(storage, issuer, f.sign(rsa_key, "k1"))
    refused(storage, issuer, f.sign(rsa_key, "enc"))  # an encryption key never verifies a signature


def test_a_slow_endpoint_times_out(storage, issuer, rsa_key, monkeypatch):
    release = threading.Event()

    def stall(_request: object) -> Answer:
        release.wait(30)
        return Answer(body=f.jwks_body(f.public_jwk(rsa_key, "k1")))

    monkeypatch.setattr(jwks, "FETCH_TIMEOUT_SECONDS", 0.2)
    issuer.answer(JWKS_PATH, stall)
    try:
        refused(storage, issuer, f.sign(rsa_key, "k1"))
    finally:
        release.set()


def test_a_jwks_url_over_plain_http_off_loopback_is_never_fetched():
    with pytest.raises(jwks.FetchFailed):
        jwks.fetch("http://keys.example.com/keys")


# --- lifetime ---------------------------------------------------------------------------------------------


def now_s(frozen: Any) -> int:
    return int(frozen["now"].timestamp())


def test_exp_is_required(storage, issuer, rsa_key):
    refused(storage, issuer, f.sign(rsa_key, "k1", exp=None))


def test_an_expired_assertion_is_refused_beyond_the_skew(storage, issuer, rsa_key, frozen):
    refused(storage, issuer, f.sign(rsa_key, "k1", exp=now_s(frozen) - 301, iat=now_s(frozen) - 600))


def test_an_assertion_expired_within_the_skew_is_accepted(storage, issuer, rsa_key, frozen):
    verify(storage, issuer, f.sign(rsa_key, "k1", exp=now_s(frozen) - 290, iat=now_s(frozen) - 600))


def test_nbf_in_the_future_beyond_the_skew_is_refused(storage, issuer, rsa_key, frozen):
    refused(storage, issuer, f.sign(rsa_key, "k1", nbf=now_s(frozen) + 301))


def test_nbf_in_the_future_within_the_skew_is_accepted(storage, issuer, rsa_key, frozen):
    verify(storage, issuer, f.sign(rsa_key, "k1", nbf=now_s(frozen) + 290, iat=now_s(frozen) + 290))


def test_iat_in_the_future_is_refused(storage, issuer, rsa_key, frozen):
    refused(storage, issuer, f.sign(rsa_key, "k1", iat=now_s(frozen) + 301))


def test_iat_after_exp_is_refused(storage, issuer, rsa_key, frozen):
    refused(storage, issuer, f.sign(rsa_key, "k1", iat=now_s(frozen), exp=now_s(frozen) - 1))


def test_exp_more_than_a_day_ahead_is_refused(storage, issuer, rsa_key, frozen):
    refused(storage, issuer, f.sign(rsa_key, "k1", exp=now_s(frozen) + 24 * 3600 + 301))


@pytest.mark.parametrize("value", ["9999999999", True, None, [1], 1e300])
def test_a_time_claim_that_is_not_a_sane_number_is_refused(storage, issuer, rsa_key, value):
    token = jwt.encode({**f.claims(), "exp": value}, rsa_key, algorithm="RS256", headers={"kid": "k1"})
    refused(storage, issuer, token)


# --- identity -----------------------------------------------------------------------------------------------


def test_another_issuer_is_refused(storage, issuer, rsa_key):
    """Entra's v1 issuer for the same tenant (same tid): only `iss` differs from the configuration."""
    refused(storage, issuer, f.sign(rsa_key, "k1", iss=f"https://sts.windows.net/{f.TENANT_GUID}/"))


def test_another_subject_is_refused(storage, issuer, rsa_key):
    refused(storage, issuer, f.sign(rsa_key, "k1", sub="someone-else"))


def test_another_audience_is_refused(storage, issuer, rsa_key):
    refused(storage, issuer, f.sign(rsa_key, "k1", aud="api://another-app"))


def test_a_missing_audience_is_refused(storage, issuer, rsa_key):
    refused(storage, issuer, f.sign(rsa_key, "k1", aud=None))


def test_an_audience_list_containing_ours_is_accepted(storage, issuer, rsa_key):
    verify(storage, issuer, f.sign(rsa_key, "k1", aud=["api://another-app", f.AUDIENCE]))


def test_an_audience_list_without_ours_is_refused(storage, issuer, rsa_key):
    refused(storage, issuer, f.sign(rsa_key, "k1", aud=["api://another-app", 7]))


def test_the_default_scope_suffix_is_the_same_audience_on_either_side(storage, issuer, rsa_key):
    verify(storage, issuer, f.sign(rsa_key, "k1", aud=f.AUDIENCE + "/.default"))
    configured = fed.check_federation(f.ISSUER, issuer.url(JWKS_PATH), f.SUBJECT, f.AUDIENCE + "/.default")
    assert configured.audience == f.AUDIENCE
    fed.verify_assertion(storage, TENANT, configured, f.sign(rsa_key, "k1"))


def test_a_microsoft_issuer_needs_the_same_tid(storage, issuer, rsa_key):
    refused(storage, issuer, f.sign(rsa_key, "k1", tid="00000000-1111-2222-3333-444444444444"))
    refused(storage, issuer, f.sign(rsa_key, "k1", tid=None))
    verify(storage, issuer, f.sign(rsa_key, "k1", tid=f.TENANT_GUID.upper()))


def test_a_non_microsoft_issuer_is_bound_by_iss_alone(storage, issuer, rsa_key):
    local = "https://rehearsal.example/issuer"
    verify(storage, issuer, f.sign(rsa_key, "k1", iss=local, tid=None), issuer=local)


# --- replay ---------------------------------------------------------------------------------------------------


def test_a_replayed_jti_is_refused(storage, issuer, rsa_key):
    token = f.sign(rsa_key, "k1", jti="once")
    verify(storage, issuer, token)
    refused(storage, issuer, token)
    refused(storage, issuer, f.sign(rsa_key, "k1", jti="once"))  # re-signed, same jti: still a replay


def test_distinct_jtis_are_each_accepted(storage, issuer, rsa_key):
    verify(storage, issuer, f.sign(rsa_key, "k1", jti="one"))
    verify(storage, issuer, f.sign(rsa_key, "k1", jti="two"))


def test_without_jti_entras_uti_identifies_the_assertion(storage, issuer, rsa_key):
    verify(storage, issuer, f.sign(rsa_key, "k1", jti=None, uti="u-1"))
    refused(storage, issuer, f.sign(rsa_key, "k1", jti=None, uti="u-1", iat=f.claims()["iat"] - 1))


def test_without_any_id_the_same_token_is_refused_and_a_fresh_one_passes(storage, issuer, rsa_key, frozen):
    token = f.sign(rsa_key, "k1", jti=None)
    verify(storage, issuer, token)
    refused(storage, issuer, token)
    frozen["now"] += timedelta(seconds=1)
    verify(storage, issuer, f.sign(rsa_key, "k1", jti=None))


def test_a_replay_row_is_written_only_for_an_otherwise_valid_assertion(storage, issuer, rsa_key):
    refused(storage, issuer, f.sign(rsa_key, "k1", jti="x", sub="someone-else"))
    verify(storage, issuer, f.sign(rsa_key, "k1", jti="x"))


def test_replay_memory_is_per_tenant(storage, issuer, rsa_key):
    token = f.sign(rsa_key, "k1", jti="shared")
    verify(storage, issuer, token)
    fed.verify_assertion(storage, "b" * 32, f.federation(issuer.url(JWKS_PATH)), token)


class _DownTable(MemoryTable):
    def create(self, entity: dict) -> str | None:
        raise StorageUnavailable("down")


def test_storage_down_propagates_instead_of_accepting_or_refusing(issuer, rsa_key):
    with pytest.raises(StorageUnavailable):
        verify(Storage(open_table=_DownTable), issuer, f.sign(rsa_key, "k1"))


# --- garbage -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    ["", "abc", "a.b.c", "...", "eyJhbGciOiJSUzI1NiJ9..", "é.é.é", "\x00", "e30.e30.e30", "W10.W10.W10"],
)
def test_garbage_is_invalid_client_never_a_crash(storage, issuer, garbage):
    refused(storage, issuer, garbage)


def test_an_oversized_assertion_is_refused_before_parsing(storage, issuer, rsa_key):
    refused(storage, issuer, f.sign(rsa_key, "k1", padding="x" * fed.MAX_ASSERTION_BYTES))
    assert issuer.hits(JWKS_PATH) == 0


def test_a_payload_that_is_not_an_object_is_refused(storage, issuer, rsa_key):
    token = jwt.api_jws.PyJWS().encode(b"[1, 2]", rsa_key, algorithm="RS256", headers={"kid": "k1"})
    refused(storage, issuer, token)


# --- configuration ----------------------------------------------------------------------------------------------------


def test_check_federation_normalizes_pasted_values():
    configured = fed.check_federation(
        f" {f.ISSUER}\n", "https://login.microsoftonline.com/x/discovery/v2.0/keys ", f" {f.SUBJECT}", f.AUDIENCE
    )
    assert configured == fed.Federation(
        f.ISSUER, "https://login.microsoftonline.com/x/discovery/v2.0/keys", f.SUBJECT, f.AUDIENCE
    )


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/keys", "http://[::1]:8080/keys", "http://localhost/keys"])
def test_loopback_jwks_urls_may_use_http(url):
    assert fed.check_federation(f.ISSUER, url, f.SUBJECT, f.AUDIENCE).jwks_url == url


@pytest.mark.parametrize(
    ("issuer", "jwks_url", "subject", "audience", "message"),
    [
        ("http://login.microsoftonline.com/t/v2.0", "https://k.example/keys", "s", "a", "https URL"),
        ("https://login.microsoftonline.com/common/v2.0", "https://k.example/keys", "s", "a", "one Entra tenant"),
        (
            "https://login.microsoftonline.com/organizations/v2.0",
            "https://k.example/keys",
            "s",
            "a",
            "one Entra tenant",
        ),
        (f.ISSUER, "http://keys.example.com/keys", "s", "a", "must use https"),
        (f.ISSUER, "ftp://127.0.0.1/keys", "s", "a", "must use https"),
        (f.ISSUER, "https://user:pw@k.example/keys", "s", "a", "credentials"),
        (f.ISSUER, "https:///keys", "s", "a", "no host"),
        (f.ISSUER, "https://k.example/keys", " ", "a", "subject must not be empty"),
        (f.ISSUER, "https://k.example/keys", "s", "", "audience must not be empty"),
        (f.ISSUER, "https://k.example/keys", "s", "/.default", "audience must not be empty"),
        (f.ISSUER, "https://k.example/keys", "s" * 1025, "a", "at most 1024"),
        (f.ISSUER, "https://k.example/" + "k" * 2048, "s", "a", "at most 2048"),
        (f.ISSUER, "https://k.example/keys", "s\x00", "a", "control characters"),
    ],
)
def test_check_federation_refuses_with_a_helpful_message(issuer, jwks_url, subject, audience, message):
    with pytest.raises(Invalid, match=message):
        fed.check_federation(issuer, jwks_url, subject, audience)


def test_an_accepted_assertion_purges_the_expired_replay_rows(storage, issuer, rsa_key, frozen):
    verify(storage, issuer, f.sign(rsa_key, "k1", jti="old", exp=now_s(frozen) + 60))
    frozen["now"] += timedelta(seconds=60) + fed.CLOCK_SKEW
    verify(storage, issuer, f.sign(rsa_key, "k1", jti="new"))
    rows = list(storage.tenants.query(replay.PARTITION_PREFIX + TENANT))
    assert [row["RowKey"] for row in rows] == [hashlib.sha256(b"jti:new").hexdigest()]
