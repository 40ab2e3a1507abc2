"""What a table is to the services: the storage seam.

`Table` is the interface every backend implements (shared.store.azure for Azure Table Storage and Cosmos
DB for Table, shared.store.memory in process). It sits at the table / write-set level, not per resource,
because the invariant the services keep is one atomic write per tenant partition (resource row, index
rows and audit event together). Rows come back as `Row`: a plain dict of the row's properties that also
carries the ETag and Timestamp storage assigned, as attributes, so they are never written back as
properties and cannot clash with one.

tests/contract holds the behaviour both backends must share; a new backend joins there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from shared.store import counter
from shared.store.errors import InvalidTransaction, TransactionTooLarge
from shared.store.keys import prefix_range, suffix
from shared.store.parallel import map_parallel

Entity = dict[str, Any]

MAX_TRANSACTION_OPS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
PAGE_SIZE = 1000
# A $filter holds at most 15 comparisons. A batch read spends three on `PartitionKey eq` and the bounds
# `RowKey ge first and RowKey le last`: with an OR of equalities alone the service scans the whole
# partition, with the bounds only the batch's key range.
KEYS_PER_READ = 15 - 3


class Row(dict[str, Any]):
    """A row as storage returned it. A copy (`{**row}`, `dict(row)`) is a plain dict without etag and
    timestamp: what is derived from a row is a new write, not the row that was read."""

    __slots__ = ("etag", "timestamp")

    def __init__(self, properties: Entity, *, etag: str | None, timestamp: datetime | None = None):
        super().__init__(properties)
        self.etag = etag
        self.timestamp = timestamp  # set only when the read asked for it (every get, or select with "Timestamp")


def etag_of(entity: Entity) -> str | None:
    """The ETag storage returned with a row (None for a dict that was not read or written)."""
    return entity.etag if isinstance(entity, Row) else None


def timestamp_of(entity: Entity) -> datetime:
    """When storage last wrote the row (its clock, not shared.clock); only on rows read with it."""
    stamp = entity.timestamp if isinstance(entity, Row) else None
    if stamp is None:
        raise ValueError("the row carries no Timestamp: read it with get(), or select 'Timestamp'")
    return stamp


def with_etag(entity: Entity, etag: str | None) -> Row:
    """The entity as just written, carrying the ETag the write returned (saves a re-read)."""
    return Row(entity, etag=etag)


@dataclass(frozen=True)
class Op:
    """One operation of an entity-group transaction."""

    kind: Literal["create", "upsert", "update", "merge", "delete"]
    entity: Entity
    etag: str | None = None  # for update/merge/delete: only if unchanged since read


def check_transaction(ops: list[Op]) -> None:
    """Azure's limits on an entity-group transaction, checked before any call: Azurite does not enforce
    the size limits, and Azure would reject the whole batch."""
    if len(ops) > MAX_TRANSACTION_OPS:
        raise TransactionTooLarge(f"{len(ops)} operations exceed the limit of {MAX_TRANSACTION_OPS}")
    if sum(len(json.dumps(op.entity, default=str)) for op in ops) > MAX_TRANSACTION_BYTES:
        raise TransactionTooLarge("transaction payload exceeds 4 MiB")
    if len({op.entity["PartitionKey"] for op in ops}) != 1:
        raise TransactionTooLarge("a transaction must stay within one partition")
    seen: set[str] = set()
    for index, op in enumerate(ops):
        if op.entity["RowKey"] in seen:
            raise InvalidTransaction(f"row {op.entity['RowKey']!r} appears twice in one transaction", index)
        seen.add(op.entity["RowKey"])


class Table(Protocol):
    """One table. Every method is one counted storage call (shared.store.counter), except `query`, which
    costs one per page; failures the services act on are shared.store.errors."""

    @property
    def name(self) -> str: ...

    def get(self, pk: str, rk: str) -> Row | None: ...

    def query_page(
        self,
        pk: str,
        *,
        prefix: str | None = None,
        low: str | None = None,
        high: str | None = None,
        select: list[str] | None = None,
        page_size: int = PAGE_SIZE,
        continuation: str | None = None,
    ) -> tuple[list[Row], str | None]:
        """One page of a partition's rows in RowKey order, within [low, high) or under prefix, and the
        opaque token of the next page (None at the end). With select, a row holds only those properties
        (PartitionKey and RowKey too only if named) and a Timestamp only if "Timestamp" is named."""
        if prefix is not None:
            low, high = prefix_range(prefix)
        counter.record("query")
        return self.read_page(pk, low, high, select, page_size, continuation)

    def read_page(
        self,
        pk: str,
        low: str | None,
        high: str | None,
        select: list[str] | None,
        page_size: int,
        continuation: str | None,
    ) -> tuple[list[Row], str | None]:
        """The backend's part of query_page: the bounds resolved, the call counted."""
        ...

    def query(self, pk: str, **kwargs: Any) -> Iterator[Row]:
        """All rows of a partition range, page by page (each page is one counted call)."""
        continuation: str | None = None
        while True:
            page, continuation = self.query_page(pk, continuation=continuation, **kwargs)
            yield from page
            if continuation is None:
                return

    def get_many(self, pk: str, row_keys: list[str], *, select: list[str] | None = None) -> dict[str, Row]:
        """The rows that exist among row_keys, by RowKey: the sorted keys in batches of KEYS_PER_READ, one
        query per batch (more only if storage splits its answer), the batches in parallel. Costs
        ceil(n / 12) calls where point reads cost n. With select, a row holds those properties and its RowKey."""
        ordered = sorted(set(row_keys))
        batches = [ordered[start : start + KEYS_PER_READ] for start in range(0, len(ordered), KEYS_PER_READ)]
        found: dict[str, Row] = {}
        for rows in map_parallel(lambda batch: self._read_batch(pk, batch, select), batches):
            found.update((row["RowKey"], row) for row in rows)
        return found

    def _read_batch(self, pk: str, row_keys: list[str], select: list[str] | None) -> list[Row]:
        wanted = None if select is None else list(dict.fromkeys([*select, "RowKey"]))
        rows: list[Row] = []
        continuation: str | None = None
        while True:
            counter.record("query")
            page, continuation = self.read_keys(pk, row_keys, wanted, continuation)
            rows += page
            if continuation is None:
                return rows

    def read_keys(
        self, pk: str, row_keys: list[str], select: list[str] | None, continuation: str | None
    ) -> tuple[list[Row], str | None]:
        """The backend's part of get_many: one page of the rows among row_keys (at most KEYS_PER_READ,
        sorted), the call counted."""
        ...

    def scan_rows(self, row_key: str, *, pk_low: str, pk_high: str) -> Iterator[Row]:
        """Rows with one RowKey across a range of partitions [pk_low, pk_high) (e.g. every tenant's row)."""
        ...

    def create(self, entity: Entity) -> str | None:
        """Insert; AlreadyExists if the row exists. Returns the new ETag."""
        ...

    def update(self, entity: Entity, *, etag: str | None, replace: bool = True) -> str | None:
        """Replace (or merge) an existing row, only if unchanged since `etag` when given: RowMissing,
        EtagMismatch. Properties set to None are not written (merge leaves them as they were)."""
        ...

    def upsert(self, entity: Entity, *, replace: bool = False) -> str | None:
        """Insert or merge (or replace), unconditionally."""
        ...

    def delete(self, pk: str, rk: str, *, etag: str | None = None) -> None:
        """Delete a row; a row that is already gone is not an error, a changed one is (EtagMismatch)."""
        ...

    def transact(self, ops: list[Op]) -> list[str | None]:
        """Run ops atomically (one partition, check_transaction's limits). Returns the new ETag per op
        (None for deletes). A failing op fails them all, with its position in the error's `index`; inside
        a transaction a delete of a missing row is RowMissing, and "upsert" merges."""
        if not ops:
            return []
        check_transaction(ops)
        counter.record("transaction")
        return self.submit(ops)

    def submit(self, ops: list[Op]) -> list[str | None]:
        """The backend's part of transact: the ops checked, the call counted."""
        ...


def ids_under(table: Table, pk: str, prefix: str) -> list[str]:
    """What follows prefix in each RowKey under it (the ids one row kind names), read as keys only."""
    return [suffix(row["RowKey"], prefix) for row in table.query(pk, prefix=prefix, select=["RowKey"])]
