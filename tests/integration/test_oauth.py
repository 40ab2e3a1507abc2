"""OAuth client credentials over Azurite: client secrets, access tokens (lifetime, revocation, sweep),
methods, grace periods of the long-lived token, rate limits and expiry warnings."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from shared import audit, health, tenants
from shared.errors import Conflict, Invalid
from shared.oauth import access, clients, endpoint, manage, ratelimit
from shared.oauth.errors import INVALID_CLIENT, OAuthError
from shared.store import counter
from shared.tokens import token_hash
from tests.support.fixtures_reconcile import cycle

FORM = "application/x-www-form-urlencoded"


def _request(storage, client_id: str, secret: str, address: str | None = None) -> dict:
    """One token request; by default from an address of its own per client (tests share one Azurite)."""
    body = urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}).encode()
    return endpoint.token(storage, body, FORM, None, address or f"addr-of-{client_id}")[0]


def _refused(storage, client_id: str, secret: str, address: str | None = None) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        _request(storage, client_id, secret, address)
    return caught.value


def _works(storage, token: str) -> bool:
    return tenants.authenticate(storage, token) is not None


def _actions(storage, tenant_id: str) -> list[str]:
    return [e["action"] for e in audit.list_events(storage, tenant_id, limit=100)[0]]


@pytest.fixture
def tid(tenant) -> str:
    return tenant["tenantId"]


def test_a_secret_is_shown_once_and_stored_only_as_its_digest(storage, tid):
    created = manage.create_secret(storage, tid)
    assert set(created) == {"clientId", "clientSecret", "secretId", "tokenEndpoint", "expires"}
    assert created["clientId"] == tid and created["tokenEndpoint"].endswith("/oauth2/token")
    row = tenants.get_entity(storage, tid)
    stored = json.dumps(dict(row))
    assert created["clientSecret"] not in stored and token_hash(created["clientSecret"]) in stored
    listed = manage.show(storage, tid)["secrets"]
    assert [s["secretId"] for s in listed] == [created["secretId"]]
    assert listed[0]["hint"].endswith(created["clientSecret"][-4:]) and "hash" not in listed[0]
    assert created["clientSecret"] not in json.dumps(manage.show(storage, tid))
    assert {"oauth.secret.create"} <= set(_actions(storage, tid))


def test_secret_lifetime_is_one_to_three_years_two_by_default(storage, tid, frozen):
    created = manage.create_secret(storage, tid)
    assert created["expires"] == clients.clock.iso(frozen["now"] + timedelta(days=730))
    for days in (364, 1096, 0):
        with pytest.raises(Invalid):
            manage.create_secret(storage, tid, days)
    manage.create_secret(storage, tid, 1095)


def test_at_most_two_active_secrets_and_revoking_one_makes_room(storage, tid):
    first = manage.create_secret(storage, tid)
    second = manage.create_secret(storage, tid)
    with pytest.raises(Conflict):
        manage.create_secret(storage, tid)
    manage.revoke_secret(storage, tid, first["secretId"])
    third = manage.create_secret(storage, tid)
    assert {s["secretId"] for s in manage.show(storage, tid)["secrets"]} == {second["secretId"], third["secretId"]}
    assert "oauth.secret.revoke" in _actions(storage, tid)


def test_both_active_secrets_work_so_rotation_has_no_outage(storage, tid):
    old, new = manage.create_secret(storage, tid), manage.create_secret(storage, tid)
    assert _works(storage, _request(storage, tid, old["clientSecret"])["access_token"])
    assert _works(storage, _request(storage, tid, new["clientSecret"])["access_token"])


def test_token_response_shape_and_default_lifetime(storage, tid):
    secret = manage.create_secret(storage, tid)["clientSecret"]
    body = _request(storage, tid, secret)
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "scim")
    assert tenants.authenticate(storage, body["access_token"]).tenant_id == tid
    assert "oauth.token.issue" in _actions(storage, tid)


def test_an_access_token_lives_as_long_as_the_tenant_setting_then_stops(storage, tid, frozen):
    secret = manage.create_secret(storage, tid)["clientSecret"]
    for minutes in (59, 361):
        with pytest.raises(Invalid):
            manage.settings(storage, tid, access_token_minutes=minutes)
    assert manage.settings(storage, tid, access_token_minutes=360)["accessTokenMinutes"] == 360
    body = _request(storage, tid, secret)
    assert body["expires_in"] == 21600
    frozen["now"] += timedelta(minutes=359)
    assert _works(storage, body["access_token"])
    frozen["now"] += timedelta(minutes=1)
    assert not _works(storage, body["access_token"])  # at read time: no write ended it


def test_wrong_unknown_expired_or_revoked_secrets_are_invalid_client(storage, tid, frozen):
    created = manage.create_secret(storage, tid, 365)
    other = tenants.create_tenant(storage, "other")[0]["tenantId"]
    for client_id, secret in [
        (tid, created["clientSecret"] + "x"),
        (tid, "scimcs_" + "A" * 43),
        (other, created["clientSecret"]),  # another tenant's client id
        ("not-a-tenant", created["clientSecret"]),
    ]:
        error = _refused(storage, client_id, secret, address=uuid.uuid4().hex)
        assert (error.error, error.status) == (INVALID_CLIENT, 401)
        assert error.description == "client authentication failed"  # never which half was wrong
    frozen["now"] += timedelta(days=365)
    assert _refused(storage, tid, created["clientSecret"]).error == INVALID_CLIENT
    manage.create_secret(storage, tid)
    manage.create_secret(storage, tid)  # the expired secret no longer counts against the two


def test_revoking_a_secret_stops_its_access_tokens_at_once_and_only_those(storage, tid):
    first, second = manage.create_secret(storage, tid), manage.create_secret(storage, tid)
    from_first = [_request(storage, tid, first["clientSecret"])["access_token"] for _ in range(2)]
    from_second = _request(storage, tid, second["clientSecret"])["access_token"]
    manage.revoke_secret(storage, tid, first["secretId"])
    assert not any(_works(storage, t) for t in from_first)
    assert _works(storage, from_second) and _works(storage, tenants_token(storage, tid))
    assert _refused(storage, tid, first["clientSecret"]).error == INVALID_CLIENT


def tenants_token(storage, tid: str) -> str:
    """A fresh long-lived token for the tenant (the fixture's one is rotated here)."""
    return tenants.rotate_token(storage, tid)[1]


def test_disabling_the_integration_stops_every_method_at_once(storage, tenant, tid):
    secret = manage.create_secret(storage, tid)["clientSecret"]
    issued = _request(storage, tid, secret)["access_token"]
    tenants.set_enabled(storage, tid, False)
    assert not _works(storage, issued) and not _works(storage, tenant["token"])
    assert _refused(storage, tid, secret).error == INVALID_CLIENT
    tenants.set_enabled(storage, tid, True)
    assert _works(storage, tenant["token"]) and not _works(storage, issued)  # deleted, not just paused
    assert _works(storage, _request(storage, tid, secret)["access_token"])


def test_methods_are_chosen_per_tenant(storage, tenant, tid):
    secret = manage.create_secret(storage, tid)["clientSecret"]
    issued = _request(storage, tid, secret)["access_token"]
    view = manage.set_methods(storage, tid, {"bearer": False})
    assert view["methods"] == ["client_secret", "federation"]
    assert not _works(storage, tenant["token"]) and _works(storage, issued)
    manage.set_methods(storage, tid, {"client_secret": False})
    assert not _works(storage, issued)
    assert _refused(storage, tid, secret).error == INVALID_CLIENT
    manage.set_methods(storage, tid, {"bearer": True, "client_secret": True})
    assert _works(storage, tenant["token"]) and _works(storage, _request(storage, tid, secret)["access_token"])
    with pytest.raises(Invalid):
        manage.set_methods(storage, tid, {"password": True})
    assert "methods.update" in _actions(storage, tid)


def _assertion_refused(storage, tid: str) -> OAuthError:
    form = {"grant_type": "client_credentials", "client_id": tid, "client_assertion": "e30.e30.sig"}
    body = urlencode({**form, "client_assertion_type": endpoint.JWT_BEARER}).encode()
    with pytest.raises(OAuthError) as caught:
        endpoint.token(storage, body, FORM, None, uuid.uuid4().hex)
    return caught.value


def test_a_tenant_without_federation_refuses_assertions(storage, tid):
    assert _assertion_refused(storage, tid).error == INVALID_CLIENT  # not configured
    manage.set_federation(
        storage, tid, issuer="https://i.example/v2.0", jwks_url="https://i.example/keys", subject="s", audience="a"
    )
    manage.set_methods(storage, tid, {"federation": False})
    assert _assertion_refused(storage, tid).error == INVALID_CLIENT  # configured, but the method is off


def test_federation_configuration_is_checked_stored_and_audited(storage, tid):
    entra_tenant = "7d3c1a52-6a3b-4e4c-9a51-0f2a4b6c8d9e"
    values = {
        "issuer": f"https://login.microsoftonline.com/{entra_tenant}/v2.0",
        "subject": "obj",
        "audience": "api://app",
    }
    for url in ("http://keys.example/jwks", "ftp://127.0.0.1/jwks", ""):
        with pytest.raises(Invalid):
            manage.set_federation(storage, tid, jwks_url=url, **values)
    result = manage.set_federation(storage, tid, jwks_url="https://login.microsoftonline.com/t/keys", **values)
    assert result["clientId"] == tid and result["tokenEndpoint"].endswith("/oauth2/token")
    manage.set_federation(storage, tid, jwks_url="http://127.0.0.1:9/keys", **values)  # loopback: local tests
    assert manage.show(storage, tid)["federation"]["jwksUrl"] == "http://127.0.0.1:9/keys"
    assert "oauth.federation.update" in _actions(storage, tid)


def test_grace_minutes_keep_the_previous_token_until_then(storage, tenant, tid, frozen):
    old = tenant["token"]
    view, new = tenants.rotate_token(storage, tid, grace_minutes=10)
    assert view["previousTokenValidUntil"] == clients.clock.iso(frozen["now"] + timedelta(minutes=10))
    assert _works(storage, old) and _works(storage, new)
    assert cycle(storage, tid)["repairsTotal"] == 0 and _works(storage, old)  # reconciliation keeps it meanwhile
    frozen["now"] += timedelta(minutes=10)
    assert not _works(storage, old) and _works(storage, new)
    cycle(storage, tid)
    assert storage.tenants.get(tenants.TOKEN_PREFIX + token_hash(old), tenants.TOKEN_ROW) is None  # swept
    assert tenants.get_tenant(storage, tid)["previousTokenValidUntil"] is None


def test_grace_zero_is_todays_rotation_and_a_second_rotation_ends_the_first_grace(storage, tenant, tid):
    _, second = tenants.rotate_token(storage, tid)
    assert not _works(storage, tenant["token"])
    _, third = tenants.rotate_token(storage, tid, grace_minutes=1440)
    _, fourth = tenants.rotate_token(storage, tid, grace_minutes=60)
    assert not _works(storage, second) and _works(storage, third) and _works(storage, fourth)
    for minutes in (-1, 1441):
        with pytest.raises(Invalid):
            tenants.rotate_token(storage, tid, grace_minutes=minutes)


def test_disabling_ends_a_grace_period_too(storage, tenant, tid):
    tenants.rotate_token(storage, tid, grace_minutes=60)
    tenants.set_enabled(storage, tid, False)
    tenants.set_enabled(storage, tid, True)
    assert not _works(storage, tenant["token"])


def test_failures_past_the_threshold_get_429_but_a_correct_request_is_served(storage, tid, frozen):
    secret = manage.create_secret(storage, tid)["clientSecret"]
    for _ in range(ratelimit.THRESHOLD):
        assert _refused(storage, tid, "wrong").status == 401
    limited = _refused(storage, tid, "wrong")
    assert limited.status == 429 and isinstance(limited, endpoint.TooManyFailures)
    assert 1 <= limited.retry_after <= ratelimit.WINDOW_SECONDS
    assert _works(storage, _request(storage, tid, secret)["access_token"])  # never blocks a correct request
    assert "oauth.token.failures" in _actions(storage, tid)  # the burst, once
    frozen["now"] += timedelta(seconds=ratelimit.WINDOW_SECONDS)
    assert _refused(storage, tid, "wrong").status == 401  # a new window


def test_failures_are_counted_per_source_address_across_client_ids(storage, frozen):
    address, other = f"192.0.2.{uuid.uuid4().hex}", f"192.0.2.{uuid.uuid4().hex}"
    for _ in range(ratelimit.THRESHOLD):
        assert _refused(storage, f"unknown-{uuid.uuid4().hex}", "x", address=address).status == 401
    assert _refused(storage, f"unknown-{uuid.uuid4().hex}", "x", address=address).status == 429
    assert _refused(storage, f"unknown-{uuid.uuid4().hex}", "x", address=other).status == 401


def test_last_used_is_written_at_most_once_an_hour(storage, tid, frozen):
    created = manage.create_secret(storage, tid)
    _request(storage, tid, created["clientSecret"])
    first = manage.show(storage, tid)["secrets"][0]["lastUsed"]
    assert first == clients.clock.iso(frozen["now"])
    frozen["now"] += timedelta(minutes=30)
    with counter.counting() as calls:
        _request(storage, tid, created["clientSecret"])
    assert manage.show(storage, tid)["secrets"][0]["lastUsed"] == first
    # tenant read, index + token row creates, tenant re-read, and the sampled issue event at most
    assert calls.total <= 5, calls.by_kind
    frozen["now"] += timedelta(minutes=31)
    _request(storage, tid, created["clientSecret"])
    assert manage.show(storage, tid)["secrets"][0]["lastUsed"] == clients.clock.iso(frozen["now"])


def test_expired_and_orphaned_access_tokens_are_swept_by_reconciliation(storage, tid, frozen):
    secret = manage.create_secret(storage, tid)["clientSecret"]
    issued = _request(storage, tid, secret)["access_token"]
    assert cycle(storage, tid)["repairsTotal"] == 0  # a live token is kept
    assert _works(storage, issued)
    frozen["now"] += timedelta(minutes=61)
    report = cycle(storage, tid)
    assert report["repairs"].get("token") == 1
    assert storage.tenants.get(tenants.TOKEN_PREFIX + token_hash(issued), tenants.TOKEN_ROW) is None
    assert tenants.access_index(storage, tid) == []
    assert cycle(storage, tid)["repairsTotal"] == 0


def test_stale_and_auto_invite_reach_access_tokens(storage, tid):
    secret = manage.create_secret(storage, tid)["clientSecret"]
    issued = _request(storage, tid, secret)["access_token"]
    tenants.set_stale(storage, tid, True)
    assert tenants.authenticate(storage, issued).stale is True
    tenants.set_stale(storage, tid, False)
    assert tenants.authenticate(storage, issued).stale is False
    tenants.update_settings(storage, tid, auto_invite=True)
    assert tenants.authenticate(storage, issued).auto_invite is True


def test_secrets_expiring_within_30_days_are_warned_of(storage, tid, frozen):
    created = manage.create_secret(storage, tid, 365)
    assert health.summary(storage, tid)["warnings"] == []
    frozen["now"] += timedelta(days=336)
    warnings = health.summary(storage, tid)["warnings"]
    assert len(warnings) == 1 and created["secretId"] in warnings[0]
    assert cycle(storage, tid)["warnings"] == warnings
    assert manage.show(storage, tid)["warnings"] == warnings


def test_an_access_token_of_a_secret_revoked_while_it_was_issued_is_refused(storage, tid):
    """The issuer re-reads the tenant after publishing: a revocation between its read and its rows wins."""
    created = manage.create_secret(storage, tid)
    tenant = tenants.get_entity(storage, tid)  # what the endpoint read before the revocation
    manage.revoke_secret(storage, tid, created["secretId"])
    with pytest.raises(OAuthError):
        access.issue(storage, tenant, created["secretId"])
    assert tenants.access_index(storage, tid) == []
