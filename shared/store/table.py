"""One Azure table with the operations the services need; every call is counted and failures are
translated into shared.store.errors."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Literal

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableClient, TableEntity, TableTransactionError, UpdateMode

from shared.store import counter
from shared.store.errors import AlreadyExists, EtagMismatch, RowMissing, StorageUnavailable, StoreError, TransactionTooLarge
from shared.store.keys import prefix_range

Entity = dict[str, Any]

MAX_TRANSACTION_OPS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Op:
    """One operation of an entity-group transaction."""

    kind: Literal["create", "upsert", "update", "merge", "delete"]
    entity: Entity
    etag: str | None = None  # for update/merge/delete: only if unchanged since read


def etag_of(entity: Entity) -> str | None:
    metadata = getattr(entity, "metadata", None)
    return metadata.get("etag") if metadata else None


def with_etag(entity: Entity, etag: str | None) -> TableEntity:
    """The entity as just written, carrying the ETag the write returned (saves a re-read)."""
    fresh = TableEntity(entity)
    fresh._metadata = {"etag": etag}  # noqa: SLF001 - where TableEntity keeps its metadata
    return fresh


def _translate(exc: HttpResponseError) -> StoreError:
    code = str(getattr(exc, "error_code", "") or "")
    index = getattr(exc, "index", None) if isinstance(exc, TableTransactionError) else None
    if isinstance(exc, ResourceExistsError) or code.endswith("EntityAlreadyExists"):
        return AlreadyExists(code or "EntityAlreadyExists", index)
    if isinstance(exc, ResourceModifiedError) or "ConditionNotSatisfied" in code or "ConditionNotMet" in code:
        return EtagMismatch(code or "UpdateConditionNotSatisfied", index)
    if isinstance(exc, ResourceNotFoundError) or code.endswith("ResourceNotFound"):
        return RowMissing(code or "ResourceNotFound", index)
    raise exc


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """Storage that cannot be reached, times out (the client's bounds, shared.store.client) or fails on
    its side (5xx) becomes StorageUnavailable; every other error passes unchanged."""
    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StorageUnavailable(type(exc).__name__) from exc
    except HttpResponseError as exc:
        if (exc.status_code or 0) >= 500:
            raise StorageUnavailable(f"storage answered {exc.status_code}") from exc
        raise


def _match(etag: str | None) -> dict[str, Any]:
    if etag is None:
        return {}
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


def _encoded_size(entity: Entity) -> int:
    return len(json.dumps(entity, default=str))


class Table:
    def __init__(self, client: TableClient):
        self._client = client

    @property
    def name(self) -> str:
        return self._client.table_name

    def get(self, pk: str, rk: str) -> TableEntity | None:
        counter.record("read")
        with unavailable_as_error():
            try:
                return self._client.get_entity(pk, rk)
            except ResourceNotFoundError:
                return None

    def query_page(
        self,
        pk: str,
        *,
        prefix: str | None = None,
        low: str | None = None,
        high: str | None = None,
        select: list[str] | None = None,
        page_size: int = _PAGE_SIZE,
        continuation: str | None = None,
    ) -> tuple[list[TableEntity], str | None]:
        """One page of a partition range query and the token for the next page (None at the end)."""
        if prefix is not None:
            low, high = prefix_range(prefix)
        clauses = ["PartitionKey eq @pk"]
        params: dict[str, Any] = {"pk": pk}
        if low is not None:
            clauses.append("RowKey ge @low")
            params["low"] = low
        if high is not None:
            clauses.append("RowKey lt @high")
            params["high"] = high
        counter.record("query")
        with unavailable_as_error():
            pager = self._client.query_entities(
                " and ".join(clauses), parameters=params, select=select, results_per_page=page_size
            ).by_page(continuation_token=_decode_token(continuation))
            page = list(next(pager, []))
        return page, _encode_token(pager.continuation_token)

    def query(self, pk: str, **kwargs: Any) -> Iterator[TableEntity]:
        """All rows of a partition range, page by page (each page is one counted call)."""
        continuation: str | None = None
        while True:
            page, continuation = self.query_page(pk, continuation=continuation, **kwargs)
            yield from page
            if continuation is None:
                return

    def scan_rows(self, row_key: str, *, pk_low: str, pk_high: str) -> Iterator[TableEntity]:
        """Rows with one RowKey across a range of partitions (e.g. every tenant's settings row)."""
        pager = self._client.query_entities(
            "PartitionKey ge @low and PartitionKey lt @high and RowKey eq @rk",
            parameters={"low": pk_low, "high": pk_high, "rk": row_key},
        ).by_page()
        while True:
            with unavailable_as_error():
                page = next(pager, None)
                rows = None if page is None else list(page)
            if rows is None:
                return
            counter.record("query")
            yield from rows

    def upsert(self, entity: Entity, *, replace: bool = False) -> str | None:
        counter.record("write")
        with unavailable_as_error():
            result = self._client.upsert_entity(entity, mode=UpdateMode.REPLACE if replace else UpdateMode.MERGE)
        return result.get("etag")

    def create(self, entity: Entity) -> str | None:
        counter.record("write")
        with unavailable_as_error():
            try:
                return self._client.create_entity(entity).get("etag")
            except HttpResponseError as exc:
                raise _translate(exc) from exc

    def update(self, entity: Entity, *, etag: str | None, replace: bool = True) -> str | None:
        counter.record("write")
        with unavailable_as_error():
            try:
                result = self._client.update_entity(
                    entity, mode=UpdateMode.REPLACE if replace else UpdateMode.MERGE, **_match(etag)
                )
            except HttpResponseError as exc:
                raise _translate(exc) from exc
        return result.get("etag")

    def delete(self, pk: str, rk: str, *, etag: str | None = None) -> None:
        """Delete a row; a row that is already gone is not an error (unless an etag was required)."""
        counter.record("write")
        with unavailable_as_error():
            try:
                self._client.delete_entity(pk, rk, **_match(etag))
            except HttpResponseError as exc:
                error = _translate(exc)
                if not isinstance(error, RowMissing) or etag is not None:
                    raise error from exc

    def transact(self, ops: list[Op]) -> list[str | None]:
        """Run ops atomically (one partition). Returns the new etag per op. Limits are checked here
        because Azurite does not enforce them and Azure would reject the whole batch."""
        if not ops:
            return []
        if len(ops) > MAX_TRANSACTION_OPS:
            raise TransactionTooLarge(f"{len(ops)} operations exceed the limit of {MAX_TRANSACTION_OPS}")
        if sum(_encoded_size(op.entity) for op in ops) > MAX_TRANSACTION_BYTES:
            raise TransactionTooLarge("transaction payload exceeds 4 MiB")
        if len({op.entity["PartitionKey"] for op in ops}) != 1:
            raise TransactionTooLarge("a transaction must stay within one partition")
        batch: list[Any] = []
        for op in ops:
            if op.kind == "create":
                batch.append(("create", op.entity))
            elif op.kind == "upsert":
                batch.append(("upsert", op.entity, {"mode": UpdateMode.MERGE}))
            elif op.kind in ("update", "merge"):
                mode = UpdateMode.REPLACE if op.kind == "update" else UpdateMode.MERGE
                batch.append(("update", op.entity, {"mode": mode, **_match(op.etag)}))
            else:
                batch.append(("delete", op.entity, _match(op.etag)))
        counter.record("transaction")
        with unavailable_as_error():
            try:
                results = self._client.submit_transaction(batch)
            except HttpResponseError as exc:
                raise _translate(exc) from exc
        return [r.get("etag") for r in results]


def _encode_token(token: Any) -> str | None:
    return json.dumps(token, separators=(",", ":")) if token else None


def _decode_token(token: str | None) -> Any:
    return json.loads(token) if token else None
