"""Tenants (customer organisations), their secret token and SCIM integration settings.

Rows in the tenants table:
- `T:<tenantId>` / `tenant`: name, settings, integration state, the current token's digest. The source of
  truth: admin writes are conditional on its ETag (retried a few times), flag writes merge only their fields.
- `K:<sha256(token)>` / `token`: the lookup a SCIM request authenticates with, carrying the few settings
  the SCIM path needs, so that authentication costs exactly one point read. It must exist (and be active)
  only while the tenant row references it: enabled, with that digest.

The two rows live in different partitions (no shared transaction), so their writes are ordered instead:
- A token row is *published* in two steps: created `pending` (never accepted) before the tenant write, then
  activated by a merge conditional on that row's ETag after a fresh read of the tenant row confirmed it
  references the digest. A missing row is never re-created: that could revive a revoked token.
- A token is *revoked* by deleting its row before the tenant write (whatever crashes later, the old token is
  dead) and again after it: a publisher that read the tenant before our write can only have created its row
  before that second delete, so the delete removes it (or its activation finds the row gone and fails).
- Flag writes on a token row are merges that require the row to exist: they never resurrect it. They reach
  every live row of the tenant: the current token's, the previous one's during its grace period, and the
  OAuth access tokens' (listed by `A:<digest>` index rows in the tenant partition, see shared.oauth.access).
- A row with `expires` (a previous token in its grace period, an access token) stops authenticating at that
  time without any write; reconciliation deletes it later. So a rotation with grace merges an expiry into
  the old row instead of deleting it, and everything else about publishing stays as above.
- A crash between the steps leaves the tenant with no working token rather than two; reconciliation
  (`repair_tokens`) deletes token rows the tenant does not reference and activates a pending one it does.
  A crash right after the old row's deletion leaves no token at all: the admin rotates again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared import audit, clock
from shared.audit import ACTOR_ADMIN, Target
from shared.errors import Conflict, Invalid, NotFound
from shared.events import outbox
from shared.store import keys
from shared.store.client import Storage
from shared.store.errors import AlreadyExists, EtagMismatch, RowMissing
from shared.store.table import Entity, Op, etag_of, timestamp_of
from shared.tokens import new_token, token_hash, token_hint

TENANT_ROW = "tenant"
TOKEN_ROW = "token"
TOKEN_PREFIX = "K:"
ACCESS_INDEX = "A:"  # T:<tenantId> / A:<digest>: an access token row this tenant issued
BEARER, CLIENT_SECRET, FEDERATION = "bearer", "client_secret", "federation"
METHODS = (BEARER, CLIENT_SECRET, FEDERATION)
MAX_GRACE_MINUTES = 1440
DEFAULT_RETENTION_DAYS = 90
SCIM_PATH = "/scim/v2"
_STAGING_QUIET = timedelta(minutes=5)  # longer than an admin request lives
_RETRIES = 5  # admin writes losing the tenant row's ETag race (SCIM's stale-flag merges, a second admin)


class TenantNotFound(NotFound):
    pass


@dataclass(frozen=True)
class TenantAuth:
    """What a SCIM request knows about its tenant after authentication."""

    tenant_id: str
    auto_invite: bool
    stale: bool = False
    webhooks: bool = False  # the tenant has webhook endpoints: its SCIM writes deliver their events at once


def tenant_pk(tenant_id: str) -> str:
    return f"T:{tenant_id}"


def _token_pk(digest: str) -> str:
    return TOKEN_PREFIX + digest


DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:7071"  # the local host's default port (make run sets the real one)


def public_base_url(configured: str | None) -> str:
    return (configured or DEFAULT_PUBLIC_BASE_URL).rstrip("/")


def tenant_url(configured_base_url: str | None) -> str:
    return public_base_url(configured_base_url) + SCIM_PATH


def copied_fields(tenant: Entity) -> Entity:
    """The tenant settings a token row carries for the SCIM path."""
    return {
        "autoInvite": bool(tenant.get("autoInvite", False)),
        "stale": bool(tenant.get("stale", False)),
        "webhooks": bool(tenant.get("webhooks", False)),
    }


def methods_of(tenant: Entity) -> frozenset[str]:
    """The authentication methods the tenant accepts; a tenant created before methods existed accepts all
    (each still needs its own credential: a secret, a federation configuration)."""
    raw = tenant.get("methods")
    return frozenset(METHODS) if raw is None else frozenset(m for m in str(raw).split(",") if m)


def _bearer_live(tenant: Entity) -> bool:
    return bool(tenant.get("enabled")) and BEARER in methods_of(tenant)


def _references(tenant: Entity | None, digest: str) -> bool:
    return tenant is not None and _bearer_live(tenant) and tenant.get("tokenHash") == digest


def _in_grace(tenant: Entity | None, digest: str) -> bool:
    """The previous token of a rotation with grace, until its expiry (merged into its row as well)."""
    return (
        tenant is not None
        and _bearer_live(tenant)
        and tenant.get("graceTokenHash") == digest
        and str(tenant.get("graceUntil") or "") > clock.iso()
    )


def expired(row: Entity) -> bool:
    return row.get("expires") is not None and str(row["expires"]) <= clock.iso()


def _busy() -> Conflict:
    return Conflict("The tenant was changed concurrently; retry the request.")


def view(tenant: Entity) -> dict[str, Any]:
    """The admin's view of a tenant: settings and integration state, never the token digest."""
    return {
        "tenantId": tenant["tenantId"],
        "name": tenant["name"],
        "created": tenant["created"],
        "integrationEnabled": bool(tenant["enabled"]),
        "autoInvite": bool(tenant.get("autoInvite", False)),
        "retentionDays": int(tenant.get("retentionDays", DEFAULT_RETENTION_DAYS)),
        "tokenHint": tenant.get("tokenHint"),
        "tokenCreated": tenant.get("tokenCreated"),
        "previousTokenValidUntil": tenant.get("graceUntil")
        if _in_grace(tenant, tenant.get("graceTokenHash", ""))
        else None,
        "methods": sorted(methods_of(tenant)),
        "syncState": "stale" if tenant.get("stale") else "ok",
        "entraTenantId": tenant.get("entraTenantId") or None,  # shared.console.tenant_links
    }


