"""The console's rules in process (Storage.in_memory()): sign-in links, sessions, CSRF, Entra ID token
validation and who counts as operator or tenant admin."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared import tenants
from shared.config import Settings
from shared.console import entra, local, sessions, tenant_links
from shared.console.principal import OPERATOR, TENANT_ADMIN, Forbidden, Principal, SignInRequired, require_tenant
from shared.errors import Conflict, Invalid
from shared.store.client import Storage

AZURITE = Settings.from_env({})  # the default: Azurite's development account on 127.0.0.1
AZURE = Settings.from_env({"SCIM_STORAGE_ENDPOINT": "https://acct.table.core.windows.net"})
REAL_ACCOUNT = Settings.from_env(
    {"SCIM_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=a2V5;"}
)
REMOTE_AZURITE = Settings.from_env(
    {
        "SCIM_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        "TableEndpoint=http://storage.example.com:10002/devstoreaccount1;"
    }
)


@pytest.fixture
def storage() -> Storage:
    return Storage.in_memory()


@pytest.fixture
def tenant_id(storage: Storage) -> str:
    return tenants.create_tenant(storage, "Contoso")[0]["tenantId"]


# --- local sign-in links ---------------------------------------------------------------------------


def test_a_link_signs_in_once(storage: Storage, tenant_id: str) -> None:
    secret = local.create_link(storage, AZURITE, tenant_id)
    assert local.consume_link(storage, AZURITE, secret) == Principal(TENANT_ADMIN, "local tenant admin", tenant_id)
    with pytest.raises(SignInRequired, match="already used"):
        local.consume_link(storage, AZURITE, secret)


def test_without_a_tenant_the_link_signs_in_an_operator(storage: Storage) -> None:
    assert local.consume_link(storage, AZURITE, local.create_link(storage, AZURITE, None)).kind == OPERATOR


def test_only_the_digest_of_a_link_is_stored(storage: Storage) -> None:
    secret = local.create_link(storage, AZURITE, None)
    rows = list(storage.tenants.scan_rows(local.LINK_ROW, pk_low="L:", pk_high="L;"))
    assert len(rows) == 1 and secret not in repr(rows)


def test_a_link_expires_after_ten_minutes(storage: Storage, frozen) -> None:
    secret = local.create_link(storage, AZURITE, None)
    frozen["now"] += timedelta(minutes=10, seconds=1)
    with pytest.raises(SignInRequired, match="expired"):
        local.consume_link(storage, AZURITE, secret)


def test_a_link_for_an_unknown_tenant_is_refused(storage: Storage) -> None:
    with pytest.raises(tenants.TenantNotFound):
        local.create_link(storage, AZURITE, uuid.uuid4().hex)


@pytest.mark.parametrize("settings", [AZURE, REAL_ACCOUNT, REMOTE_AZURITE], ids=["endpoint", "account", "remote"])
def test_local_sign_in_is_impossible_against_other_storage(storage: Storage, settings: Settings) -> None:
    assert not local.local_sign_in_allowed(settings)
    with pytest.raises(Forbidden):
        local.create_link(storage, settings, None)
    secret = local.create_link(storage, AZURITE, None)  # even a link made locally earlier
    with pytest.raises(Forbidden):
        local.consume_link(storage, settings, secret)


# --- sessions and CSRF -----------------------------------------------------------------------------


def test_a_session_remembers_its_principal_and_ends_on_sign_out(storage: Storage) -> None:
    principal = Principal(OPERATOR, "ops")
    session_id = sessions.create(storage, principal)
    session = sessions.load(storage, session_id)
    assert session.principal == principal and len(session.csrf_token) >= 32
    sessions.end(storage, session_id)
    with pytest.raises(SignInRequired):
        sessions.load(storage, session_id)


def test_an_idle_session_ends_and_use_keeps_it_alive(storage: Storage, frozen) -> None:
    session_id = sessions.create(storage, Principal(OPERATOR, "ops"))
    for _ in range(3):
        frozen["now"] += sessions.IDLE_TIMEOUT - timedelta(minutes=1)
        sessions.load(storage, session_id)
    frozen["now"] += sessions.IDLE_TIMEOUT
    with pytest.raises(SignInRequired):
        sessions.load(storage, session_id)


def test_a_session_ends_after_its_lifetime_however_busy(storage: Storage, frozen) -> None:
    session_id = sessions.create(storage, Principal(OPERATOR, "ops"))
    end = frozen["now"] + sessions.LIFETIME
    while frozen["now"] + timedelta(minutes=20) < end:
        frozen["now"] += timedelta(minutes=20)
        sessions.load(storage, session_id)
    frozen["now"] = end
    with pytest.raises(SignInRequired):
        sessions.load(storage, session_id)


def test_unknown_and_missing_session_ids_are_not_signed_in(storage: Storage) -> None:
    for session_id in (None, "", "guess"):
        with pytest.raises(SignInRequired):
            sessions.load(storage, session_id)


def test_csrf_needs_the_sessions_own_token(storage: Storage) -> None:
    session = sessions.load(storage, sessions.create(storage, Principal(OPERATOR, "ops")))
    sessions.check_csrf(session, session.csrf_token)
    other = sessions.load(storage, sessions.create(storage, Principal(OPERATOR, "ops")))
    for supplied in (None, "", other.csrf_token):
        with pytest.raises(Forbidden):
            sessions.check_csrf(session, supplied)


def test_a_tenant_admin_reaches_only_their_tenant() -> None:
    require_tenant(Principal(OPERATOR, "ops"), "b" * 32)
    require_tenant(Principal(TENANT_ADMIN, "it", "a" * 32), "a" * 32)
    with pytest.raises(Forbidden):
        require_tenant(Principal(TENANT_ADMIN, "it", "a" * 32), "b" * 32)


# --- Entra ID ----------------------------------------------------------------------------------------

CLIENT_ID = str(uuid.uuid4())
OPERATOR_TENANT = str(uuid.uuid4())
CUSTOMER_TENANT = str(uuid.uuid4())
CONFIG = entra.EntraConfig(CLIENT_ID, OPERATOR_TENANT)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _token(key=KEY, **overrides: object) -> str:
    tid = str(overrides.pop("tid", CUSTOMER_TENANT))
    now = int(time.time())
    claims = {
        "iss": f"https://login.microsoftonline.com/{tid}/v2.0",
        "aud": CLIENT_ID,
        "tid": tid,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "nonce": "n-1",
        "preferred_username": "it@contoso.com",
        **overrides,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="RS256")


def _validate(token: str, nonce: str = "n-1"):
    return entra.validate_id_token(CONFIG, token, nonce, key_for=lambda _: KEY.public_key())


def test_a_valid_id_token_yields_its_claims() -> None:
    assert _validate(_token())["preferred_username"] == "it@contoso.com"


@pytest.mark.parametrize(
    "token",
    [
        _token(key=OTHER_KEY),
        _token(aud=str(uuid.uuid4())),
        _token(exp=int(time.time()) - 3600),
        _token(iss="https://login.microsoftonline.com/common/v2.0"),
        _token(nonce=None),
        jwt.encode({"aud": CLIENT_ID}, "s" * 32, algorithm="HS256"),
        "not a token",
    ],
    ids=["signature", "audience", "expired", "issuer", "no-nonce", "hs256", "garbage"],
)
def test_a_bad_id_token_is_refused(token: str) -> None:
    with pytest.raises(SignInRequired):
        _validate(token)


def test_an_id_token_for_another_sign_in_is_refused() -> None:
    with pytest.raises(SignInRequired, match="browser"):
        _validate(_token(), nonce="n-2")


def test_operators_hold_the_role_in_the_operators_tenant(storage: Storage) -> None:
    claims = {"tid": OPERATOR_TENANT, "roles": [entra.OPERATOR_ROLE], "preferred_username": "ops@us"}
    assert entra.principal_from_claims(storage, CONFIG, claims) == Principal(OPERATOR, "ops@us")
    # a customer assigning themselves the operator role in their own directory is not an operator
    with pytest.raises(Forbidden):
        entra.principal_from_claims(storage, CONFIG, {**claims, "tid": CUSTOMER_TENANT})


def test_tenant_admins_come_from_the_linked_directory_with_the_role_or_group(storage: Storage, tenant_id: str) -> None:
    group = str(uuid.uuid4())
    tenant_links.link(storage, tenant_id, CUSTOMER_TENANT, admin_group_id=group)
    by_role = {"tid": CUSTOMER_TENANT, "roles": [entra.TENANT_ADMIN_ROLE], "preferred_username": "it@contoso.com"}
    assert entra.principal_from_claims(storage, CONFIG, by_role).tenant_id == tenant_id
    by_group = {"tid": CUSTOMER_TENANT, "groups": [group], "preferred_username": "it2@contoso.com"}
    assert entra.principal_from_claims(storage, CONFIG, by_group).tenant_id == tenant_id
    with pytest.raises(Forbidden, match="role"):
        entra.principal_from_claims(storage, CONFIG, {"tid": CUSTOMER_TENANT, "roles": ["Reader"]})
    with pytest.raises(Forbidden, match="not linked"):
        entra.principal_from_claims(storage, CONFIG, {**by_role, "tid": str(uuid.uuid4())})


def test_an_entra_tenant_links_to_one_tenant_and_relinking_moves_it(storage: Storage, tenant_id: str) -> None:
    other = tenants.create_tenant(storage, "Fabrikam")[0]["tenantId"]
    tenant_links.link(storage, tenant_id, CUSTOMER_TENANT)
    with pytest.raises(Conflict):
        tenant_links.link(storage, other, CUSTOMER_TENANT)
    moved_to = str(uuid.uuid4())
    tenant_links.link(storage, tenant_id, moved_to)
    assert tenant_links.find(storage, CUSTOMER_TENANT) is None
    assert tenant_links.find(storage, moved_to) == tenant_links.EntraLink(tenant_id, None)
    assert tenants.get_tenant(storage, tenant_id)["entraTenantId"] == moved_to
    with pytest.raises(Invalid):
        tenant_links.link(storage, tenant_id, "contoso.onmicrosoft.com")


def test_the_authorize_url_asks_for_an_id_token_posted_back() -> None:
    url = CONFIG.authorize_url("https://app.example/admin/signin/entra", "s", "n")
    assert "response_type=id_token" in url and "response_mode=form_post" in url and CLIENT_ID in url
