"""The storage contract: every behaviour of a Table the services rely on, checked on every backend
(conftest.BACKENDS). A backend that deviates from Azure's behaviour fails here, not in a service test."""

from __future__ import annotations

import math
import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from shared.store import counter
from shared.store.errors import (
    AlreadyExists,
    EtagMismatch,
    InvalidTransaction,
    RowMissing,
    StoreError,
    TransactionTooLarge,
)
from shared.store.table import KEYS_PER_READ, Op, Row, Table, etag_of, ids_under, timestamp_of

# --- single rows ------------------------------------------------------------------------------------


def test_a_created_row_reads_back_with_its_properties_and_etag(table, pk):
    etag = table.create({"PartitionKey": pk, "RowKey": "r", "s": "text", "n": 42, "b": True, "f": 1.5, "nothing": None})
    row = table.get(pk, "r")
    assert isinstance(row, Row)
    assert row == {"PartitionKey": pk, "RowKey": "r", "s": "text", "n": 42, "b": True, "f": 1.5}  # None is not written
    assert etag and etag_of(row) == etag
    assert table.get(pk, "absent") is None


def test_creating_an_existing_row_is_already_exists(table, pk):
    table.create({"PartitionKey": pk, "RowKey": "r", "v": 1})
    with pytest.raises(AlreadyExists) as failure:
        table.create({"PartitionKey": pk, "RowKey": "r", "v": 2})
    assert failure.value.index is None
    assert table.get(pk, "r")["v"] == 1


@pytest.mark.parametrize("value", [2**40, ["a"], {"a": 1}])
def test_values_the_sdk_cannot_store_are_refused(table, pk, value):
    with pytest.raises(TypeError):
        table.create({"PartitionKey": pk, "RowKey": "r", "v": value})
    with pytest.raises(TypeError):
        table.transact(
            [
                Op("create", {"PartitionKey": pk, "RowKey": "a"}),
                Op("create", {"PartitionKey": pk, "RowKey": "r", "v": value}),
            ]
        )
    assert table.get(pk, "r") is None and table.get(pk, "a") is None


def test_update_replaces_the_row_and_merge_keeps_what_it_does_not_name(table, pk):
    table.create({"PartitionKey": pk, "RowKey": "r", "a": 1, "b": 2})
    table.update({"PartitionKey": pk, "RowKey": "r", "a": 10, "b": None}, etag=None, replace=False)
    assert table.get(pk, "r") == {"PartitionKey": pk, "RowKey": "r", "a": 10, "b": 2}  # a merged None leaves the value
    table.update({"PartitionKey": pk, "RowKey": "r", "c": 3}, etag=None)
    assert table.get(pk, "r") == {"PartitionKey": pk, "RowKey": "r", "c": 3}


def test_an_update_returns_the_new_etag_and_a_stale_one_is_refused(table, pk):
    first = table.create({"PartitionKey": pk, "RowKey": "r", "v": 1})
    second = table.update({"PartitionKey": pk, "RowKey": "r", "v": 2}, etag=first)
    assert second and second != first and etag_of(table.get(pk, "r")) == second
    for replace in (True, False):
        with pytest.raises(EtagMismatch):
            table.update({"PartitionKey": pk, "RowKey": "r", "v": 3}, etag=first, replace=replace)
    assert table.get(pk, "r")["v"] == 2


@pytest.mark.parametrize("with_etag", [False, True])
def test_updating_a_missing_row_is_row_missing(table, pk, with_etag):
    etag = table.create({"PartitionKey": pk, "RowKey": "other"}) if with_etag else None
    for replace in (True, False):
        with pytest.raises(RowMissing):
            table.update({"PartitionKey": pk, "RowKey": "r", "v": 1}, etag=etag, replace=replace)
    assert table.get(pk, "r") is None


def test_upsert_inserts_then_merges_or_replaces(table, pk):
    assert table.upsert({"PartitionKey": pk, "RowKey": "r", "a": 1})
    table.upsert({"PartitionKey": pk, "RowKey": "r", "b": 2})
    assert table.get(pk, "r") == {"PartitionKey": pk, "RowKey": "r", "a": 1, "b": 2}
    table.upsert({"PartitionKey": pk, "RowKey": "r", "c": 3}, replace=True)
    assert table.get(pk, "r") == {"PartitionKey": pk, "RowKey": "r", "c": 3}