def _revoke(storage: Storage, digest: str) -> None:
    storage.tenants.delete(_token_pk(digest), TOKEN_ROW)


def _stage_token(storage: Storage, tenant_id: str, digest: str) -> None:
    """Create the token row `pending` (never accepted): harmless until activated, so it precedes the
    tenant write and a crash after that write leaves something for reconciliation to activate."""
    try:
        storage.tenants.create(
            {"PartitionKey": _token_pk(digest), "RowKey": TOKEN_ROW, "tenantId": tenant_id, "pending": True}
        )
    except AlreadyExists:
        pass


def _activate_token(storage: Storage, tenant_id: str, digest: str, *, our_write: str | None = None) -> bool:
    """Activate the staged row of `digest` if the tenant references it (else remove it); True if valid.
    A missing row was revoked and is not re-created (that could revive a revoked token), except by the
    rotation or enable that wrote the tenant row `our_write` while that write is still the latest: then
    the deletion came from an operation that lost to ours (a disable's delete reaching our staged row)."""
    pk = _token_pk(digest)
    for _ in range(_RETRIES):
        row = storage.tenants.get(pk, TOKEN_ROW)
        tenant = storage.tenants.get(tenant_pk(tenant_id), TENANT_ROW)  # after the row's ETag: see module doc
        if row is None:
            if our_write is None or tenant is None or etag_of(tenant) != our_write:
                return False
            _stage_token(storage, tenant_id, digest)
            continue
        try:
            if not _references(tenant, digest):
                storage.tenants.delete(pk, TOKEN_ROW, etag=etag_of(row))
                return False
            fields = {"PartitionKey": pk, "RowKey": TOKEN_ROW, "pending": False, **copied_fields(tenant)}  # type: ignore[arg-type]
            storage.tenants.update(fields, etag=etag_of(row), replace=False)
            return True
        except (EtagMismatch, RowMissing):
            continue  # a flag merge or a revocation came between: decide again on fresh rows
    return False


