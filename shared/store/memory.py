"""The Table backend in process: Azure Table Storage's behaviour as the services see it, for fast
service-level tests. It keeps the same limits and errors (tests/contract runs the same cases against
it and Azurite): atomic one-partition transactions within 100 operations and 4 MiB, which operation
failed, ETag conditions, merge versus replace, None properties left unwritten, property types the SDK
accepts, RowKey order, pages and continuation tokens, select. Calls are counted as Azure's are.

Thread-safe: one lock per table, held for each call (a transaction applies all or nothing under it).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from uuid import UUID

from shared.store import counter
from shared.store.errors import AlreadyExists, EtagMismatch, RowMissing, StoreError
from shared.store.table import PAGE_SIZE, Entity, Op, Row, Table

_INT32 = range(-(2**31), 2**31)
_Write = tuple[str, Entity, "str | None"]  # (kind, entity, etag)
_SCALARS = (str, bool, float, bytes, datetime, UUID)


class _Stored:
    """One row: its properties (never shared with a caller), ETag and Timestamp."""

    __slots__ = ("properties", "etag", "timestamp")

    def __init__(self, properties: Entity, timestamp: datetime):
        self.properties = properties
        self.timestamp = timestamp
        # Azure's ETag names the write's timestamp the same way.
        self.etag = "W/\"datetime'" + quote(timestamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z") + "'\""


def _properties(entity: Entity) -> Entity:
    """What a write stores: None is not written; other values must be types the Azure SDK serializes
    (a plain int beyond 32 bits is refused by the SDK too)."""
    out: Entity = {}
    for name, value in entity.items():
        if value is None:
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            if value not in _INT32:
                raise TypeError(f"{value} is too large to be cast to type EdmType.INT32.")
        elif not isinstance(value, _SCALARS):
            raise TypeError(f"Type not supported when sending data to the service: {type(value)}.")
        out[name] = value
    return out


class MemoryTable(Table):
    def __init__(self, name: str):
        self._name = name
        self._lock = threading.RLock()
        self._partitions: dict[str, dict[str, _Stored]] = {}
        self._last = datetime.min.replace(tzinfo=UTC)

    @property
    def name(self) -> str:
        return self._name

    # --- reads ------------------------------------------------------------------------------------

    def get(self, pk: str, rk: str) -> Row | None:
        counter.record("read")
        with self._lock:
            stored = self._partitions.get(pk, {}).get(rk)
            return None if stored is None else Row(stored.properties, etag=stored.etag, timestamp=stored.timestamp)

    def read_page(
        self,
        pk: str,
        low: str | None,
        high: str | None,
        select: list[str] | None,
        page_size: int,
        continuation: str | None,
    ) -> tuple[list[Row], str | None]:
        if continuation is not None:
            low = json.loads(continuation)["next"]  # a token is where the next page starts
        with self._lock:
            partition = self._partitions.get(pk, {})
            row_keys = sorted(k for k in partition if (low is None or k >= low) and (high is None or k < high))
            page = [_selected(partition[k], select) for k in row_keys[:page_size]]
        more = row_keys[page_size:]
        return page, (json.dumps({"next": more[0]}) if more else None)

    def read_keys(
        self, pk: str, row_keys: list[str], select: list[str] | None, continuation: str | None
    ) -> tuple[list[Row], str | None]:
        with self._lock:
            partition = self._partitions.get(pk, {})
            return [_selected(partition[k], select) for k in row_keys if k in partition], None

    def scan_rows(self, row_key: str, *, pk_low: str, pk_high: str) -> Iterator[Row]:
        with self._lock:
            rows = [
                _selected(partition[row_key], None)
                for pk, partition in sorted(self._partitions.items())
                if pk_low <= pk < pk_high and row_key in partition
            ]
        for start in range(0, max(len(rows), 1), PAGE_SIZE):
            counter.record("query")
            yield from rows[start : start + PAGE_SIZE]

    # --- writes -----------------------------------------------------------------------------------

    def create(self, entity: Entity) -> str | None:
        return self._single("create", entity)

    def update(self, entity: Entity, *, etag: str | None, replace: bool = True) -> str | None:
        return self._single("update" if replace else "merge", entity, etag)

    def upsert(self, entity: Entity, *, replace: bool = False) -> str | None:
        return self._single("replace" if replace else "upsert", entity)

    def delete(self, pk: str, rk: str, *, etag: str | None = None) -> None:
        counter.record("write")
        with self._lock:
            rows = self._partitions.get(pk, {})
            stored = rows.get(rk)
            if stored is None:
                return  # as the Azure SDK: a missing row is a successful delete
            if etag is not None and etag != stored.etag:
                raise EtagMismatch("UpdateConditionNotSatisfied")
            del rows[rk]

    def submit(self, ops: list[Op]) -> list[str | None]:
        return self._apply([(op.kind, op.entity, op.etag) for op in ops], batch=True)

    def _single(self, kind: str, entity: Entity, etag: str | None = None) -> str | None:
        counter.record("write")
        return self._apply([(kind, entity, etag)], batch=False)[0]

    def _apply(self, writes: list[_Write], *, batch: bool) -> list[str | None]:
        """Apply writes to their partition, all or nothing: any failure restores the rows touched."""
        with self._lock:
            rows = self._partitions.setdefault(writes[0][1]["PartitionKey"], {})
            stamp = self._tick()
            undo: list[tuple[str, _Stored | None]] = []
            etags: list[str | None] = []
            try:
                for index, write in enumerate(writes):
                    undo.append((write[1]["RowKey"], rows.get(write[1]["RowKey"])))
                    try:
                        etags.append(_write(rows, *write, stamp))
                    except StoreError as exc:
                        exc.index = index if batch else None
                        raise
            except Exception:
                for rk, previous in reversed(undo):
                    if previous is None:
                        rows.pop(rk, None)
                    else:
                        rows[rk] = previous
                raise
            return etags

    def _tick(self) -> datetime:
        """The write's Timestamp: the wall clock, made strictly increasing so every write gets a new ETag."""
        now = datetime.now(UTC)
        self._last = now if now > self._last else self._last + timedelta(microseconds=1)
        return self._last


def _write(rows: dict[str, _Stored], kind: str, entity: Entity, etag: str | None, stamp: datetime) -> str | None:
    """One write: an Op kind, or "replace" (an upsert that replaces). Returns the row's new ETag."""
    rk = entity["RowKey"]
    old = rows.get(rk)
    if kind == "create" and old is not None:
        raise AlreadyExists("EntityAlreadyExists")
    if kind in ("update", "merge", "delete"):
        if old is None:
            raise RowMissing("ResourceNotFound")
        if etag is not None and etag != old.etag:
            raise EtagMismatch("UpdateConditionNotSatisfied")
    if kind == "delete":
        del rows[rk]
        return None
    keep = old.properties if (old is not None and kind in ("merge", "upsert")) else {}
    stored = rows[rk] = _Stored({**keep, **_properties(entity)}, stamp)
    return stored.etag


def _selected(stored: _Stored, select: list[str] | None) -> Row:
    """As a query returns a row: with select, only the named properties that exist, and the Timestamp
    only if named (the ETag always)."""
    if select is None:
        return Row(stored.properties, etag=stored.etag, timestamp=stored.timestamp)
    properties = {name: stored.properties[name] for name in select if name in stored.properties}
    return Row(properties, etag=stored.etag, timestamp=stored.timestamp if "Timestamp" in select else None)
