"""The in-memory backend beyond the shared contract (tests/contract): it is safe under heavy thread
contention, and Storage.in_memory() hands out one table per name, never shared between Storages."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from shared.store.client import DIRECTORY_TABLE, Storage
from shared.store.errors import AlreadyExists, EtagMismatch
from shared.store.memory import MemoryTable
from shared.store.table import Op, etag_of


@pytest.fixture
def contended() -> Iterator[None]:
    """Switch threads as often as the interpreter can, so unguarded check-then-write code interleaves."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def _together(n: int, fn: Callable[[int], None]) -> None:
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        fn(i)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_conditional_increments_from_many_threads_all_land(contended):
    table = MemoryTable("t")
    table.create({"PartitionKey": "p", "RowKey": "n", "v": 0})

    def increment(_: int) -> None:
        done = 0
        while done < 200:
            row = table.get("p", "n")
            try:
                if done % 2:
                    table.update({**row, "v": row["v"] + 1}, etag=etag_of(row))
                else:
                    table.transact([Op("update", {**row, "v": row["v"] + 1}, etag_of(row))])
            except EtagMismatch:
                continue
            done += 1

    _together(8, increment)
    assert table.get("p", "n")["v"] == 1600


def test_racing_creates_have_one_winner_per_row(contended):
    table = MemoryTable("t")
    won: list[int] = []

    def create(i: int) -> None:
        for row in range(200):
            try:
                table.create({"PartitionKey": "p", "RowKey": f"r{row}", "by": i})
            except AlreadyExists:
                continue
            won.append(row)

    _together(8, create)
    assert sorted(won) == list(range(200))


def test_in_memory_storage_opens_each_table_once_and_shares_nothing():
    storage, other = Storage.in_memory(), Storage.in_memory()
    assert storage.directory is storage.table(DIRECTORY_TABLE) and storage.directory is not storage.tenants
    storage.directory.create({"PartitionKey": "p", "RowKey": "r"})
    assert storage.tenants.get("p", "r") is None and other.directory.get("p", "r") is None
    assert storage.directory.get("p", "r") == {"PartitionKey": "p", "RowKey": "r"}


def test_storage_needs_a_backend():
    with pytest.raises(TypeError):
        Storage()
