"""Integrity of one tenant's partition: index rows and membership rows agree with the resources.

Detection reads each row kind once (keys and the few columns needed) into a snapshot and checks every
subject (a name-index key, an externalId-index key, a membership pair) against it. The row kinds are
read one after another while SCIM traffic goes on, so a snapshot can show a change half-way (a user
created after the users were read, a pair removed between the `M:` and `R:` reads). A suspect subject
is therefore re-read with point reads and decided again on the fresh rows, and its repair is written
conditionally (create if absent, update/delete only if unchanged since that read), each repaired row
with its own audit event in the same transaction. Running it twice in a row finds nothing the second
time. The steady state costs only the snapshot queries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from shared import audit
from shared.audit import ACTOR_RECONCILER, Target
from shared.indexes import GROUP_INDEXES, USER_INDEXES, IndexSpec
from shared.resources import is_live
from shared.store import keys
from shared.store.client import Storage
from shared.store.errors import StoreError
from shared.store.parallel import map_parallel
from shared.store.table import MAX_TRANSACTION_OPS, Entity, Op, etag_of

_PRESENT: Entity = {}  # a row read as a key only (no columns needed, never written from)


class Rows(Protocol):
    def get(self, row_key: str) -> Entity | None: ...


@dataclass
class Repairs:
    counts: Counter = field(default_factory=Counter)
    conflicts: int = 0


@dataclass(frozen=True)
class _Repair:
    kind: str  # audit action suffix (repair.<kind>) and report key
    op: Op
    target: Target


@dataclass
class _Decision:
    repairs: list[_Repair] = field(default_factory=list)
    conflict: bool = False  # two live resources claim one name: left for an admin, never guessed

    @property
    def suspect(self) -> bool:
        return bool(self.repairs) or self.conflict


class _Subject(Protocol):
    def row_keys(self, rows: Rows) -> list[str]:
        """Rows the decision depends on (may name more once `rows` holds the first ones)."""

    def decide(self, rows: Rows) -> _Decision: ...


def _key(tenant_id: str, row_key: str) -> Entity:
    return {"PartitionKey": tenant_id, "RowKey": row_key}


def _put(row: Entity | None, entity: Entity) -> Op:
    return Op("create", entity) if row is None else Op("update", entity, etag_of(row))


def _delete(tenant_id: str, row_key: str, row: Entity) -> Op:
    return Op("delete", _key(tenant_id, row_key), etag_of(row))


@dataclass(frozen=True)
class _Kind:
    """What differs between users and groups for their index rows."""

    spec: IndexSpec
    name_prefix: str
    resource_key: Callable[[str], str]
    target_type: str


USERS = _Kind(USER_INDEXES, keys.USERNAME_INDEX, keys.user_key, "User")
GROUPS = _Kind(GROUP_INDEXES, keys.DISPLAYNAME_INDEX, keys.group_key, "Group")


@dataclass(frozen=True)
class _NameKey:
    """A unique name index row: points at the live resource with that name, or keeps pointing at the
    tombstone a SCIM delete left (how a re-created userName finds its archived employee)."""

    tenant_id: str
    kind: _Kind
    key: str
    claimants: tuple[str, ...]  # live resources whose name maps to key, per the snapshot

    def row_keys(self, rows: Rows) -> list[str]:
        needed = [self.key, *map(self.kind.resource_key, self.claimants)]
        ref = (rows.get(self.key) or {}).get("ref")
        return needed + ([self.kind.resource_key(ref)] if ref else [])

    def _names_key(self, resource: Entity | None) -> bool:
        return resource is not None and self.kind.spec.name_key(resource[self.kind.spec.name_field]) == self.key

    def decide(self, rows: Rows) -> _Decision:
        row = rows.get(self.key)
        live = [
            c
            for c in self.claimants
            if is_live(rows.get(self.kind.resource_key(c))) and self._names_key(rows.get(self.kind.resource_key(c)))
        ]
        ref = (row or {}).get("ref") or ""
        holder = rows.get(self.kind.resource_key(ref)) if ref else None
        if self._names_key(holder) and (is_live(holder) or not live):
            return _Decision(conflict=any(c != ref for c in live))
        if len(live) > 1:
            return _Decision(conflict=True)
        if live:
            name = rows.get(self.kind.resource_key(live[0]))[self.kind.spec.name_field]  # type: ignore[index]
            op = _put(row, {**_key(self.tenant_id, self.key), "ref": live[0]})
            return _Decision([_Repair("index", op, Target(self.kind.target_type, live[0], name))])
        if row is not None:
            return _Decision(
                [_Repair("index", _delete(self.tenant_id, self.key, row), Target(self.kind.target_type, ref, self.key))]
            )
        return _Decision()


@dataclass(frozen=True)
class _ExternalKey:
    """An externalId index row `<prefix><externalId>:<id>` exists exactly while resource <id> is live
    with that externalId."""

    tenant_id: str
    kind: _Kind
    key: str

    @property
    def resource_id(self) -> str:
        return self.key.rsplit(":", 1)[-1]

    def row_keys(self, rows: Rows) -> list[str]:
        return [self.key, self.kind.resource_key(self.resource_id)]

    def decide(self, rows: Rows) -> _Decision:
        resource = rows.get(self.kind.resource_key(self.resource_id))
        external_id = resource.get("externalId") if resource is not None else None
        wanted = (
            is_live(resource)
            and external_id is not None
            and keys.external_id_key(self.kind.spec.external_prefix, external_id, self.resource_id) == self.key
        )
        row = rows.get(self.key)
        target = Target(self.kind.target_type, self.resource_id, external_id or self.key)
        if wanted and row is None:
            return _Decision([_Repair("index", Op("create", _key(self.tenant_id, self.key)), target)])
        if not wanted and row is not None:
            return _Decision([_Repair("index", _delete(self.tenant_id, self.key, row), target)])
        return _Decision()


@dataclass(frozen=True)
class _Pair:
    """A membership is two rows, `M:<g>:<u>` and `R:<u>:<g>`, written and deleted together; neither may
    outlive the user or the group."""

    tenant_id: str
    group_id: str
    user_id: str

    def row_keys(self, rows: Rows) -> list[str]:
        return [
            keys.member_key(self.group_id, self.user_id),
            keys.member_of_key(self.user_id, self.group_id),
            keys.user_key(self.user_id),
            keys.group_key(self.group_id),
        ]

    def decide(self, rows: Rows) -> _Decision:
        ends_exist = rows.get(keys.group_key(self.group_id)) is not None and is_live(
            rows.get(keys.user_key(self.user_id))
        )
        pair = {
            k: rows.get(k)
            for k in (keys.member_key(self.group_id, self.user_id), keys.member_of_key(self.user_id, self.group_id))
        }
        target = Target("Membership", f"{self.group_id}:{self.user_id}")
        if ends_exist and any(row is not None for row in pair.values()):  # half a pair: complete it
            return _Decision(
                [
                    _Repair("membership", Op("create", _key(self.tenant_id, k)), target)
                    for k, row in pair.items()
                    if row is None
                ]
            )
        if not ends_exist:
            return _Decision(
                [
                    _Repair("membership", _delete(self.tenant_id, k, row), target)
                    for k, row in pair.items()
                    if row is not None
                ]
            )
        return _Decision()  # neither row (any more): not a membership


class _Snapshot:
    """The partition as read once: entities where columns matter, bare keys for the rest."""

    def __init__(self, storage: Storage, tenant_id: str):
        self._storage = storage
        self._tenant_id = tenant_id
        self.entities: dict[str, Entity] = {}
        self.keys: set[str] = set()

    def read(self, prefix: str, columns: list[str]) -> list[str]:
        row_keys = []
        for row in self._storage.directory.query(self._tenant_id, prefix=prefix, select=["RowKey", *columns]):
            row_keys.append(row["RowKey"])
            if columns:
                self.entities[row["RowKey"]] = row
            else:
                self.keys.add(row["RowKey"])
        return row_keys

    def get(self, row_key: str) -> Entity | None:
        found = self.entities.get(row_key)
        if found is not None:
            return found
        return _PRESENT if row_key in self.keys else None


def _subjects(snapshot: _Snapshot, tenant_id: str) -> list[_Subject]:
    subjects: list[_Subject] = []
    for kind, columns in ((USERS, ["userName", "externalId", "deleted"]), (GROUPS, ["displayName", "externalId"])):
        prefix = kind.resource_key("")
        claimants: dict[str, list[str]] = {}
        external_keys: set[str] = set()
        for row_key in snapshot.read(prefix, columns):
            resource = snapshot.entities[row_key]
            if not is_live(resource):
                continue
            resource_id = keys.suffix(row_key, prefix)
            claimants.setdefault(kind.spec.name_key(resource[kind.spec.name_field]), []).append(resource_id)
            if resource.get("externalId") is not None:
                external_keys.add(keys.external_id_key(kind.spec.external_prefix, resource["externalId"], resource_id))
        name_keys = set(snapshot.read(kind.name_prefix, ["ref"])) | set(claimants)
        external_keys |= set(snapshot.read(kind.spec.external_prefix, []))
        subjects += [_NameKey(tenant_id, kind, key, tuple(claimants.get(key, ()))) for key in sorted(name_keys)]
        subjects += [_ExternalKey(tenant_id, kind, key) for key in sorted(external_keys)]
    pairs = {keys.member_pair(k) for k in snapshot.read(keys.MEMBER, []) + snapshot.read(keys.MEMBER_OF, [])}
    subjects += [_Pair(tenant_id, group_id, user_id) for group_id, user_id in sorted(pairs)]
    return subjects


class _Fresh:
    """Point reads of the rows suspect subjects depend on, in parallel, each row read once."""

    def __init__(self, storage: Storage, tenant_id: str):
        self._storage = storage
        self._tenant_id = tenant_id
        self._rows: dict[str, Entity | None] = {}

    def load(self, subjects: list[_Subject]) -> None:
        while True:
            missing = sorted({k for s in subjects for k in s.row_keys(self) if k not in self._rows})
            if not missing:
                return
            for row_key, row in zip(
                missing, map_parallel(lambda k: self._storage.directory.get(self._tenant_id, k), missing), strict=True
            ):
                self._rows[row_key] = row

    def get(self, row_key: str) -> Entity | None:
        return self._rows.get(row_key)


def _events(tenant_id: str, decision: _Decision) -> list[Op]:
    ops: list[Op] = []
    for repair in decision.repairs:
        ops += [
            repair.op,
            Op("create", audit.event_entity(tenant_id, ACTOR_RECONCILER, f"repair.{repair.kind}", repair.target)),
        ]
    return ops


def _count(repairs: Repairs, decisions: list[_Decision]) -> None:
    for decision in decisions:
        repairs.counts.update(r.kind for r in decision.repairs)


def _batches(decisions: list[_Decision]) -> Iterator[list[_Decision]]:
    """Whole decisions per transaction (a repair travels with its audit event: two operations)."""
    batch: list[_Decision] = []
    size = 0
    for decision in decisions:
        ops = 2 * len(decision.repairs)
        if batch and size + ops > MAX_TRANSACTION_OPS:
            yield batch
            batch, size = [], 0
        batch.append(decision)
        size += ops
    if batch:
        yield batch


def _submit(storage: Storage, tenant_id: str, batch: list[_Decision], repairs: Repairs) -> None:
    try:
        storage.directory.transact([op for d in batch for op in _events(tenant_id, d)])
    except StoreError:
        # A row changed since it was re-read (live SCIM traffic): one subject at a time, skipping those
        # whose condition no longer holds; the next cycle looks at them again.
        for decision in batch:
            try:
                storage.directory.transact(_events(tenant_id, decision))
            except StoreError:
                continue
            _count(repairs, [decision])
        return
    _count(repairs, batch)


def check(storage: Storage, tenant_id: str, repairs: Repairs) -> None:
    snapshot = _Snapshot(storage, tenant_id)
    suspects = [s for s in _subjects(snapshot, tenant_id) if s.decide(snapshot).suspect]
    if not suspects:
        return
    fresh = _Fresh(storage, tenant_id)
    fresh.load(suspects)
    decisions = [s.decide(fresh) for s in suspects]
    repairs.conflicts += sum(d.conflict for d in decisions)
    for batch in _batches([d for d in decisions if d.repairs]):
        _submit(storage, tenant_id, batch, repairs)
