"""OAuth clients: a tenant's client id, its client secrets, its federation configuration and the lifetime
of the access tokens it gets.

The client id is the tenant id. It is already a random 128-bit id that never changes, it is not a secret
(Entra shows the client id next to the secret, the tenant id appears in admin URLs), and using it means the
token endpoint finds the tenant with the one read it needs anyway, with no lookup row to keep consistent.

Everything else lives on the tenant row (`oauthSecrets`, `federation`, `accessTokenMinutes`), written with
its ETag like every admin change: at most two secrets and one configuration are small, and the token
endpoint then decides a request with one read. A secret is 256 random bits, so its SHA-256 digest is as
good as a slow hash (shared/tokens.py); it is shown once and compared in constant time.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from shared import audit, clock, tenants
from shared.audit import ACTOR_ADMIN, Target
from shared.errors import Conflict, Invalid, NotFound
from shared.store.client import Storage
from shared.store.errors import EtagMismatch
from shared.store.table import Entity, etag_of
from shared.tokens import token_hash

SECRET_PREFIX = "scimcs_"
MAX_ACTIVE_SECRETS = 2
DEFAULT_SECRET_DAYS = 730
MIN_SECRET_DAYS, MAX_SECRET_DAYS = 365, 1095
DEFAULT_ACCESS_MINUTES = 60
MIN_ACCESS_MINUTES, MAX_ACCESS_MINUTES = 60, 360
EXPIRY_WARNING = timedelta(days=30)
LAST_USED_RESOLUTION = timedelta(hours=1)  # lastUsed is written at most this often: not on every request
_RETRIES = 5


@dataclass(frozen=True)
class Secret:
    id: str
    hash: str
    hint: str
    created: str
    expires: str
    lastUsed: str | None = None

    def active(self) -> bool:
        return self.expires > clock.iso()

    def public(self) -> dict[str, Any]:
        """What an admin sees: never the digest."""
        return {
            "secretId": self.id,
            "hint": self.hint,
            "created": self.created,
            "expires": self.expires,
            "lastUsed": self.lastUsed,
            "active": self.active(),
        }


def secrets_of(tenant: Entity) -> list[Secret]:
    return [Secret(**item) for item in json.loads(tenant.get("oauthSecrets") or "[]")]


def _store_secrets(tenant: Entity, items: list[Secret]) -> None:
    tenant["oauthSecrets"] = json.dumps([asdict(item) for item in items], separators=(",", ":"))


def access_minutes(tenant: Entity) -> int:
    return int(tenant.get("accessTokenMinutes") or DEFAULT_ACCESS_MINUTES)


def federation_of(tenant: Entity) -> dict[str, str] | None:
    raw = tenant.get("federation")
    return json.loads(raw) if raw else None


def match_secret(tenant: Entity, presented: str) -> Secret | None:
    """The active secret `presented` is, compared digest to digest in constant time (every stored one is
    compared, so the time does not tell which or how many exist)."""
    digest = token_hash(presented)
    found = None
    for item in secrets_of(tenant):
        if hmac.compare_digest(item.hash, digest) and item.active():
            found = item
    return found


def _write(storage: Storage, tenant_id: str, change: Callable[[Entity], Any]) -> tuple[Entity, Any]:
    """Apply `change` to a fresh tenant row and write it conditionally, retrying a lost ETag race."""
    for _ in range(_RETRIES):
        tenant = tenants.get_entity(storage, tenant_id)
        result = change(tenant)
        try:
            storage.tenants.update(tenant, etag=etag_of(tenant))
        except EtagMismatch:
            continue
        return tenant, result
    raise Conflict("The tenant was changed concurrently; retry the request.")


def _target(tenant: Entity) -> Target:
    return Target("Tenant", tenant["tenantId"], tenant["name"])


def create_secret(
    storage: Storage, tenant_id: str, expires_days: int = DEFAULT_SECRET_DAYS, *, actor: str = ACTOR_ADMIN
) -> tuple[Secret, str]:
    """A new secret (returned once, in clear, with its record); refused while two are active."""
    if not MIN_SECRET_DAYS <= expires_days <= MAX_SECRET_DAYS:
        raise Invalid(f"expiresDays must be between {MIN_SECRET_DAYS} and {MAX_SECRET_DAYS}.")
    value = SECRET_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    record = Secret(
        id=secrets.token_hex(8),
        hash=token_hash(value),
        hint=f"{SECRET_PREFIX}…{value[-4:]}",
        created=clock.iso(now),
        expires=clock.iso(now + timedelta(days=expires_days)),
    )

    def change(tenant: Entity) -> None:
        active = [item for item in secrets_of(tenant) if item.active()]  # expired ones are dropped here
        if len(active) >= MAX_ACTIVE_SECRETS:
            raise Conflict(f"A tenant has at most {MAX_ACTIVE_SECRETS} active secrets; revoke one first.")
        _store_secrets(tenant, [*active, record])

    tenant, _ = _write(storage, tenant_id, change)
    audit.record(storage, tenant_id, actor, "oauth.secret.create", _target(tenant), details={"secretId": record.id})
    return record, value


def revoke_secret(storage: Storage, tenant_id: str, secret_id: str, *, actor: str = ACTOR_ADMIN) -> Secret | None:
    """Remove the secret, then delete the access tokens issued from it (after the write: an issuer re-reads
    the tenant after publishing, so either this sees its index row or it sees the secret gone). Repeating a
    revocation that crashed after the write still deletes what is left (then None: the secret was gone)."""
    tenant = tenants.get_entity(storage, tenant_id)
    removed = next((item for item in secrets_of(tenant) if item.id == secret_id), None)
    if removed is not None:

        def change(fresh: Entity) -> None:
            _store_secrets(fresh, [item for item in secrets_of(fresh) if item.id != secret_id])

        tenant, _ = _write(storage, tenant_id, change)
    tokens = tenants.revoke_access(storage, tenant_id, lambda source: source == secret_id)
    if removed is None and not tokens:
        raise NotFound(f"Secret {secret_id!r} not found.")
    details = {"secretId": secret_id, "accessTokens": tokens}
    audit.record(storage, tenant_id, actor, "oauth.secret.revoke", _target(tenant), details=details)
    return removed


def note_use(storage: Storage, tenant: Entity, used: Secret) -> None:
    """Record lastUsed when the stored value is older than an hour: at most one write an hour per secret.
    Best effort: a lost ETag race skips it (the next request writes it)."""
    now = clock.now()
    if used.lastUsed and clock.parse_iso(used.lastUsed) > now - LAST_USED_RESOLUTION:
        return
    _store_secrets(tenant, [replace(i, lastUsed=clock.iso(now)) if i.id == used.id else i for i in secrets_of(tenant)])
    try:
        storage.tenants.update(tenant, etag=etag_of(tenant))
    except EtagMismatch:
        pass


def set_federation(
    storage: Storage,
    tenant_id: str,
    issuer: str,
    jwks_url: str,
    subject: str,
    audience: str,
    *,
    actor: str = ACTOR_ADMIN,
) -> Entity:
    # Imported here: the JOSE stack is needed only when federation is configured or used (cold start).
    from shared.oauth.federation import check_federation

    checked = check_federation(issuer, jwks_url, subject, audience)
    config = {
        "issuer": checked.issuer,
        "jwksUrl": checked.jwks_url,
        "subject": checked.subject,
        "audience": checked.audience,
    }

    def change(tenant: Entity) -> None:
        tenant["federation"] = json.dumps(config, separators=(",", ":"))

    tenant, _ = _write(storage, tenant_id, change)
    audit.record(storage, tenant_id, actor, "oauth.federation.update", _target(tenant), changed=sorted(config))
    return tenant


def set_access_minutes(storage: Storage, tenant_id: str, minutes: int) -> Entity:
    """Applies to tokens issued from now on (a token's expiry is fixed in its row)."""
    if not MIN_ACCESS_MINUTES <= minutes <= MAX_ACCESS_MINUTES:
        raise Invalid(f"accessTokenMinutes must be between {MIN_ACCESS_MINUTES} and {MAX_ACCESS_MINUTES}.")

    def change(tenant: Entity) -> None:
        tenant["accessTokenMinutes"] = minutes

    tenant, _ = _write(storage, tenant_id, change)
    audit.record(storage, tenant_id, ACTOR_ADMIN, "settings.update", _target(tenant), changed=["accessTokenMinutes"])
    return tenant


def expiry_warnings(tenant: Entity) -> list[str]:
    """Active secrets that expire within 30 days, as the cycle report and the health summary word them."""
    soon = clock.iso(clock.now() + EXPIRY_WARNING)
    return [
        f"Client secret {item.hint} (id {item.id}) expires {item.expires}: create a new one and update Entra."
        for item in secrets_of(tenant)
        if item.active() and item.expires <= soon
    ]