def _write_with_event(storage: Storage, tenant: Entity, action: str | None, target: Target) -> str | None:
    """Replace the tenant row (conditional on its ETag) together with the change event `action` emits, in
    one transaction of the tenant's partition (shared.events.outbox). Returns the row's new ETag."""
    events = outbox.change_ops(tenant["PartitionKey"], tenant["tenantId"], action, target) if action else []
    return storage.tenants.transact([Op("update", tenant, etag_of(tenant)), *events])[0]


def _is_unicode_text(text: str) -> bool:
    try:
        text.encode("utf-8")  # a lone UTF-16 surrogate (JSON's "\\ud800") has no UTF-8 form
    except UnicodeEncodeError:
        return False
    return True


def create_tenant(storage: Storage, name: str, *, actor: str = ACTOR_ADMIN) -> tuple[dict[str, Any], str]:
    name = (name or "").strip()
    if not name:
        raise Invalid("A tenant needs a non-empty name.")
    if not _is_unicode_text(name):
        raise Invalid("A tenant name must be Unicode text (it holds a lone UTF-16 surrogate).")
    tenant_id = uuid.uuid4().hex
    token = new_token()
    tenant: Entity = {
        "PartitionKey": tenant_pk(tenant_id),
        "RowKey": TENANT_ROW,
        "tenantId": tenant_id,
        "name": name[:256],
        "created": clock.iso(),
        "enabled": True,
        "autoInvite": False,
        "retentionDays": DEFAULT_RETENTION_DAYS,
        "tokenHash": token_hash(token),
        "tokenHint": token_hint(token),
        "tokenCreated": clock.iso(),
        "stale": False,
    }
    _stage_token(storage, tenant_id, tenant["tokenHash"])
    storage.tenants.create(tenant)
    _activate_token(storage, tenant_id, tenant["tokenHash"])
    audit.record(storage, tenant_id, actor, "tenant.create", Target("Tenant", tenant_id, tenant["name"]))
    return view(tenant), token


def get_entity(storage: Storage, tenant_id: str) -> Entity:
    # Tenant ids are issued like resource ids; anything else (a "/" from a URL, say) names no tenant.
    entity = storage.tenants.get(tenant_pk(tenant_id), TENANT_ROW) if keys.is_resource_id(tenant_id or "") else None
    if entity is None:
        raise TenantNotFound(f"Tenant {tenant_id!r} not found.")
    return entity


def get_tenant(storage: Storage, tenant_id: str) -> dict[str, Any]:
    return view(get_entity(storage, tenant_id))


def list_tenants(storage: Storage) -> list[dict[str, Any]]:
    rows = storage.tenants.scan_rows(TENANT_ROW, pk_low="T:", pk_high="T;")
    return [view(row) for row in rows]


def authenticate(storage: Storage, token: str | None) -> TenantAuth | None:
    if not token:
        return None
    row = storage.tenants.get(_token_pk(token_hash(token)), TOKEN_ROW)
    if row is None or row.get("pending") or expired(row):
        return None
    return TenantAuth(
        tenant_id=row["tenantId"],
        auto_invite=bool(row.get("autoInvite", False)),
        stale=bool(row.get("stale", False)),
        webhooks=bool(row.get("webhooks", False)),
    )


