"""SCIM Groups: security groups whose members are users of the same tenant (no nesting).

Rows: `G:<id>` (document without members), `IG:<displayName>` (unique, case-insensitive),
`IXG:<externalId>:<id>`, and the membership rows of shared.membership. Member changes never read or
write a member list: they cost point reads for the members named plus O(k/49) transactions.
"""

from __future__ import annotations

from typing import Any

from shared import clock, tally
from shared.audit import Target
from shared.events.outbox import membership_data
from shared.indexes import GROUP_INDEXES, index_ops, removal_ops
from shared.membership import MemberWork, group_member_ids
from shared.membership import apply as apply_members
from shared.resources import (
    Scope,
    audit_ops,
    check_if_match,
    concurrent_change,
    is_live,
    meta,
    new_id,
    not_found,
    retrying,
)
from shared.scim.errors import ScimError
from shared.scim.normalize import clean_resource
from shared.scim.patch import MemberChanges, apply_patch, changed_attributes
from shared.scim.schema import GROUP_SCHEMA
from shared.store import keys
from shared.store.errors import AlreadyExists, EtagMismatch, RowMissing
from shared.store.parallel import WORKERS
from shared.store.rows import get_document, put_document
from shared.store.table import KEYS_PER_READ, Entity, Op, etag_of, with_etag

SCHEMA = GROUP_SCHEMA
# Members are checked this many at a time, as batch reads (Table.get_many) that run in parallel: one round
# of the pool's queries. The first batch naming a non-user ends the request: a body full of unknown ids
# costs one batch of reads, not one read per id.
_CHECK_BATCH = KEYS_PER_READ * WORKERS


def group_id_of(entity: Entity) -> str:
    return keys.group_id(entity["RowKey"])


def member_entry(scope: Scope, user_id: str) -> dict[str, Any]:
    return {"value": user_id, "$ref": f"{scope.base_url}/Users/{user_id}", "type": "User"}


def to_resource(scope: Scope, entity: Entity, member_ids: list[str] | None) -> dict[str, Any]:
    doc = get_document(entity)
    group_id = group_id_of(entity)
    resource: dict[str, Any] = {"schemas": [SCHEMA.core], "id": group_id}
    resource.update({k: v for k, v in doc.items() if k != "schemas"})
    if member_ids is not None:
        resource["members"] = [member_entry(scope, u) for u in member_ids]
    resource["meta"] = meta(scope, SCHEMA, entity, group_id)
    return resource


def _row(scope: Scope, group_id: str, doc: dict[str, Any], base: dict[str, Any]) -> Entity:
    entity: Entity = {
        "created": base.get("created") or clock.iso(),
        "PartitionKey": scope.tenant_id,
        "RowKey": keys.group_key(group_id),
        "displayName": doc["displayName"],
        "externalId": doc.get("externalId"),
        "lastModified": clock.iso(),
    }
    put_document(entity, {k: v for k, v in doc.items() if k not in ("id", "meta", "members")})
    return {k: v for k, v in entity.items() if v is not None}


def _uniqueness(display_name: str) -> ScimError:
    return ScimError(409, "uniqueness", f"A group named {display_name!r} already exists in this tenant.")


def _not_a_user(member_id: str) -> ScimError:
    return ScimError(400, "invalidValue", f"Member {member_id[:80]!r} is not a user of this tenant.")


def _member_ids(values: list[dict[str, Any]]) -> list[str]:
    """The distinct ids to add, in order; an id that is not of the form we issue fails before any read."""
    ids = list(dict.fromkeys(entry["value"] for entry in values))
    malformed = next((u for u in ids if not keys.is_resource_id(u)), None)
    if malformed is not None:
        raise _not_a_user(malformed)
    return ids


