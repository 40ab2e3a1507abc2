"""Integrity of one tenant's partition: index rows and membership rows agree with the resources.

Reads every row kind once (keys and the few columns needed), computes the repairs in memory, then
writes them in transactions of at most 100 operations, each repaired row with its own audit event in
the same transaction. Running it twice in a row finds nothing the second time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from shared import audit
from shared.audit import ACTOR_RECONCILER, Target
from shared.membership import pending_journals, resume
from shared.store import keys
from shared.store.client import Storage
from shared.store.errors import StoreError
from shared.store.table import MAX_TRANSACTION_OPS, Entity, Op


@dataclass
class Repairs:
    counts: Counter = field(default_factory=Counter)
    conflicts: int = 0


@dataclass(frozen=True)
class _Fix:
    kind: str  # audit action suffix and report key
    op: Op
    target: Target


def finish_journals(storage: Storage, tenant_id: str, repairs: Repairs) -> None:
    """Multi-transaction work (big member changes, group and user deletes) interrupted mid-way."""
    for journal_id in pending_journals(storage, tenant_id):
        resume(storage, tenant_id, journal_id)
        repairs.counts["journal"] += 1
        audit.record(storage, tenant_id, ACTOR_RECONCILER, "repair.journal", Target("Journal", journal_id))


def _rows(storage: Storage, tenant_id: str, prefix: str, columns: list[str]) -> list[Entity]:
    return list(storage.directory.query(tenant_id, prefix=prefix, select=["RowKey", *columns]))


def _suffix(row: Entity, prefix: str) -> str:
    return row["RowKey"][len(prefix) :]


def _index_fixes(
    tenant_id: str,
    resources: dict[str, Entity],
    live: set[str],
    index_rows: list[Entity],
    name_field: str,
    key_of,  # type: ignore[no-untyped-def]
    target_type: str,
    repairs: Repairs,
) -> list[_Fix]:
    """Unique name index (IU/IG): every index row points at its resource under the right key, every
    live resource has its row."""
    fixes: list[_Fix] = []
    by_key = {row["RowKey"]: row for row in index_rows}
    for row in index_rows:
        ref = row.get("ref")
        resource = resources.get(ref or "")
        if resource is None or key_of(resource[name_field]) != row["RowKey"]:
            fixes.append(_Fix("index", Op("delete", {"PartitionKey": tenant_id, "RowKey": row["RowKey"]}), Target(target_type, ref or "", row["RowKey"])))
    for resource_id in sorted(live):
        resource = resources[resource_id]
        key = key_of(resource[name_field])
        holder = by_key.get(key)
        if holder is not None and holder.get("ref") == resource_id:
            continue
        if holder is not None and holder.get("ref") in live:
            repairs.conflicts += 1  # two live resources claim one name: left for an admin, never guessed
            continue
        row = {"PartitionKey": tenant_id, "RowKey": key, "ref": resource_id}
        fixes = [f for f in fixes if f.op.entity["RowKey"] != key]  # replaced below instead of deleted
        fixes.append(_Fix("index", Op("upsert", row), Target(target_type, resource_id, resource[name_field])))
    return fixes


def _external_fixes(tenant_id: str, resources: dict[str, Entity], live: set[str], rows: list[Entity], prefix: str, target_type: str) -> list[_Fix]:
    expected = {
        keys.external_id_key(prefix, resources[i]["externalId"], i): i for i in live if resources[i].get("externalId") is not None
    }
    present = {row["RowKey"] for row in rows}
    fixes = [
        _Fix("index", Op("delete", {"PartitionKey": tenant_id, "RowKey": key}), Target(target_type, key.rsplit(":", 1)[-1], key))
        for key in sorted(present - set(expected))
    ]
    fixes += [
        _Fix("index", Op("upsert", {"PartitionKey": tenant_id, "RowKey": key}), Target(target_type, ref, resources[ref].get("externalId")))
        for key, ref in sorted(expected.items())
        if key not in present
    ]
    return fixes


def _membership_fixes(tenant_id: str, users: set[str], groups: set[str], members: set[tuple[str, str]], member_of: set[tuple[str, str]]) -> list[_Fix]:
    """members/member_of as (group, user) pairs: both directions exist iff both ends exist."""
    fixes: list[_Fix] = []
    for group_id, user_id in sorted(members | member_of):
        valid = group_id in groups and user_id in users
        target = Target("Membership", f"{group_id}:{user_id}")
        rows = ((keys.member_key(group_id, user_id), (group_id, user_id) in members), (keys.member_of_key(user_id, group_id), (group_id, user_id) in member_of))
        for row_key, exists in rows:
            if valid and not exists:
                fixes.append(_Fix("membership", Op("upsert", {"PartitionKey": tenant_id, "RowKey": row_key}), target))
            elif not valid and exists:
                fixes.append(_Fix("membership", Op("delete", {"PartitionKey": tenant_id, "RowKey": row_key}), target))
    return fixes


def _pairs(rows: Iterable[Entity], prefix: str, reverse: bool) -> set[tuple[str, str]]:
    pairs = set()
    for row in rows:
        first, _, second = _suffix(row, prefix).partition(":")
        pairs.add((second, first) if reverse else (first, second))
    return pairs


def _apply(storage: Storage, tenant_id: str, fixes: list[_Fix], repairs: Repairs) -> None:
    per_chunk = MAX_TRANSACTION_OPS // 2  # each fix travels with its audit event
    for start in range(0, len(fixes), per_chunk):
        chunk = fixes[start : start + per_chunk]
        ops = []
        for fix in chunk:
            ops.append(fix.op)
            ops.append(Op("create", audit.event_entity(tenant_id, ACTOR_RECONCILER, f"repair.{fix.kind}", fix.target)))
        try:
            storage.directory.transact(ops)
        except StoreError:
            # A row changed under us (live SCIM traffic): apply one by one, skipping what no longer applies.
            for fix in chunk:
                try:
                    storage.directory.transact([fix.op, Op("create", audit.event_entity(tenant_id, ACTOR_RECONCILER, f"repair.{fix.kind}", fix.target))])
                except StoreError:
                    continue
                repairs.counts[fix.kind] += 1
            continue
        for fix in chunk:
            repairs.counts[fix.kind] += 1


def check(storage: Storage, tenant_id: str, repairs: Repairs) -> None:
    users = {_suffix(r, keys.USER): r for r in _rows(storage, tenant_id, keys.USER, ["userName", "externalId", "deleted"])}
    groups = {_suffix(r, keys.GROUP): r for r in _rows(storage, tenant_id, keys.GROUP, ["displayName", "externalId"])}
    live_users = {i for i, r in users.items() if not r.get("deleted")}
    live_groups = set(groups)
    fixes = _index_fixes(tenant_id, users, live_users, _rows(storage, tenant_id, keys.USERNAME_INDEX, ["ref"]), "userName", keys.username_key, "User", repairs)
    fixes += _index_fixes(tenant_id, groups, live_groups, _rows(storage, tenant_id, keys.DISPLAYNAME_INDEX, ["ref"]), "displayName", keys.displayname_key, "Group", repairs)
    fixes += _external_fixes(tenant_id, users, live_users, _rows(storage, tenant_id, keys.USER_EXTERNAL_ID_INDEX, []), keys.USER_EXTERNAL_ID_INDEX, "User")
    fixes += _external_fixes(tenant_id, groups, live_groups, _rows(storage, tenant_id, keys.GROUP_EXTERNAL_ID_INDEX, []), keys.GROUP_EXTERNAL_ID_INDEX, "Group")
    members = _pairs(_rows(storage, tenant_id, keys.MEMBER, []), keys.MEMBER, reverse=False)
    member_of = _pairs(_rows(storage, tenant_id, keys.MEMBER_OF, []), keys.MEMBER_OF, reverse=True)
    fixes += _membership_fixes(tenant_id, live_users, live_groups, members, member_of)
    _apply(storage, tenant_id, fixes, repairs)
