"""Federation assertions against real Table Storage (Azurite): replay refused across instances, what an
assertion costs in storage calls, and the replay rows' lifetime."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from shared.config import Settings
from shared.oauth import federation as fed
from shared.oauth import jwks, replay
from shared.oauth.errors import OAuthError
from shared.store import counter
from shared.store.client import Storage
from tests.support import federation as f
from tests.support.loopback import Answer, Loopback, loopback

JWKS_PATH = "/keys"


@pytest.fixture(scope="module")
def key() -> f.PrivateKey:
    return f.new_key("RS256")


@pytest.fixture
def issuer(key: f.PrivateKey) -> Iterator[Loopback]:
    jwks.keys.clear()
    with loopback() as server:
        server.answer(JWKS_PATH, Answer(body=f.jwks_body(f.public_jwk(key, "k1"))))
        yield server
    jwks.keys.clear()


def tenant_id() -> str:
    return uuid.uuid4().hex


def test_a_replay_is_refused_by_another_instance(azurite, issuer, key):
    """Two instances share nothing but storage: each has its own Storage (and clients)."""
    first, second = (Storage(Settings.from_env({"SCIM_STORAGE_CONNECTION_STRING": azurite})) for _ in range(2))
    tid, token = tenant_id(), f.sign(key, "k1")
    trust = f.federation(issuer.url(JWKS_PATH))
    fed.verify_assertion(first, tid, trust, token)
    with pytest.raises(OAuthError) as caught:
        fed.verify_assertion(second, tid, trust, token)
    assert caught.value.error == "invalid_client"


def test_of_racing_uses_exactly_one_wins(storage, issuer, key):
    tid, token = tenant_id(), f.sign(key, "k1")
    trust = f.federation(issuer.url(JWKS_PATH))

    def attempt(_: int) -> bool:
        try:
            fed.verify_assertion(storage, tid, trust, token)
        except OAuthError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count(True) == 1


def test_storage_calls_of_an_assertion(storage, issuer, key):
    """Accepted: the replay row's create (a write) and the purge query (nothing expired here). Refused by a claim
    rule: no storage call at all."""
    tid, trust = tenant_id(), f.federation(issuer.url(JWKS_PATH))
    with counter.counting() as accepted:
        fed.verify_assertion(storage, tid, trust, f.sign(key, "k1"))
    assert accepted.by_kind == {"write": 1, "query": 1}
    with counter.counting() as refused, pytest.raises(OAuthError):
        fed.verify_assertion(storage, tid, trust, f.sign(key, "k1", sub="someone-else"))
    assert refused.total == 0


def test_replay_rows_outlive_the_assertion_by_the_skew_and_are_then_purged(storage, frozen: Any, issuer, key):
    tid, trust = tenant_id(), f.federation(issuer.url(JWKS_PATH))
    expires = int(frozen["now"].timestamp()) + 120
    old = f.sign(key, "k1", exp=expires)
    fed.verify_assertion(storage, tid, trust, old)
    frozen["now"] += timedelta(seconds=120) + fed.CLOCK_SKEW - timedelta(seconds=1)
    with pytest.raises(OAuthError):
        fed.verify_assertion(storage, tid, trust, old)  # still remembered while still within exp + skew
    frozen["now"] += timedelta(seconds=1)
    fed.verify_assertion(storage, tid, trust, f.sign(key, "k1"))
    assert len(list(storage.tenants.query(replay.PARTITION_PREFIX + tid))) == 1
