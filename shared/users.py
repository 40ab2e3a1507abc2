"""SCIM Users over the tenant's directory partition, with the employee lifecycle riding on each row.

Rows: `U:<id>` (document + employee fields; a SCIM-deleted user stays as an archived tombstone),
`IU:<userName>` (unique, case-insensitive; points at the live user or at the tombstone it replaced),
`IXU:<externalId>:<id>` (externalId lookups; not unique).
"""

from __future__ import annotations

from typing import Any

from shared import clock, invitations, lifecycle, tally
from shared.audit import ACTOR_SCIM, Target
from shared.employees import event_data
from shared.indexes import USER_INDEXES, index_ops, removal_ops
from shared.membership import MemberWork, user_group_ids
from shared.membership import apply as apply_members
from shared.resources import Scope, audit_ops, check_if_match, is_live, meta, new_id, not_found, retrying
from shared.scim.errors import ScimError
from shared.scim.normalize import clean_resource
from shared.scim.patch import apply_patch, changed_attributes
from shared.scim.schema import EMPLOYEE, USER_SCHEMA
from shared.store import keys
from shared.store.errors import AlreadyExists, EtagMismatch
from shared.store.rows import get_document, put_document
from shared.store.table import Entity, Op, etag_of, with_etag

SCHEMA = USER_SCHEMA


def user_id_of(entity: Entity) -> str:
    return keys.user_id(entity["RowKey"])


def to_resource(scope: Scope, entity: Entity, *, group_ids: list[str] | None = None) -> dict[str, Any]:
    doc = get_document(entity)
    user_id = user_id_of(entity)
    schemas = [s for s in doc.pop("schemas", [SCHEMA.core]) if s != EMPLOYEE] + [EMPLOYEE]
    resource: dict[str, Any] = {"schemas": schemas, "id": user_id, **doc}
    resource[EMPLOYEE] = {"status": entity.get("status") or lifecycle.STAGED}
    if group_ids is not None:
        resource["groups"] = [{"value": g, "$ref": f"{scope.base_url}/Groups/{g}", "type": "direct"} for g in group_ids]
    resource["meta"] = meta(scope, SCHEMA, entity, user_id)
    return resource


def _client_document(resource: dict[str, Any]) -> dict[str, Any]:
    """What is stored: the client-owned attributes (id, meta, groups and our extension are derived)."""
    return {k: v for k, v in resource.items() if k not in ("id", "meta", "groups", EMPLOYEE)}


def _primary_email(doc: dict[str, Any]) -> str | None:
    emails = doc.get("emails") or []
    chosen = (
        next((e for e in emails if e.get("primary")), None)
        or next((e for e in emails if e.get("type") == "work"), None)
        or (emails[0] if emails else None)
    )
    return chosen.get("value") if chosen else None


def _row(scope: Scope, user_id: str, doc: dict[str, Any], base: dict[str, Any]) -> Entity:
    """The complete user row (rows are always written whole, so None means absent)."""
    entity: Entity = {
        **{k: v for k, v in base.items() if k not in ("PartitionKey", "RowKey") and not k.startswith("doc")},
        "PartitionKey": scope.tenant_id,
        "RowKey": keys.user_key(user_id),
        "userName": doc["userName"],
        "externalId": doc.get("externalId"),
        "displayName": doc.get("displayName"),
        "email": _primary_email(doc),
        "active": doc.get("active", True) is not False,
        "lastModified": clock.iso(),
    }
    put_document(entity, doc)
    return {k: v for k, v in entity.items() if v is not None}


def _uniqueness(user_name: str) -> ScimError:
    return ScimError(409, "uniqueness", f"userName {user_name!r} is already taken in this tenant.")


def _submit(scope: Scope, ops: list[Op], user_name: str) -> list[str | None]:
    try:
        return scope.storage.directory.transact(ops)
    except AlreadyExists as exc:
        raise _uniqueness(user_name) from exc


def create_user(scope: Scope, body: Any) -> dict[str, Any]:
    doc = clean_resource(body, SCHEMA)
    try:
        # A new userName, the common case, costs one transaction and no read: the name row it creates
        # fails the whole transaction if the name is taken or left by a deleted user (to be restored).
        return _create(scope, doc, optimistic=True)
    except AlreadyExists:
        return _create(scope, doc, optimistic=False)


