"""The table wrapper against Azurite: transactions are atomic, limits are ours, calls are counted."""

import uuid

import pytest

from shared.store import counter
from shared.store.errors import AlreadyExists, EtagMismatch, TransactionTooLarge
from shared.store.table import Op, etag_of


@pytest.fixture
def pk() -> str:
    return uuid.uuid4().hex


def test_a_failing_transaction_writes_nothing(storage, pk):
    table = storage.directory
    table.create({"PartitionKey": pk, "RowKey": "taken"})
    with pytest.raises(AlreadyExists) as failure:
        table.transact([Op("create", {"PartitionKey": pk, "RowKey": "new"}), Op("create", {"PartitionKey": pk, "RowKey": "taken"})])
    assert failure.value.index == 1
    assert table.get(pk, "new") is None


def test_stale_etag_is_refused(storage, pk):
    table = storage.directory
    table.create({"PartitionKey": pk, "RowKey": "r", "v": 1})
    first = table.get(pk, "r")
    table.update({"PartitionKey": pk, "RowKey": "r", "v": 2}, etag=etag_of(first))
    with pytest.raises(EtagMismatch):
        table.transact([Op("update", {"PartitionKey": pk, "RowKey": "r", "v": 3}, etag_of(first))])
    assert table.get(pk, "r")["v"] == 2


def test_transaction_limits_are_enforced_before_calling_storage(storage, pk):
    too_many = [Op("create", {"PartitionKey": pk, "RowKey": f"r{i}"}) for i in range(101)]
    with counter.counting() as calls, pytest.raises(TransactionTooLarge):
        storage.directory.transact(too_many)
    assert calls.total == 0
    too_big = [Op("create", {"PartitionKey": pk, "RowKey": f"r{i}", "x": "y" * 45_000}) for i in range(100)]
    with pytest.raises(TransactionTooLarge):
        storage.directory.transact(too_big)
    with pytest.raises(TransactionTooLarge):
        storage.directory.transact([Op("create", {"PartitionKey": pk, "RowKey": "a"}), Op("create", {"PartitionKey": pk + "x", "RowKey": "b"})])


def test_queries_page_and_count_each_page(storage, pk):
    storage.directory.transact([Op("create", {"PartitionKey": pk, "RowKey": f"P:{i:03d}"}) for i in range(25)])
    storage.directory.create({"PartitionKey": pk, "RowKey": "Q:other"})
    with counter.counting() as calls:
        rows = list(storage.directory.query(pk, prefix="P:", page_size=10))
    assert [r["RowKey"] for r in rows] == [f"P:{i:03d}" for i in range(25)]
    assert calls.by_kind == {"query": 3}
