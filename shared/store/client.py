"""Lazily created, process-wide Table Storage clients.

Nothing touches the network at import (cold start matters on a consumption plan); the first use
creates the service client and each table (if missing) once per process.
"""

from __future__ import annotations

import threading
from functools import cached_property

from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.data.tables import TableClient, TableServiceClient

from shared.config import Settings
from shared.store.table import Table, unavailable_as_error

DIRECTORY_TABLE = "ScimDirectory"  # per-tenant partition: users, groups, index, membership, audit, outbox rows
TENANTS_TABLE = "ScimTenants"  # tenants, token lookups, health counters, reconciliation state and reports
TABLES = (DIRECTORY_TABLE, TENANTS_TABLE)

# Bounds on every storage call. The SDK defaults (300 s per read, 10 retries) let a request hang for
# minutes when storage accepts connections but never answers; with these a call gives up within about
# 2 x 4 s and the request answers 503 (Entra retries). A healthy call takes milliseconds; 4 s leaves
# room for a full 1,000-row page. Reads are retried once after a timeout or a dropped connection (a
# pooled connection that died with a storage restart); POSTs (creates, transactions) are never re-sent
# by the SDK after the request went out.
CLIENT_OPTIONS: dict[str, float] = {
    "connection_timeout": 2,
    "read_timeout": 4,
    "retry_total": 2,
    "retry_connect": 2,
    "retry_read": 1,
    "retry_status": 1,
    "retry_backoff_factor": 0.2,
    "retry_backoff_max": 1,
    "timeout": 12,  # whole call, retries included
}


class Storage:
    def __init__(self, settings: Settings):
        self._settings = settings
        self._lock = threading.Lock()
        self._tables: dict[str, Table] = {}

    @cached_property
    def _service(self) -> TableServiceClient:
        s = self._settings
        if s.storage_endpoint:
            from azure.identity import DefaultAzureCredential  # only needed in Azure; keeps local cold start cheap

            return TableServiceClient(endpoint=s.storage_endpoint, credential=DefaultAzureCredential(), **CLIENT_OPTIONS)
        if s.storage_connection_string:
            return TableServiceClient.from_connection_string(s.storage_connection_string, **CLIENT_OPTIONS)
        raise RuntimeError("Set SCIM_STORAGE_ENDPOINT (Azure) or SCIM_STORAGE_CONNECTION_STRING (Azurite).")

    def table(self, name: str) -> Table:
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                client: TableClient = self._service.get_table_client(name)
                try:
                    with unavailable_as_error():
                        self._service.create_table(name)
                except ResourceExistsError:
                    pass
                except HttpResponseError as exc:
                    # Cosmos DB for Table refuses control-plane writes to data-plane identities (403):
                    # there the tables are declared by infra/, so a refusal here means "provisioned".
                    if exc.status_code != 403:
                        raise
                table = self._tables[name] = Table(client)
            return table

    @property
    def directory(self) -> Table:
        return self.table(DIRECTORY_TABLE)

    @property
    def tenants(self) -> Table:
        return self.table(TENANTS_TABLE)


_default: Storage | None = None
_default_lock = threading.Lock()


def default_storage() -> Storage:
    """The process-wide Storage built from the environment, reused across invocations."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Storage(Settings.from_env())
        return _default


def reset_default_storage() -> None:
    """Forget the process-wide Storage (tests that switch storage accounts)."""
    global _default
    with _default_lock:
        _default = None