def _require_users(scope: Scope, user_ids: list[str]) -> dict[str, str]:
    """Every member must be a live user of this tenant; a group as member means nesting. Returns each
    user row's ETag (the liveness guard of the membership write, see MemberWork.guards)."""
    pk = scope.tenant_id
    directory = scope.storage.directory
    etags: dict[str, str] = {}
    for start in range(0, len(user_ids), _CHECK_BATCH):
        batch = user_ids[start : start + _CHECK_BATCH]
        rows = directory.get_many(pk, [keys.user_key(u) for u in batch if keys.is_resource_id(u)])
        for user_id in batch:
            row = rows.get(keys.user_key(user_id))
            etag = etag_of(row) if is_live(row) else None
            if etag is None:
                if directory.get(pk, keys.group_key(user_id)) is not None:
                    raise ScimError(
                        400,
                        "invalidValue",
                        f"Group {user_id} cannot be a member: nested groups are not supported, members must be users.",
                    )
                raise _not_a_user(user_id)
            etags[user_id] = etag
    return etags


def _existing_members(scope: Scope, group_id: str, user_ids: list[str]) -> set[str]:
    member_keys = {keys.member_key(group_id, u): u for u in user_ids if keys.is_resource_id(u)}
    rows = scope.storage.directory.get_many(scope.tenant_id, list(member_keys), select=["RowKey"])
    return {member_keys[k] for k in rows}


def _member_work(scope: Scope, group_id: str, changes: MemberChanges | None) -> MemberWork:
    work = MemberWork(group_id=group_id)
    if changes is None:
        return work
    adds = _member_ids(changes.add)
    if changes.replace_all:
        current = group_member_ids(scope.storage, scope.tenant_id, group_id)
        present = set(current)
        work.add = [u for u in adds if u not in present]
        keep = set(adds)
        work.remove = [u for u in current if u not in keep]
        work.guards = _require_users(scope, work.add)
        return work
    for start in range(0, len(adds), _CHECK_BATCH):
        batch = adds[start : start + _CHECK_BATCH]
        present = _existing_members(scope, group_id, batch)
        new = [u for u in batch if u not in present]  # re-adding a member is a silent success
        work.guards.update(_require_users(scope, new))
        work.add += new
    adding = set(adds)
    removes = [u for u in changes.remove if u not in adding]
    present = _existing_members(scope, group_id, removes)
    work.remove = [u for u in removes if u in present]
    return work


def create_group(scope: Scope, body: Any) -> dict[str, Any]:
    doc = clean_resource(body, SCHEMA)
    member_values = doc.pop("members", [])
    group_id = new_id()
    work = MemberWork(group_id=group_id, add=_member_ids(member_values))
    work.guards = _require_users(scope, work.add)
    entity = _row(scope, group_id, doc, {})
    ops = [Op("create", entity)] + index_ops(GROUP_INDEXES, scope.tenant_id, group_id, None, entity)
    ops.append(tally.change_op(scope.tenant_id, keys.GROUP, group_id, tally.CREATED))
    changed = sorted(k for k in doc if k != "schemas") + (["members"] if work.add else [])
    ops += audit_ops(
        scope,
        "group.create",
        Target("Group", group_id, doc["displayName"]),
        changed=changed,
        details={"added": len(work.add)} if work.add else None,
        data=membership_data(work.add, []) if work.add else None,
    )
    try:
        etags = apply_members(scope.storage, scope.tenant_id, ops, work)
    except AlreadyExists as exc:
        raise _uniqueness(doc["displayName"]) from exc
    except (EtagMismatch, RowMissing) as exc:  # a member changed or was deleted since it was checked
        _require_users(scope, work.add)  # 400 if one is no longer a live user
        raise concurrent_change(SCHEMA, None) from exc
    return to_resource(scope, with_etag(entity, etags[0]), work.add)


def get_entity(scope: Scope, group_id: str) -> Entity:
    entity = (
        scope.storage.directory.get(scope.tenant_id, keys.group_key(group_id))
        if keys.is_resource_id(group_id)
        else None
    )
    if entity is None:
        raise not_found(SCHEMA, group_id)
    return entity


