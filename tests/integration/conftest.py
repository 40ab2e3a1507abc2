"""Service-level fixtures over a real Azurite (started once per session by tests/conftest.py)."""

from __future__ import annotations

import uuid

import pytest

from shared import tenants
from shared.config import Settings
from shared.resources import Scope
from shared.store.client import Storage

BASE_URL = "http://scim.test/scim/v2"


@pytest.fixture(scope="session")
def storage(azurite: str) -> Storage:
    return Storage(Settings.from_env({"SCIM_STORAGE_CONNECTION_STRING": azurite}))


@pytest.fixture
def tenant(storage: Storage) -> dict:
    view, token = tenants.create_tenant(storage, f"org-{uuid.uuid4().hex[:8]}")
    return {**view, "token": token}


@pytest.fixture
def scope(storage: Storage, tenant: dict) -> Scope:
    return Scope(storage=storage, tenant_id=tenant["tenantId"], base_url=BASE_URL)


def make_scope(storage: Storage, tenant_id: str, **kwargs) -> Scope:
    return Scope(storage=storage, tenant_id=tenant_id, base_url=BASE_URL, **kwargs)