def test_delete_is_conditional_and_a_missing_row_is_already_deleted(table, pk):
    table.delete(pk, "absent")
    table.delete(pk, "absent", etag=table.create({"PartitionKey": pk, "RowKey": "other"}))
    stale = table.create({"PartitionKey": pk, "RowKey": "r", "v": 1})
    current = table.update({"PartitionKey": pk, "RowKey": "r", "v": 2}, etag=None)
    with pytest.raises(EtagMismatch):
        table.delete(pk, "r", etag=stale)
    assert table.get(pk, "r") is not None
    table.delete(pk, "r", etag=current)
    assert table.get(pk, "r") is None


def test_rows_carry_etag_and_timestamp_outside_their_properties(table, pk):
    table.create({"PartitionKey": pk, "RowKey": "r", "v": 1})
    row = table.get(pk, "r")
    stamp = timestamp_of(row)
    assert stamp.tzinfo is not None and abs(stamp - datetime.now(UTC)).total_seconds() < 3600
    table.update(row, etag=etag_of(row))  # a row read can be written back as it is
    assert timestamp_of(table.get(pk, "r")) > stamp
    copy = {**row}
    assert copy == row and etag_of(copy) is None  # a copy is a new write, not the row read
    with pytest.raises(ValueError):
        timestamp_of(copy)


# --- transactions -----------------------------------------------------------------------------------


def test_a_transaction_returns_an_etag_per_write_and_merges_on_upsert(table, pk):
    old = table.create({"PartitionKey": pk, "RowKey": "u", "a": 1, "b": 2})
    table.create({"PartitionKey": pk, "RowKey": "m", "a": 1})
    table.create({"PartitionKey": pk, "RowKey": "x"})
    table.create({"PartitionKey": pk, "RowKey": "p", "a": 1})
    etags = table.transact(
        [
            Op("create", {"PartitionKey": pk, "RowKey": "c", "a": 1}),
            Op("update", {"PartitionKey": pk, "RowKey": "u", "a": 5}, old),
            Op("merge", {"PartitionKey": pk, "RowKey": "m", "b": 2}),
            Op("upsert", {"PartitionKey": pk, "RowKey": "p", "b": 2}),
            Op("delete", {"PartitionKey": pk, "RowKey": "x"}),
        ]
    )
    assert etags[4] is None and all(etags[:4])
    assert [etag_of(table.get(pk, rk)) for rk in "cump"] == etags[:4]
    assert table.get(pk, "u") == {"PartitionKey": pk, "RowKey": "u", "a": 5}
    assert table.get(pk, "m") == {"PartitionKey": pk, "RowKey": "m", "a": 1, "b": 2}
    assert table.get(pk, "p") == {"PartitionKey": pk, "RowKey": "p", "a": 1, "b": 2}
    assert table.get(pk, "x") is None


