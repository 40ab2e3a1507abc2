"""Crash injection for the crash-point tests: the first N storage writes go through, every later one
raises Crash (the process died there). The hook wraps one Storage's tables; production code has none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared import tenants
from shared.store.client import Storage
from shared.tokens import token_hash

_WRITES = ("create", "upsert", "update", "delete", "transact")


class Crash(Exception):
    pass


@contextmanager
def crash_after(storage: Storage, allowed: int) -> Iterator[None]:
    done = [0]
    tables = (storage.tenants, storage.directory)
    for table in tables:
        for name in _WRITES:
            original = getattr(table, name)

            def write(*args, _original=original, **kwargs):
                if done[0] >= allowed:
                    raise Crash(f"crashed after write {allowed}")
                done[0] += 1
                return _original(*args, **kwargs)

            setattr(table, name, write)  # an instance attribute shadows the method until removed below
    try:
        yield
    finally:
        for table in tables:
            for name in _WRITES:
                delattr(table, name)


def token_rows(storage: Storage, tenant_id: str) -> list[dict]:
    rows = storage.tenants.scan_rows(tenants.TOKEN_ROW, pk_low="K:", pk_high="K;")
    return [r for r in rows if r.get("tenantId") == tenant_id]


def assert_tokens_consistent(storage: Storage, tenant_id: str, tokens: list[str], *, fail_safe: bool = False) -> None:
    """Exactly the token the tenant row references works, and only while the integration is enabled.
    `fail_safe` also accepts no working token at all (what a crash mid-rotation leaves until the retry)."""
    tenant = tenants.get_entity(storage, tenant_id)
    expected = {"K:" + tenant["tokenHash"]} if tenant["enabled"] else set()
    rows = token_rows(storage, tenant_id)
    found = {r["PartitionKey"] for r in rows}
    assert found <= expected if fail_safe else found == expected, (
        found,
        expected,
        tenant["enabled"],
        [r.get("pending") for r in rows],
    )
    assert not any(r.get("pending") for r in rows)
    for token in tokens:
        valid = bool(tenant["enabled"]) and token_hash(token) == tenant["tokenHash"] and bool(found)
        assert (tenants.authenticate(storage, token) is not None) == valid
