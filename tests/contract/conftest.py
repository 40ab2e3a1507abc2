"""The storage backends the services run on, each given to every contract case (test_table.py).

A new backend joins with one entry in BACKENDS: a function from the pytest request to a Storage over it.
Cases work in partitions of their own, so a backend may be shared by the whole session.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from shared.store.client import Storage
from shared.store.table import Table

BACKENDS: dict[str, Callable[[pytest.FixtureRequest], Storage]] = {
    "azurite": lambda request: request.getfixturevalue("tenant_storage"),  # tests/conftest.py: a real Azurite
    "memory": lambda request: Storage.in_memory(),
}


@pytest.fixture(params=sorted(BACKENDS))
def storage(request: pytest.FixtureRequest) -> Storage:
    return BACKENDS[request.param](request)


@pytest.fixture
def table(storage: Storage) -> Table:
    return storage.directory


@pytest.fixture
def pk() -> str:
    return uuid.uuid4().hex
