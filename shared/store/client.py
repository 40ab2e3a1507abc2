"""The tables a process uses, opened lazily from one backend and reused.

Nothing touches the network at import (cold start matters on a consumption plan); with Azure the first
use creates the service client and each table (if missing) once per process. `Storage.in_memory()`
serves the same tables from process memory (service-level tests without Azurite).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from shared.config import Settings
from shared.store.azure_table import AzureTables
from shared.store.memory import MemoryTable
from shared.store.table import Table

DIRECTORY_TABLE = "ScimDirectory"  # per-tenant partition: users, groups, index, membership, audit, outbox rows
TENANTS_TABLE = "ScimTenants"  # tenants, token lookups, health counters, reconciliation state and reports
TABLES = (DIRECTORY_TABLE, TENANTS_TABLE)


class Storage:
    """Azure Table Storage from settings, or any backend given as `open_table` (name -> Table)."""

    def __init__(self, settings: Settings | None = None, *, open_table: Callable[[str], Table] | None = None):
        if open_table is None:
            if settings is None:
                raise TypeError("Storage needs settings (Azure) or open_table")
            open_table = AzureTables(settings)
        self._open = open_table
        self._lock = threading.Lock()
        self._tables: dict[str, Table] = {}

    @classmethod
    def in_memory(cls) -> Storage:
        """Fresh, empty tables in process memory (see shared.store.memory)."""
        return cls(open_table=MemoryTable)

    def table(self, name: str) -> Table:
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                table = self._tables[name] = self._open(name)
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