def get_group(scope: Scope, group_id: str, *, with_members: bool = True) -> dict[str, Any]:
    entity = get_entity(scope, group_id)
    members = group_member_ids(scope.storage, scope.tenant_id, group_id) if with_members else None
    return to_resource(scope, entity, members)


def _update(scope: Scope, group_id: str, if_match: str | None, change: Any) -> Entity:
    def attempt() -> Entity:
        entity = get_entity(scope, group_id)
        check_if_match(if_match, entity)
        old_doc = get_document(entity)
        new_doc, changes = change(old_doc)
        work = _member_work(scope, group_id, changes)
        changed = changed_attributes(old_doc, new_doc, SCHEMA)
        if work.add or work.remove:
            changed.append("members")
        if not changed:
            return entity
        if changed == ["members"] and not if_match:
            # Membership-only changes touch no attribute of the group row: stamp lastModified without
            # an ETag condition, so Entra's parallel member PATCHes on one group never conflict.
            new_entity = {**entity, "lastModified": clock.iso()}
            ops = [
                Op(
                    "merge",
                    {
                        "PartitionKey": scope.tenant_id,
                        "RowKey": entity["RowKey"],
                        "lastModified": new_entity["lastModified"],
                    },
                )
            ]
        else:
            new_entity = _row(scope, group_id, new_doc, entity)
            ops = [Op("update", new_entity, etag_of(entity))] + index_ops(
                GROUP_INDEXES, scope.tenant_id, group_id, entity, new_entity
            )
        details = {"added": len(work.add), "removed": len(work.remove)} if (work.add or work.remove) else None
        ops += audit_ops(
            scope,
            "group.update",
            Target("Group", group_id, new_doc["displayName"]),
            changed=changed,
            details=details,
            data=membership_data(work.add, work.remove) if details else None,
        )
        try:
            etags = apply_members(scope.storage, scope.tenant_id, ops, work)
        except AlreadyExists as exc:
            raise _uniqueness(new_doc["displayName"]) from exc
        except RowMissing as exc:
            if work.guards and scope.storage.directory.get(scope.tenant_id, keys.group_key(group_id)):
                # a member's row is gone (purged), not the group: retry, which re-checks the members
                raise EtagMismatch("an added member's row is gone") from exc
            raise not_found(SCHEMA, group_id) from exc  # deleted while this request ran
        return with_etag(new_entity, etags[0])

    return retrying(attempt, SCHEMA, if_match)


def patch_group(scope: Scope, group_id: str, body: Any, if_match: str | None = None) -> Entity:
    """Returns the updated row; the caller decides whether to render a body (members are not loaded)."""

    def change(doc: dict[str, Any]) -> tuple[dict[str, Any], MemberChanges | None]:
        result = apply_patch(doc, body, SCHEMA)
        return result.resource, result.members

    return _update(scope, group_id, if_match, change)


def replace_group(scope: Scope, group_id: str, body: Any, if_match: str | None = None) -> Entity:
    new_doc = clean_resource(body, SCHEMA)
    members = new_doc.pop("members", [])
    changes = MemberChanges(replace_all=True)
    changes.added(members)
    return _update(scope, group_id, if_match, lambda _old: (new_doc, changes))


def delete_group(scope: Scope, group_id: str, if_match: str | None = None) -> None:
    """The group disappears at once; its membership rows follow in chunks (members themselves stay)."""
    entity = get_entity(scope, group_id)
    check_if_match(if_match, entity)
    pk = scope.tenant_id
    ops = [Op("delete", {"PartitionKey": pk, "RowKey": entity["RowKey"]}, etag_of(entity))]
    ops += removal_ops(GROUP_INDEXES, pk, group_id, entity)
    ops += audit_ops(scope, "group.delete", Target("Group", group_id, entity["displayName"]))
    ops.append(tally.change_op(pk, keys.GROUP, group_id, tally.DELETED))
    try:
        apply_members(scope.storage, pk, ops, MemberWork(purge_group=group_id))
    except EtagMismatch as exc:
        raise concurrent_change(SCHEMA, if_match) from exc
