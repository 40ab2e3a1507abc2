"""What every SCIM resource service shares: the request scope, ids, meta and versions."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard, TypeVar

from shared.audit import ACTOR_SCIM, Target, event_entity
from shared.events import outbox
from shared.scim.errors import ScimError
from shared.scim.schema import ResourceSchema
from shared.store.client import Storage
from shared.store.errors import EtagMismatch
from shared.store.table import Entity, Op, etag_of

T = TypeVar("T")
_RETRIES = 3


@dataclass(frozen=True)
class Scope:
    """One tenant's view of the directory: every storage access goes through its tenant id."""

    storage: Storage
    tenant_id: str
    base_url: str  # SCIM base URL, e.g. https://host/scim/v2
    auto_invite: bool = False
    actor: str = ACTOR_SCIM
    webhooks: bool = False  # the tenant has webhook endpoints (its token row says so)


def is_live(entity: Entity | None) -> TypeGuard[Entity]:
    """A resource row SCIM still serves: a SCIM-deleted user stays behind as a `deleted` tombstone
    (the archived employee); groups are deleted outright and never carry the flag."""
    return entity is not None and not entity.get("deleted")


def audit_ops(
    scope: Scope,
    action: str,
    target: Target,
    changed: list[str] | None = None,
    details: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> list[Op]:
    """A SCIM change's audit event and the change events it emits (shared.events.outbox), as ops of the
    change's own transaction. `data` is what the change event says beyond the target (status, members)."""
    audit = Op("create", event_entity(scope.tenant_id, scope.actor, action, target, changed=changed, details=details))
    return [audit, *outbox.change_ops(scope.tenant_id, scope.tenant_id, action, target, changed=changed, data=data)]


def new_id() -> str:
    return uuid.uuid4().hex


def version_of(entity: Entity) -> str:
    """meta.version: a weak ETag derived from the row's storage ETag (opaque, quote-free)."""
    etag = etag_of(entity) or ""
    return 'W/"' + hashlib.sha256(etag.encode()).hexdigest()[:20] + '"'


def location(scope: Scope, schema: ResourceSchema, resource_id: str) -> str:
    return f"{scope.base_url}{schema.endpoint}/{resource_id}"


def meta(scope: Scope, schema: ResourceSchema, entity: Entity, resource_id: str) -> dict[str, Any]:
    return {
        "resourceType": schema.resource_type,
        "created": entity["created"],
        "lastModified": entity["lastModified"],
        "location": location(scope, schema, resource_id),
        "version": version_of(entity),
    }


def check_if_match(if_match: str | None, entity: Entity) -> None:
    """RFC 7644 §3.14: a stale If-Match fails with 412; no If-Match means no precondition."""
    if not if_match:
        return
    wanted = {tag.strip() for tag in if_match.split(",")}
    current = version_of(entity)
    strong = current[2:]
    if "*" in wanted or current in wanted or strong in wanted:
        return
    raise ScimError(412, None, f"The resource has changed: its current version is {current}.")


def retrying(attempt: Callable[[], T], schema: ResourceSchema, if_match: str | None) -> T:
    """Run a read-modify-write `attempt` under the row ETag: a lost race re-reads and re-applies (bounded).
    With If-Match the client named the version it changes, so a lost race fails at once."""
    for tried in range(1, _RETRIES + 1):
        try:
            return attempt()
        except EtagMismatch:
            if if_match or tried == _RETRIES:
                raise concurrent_change(schema, if_match) from None
    raise AssertionError("unreachable")


def not_found(schema: ResourceSchema, resource_id: str) -> ScimError:
    return ScimError(404, None, f"{schema.resource_type} {resource_id} not found")


def concurrent_change(schema: ResourceSchema, if_match: str | None) -> ScimError:
    """A write lost its ETag race: 412 when the client asked for a version, else 409 after our retries."""
    return ScimError(
        412 if if_match else 409,
        None,
        f"The {schema.resource_type.lower()} was modified concurrently; retry the request.",
    )
