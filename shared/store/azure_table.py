"""The Table backend over Azure Table Storage (and Cosmos DB for Table): the only module that speaks the
Azure SDK. Every call is counted, SDK entities become `Row`s and SDK failures shared.store.errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any, cast

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.paging import PageIterator
from azure.core.pipeline.transport import RequestsTransport
from azure.data.tables import TableClient, TableEntity, TableServiceClient, TableTransactionError, UpdateMode

from shared.config import Settings
from shared.store import counter
from shared.store.errors import AlreadyExists, EtagMismatch, RowMissing, StorageUnavailable, StoreError
from shared.store.table import Entity, Op, Row, Table

# Bounds on every storage call. The SDK defaults (300 s per read, 10 retries) let a request hang for
# minutes when storage accepts connections but never answers; with these a call gives up within about
# 2 x 4 s and the request answers 503 (Entra retries). A healthy call takes milliseconds; 4 s leaves
# room for a full 1,000-row page. Reads are retried once after a timeout or a dropped connection (a
# pooled connection that died with a storage restart); POSTs (creates, transactions) are never re-sent
# by the SDK after the request went out.
TRANSPORT_OPTIONS: dict[str, Any] = {"connection_timeout": 2, "read_timeout": 4}
CLIENT_OPTIONS: dict[str, Any] = {  # azure-core retry keywords
    "retry_total": 2,
    "retry_connect": 2,
    "retry_read": 1,
    "retry_status": 1,
    "retry_backoff_factor": 0.2,
    "retry_backoff_max": 1,
    "timeout": 12,  # whole call, retries included
}


def _transport() -> RequestsTransport:
    """The one HTTP transport (a requests session and its connection pool) of every table of an account.

    use_env_settings=False: otherwise requests looks up proxy variables (scanning os.environ twice) and
    ~/.netrc (two stat calls) on every storage call, about a fifth of the SDK's CPU per call. The app
    talks to its own storage account directly; an HTTP(S)_PROXY in the environment is not honoured."""
    return RequestsTransport(use_env_settings=False, **TRANSPORT_OPTIONS)


class AzureTables:
    """Opens the tables of one account (Storage's `open_table`); the service client is made on first use."""

    def __init__(self, settings: Settings):
        self._settings = settings

    @cached_property
    def _service(self) -> TableServiceClient:
        s = self._settings
        if s.storage_endpoint:
            from azure.identity import DefaultAzureCredential  # only needed in Azure; keeps local cold start cheap

            return TableServiceClient(
                endpoint=s.storage_endpoint,
                credential=DefaultAzureCredential(),
                transport=_transport(),
                **CLIENT_OPTIONS,
            )
        if s.storage_connection_string:
            return TableServiceClient.from_connection_string(
                s.storage_connection_string, transport=_transport(), **CLIENT_OPTIONS
            )
        raise RuntimeError("Set SCIM_STORAGE_ENDPOINT (Azure) or SCIM_STORAGE_CONNECTION_STRING (Azurite).")

    def __call__(self, name: str) -> AzureTable:
        """The table, created first if missing (Storage calls this once per table, under its lock)."""
        try:
            with _reachable():
                self._service.create_table(name)
        except ResourceExistsError:
            pass
        except HttpResponseError as exc:
            # Cosmos DB for Table refuses control-plane writes to data-plane identities (403):
            # there the tables are declared by infra/, so a refusal here means "provisioned".
            if exc.status_code != 403:
                raise
        return AzureTable(self._service.get_table_client(name))


def _row(entity: TableEntity) -> Row:
    metadata = entity.metadata
    return Row(entity, etag=metadata.get("etag"), timestamp=metadata.get("timestamp"))


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
def _reachable() -> Iterator[None]:
    """Storage that cannot be reached, times out (TRANSPORT_OPTIONS' and CLIENT_OPTIONS' bounds) or fails on its side (5xx)
    becomes StorageUnavailable; every other error passes unchanged."""
    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StorageUnavailable(type(exc).__name__) from exc
    except HttpResponseError as exc:
        if (exc.status_code or 0) >= 500:
            raise StorageUnavailable(f"storage answered {exc.status_code}") from exc
        raise


@contextmanager
def _sdk_call() -> Iterator[None]:
    """One SDK call's failures as shared.store.errors."""
    with _reachable():
        try:
            yield
        except HttpResponseError as exc:
            if (exc.status_code or 0) >= 500:
                raise
            raise _translate(exc) from exc


def _match(etag: str | None) -> dict[str, Any]:
    if etag is None:
        return {}
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


class AzureTable(Table):
    def __init__(self, client: TableClient):
        self._client = client

    @property
    def name(self) -> str:
        return self._client.table_name

    def get(self, pk: str, rk: str) -> Row | None:
        counter.record("read")
        with _reachable():
            try:
                return _row(self._client.get_entity(pk, rk))
            except ResourceNotFoundError:
                return None

    def read_page(
        self,
        pk: str,
        low: str | None,
        high: str | None,
        select: list[str] | None,
        page_size: int,
        continuation: str | None,
    ) -> tuple[list[Row], str | None]:
        clauses = ["PartitionKey eq @pk"]
        params: dict[str, Any] = {"pk": pk}
        if low is not None:
            clauses.append("RowKey ge @low")
            params["low"] = low
        if high is not None:
            clauses.append("RowKey lt @high")
            params["high"] = high
        return self._page(" and ".join(clauses), params, select, page_size, continuation)

    def _page(
        self, query: str, params: dict[str, Any], select: list[str] | None, page_size: int, continuation: str | None
    ) -> tuple[list[Row], str | None]:
        pager = cast(  # by_page is typed as a plain iterator; it is a PageIterator, which keeps the token
            "PageIterator[TableEntity]",
            self._client.query_entities(query, parameters=params, select=select, results_per_page=page_size).by_page(
                continuation_token=_decode_token(continuation)
            ),
        )
        with _reachable():
            page = [_row(entity) for entity in next(pager, [])]
        return page, _encode_token(pager.continuation_token)

    def read_keys(
        self, pk: str, row_keys: list[str], select: list[str] | None, continuation: str | None
    ) -> tuple[list[Row], str | None]:
        params: dict[str, Any] = {"pk": pk, "low": row_keys[0], "high": row_keys[-1]}
        params.update((f"k{i}", key) for i, key in enumerate(row_keys))
        wanted = " or ".join(f"RowKey eq @k{i}" for i in range(len(row_keys)))
        # spaces around the parentheses: the SDK substitutes a parameter only as a whole word
        query = f"PartitionKey eq @pk and RowKey ge @low and RowKey le @high and ( {wanted} )"
        return self._page(query, params, select, len(row_keys), continuation)

    def scan_rows(self, row_key: str, *, pk_low: str, pk_high: str) -> Iterator[Row]:
        pager = self._client.query_entities(
            "PartitionKey ge @low and PartitionKey lt @high and RowKey eq @rk",
            parameters={"low": pk_low, "high": pk_high, "rk": row_key},
        ).by_page()
        while True:
            with _reachable():  # each page is its own request
                page = next(pager, None)
                rows = None if page is None else [_row(entity) for entity in page]
            if rows is None:
                return
            counter.record("query")
            yield from rows

    def upsert(self, entity: Entity, *, replace: bool = False) -> str | None:
        counter.record("write")
        with _sdk_call():
            result = self._client.upsert_entity(entity, mode=UpdateMode.REPLACE if replace else UpdateMode.MERGE)
        return result.get("etag")

    def create(self, entity: Entity) -> str | None:
        counter.record("write")
        with _sdk_call():
            return self._client.create_entity(entity).get("etag")

    def update(self, entity: Entity, *, etag: str | None, replace: bool = True) -> str | None:
        counter.record("write")
        with _sdk_call():
            result = self._client.update_entity(
                entity, mode=UpdateMode.REPLACE if replace else UpdateMode.MERGE, **_match(etag)
            )
        return result.get("etag")

    def delete(self, pk: str, rk: str, *, etag: str | None = None) -> None:
        counter.record("write")
        with _sdk_call():
            self._client.delete_entity(pk, rk, **_match(etag))  # the SDK answers a missing row (404) with success

    def submit(self, ops: list[Op]) -> list[str | None]:
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
        with _sdk_call():
            results = self._client.submit_transaction(batch)
        return [r.get("etag") for r in results]


def _encode_token(token: Any) -> str | None:
    return json.dumps(token, separators=(",", ":")) if token else None


def _decode_token(token: str | None) -> Any:
    return json.loads(token) if token else None