def rotate_token(
    storage: Storage, tenant_id: str, grace_minutes: int = 0, *, actor: str = ACTOR_ADMIN
) -> tuple[dict[str, Any], str]:
    """A new token. With `grace_minutes` 0 the previous one stops working before this returns (and for
    good); otherwise it keeps working until then (an expiry merged into its row: a crash anywhere after
    that merge leaves it dying on time). A token still in an earlier grace period stops at once."""
    if not 0 <= grace_minutes <= MAX_GRACE_MINUTES:
        raise Invalid(f"graceMinutes must be between 0 and {MAX_GRACE_MINUTES}.")
    token = new_token()
    for _ in range(_RETRIES):
        tenant = get_entity(storage, tenant_id)
        old_digest = tenant["tokenHash"]
        earlier = tenant.get("graceTokenHash")
        until = clock.iso(clock.now() + timedelta(minutes=grace_minutes)) if grace_minutes else None
        retire = _retirement(storage, old_digest, until)
        retire()  # first: from any crash point on, the old token is dead or dies on time
        if earlier:
            _revoke(storage, earlier)
        if tenant["enabled"]:
            _stage_token(storage, tenant_id, token_hash(token))
        tenant.update(tokenHash=token_hash(token), tokenHint=token_hint(token), tokenCreated=clock.iso())
        for name in ("graceTokenHash", "graceUntil"):
            tenant.pop(name, None)
        if until:
            tenant.update(graceTokenHash=old_digest, graceUntil=until)
        try:
            written = _write_with_event(storage, tenant, "token.rotate", Target("Token", tenant_id))
        except EtagMismatch:
            continue
        retire()
        if tenant["enabled"]:
            _activate_token(storage, tenant_id, tenant["tokenHash"], our_write=written)
        audit.record(
            storage,
            tenant_id,
            actor,
            "token.rotate",
            Target("Token", tenant_id, tenant["tokenHint"]),
            details={"graceMinutes": grace_minutes} if grace_minutes else None,
        )
        return view(tenant), token
    raise _busy()


def _retirement(storage: Storage, digest: str, until: str | None) -> Callable[[], None]:
    """How a rotation retires the previous token: deleted, or (grace) given an expiry. Run before and after
    the tenant write, like a revocation (module doc): the merge never re-creates a deleted row."""
    if until is None:
        return lambda: _revoke(storage, digest)
    return lambda: _merge_token_row(storage, digest, {"expires": until})


def access_method(source: str) -> str:
    """The method an access token was issued by: its index row names the secret id, or `federation`."""
    return FEDERATION if source == FEDERATION else CLIENT_SECRET


def access_live(tenant: Entity, source: str) -> bool:
    return bool(tenant["enabled"]) and access_method(source) in methods_of(tenant)


def _switch(
    storage: Storage, tenant_id: str, change: Callable[[Entity], None], event: str | None = None
) -> tuple[Entity, bool]:
    """Apply `change` (integration on/off, methods) to the tenant row and make the token rows follow: the
    bearer token is published (module doc) when it goes live and revoked before and after the write when it
    is not (with its grace row); access tokens of a stopped method are revoked after the write (an issuer
    re-reads the tenant after publishing its row: shared.oauth.access). `event` is the change event the
    write emits, in its own transaction, when it changes something. Returns (tenant, changed)."""
    for _ in range(_RETRIES):
        tenant = get_entity(storage, tenant_id)
        was_live, before = _bearer_live(tenant), dict(tenant)
        change(tenant)
        if tenant == before:
            return tenant, False
        switching_on = _bearer_live(tenant) and not was_live  # enabling a live token revives nothing
        retired = [d for d in (tenant["tokenHash"], tenant.get("graceTokenHash")) if d and not _bearer_live(tenant)]
        if switching_on:
            _stage_token(storage, tenant_id, tenant["tokenHash"])
        for digest in retired:
            _revoke(storage, digest)
        try:
            written = _write_with_event(storage, tenant, event, Target("Tenant", tenant_id))
        except EtagMismatch:
            continue
        if switching_on:
            _activate_token(storage, tenant_id, tenant["tokenHash"], our_write=written)
        for digest in retired:
            _revoke(storage, digest)
        break
    else:
        raise _busy()
    revoke_access(storage, tenant_id, lambda source: not access_live(tenant, source))
    return tenant, True


def set_enabled(storage: Storage, tenant_id: str, enabled: bool, *, actor: str = ACTOR_ADMIN) -> dict[str, Any]:
    """Disabling stops every method at once: the bearer token (and its grace row) and all access tokens."""

    def change(tenant: Entity) -> None:
        tenant["enabled"] = enabled

    action = "integration.enable" if enabled else "integration.disable"
    tenant, _ = _switch(storage, tenant_id, change, action)
    if not enabled:  # revoke again even if it was off already: repairs what a crash mid-disable left
        _revoke(storage, tenant["tokenHash"])
        revoke_access(storage, tenant_id, lambda source: True)
    audit.record(storage, tenant_id, actor, action, Target("Tenant", tenant_id, tenant["name"]))
    return view(tenant)


