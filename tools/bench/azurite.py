"""A private Azurite for the benchmark, with large partitions seeded through its database file.

Azurite's store indexes PartitionKey and then scans every row of the partition to find one RowKey, so
each insert costs O(rows in the partition): inserting the 130,600 rows of a 10,000-user tenant through
the API takes over 15 minutes and ends with Azurite dropping connections. So the benchmark stops its
Azurite, appends the rows to Azurite's LokiJS database file in Azurite's own document format (the
version is pinned by package-lock.json), and starts it again; the cycle then runs against Azurite as
usual, through the API.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from shared.config import Settings
from shared.store.client import Storage
from shared.store.table import Entity
from tools import processes  # the one Azurite starter (tests and benchmarks)

DB_FILE = "__azurite_db_table__.json"
ACCOUNT = "devstoreaccount1"
# LokiJS rebuilds every binary index while loading a database older than 1.5 (its upgrade path):
# that is how the appended rows get indexed without re-implementing LokiJS's index order here.
_REINDEX_ON_LOAD = 1.4


def _wait_for_autosave(location: Path, timeout: float = 30) -> None:
    """Azurite saves its database every 5 seconds while it has changes, and not when stopped."""
    since = time.time()
    path = location / DB_FILE
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_mtime > since):
        if time.monotonic() >= deadline:
            raise RuntimeError(f"Azurite did not save {path} within {timeout} s")
        time.sleep(0.2)


@contextmanager
def running(location: Path, *, keep_changes: bool = False) -> Iterator[Storage]:
    """Azurite (table service) keeping its data in `location`, stopped by PID on exit; with
    keep_changes, only once what was written is on disk."""
    port = processes.free_port()
    command = [
        str(processes.AZURITE_TABLE),
        "--location",
        str(location),
        "--tableHost",
        "127.0.0.1",
        "--tablePort",
        str(port),
        "--skipApiVersionCheck",
        "--loose",
        "--silent",
        "--disableTelemetry",
    ]
    process: subprocess.Popen = processes.start(command, port, location / "azurite.log", timeout=60)
    try:
        yield Storage(Settings.from_env({"SCIM_STORAGE_CONNECTION_STRING": processes.connection_string(port)}))
        if keep_changes:
            _wait_for_autosave(location)
    finally:
        processes.stop(process)


def _properties(row: Entity, stamp: str) -> dict[str, object]:
    properties: dict[str, object] = {}
    for name, value in row.items():
        if isinstance(value, bool) or isinstance(value, str) or (isinstance(value, int) and -(2**31) <= value < 2**31):
            properties[name] = value  # Edm.String, Edm.Boolean, Edm.Int32 need no type annotation
        else:
            raise TypeError(f"{name}={value!r}: the benchmark seeds only strings, booleans and 32-bit integers")
    properties.update({"Timestamp": stamp, "Timestamp@odata.type": "Edm.DateTime"})
    return properties


def append_rows(location: Path, table: str, rows: Iterable[Entity]) -> int:
    """Add rows to a stopped Azurite's table (which must exist); returns how many."""
    path = location / DB_FILE
    database = json.loads(path.read_text())
    collection = next(c for c in database["collections"] if c["name"] == f"{ACCOUNT}${table}")
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"  # Azurite writes 7 fractional digits
    etag = f"W/\"datetime'{quote(stamp, safe='')}'\""
    meta = {"revision": 0, "created": int(now.timestamp() * 1000), "version": 0}
    loki_id = collection["maxId"]
    for row in rows:
        loki_id += 1
        collection["data"].append(
            {
                "PartitionKey": row["PartitionKey"],
                "RowKey": row["RowKey"],
                "properties": _properties(row, stamp),
                "lastModifiedTime": stamp,
                "eTag": etag,
                "meta": meta,
                "$loki": loki_id,
            }
        )
    added = loki_id - collection["maxId"]
    collection["maxId"] = loki_id
    database["databaseVersion"] = _REINDEX_ON_LOAD
    path.write_text(json.dumps(database))
    return added
