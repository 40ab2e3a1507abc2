"""Membership rows and the work that spans several transactions.

Each membership is two rows in the tenant's partition: `M:<group>:<user>` (a group's members) and
`R:<user>:<group>` (a user's groups), so both directions are answered by one range query and
never by a member list inside one property.

A transaction holds at most 100 operations, so large membership changes (a PATCH adding
thousands of members, deleting a big group, hard-deleting a user in many groups) are written in
chunks. When the work does not fit in the first transaction, that transaction also stores a
journal row (`J:<id>`) describing the rest; every later chunk advances the journal atomically with
its own rows, and the last one deletes it. A request interrupted between chunks leaves the journal
behind, and reconciliation finishes it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from shared.store import keys
from shared.store.client import Storage
from shared.store.errors import RowMissing
from shared.store.rows import get_document, put_document
from shared.store.table import MAX_TRANSACTION_OPS, Entity, Op, ids_under

JOURNAL = "J:"
_PAIRS_PER_CHUNK = (MAX_TRANSACTION_OPS - 2) // 2  # room for the journal row (and one spare op)


@dataclass
class MemberWork:
    """Membership rows to write or delete; `purge_group`/`purge_user` remove every row of that resource."""

    group_id: str | None = None
    add: list[str] = field(default_factory=list)  # user ids to add to group_id
    remove: list[str] = field(default_factory=list)  # user ids to remove from group_id
    purge_group: str | None = None
    purge_user: str | None = None
    # user id -> ETag of the user row read live just before: each add carries a conditional merge on that
    # row, so a user deleted (or changed) meanwhile fails the transaction instead of becoming a member.
    # Known only inside the request, never journaled (reconciliation drops pairs of users no longer live).
    guards: dict[str, str] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v and k != "guards"}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> MemberWork:
        return cls(**doc)


def pair_ops(tenant_id: str, group_id: str, user_id: str, *, add: bool) -> list[Op]:
    rows = [
        {"PartitionKey": tenant_id, "RowKey": keys.member_key(group_id, user_id)},
        {"PartitionKey": tenant_id, "RowKey": keys.member_of_key(user_id, group_id)},
    ]
    return [Op("upsert" if add else "delete", row) for row in rows]


def _pairs_from_purge(storage: Storage, tenant_id: str, work: MemberWork, limit: int) -> list[tuple[str, str]]:
    if work.purge_group:
        prefix = keys.member_prefix(work.purge_group)
    elif work.purge_user:
        prefix = keys.member_of_prefix(work.purge_user)
    else:
        return []
    page, _ = storage.directory.query_page(tenant_id, prefix=prefix, select=["RowKey"], page_size=limit)
    return [keys.member_pair(row["RowKey"]) for row in page]


def _pair_list(work: MemberWork) -> list[tuple[str, bool]]:
    return [(u, True) for u in work.add] + [(u, False) for u in work.remove]


def _pair_ops(tenant_id: str, work: MemberWork, user_id: str, add: bool) -> list[Op]:
    ops = pair_ops(tenant_id, work.group_id or "", user_id, add=add)
    if add and user_id in work.guards:
        ops.append(Op("merge", {"PartitionKey": tenant_id, "RowKey": keys.user_key(user_id)}, work.guards[user_id]))
    return ops


def _chunk_ops(tenant_id: str, work: MemberWork, start: int, room: int) -> tuple[list[Op], int]:
    """Ops for the explicit pairs from `start` that fit in `room` operations, and how many pairs that is."""
    ops: list[Op] = []
    consumed = 0
    for user_id, add in _pair_list(work)[start:]:
        pair = _pair_ops(tenant_id, work, user_id, add)
        if len(ops) + len(pair) > room:
            break
        ops += pair
        consumed += 1
    return ops, consumed


def _submit_tolerant(storage: Storage, ops: list[Op]) -> None:
    """Submit; a delete of a row that is already gone (a half-written pair) is dropped and retried."""
    while ops:
        try:
            storage.directory.transact(ops)
            return
        except RowMissing as missing:
            index = missing.index
            if index is None or not 0 <= index < len(ops) or ops[index].kind != "delete":
                raise
            ops = ops[:index] + ops[index + 1 :]


def apply(storage: Storage, tenant_id: str, first_ops: list[Op], work: MemberWork) -> list[str | None]:
    """Run first_ops (the resource change, its audit event) together with as much of work as fits in
    one transaction; continue the rest in chunks under a journal. Returns first_ops' new etags."""
    room = (MAX_TRANSACTION_OPS - len(first_ops)) // 2
    purge = bool(work.purge_group or work.purge_user)
    if purge:
        pairs = _pairs_from_purge(storage, tenant_id, work, room + 1)
        fits = len(pairs) <= room
        chunk_ops = [op for g, u in pairs[:room] for op in pair_ops(tenant_id, g, u, add=False)]
    else:
        chunk_ops, consumed = _chunk_ops(tenant_id, work, 0, MAX_TRANSACTION_OPS - len(first_ops))
        fits = consumed == len(_pair_list(work))
    if fits:
        etags = _first_transaction(storage, first_ops + chunk_ops)
        return etags[: len(first_ops)]
    journal_id = uuid.uuid4().hex
    journal: Entity = {"PartitionKey": tenant_id, "RowKey": JOURNAL + journal_id, "cursor": 0 if purge else consumed}
    put_document(journal, work.to_doc())
    room_with_journal = (MAX_TRANSACTION_OPS - len(first_ops) - 1) // 2
    if purge:
        chunk_ops = chunk_ops[: 2 * room_with_journal]
    else:
        chunk_ops, consumed = _chunk_ops(tenant_id, work, 0, MAX_TRANSACTION_OPS - len(first_ops) - 1)
        journal["cursor"] = consumed
    etags = _first_transaction(storage, first_ops + chunk_ops + [Op("create", journal)])
    resume(storage, tenant_id, journal_id, known=journal, guards=work.guards)
    return etags[: len(first_ops)]