def set_methods(storage: Storage, tenant_id: str, changes: dict[str, bool]) -> dict[str, Any]:
    """Turn authentication methods on or off (`changes` maps a name of METHODS to on/off)."""
    unknown = sorted(set(changes) - set(METHODS))
    if unknown:
        raise Invalid(f"Unknown authentication method {unknown[0]!r}; use {', '.join(METHODS)}.")

    def change(tenant: Entity) -> None:
        methods = {m for m in methods_of(tenant) if changes.get(m, True)} | {m for m, on in changes.items() if on}
        tenant["methods"] = ",".join(m for m in METHODS if m in methods)

    tenant, changed = _switch(storage, tenant_id, change)
    if changed:
        audit.record(
            storage,
            tenant_id,
            ACTOR_ADMIN,
            "methods.update",
            Target("Tenant", tenant_id, tenant["name"]),
            details={m: "on" if m in methods_of(tenant) else "off" for m in METHODS},
        )
    return view(tenant)


def access_index(storage: Storage, tenant_id: str) -> list[Entity]:
    """The tenant's access-token index rows (`A:<digest>`: source, expires): one query."""
    return list(storage.tenants.query(tenant_pk(tenant_id), prefix=ACCESS_INDEX))


def revoke_access(storage: Storage, tenant_id: str, stopped: Callable[[str], bool]) -> int:
    """Delete the access-token rows whose source (secret id or `federation`) `stopped` names, then their
    index rows (in that order: an index row never goes before the token row it lists)."""
    revoked = 0
    for index in access_index(storage, tenant_id):
        if stopped(str(index.get("source") or "")):
            delete_access(storage, tenant_id, keys.suffix(index["RowKey"], ACCESS_INDEX))
            revoked += 1
    return revoked


def delete_access(storage: Storage, tenant_id: str, digest: str) -> None:
    """Revoke one access token: its token row first, its index row last (a crash between leaves the index
    row for the sweep, never a live token nobody can find)."""
    _revoke(storage, digest)
    storage.tenants.delete(tenant_pk(tenant_id), ACCESS_INDEX + digest)


def _live_digests(storage: Storage, tenant: Entity) -> list[str]:
    """Every token row a flag merge must reach: the current token, the one in grace, the access tokens."""
    digests = [tenant["tokenHash"], *([tenant["graceTokenHash"]] if tenant.get("graceTokenHash") else [])]
    return digests + [keys.suffix(i["RowKey"], ACCESS_INDEX) for i in access_index(storage, tenant["tenantId"])]


def _merge_token_row(storage: Storage, digest: str, fields: Entity) -> None:
    """Merge fields into an existing token row only: a revoked token's row stays gone."""
    try:
        storage.tenants.update(
            {"PartitionKey": _token_pk(digest), "RowKey": TOKEN_ROW, **fields}, etag=None, replace=False
        )
    except RowMissing:
        pass


def update_settings(
    storage: Storage,
    tenant_id: str,
    *,
    auto_invite: bool | None = None,
    retention_days: int | None = None,
    actor: str = ACTOR_ADMIN,
) -> dict[str, Any]:
    if retention_days is not None and not 1 <= retention_days <= 3650:
        raise Invalid("retentionDays must be between 1 and 3650.")
    for _ in range(_RETRIES):
        tenant = get_entity(storage, tenant_id)
        changed: list[str] = []
        if auto_invite is not None and bool(tenant.get("autoInvite")) != auto_invite:
            tenant["autoInvite"] = auto_invite
            changed.append("autoInvite")
        if retention_days is not None and int(tenant.get("retentionDays", DEFAULT_RETENTION_DAYS)) != retention_days:
            tenant["retentionDays"] = retention_days
            changed.append("retentionDays")
        if not changed:
            return view(tenant)
        try:
            storage.tenants.update(tenant, etag=etag_of(tenant))
        except EtagMismatch:
            continue
        if "autoInvite" in changed:
            for digest in _live_digests(storage, tenant):
                _merge_token_row(storage, digest, {"autoInvite": tenant["autoInvite"]})
        audit.record(
            storage,
            tenant_id,
            actor,
            "settings.update",
            Target("Tenant", tenant_id, tenant["name"]),
            changed=changed,
        )
        return view(tenant)
    raise _busy()


