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
from shared.store.table import Table

DIRECTORY_TABLE = "ScimDirectory"  # per-tenant partition: users, groups, index, membership, audit, outbox rows
TENANTS_TABLE = "ScimTenants"  # tenants, token lookups, health counters, reconciliation state and reports
TABLES = (DIRECTORY_TABLE, TENANTS_TABLE)


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

            return TableServiceClient(endpoint=s.storage_endpoint, credential=DefaultAzureCredential())
        if s.storage_connection_string:
            return TableServiceClient.from_connection_string(s.storage_connection_string)
        raise RuntimeError("Set SCIM_STORAGE_ENDPOINT (Azure) or SCIM_STORAGE_CONNECTION_STRING (Azurite).")

    def table(self, name: str) -> Table:
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                client: TableClient = self._service.get_table_client(name)
                try:
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
