"""How many live resources of a kind a tenant has, exactly, without reading them: a list's totalResults.

A counter row that every create and delete updates would be one hot row per tenant, and a read before
each write. Instead each change that makes a resource live or ends its life writes its own small row in
the change's own transaction: `N:<kind>:d:<id>:c` (+1, created) or `N:<kind>:d:<id>:d` (-1, deleted),
so concurrent writers never touch the same row. The count is the base row `N:<kind>:base` plus the
rows after it: one range query. Readers fold the rows into the base now and then (one transaction: the
base updated under its ETag, the folded rows deleted), so the range stays short.

A tenant whose base row is missing (created before this module, or seeded) is counted once by a scan:
a resource with no change row kept its liveness since before the scan began, so the scan is exact for
it; a resource with change rows is live exactly when it has a create row and no delete row. The base is
set so that base + the change rows equals that.
"""

from __future__ import annotations

from shared.store import keys
from shared.store.client import Storage
from shared.store.errors import AlreadyExists, StoreError
from shared.store.table import MAX_TRANSACTION_OPS, Entity, Op, Row, etag_of

CREATED, DELETED = "c", "d"
_FOLD_AT = MAX_TRANSACTION_OPS - 1  # change rows one fold removes (with the base's update)


def _prefix(kind: str) -> str:
    return f"{keys.TALLY}{kind}"


def _base_key(kind: str) -> str:
    return _prefix(kind) + "base"


def _changes_prefix(kind: str) -> str:
    return _prefix(kind) + "d:"


def change_op(tenant_id: str, kind: str, resource_id: str, mark: str) -> Op:
    """The op a change's transaction carries when resource_id of kind (keys.USER, keys.GROUP) becomes
    live (CREATED) or stops being live (DELETED). An upsert: a retried transaction counts once."""
    row_key = f"{_changes_prefix(kind)}{resource_id}:{mark}"
    return Op("upsert", {"PartitionKey": tenant_id, "RowKey": row_key, "delta": 1 if mark == CREATED else -1})


def live_count(storage: Storage, tenant_id: str, kind: str) -> int:
    """The number of live resources of kind: usually one query (more while many changes are unfolded)."""
    rows = list(storage.directory.query(tenant_id, prefix=_prefix(kind)))
    base = next((row for row in rows if row["RowKey"] == _base_key(kind)), None)
    changes = [row for row in rows if row is not base]
    if base is None:
        return _initialise(storage, tenant_id, kind)
    if len(changes) >= _FOLD_AT:
        _fold(storage, base, changes[:_FOLD_AT])
    return int(base["count"]) + sum(int(row["delta"]) for row in changes)


def _resource_id(row_key: str, kind: str) -> tuple[str, str]:
    resource_id, mark = keys.suffix(row_key, _changes_prefix(kind)).rsplit(":", 1)
    return resource_id, mark


def _initialise(storage: Storage, tenant_id: str, kind: str) -> int:
    """Count the tenant by a scan once (see the module docstring) and store the base."""
    live = {
        keys.suffix(row["RowKey"], kind)
        for row in storage.directory.query(tenant_id, prefix=kind, select=["RowKey", "deleted"])
        if not row.get("deleted")
    }
    changes = list(storage.directory.query(tenant_id, prefix=_changes_prefix(kind)))  # read after the scan
    marks: dict[str, set[str]] = {}
    for row in changes:
        resource_id, mark = _resource_id(row["RowKey"], kind)
        marks.setdefault(resource_id, set()).add(mark)
    # unchanged resources as the scan saw them; a resource deleted with no create row was counted before
    base = len(live - marks.keys()) + sum(1 for m in marks.values() if m == {DELETED})
    try:
        storage.directory.create({"PartitionKey": tenant_id, "RowKey": _base_key(kind), "count": base})
    except AlreadyExists:
        return live_count(storage, tenant_id, kind)  # another request initialised it meanwhile
    return base + sum(int(row["delta"]) for row in changes)


def _fold(storage: Storage, base: Row, changes: list[Row]) -> None:
    """Move change rows into the base; a concurrent fold makes this one fail, which is harmless."""
    entity: Entity = {
        "PartitionKey": base["PartitionKey"],
        "RowKey": base["RowKey"],
        "count": int(base["count"]) + sum(int(row["delta"]) for row in changes),
    }
    ops = [Op("update", entity, etag_of(base))]
    ops += [
        Op("delete", {"PartitionKey": row["PartitionKey"], "RowKey": row["RowKey"]}, etag_of(row)) for row in changes
    ]
    try:
        storage.directory.transact(ops)
    except StoreError:
        pass