def set_stale(storage: Storage, tenant_id: str, stale: bool) -> None:
    """Mark or clear `stale` on the tenant and on its token row (where the next SCIM request sees it).

    Merges of these fields only. Marking writes the tenant first, clearing the token row first: however a
    mark and a clear interleave, the token row is never left clear while the tenant says stale (the
    opposite heals itself: the next SCIM request clears again)."""
    tenant = get_entity(storage, tenant_id)
    fields: Entity = {"stale": stale, **({"staleSince": clock.iso()} if stale else {})}
    tenant_merge = {"PartitionKey": tenant_pk(tenant_id), "RowKey": TENANT_ROW, **fields}
    digests = _live_digests(storage, tenant)
    if not stale:
        for digest in digests:
            _merge_token_row(storage, digest, {"stale": False})
    try:
        storage.tenants.update(tenant_merge, etag=None, replace=False)
    except RowMissing:
        return
    if stale:
        for digest in digests:
            _merge_token_row(storage, digest, {"stale": True})


def set_webhooks(storage: Storage, tenant_id: str, present: bool) -> None:
    """Record whether the tenant has webhook endpoints, on the tenant row and its token rows, so that a SCIM
    write learns it from its one authentication read instead of a query per write. Merges only. A flag left
    wrong by racing endpoint changes costs either one needless query or a delivery deferred to the next
    cycle (never a lost event: the outbox holds it), and reconciliation sets it right (shared.events)."""
    tenant = get_entity(storage, tenant_id)
    if bool(tenant.get("webhooks", False)) == present:
        return
    storage.tenants.update(
        {"PartitionKey": tenant_pk(tenant_id), "RowKey": TENANT_ROW, "webhooks": present}, etag=None, replace=False
    )
    for digest in _live_digests(storage, tenant):
        _merge_token_row(storage, digest, {"webhooks": present})


def repair_tokens(storage: Storage, tenant_id: str) -> int:
    """Delete the tenant's token rows it no longer references; activate the one it does if a crash left
    it pending (mid-rotation, mid-enable, mid-creation). Returns how many rows were repaired.

    Token rows are keyed by digest, so finding a tenant's rows scans them all (one query per 1,000)."""
    rows = [
        r
        for r in storage.tenants.scan_rows(TOKEN_ROW, pk_low=TOKEN_PREFIX, pk_high="K;")
        if r.get("tenantId") == tenant_id
    ]
    tenant = storage.tenants.get(tenant_pk(tenant_id), TENANT_ROW)  # read after the rows: see the module doc
    quiet_since = clock.now() - _STAGING_QUIET
    repaired = 0
    for row in rows:
        digest = row["PartitionKey"][len(TOKEN_PREFIX) :]
        if row.get("source") is not None:
            continue  # an access token: shared.oauth.access.sweep judges those
        if _references(tenant, digest) or (_in_grace(tenant, digest) and not expired(row)):
            continue
        if row.get("pending") and timestamp_of(row) > quiet_since:
            continue  # staged by a rotation or an enable that may still be running (never valid meanwhile)
        try:
            storage.tenants.delete(row["PartitionKey"], TOKEN_ROW, etag=etag_of(row))
        except (EtagMismatch, RowMissing):
            continue  # changed since the scan: the next cycle looks again
        repaired += 1
    for row in rows:
        digest = row["PartitionKey"][len(TOKEN_PREFIX) :]
        if row.get("pending") and _references(tenant, digest) and _activate_token(storage, tenant_id, digest):
            repaired += 1
    return repaired
