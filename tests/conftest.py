"""Session fixtures: one real Azurite and one local Functions host, started by the tests and stopped
by PID; every test then works in its own tenant."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import tenants
from shared.config import Settings
from shared.store.client import Storage, reset_default_storage
from tests.support.scim import ScimClient
from tools import processes

pytest_plugins = [
    "tests.support.fixtures_reconcile",  # `frozen` (a settable clock) for every suite
    "tests.support.webhook_receiver",  # `receiver`: a loopback webhook endpoint that checks signatures
    "tests.support.mail",  # the session's capture SMTP server
    "tests.support.console",  # signed-in console clients
    "tests.support.browser",  # Chromium through Playwright, or one loud skip line
]


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = processes.free_port()
    process = processes.start_azurite(port, tmp_path_factory.mktemp("azurite") / "azurite.log")
    connection = processes.connection_string(port)
    os.environ["SCIM_STORAGE_CONNECTION_STRING"] = connection
    os.environ.pop("SCIM_STORAGE_ENDPOINT", None)
    reset_default_storage()
    yield connection
    processes.stop(process)


@pytest.fixture(scope="session")
def live_server(azurite: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SCIM_STORAGE_CONNECTION_STRING": azurite, "SCIM_PUBLIC_BASE_URL": base}
    log_path: Path = tmp_path_factory.mktemp("localhost") / "localhost.log"
    process = processes.start_localhost(port, env, log_path)
    yield base
    processes.stop(process)


@pytest.fixture(scope="session")
def tenant_storage(azurite: str) -> Storage:
    return Storage(Settings.from_env({"SCIM_STORAGE_CONNECTION_STRING": azurite}))


@pytest.fixture
def scim_tenant(live_server: str, tenant_storage: Storage) -> dict:
    view, token = tenants.create_tenant(tenant_storage, f"org-{uuid.uuid4().hex[:8]}")
    return {**view, "tenantUrl": live_server + "/scim/v2", "token": token}


@pytest.fixture
def client(scim_tenant: dict) -> ScimClient:
    return ScimClient(scim_tenant["tenantUrl"], scim_tenant["token"])