FAILURES: dict[str, tuple[Callable[[str, str], Op], type[StoreError]]] = {
    "create over an existing row": (
        lambda pk, stale: Op("create", {"PartitionKey": pk, "RowKey": "existing"}),
        AlreadyExists,
    ),
    "update with a stale etag": (
        lambda pk, stale: Op("update", {"PartitionKey": pk, "RowKey": "existing", "v": 9}, stale),
        EtagMismatch,
    ),
    "merge with a stale etag": (
        lambda pk, stale: Op("merge", {"PartitionKey": pk, "RowKey": "existing", "v": 9}, stale),
        EtagMismatch,
    ),
    "delete with a stale etag": (
        lambda pk, stale: Op("delete", {"PartitionKey": pk, "RowKey": "existing"}, stale),
        EtagMismatch,
    ),
    "update of a missing row": (lambda pk, stale: Op("update", {"PartitionKey": pk, "RowKey": "missing"}), RowMissing),
    "merge of a missing row": (
        lambda pk, stale: Op("merge", {"PartitionKey": pk, "RowKey": "missing"}, stale),
        RowMissing,
    ),
    "delete of a missing row": (lambda pk, stale: Op("delete", {"PartitionKey": pk, "RowKey": "missing"}), RowMissing),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("position", [0, 2])
def test_a_failing_transaction_writes_nothing_and_names_the_failing_op(table, pk, failure, position):
    make_op, error = FAILURES[failure]
    stale = table.create({"PartitionKey": pk, "RowKey": "existing", "v": 1})
    current = table.update({"PartitionKey": pk, "RowKey": "existing", "v": 2}, etag=stale)
    table.create({"PartitionKey": pk, "RowKey": "gone"})
    others = [Op("create", {"PartitionKey": pk, "RowKey": "new"}), Op("delete", {"PartitionKey": pk, "RowKey": "gone"})]
    ops = others[:position] + [make_op(pk, stale)] + others[position:]
    with counter.counting() as calls, pytest.raises(error) as raised:
        table.transact(ops)
    assert raised.value.index == position and raised.value.failed_op(ops) is ops[position]
    assert calls.by_kind == {"transaction": 1}
    assert table.get(pk, "new") is None and table.get(pk, "gone") is not None and table.get(pk, "missing") is None
    assert table.get(pk, "existing")["v"] == 2 and etag_of(table.get(pk, "existing")) == current


def test_transaction_limits_are_enforced_before_calling_storage(table, pk):
    def refused(ops: list[Op], error: type[StoreError]) -> StoreError:
        with counter.counting() as calls, pytest.raises(error) as raised:
            table.transact(ops)
        assert calls.total == 0
        return raised.value

    refused([Op("create", {"PartitionKey": pk, "RowKey": f"r{i}"}) for i in range(101)], TransactionTooLarge)
    refused(
        [Op("create", {"PartitionKey": pk, "RowKey": f"r{i}", "x": "y" * 45_000}) for i in range(100)],
        TransactionTooLarge,
    )
    refused(
        [Op("create", {"PartitionKey": pk, "RowKey": "a"}), Op("create", {"PartitionKey": pk + "x", "RowKey": "b"})],
        TransactionTooLarge,
    )
    twice = refused(
        [
            Op("upsert", {"PartitionKey": pk, "RowKey": "a"}),
            Op("upsert", {"PartitionKey": pk, "RowKey": "b"}),
            Op("delete", {"PartitionKey": pk, "RowKey": "a"}),
        ],
        InvalidTransaction,
    )
    assert twice.index == 2
    assert table.get(pk, "a") is None and table.get(pk, "r0") is None
    with counter.counting() as calls:
        assert table.transact([]) == []
    assert calls.total == 0
    full = table.transact([Op("create", {"PartitionKey": pk, "RowKey": f"r{i:03d}"}) for i in range(100)])
    assert len(full) == 100 and all(full)


# --- queries ----------------------------------------------------------------------------------------


def _fill(table: Table, pk: str, row_keys: list[str]) -> None:
    shuffled = random.sample(row_keys, len(row_keys))  # storage order, not insertion order, is what comes back
    for start in range(0, len(shuffled), 100):
        table.transact(
            [
                Op("create", {"PartitionKey": pk, "RowKey": rk, "n": i})
                for i, rk in enumerate(shuffled[start : start + 100])
            ]
        )


def test_queries_page_in_row_key_order_and_count_each_page(table, pk):
    _fill(table, pk, [f"P:{i:03d}" for i in range(25)] + ["P", "P;", "Q:other", "O:other"])
    with counter.counting() as calls:
        rows = list(table.query(pk, prefix="P:", page_size=10))
    assert [r["RowKey"] for r in rows] == [f"P:{i:03d}" for i in range(25)]
    assert calls.by_kind == {"query": 3}


def test_a_continuation_token_resumes_the_same_query(table, pk):
    _fill(table, pk, [f"P:{i:03d}" for i in range(7)] + ["Q:0"])
    pages, token = [], None
    while True:
        page, token = table.query_page(pk, low="P:001", high="P:006", page_size=2, continuation=token)
        pages.append([r["RowKey"] for r in page])
        if token is None:
            break
        assert isinstance(token, str)
    assert pages == [["P:001", "P:002"], ["P:003", "P:004"], ["P:005"]]


def test_range_bounds_are_low_inclusive_and_high_exclusive(table, pk):
    _fill(table, pk, ["a", "b", "c", "d"])
    assert [r["RowKey"] for r in table.query(pk, low="b", high="d")] == ["b", "c"]
    assert [r["RowKey"] for r in table.query(pk, low="c")] == ["c", "d"]
    assert [r["RowKey"] for r in table.query(pk, high="b")] == ["a"]
    with counter.counting() as calls:
        assert table.query_page(pk + "-empty") == ([], None)
    assert calls.by_kind == {"query": 1}


def test_select_returns_only_the_named_properties_with_the_etag(table, pk):
    table.create({"PartitionKey": pk, "RowKey": "r", "a": 1, "b": 2})
    etag = etag_of(table.get(pk, "r"))
    [row] = table.query(pk, select=["RowKey", "a", "absent"])
    assert row == {"RowKey": "r", "a": 1} and etag_of(row) == etag
    with pytest.raises(ValueError):
        timestamp_of(row)  # not selected
    [stamped] = table.query(pk, select=["RowKey", "Timestamp"])
    assert stamped == {"RowKey": "r"} and timestamp_of(stamped) == timestamp_of(table.get(pk, "r"))
    [whole] = table.query(pk)
    assert whole == table.get(pk, "r") and timestamp_of(whole)


def test_get_many_reads_the_existing_rows_among_keys_in_batches_of_twelve(table, pk):
    present = [f"U:{i:03d}" for i in range(0, 60, 2)]
    _fill(table, pk, present + ["U:001x", "V:000", "T:999"])
    wanted = [f"U:{i:03d}" for i in range(60)] + ["W:nothing", "U:000"]  # a duplicate is read once
    with counter.counting() as calls:
        rows = table.get_many(pk, wanted)
    assert sorted(rows) == present
    assert all(
        rows[k]["RowKey"] == k and rows[k]["n"] >= 0 and etag_of(rows[k]) == etag_of(table.get(pk, k)) for k in rows
    )
    assert calls.by_kind == {"query": math.ceil(61 / KEYS_PER_READ)}


def test_get_many_with_select_keeps_the_row_key_and_reads_other_partitions_never(table, pk):
    _fill(table, pk, ["a", "b"])
    _fill(table, pk + "-other", ["a", "c"])
    rows = table.get_many(pk, ["a", "c", "b"], select=["n"])
    assert {k: set(v) for k, v in rows.items()} == {"a": {"n", "RowKey"}, "b": {"n", "RowKey"}}
    with counter.counting() as calls:
        assert table.get_many(pk, []) == {}
    assert calls.total == 0


def test_ids_under_a_prefix_are_the_rest_of_each_key(table, pk):
    _fill(table, pk, ["K:2", "K:1", "K", "L:3"])
    assert ids_under(table, pk, "K:") == ["1", "2"]


def test_scan_rows_reads_one_row_key_across_a_partition_range(table):
    run = uuid.uuid4().hex
    for tenant in ("b", "a", "c"):
        table.create({"PartitionKey": f"{run}:{tenant}", "RowKey": "settings", "t": tenant})
        table.create({"PartitionKey": f"{run}:{tenant}", "RowKey": "other"})
    table.create({"PartitionKey": f"{run};", "RowKey": "settings"})  # just past the range
    rows = list(table.scan_rows("settings", pk_low=f"{run}:", pk_high=f"{run};"))
    assert sorted(r["t"] for r in rows) == ["a", "b", "c"] and all(etag_of(r) for r in rows)


# --- counting and concurrency -----------------------------------------------------------------------


def test_every_call_is_counted_by_kind(table, pk):
    with counter.counting() as calls:
        etag = table.create({"PartitionKey": pk, "RowKey": "r"})
        table.get(pk, "r")
        etag = table.update({"PartitionKey": pk, "RowKey": "r", "v": 1}, etag=etag)
        table.upsert({"PartitionKey": pk, "RowKey": "s"})
        table.transact([Op("delete", {"PartitionKey": pk, "RowKey": "s"})])
        list(table.query(pk))
        table.delete(pk, "r", etag=etag)
    assert calls.by_kind == {"write": 4, "read": 1, "transaction": 1, "query": 1} and calls.total == 7


def test_racing_conditional_writes_lose_no_update(table, pk):
    """Read-modify-write with the ETag from several threads: every increment lands exactly once."""
    table.create({"PartitionKey": pk, "RowKey": "n", "v": 0})
    threads, per_thread = 4, 5
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        done = 0
        while done < per_thread:
            row = table.get(pk, "n")
            try:
                table.transact([Op("update", {**row, "v": row["v"] + 1}, etag_of(row))])
            except EtagMismatch:
                continue
            done += 1

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert table.get(pk, "n")["v"] == threads * per_thread


def test_racing_creates_of_one_row_have_one_winner(table, pk):
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def create(i: int) -> None:
        start.wait()
        try:
            table.create({"PartitionKey": pk, "RowKey": "unique", "by": i})
            outcome = "won"
        except AlreadyExists:
            outcome = "lost"
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(outcomes) == ["lost"] * 7 + ["won"]