def _first_transaction(storage: Storage, ops: list[Op]) -> list[str | None]:
    """Submit the caller's ops. An unconditional delete of a row that is already gone (an index or
    membership row a crash left out) is dropped; conditional ops are never trimmed. Etags come back
    aligned with the ops given."""
    kept = list(range(len(ops)))
    while True:
        try:
            etags = storage.directory.transact([ops[i] for i in kept])
        except RowMissing as missing:
            index = missing.index
            if index is None or not 0 <= index < len(kept):
                raise
            op = ops[kept[index]]
            if op.kind != "delete" or op.etag:
                raise
            del kept[index]
            continue
        aligned: list[str | None] = [None] * len(ops)
        for position, etag in zip(kept, etags, strict=True):
            aligned[position] = etag
        return aligned


def resume(
    storage: Storage, tenant_id: str, journal_id: str, known: Entity | None = None, guards: dict[str, str] | None = None
) -> int:
    """Finish the work a journal describes; returns how many membership pairs it wrote or deleted.
    `known` is the journal as its writer just stored it (saves re-reading it); `guards` its liveness ETags."""
    done = 0
    journal = known
    while True:
        if journal is None:
            journal = storage.directory.get(tenant_id, JOURNAL + journal_id)
        if journal is None:
            return done
        work = MemberWork.from_doc(get_document(journal))
        work.guards = guards or {}
        cursor = int(journal.get("cursor", 0))
        journal_op = Op("merge", {"PartitionKey": tenant_id, "RowKey": journal["RowKey"]})
        if work.purge_group or work.purge_user:
            pairs = _pairs_from_purge(storage, tenant_id, work, _PAIRS_PER_CHUNK)
            ops = [op for g, u in pairs for op in pair_ops(tenant_id, g, u, add=False)]
            finished = not pairs
            consumed = len(pairs)
        else:
            # explicit pairs take 2 ops, 3 with their user row's guard: fill up to the journal's op
            ops, consumed = _chunk_ops(tenant_id, work, cursor, MAX_TRANSACTION_OPS - 1)
            finished = cursor + consumed >= len(_pair_list(work))
            journal_op.entity["cursor"] = cursor + consumed
        if finished:
            _submit_tolerant(storage, ops + [Op("delete", {"PartitionKey": tenant_id, "RowKey": journal["RowKey"]})])
        else:
            _submit_tolerant(storage, ops + [journal_op])
        done += consumed
        if finished:
            return done
        journal = {**journal, "cursor": cursor + consumed}


def group_member_ids(storage: Storage, tenant_id: str, group_id: str) -> list[str]:
    return ids_under(storage.directory, tenant_id, keys.member_prefix(group_id))


def user_group_ids(storage: Storage, tenant_id: str, user_id: str) -> list[str]:
    return ids_under(storage.directory, tenant_id, keys.member_of_prefix(user_id))
