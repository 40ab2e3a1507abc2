"""Local sign-in (`python -m tools.admin console-link`): one-time links for `make run` over Azurite.

A link is a random secret shown once; only its SHA-256 digest is stored (`L:<digest>` / `link` in the
tenants table) with the principal it signs in and an expiry 10 minutes out. Consuming it deletes the row
in a one-operation transaction conditional on its ETag, so a second use (or a race of two) fails.

Local sign-in needs no identity provider, so it must never work against real storage: `local_sign_in_allowed`
is true only when the app uses the Azurite development account on a loopback address and no
SCIM_STORAGE_ENDPOINT (Azure, managed identity) is configured. Both creating and consuming a link check it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from shared import clock, tenants
from shared.config import Settings
from shared.console.principal import OPERATOR, TENANT_ADMIN, Forbidden, Principal, SignInRequired
from shared.store.client import Storage
from shared.store.errors import EtagMismatch, RowMissing
from shared.store.table import Op, etag_of

LINK_TTL = timedelta(minutes=10)
LINK_ROW = "link"
_AZURITE_ACCOUNT = "AccountName=devstoreaccount1;"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _link_pk(secret: str) -> str:
    return "L:" + _digest(secret)


def local_sign_in_allowed(settings: Settings) -> bool:
    """Only the Azurite development account on this machine: never Azure storage, never a real account."""
    if settings.storage_endpoint:
        return False
    connection = settings.storage_connection_string or ""
    if _AZURITE_ACCOUNT not in connection:
        return False
    endpoints = [part.split("=", 1)[1] for part in connection.split(";") if part.startswith("TableEndpoint=")]
    return bool(endpoints) and all(urlsplit(url).hostname in _LOOPBACK for url in endpoints)


def _refuse_unless_local(settings: Settings) -> None:
    if not local_sign_in_allowed(settings):
        raise Forbidden("Local sign-in links work only against the local Azurite storage; sign in with Entra ID.")


def create_link(storage: Storage, settings: Settings, tenant_id: str | None) -> str:
    """A one-time secret signing in an operator (no tenant) or that tenant's admin; only its digest is kept."""
    _refuse_unless_local(settings)
    if tenant_id is not None:
        tenants.get_entity(storage, tenant_id)  # TenantNotFound for an unknown tenant
    secret = secrets.token_urlsafe(32)
    storage.tenants.create(
        {
            "PartitionKey": _link_pk(secret),
            "RowKey": LINK_ROW,
            "kind": TENANT_ADMIN if tenant_id else OPERATOR,
            "tenantId": tenant_id,
            "expires": clock.iso(clock.now() + LINK_TTL),
        }
    )
    return secret


def consume_link(storage: Storage, settings: Settings, secret: str) -> Principal:
    """The principal the link signs in; the link is gone afterwards (used, expired or unknown alike)."""
    _refuse_unless_local(settings)
    row = storage.tenants.get(_link_pk(secret), LINK_ROW) if secret else None
    if row is None:
        raise SignInRequired("This sign-in link is unknown or was already used.")
    try:  # a transaction deletes a missing row as an error: of two uses, exactly one succeeds
        storage.tenants.transact(
            [Op("delete", {"PartitionKey": row["PartitionKey"], "RowKey": LINK_ROW}, etag_of(row))]
        )
    except (RowMissing, EtagMismatch):
        raise SignInRequired("This sign-in link is unknown or was already used.") from None
    if clock.parse_iso(row["expires"]) <= clock.now():
        raise SignInRequired("This sign-in link has expired; ask for a new one.")
    if row["kind"] == OPERATOR:
        return Principal(OPERATOR, "local operator")
    return Principal(TENANT_ADMIN, "local tenant admin", tenant_id=row["tenantId"])