def _create(scope: Scope, doc: dict[str, Any], *, optimistic: bool) -> dict[str, Any]:
    user_name = doc["userName"]
    pk = scope.tenant_id
    directory = scope.storage.directory
    index = None if optimistic else directory.get(pk, keys.username_key(user_name))
    previous: Entity | None = None
    if index is not None:
        previous = directory.get(pk, keys.user_key(index["ref"]))
        if is_live(previous):
            raise _uniqueness(user_name)
    user_id = new_id()
    now = clock.iso()
    fields = lifecycle.initial(doc.get("active", True) is not False, previous)
    fields.setdefault("employeeId", None)
    fields["employeeId"] = fields["employeeId"] or user_id
    entity = _row(scope, user_id, doc, {**fields, "created": now})
    ops = [Op("create", entity)]
    index_row = {"PartitionKey": pk, "RowKey": keys.username_key(user_name), "ref": user_id}
    if index is not None:
        ops.append(Op("update", index_row, etag_of(index)))
        if previous is not None:
            ops.append(Op("delete", {"PartitionKey": pk, "RowKey": previous["RowKey"]}, etag_of(previous)))
    else:
        ops.append(Op("create", index_row))
    ops += index_ops(USER_INDEXES, pk, user_id, None, entity, with_name=False)  # the name row is handled above
    action = "user.restore" if previous is not None else "user.create"
    ops.append(tally.change_op(pk, keys.USER, user_id, tally.CREATED))
    ops += audit_ops(
        scope,
        action,
        Target("User", user_id, user_name),
        changed=changed_attributes({}, doc, SCHEMA),
        data=event_data(entity),
    )
    invite = scope.auto_invite and previous is None and entity.get("status") == lifecycle.STAGED
    if invite:
        invitation, invitation_ops = invitations.queue(scope.tenant_id, entity, ACTOR_SCIM)
        entity.update(invitation)  # ops[0] holds this dict: the employee row is written with its invitation
        ops += invitation_ops
    try:
        etags = directory.transact(ops) if optimistic else _submit(scope, ops, user_name)
    except EtagMismatch as exc:
        raise _uniqueness(user_name) from exc  # a concurrent create took or restored this userName first
    created = with_etag(entity, etags[0])
    if invite:
        # Automatic invitation takes the admin's path: the first attempt now, within a bounded time.
        invitations.attempt(
            scope.storage,
            scope.tenant_id,
            user_id,
            invitation["invitationId"],
            timeout=invitations.ATTEMPT_TIMEOUT_SECONDS,
            actor=ACTOR_SCIM,
        )
        created = scope.storage.directory.get(scope.tenant_id, entity["RowKey"]) or created
    return to_resource(scope, created)


def get_entity(scope: Scope, user_id: str) -> Entity:
    entity = (
        scope.storage.directory.get(scope.tenant_id, keys.user_key(user_id)) if keys.is_resource_id(user_id) else None
    )
    if not is_live(entity):
        raise not_found(SCHEMA, user_id)
    return entity


def get_user(scope: Scope, user_id: str, *, with_groups: bool = False) -> dict[str, Any]:
    entity = get_entity(scope, user_id)
    groups = user_group_ids(scope.storage, scope.tenant_id, user_id) if with_groups else None
    return to_resource(scope, entity, group_ids=groups)


def _update(scope: Scope, user_id: str, if_match: str | None, change: Any) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        entity = get_entity(scope, user_id)
        check_if_match(if_match, entity)
        old_doc = _client_document(to_resource(scope, entity))
        new_doc = change(old_doc)
        changed = changed_attributes(old_doc, new_doc, SCHEMA)
        if not changed:
            return to_resource(scope, entity)
        status_change = lifecycle.on_active(entity, new_doc.get("active", True) is not False)
        new_entity = _row(scope, user_id, new_doc, {**entity, **status_change})
        ops = [Op("update", new_entity, etag_of(entity))] + index_ops(
            USER_INDEXES, scope.tenant_id, user_id, entity, new_entity
        )
        action = "user.update"
        if status_change:
            action = "user.disable" if status_change.get("status") == lifecycle.ARCHIVED else "user.enable"
        target = Target("User", user_id, new_doc["userName"])
        ops += audit_ops(scope, action, target, changed=changed, data=event_data(new_entity))
        etags = _submit_rename(scope, ops, new_doc["userName"])
        return to_resource(scope, with_etag(new_entity, etags[0]))

    return retrying(attempt, SCHEMA, if_match)


def _submit_rename(scope: Scope, ops: list[Op], user_name: str) -> list[str | None]:
    """A rename may land on a userName whose index row only points at a tombstone: take it over."""
    try:
        return scope.storage.directory.transact(ops)
    except AlreadyExists as exc:
        failed = exc.failed_op(ops)
        if failed is None or not failed.entity["RowKey"].startswith(keys.USERNAME_INDEX):
            raise _uniqueness(user_name) from exc
        holder = scope.storage.directory.get(scope.tenant_id, failed.entity["RowKey"])
        target = scope.storage.directory.get(scope.tenant_id, keys.user_key(holder["ref"])) if holder else None
        if holder is None or is_live(target):
            raise _uniqueness(user_name) from exc
        ops = [Op("update", failed.entity, etag_of(holder)) if op is failed else op for op in ops]
        return _submit(scope, ops, user_name)


def patch_user(scope: Scope, user_id: str, body: Any, if_match: str | None = None) -> dict[str, Any]:
    return _update(scope, user_id, if_match, lambda doc: apply_patch(doc, body, SCHEMA).resource)


def replace_user(scope: Scope, user_id: str, body: Any, if_match: str | None = None) -> dict[str, Any]:
    new_doc = clean_resource(body, SCHEMA)
    return _update(scope, user_id, if_match, lambda _old: new_doc)


def delete_user(scope: Scope, user_id: str, if_match: str | None = None) -> None:
    """SCIM delete: 404 from now on, but the employee stays (archived) until an admin deletes it.
    A lost ETag race (e.g. a group add guarding this row) re-reads, so the purge sees the new membership."""

    def attempt() -> None:
        entity = get_entity(scope, user_id)
        check_if_match(if_match, entity)
        pk = scope.tenant_id
        tombstone = {**entity, **lifecycle.on_scim_delete(entity), "lastModified": clock.iso()}
        ops = [Op("update", {k: v for k, v in tombstone.items() if v is not None}, etag_of(entity))]
        ops += removal_ops(
            USER_INDEXES, pk, user_id, entity, with_name=False
        )  # the name row keeps pointing at the tombstone
        target = Target("User", user_id, entity["userName"])
        ops += audit_ops(scope, "user.delete", target, data=event_data({**entity, **tombstone}))
        ops.append(tally.change_op(pk, keys.USER, user_id, tally.DELETED))
        apply_members(scope.storage, pk, ops, MemberWork(purge_user=user_id))

    retrying(attempt, SCHEMA, if_match)
