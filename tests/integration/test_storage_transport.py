"""How the app talks to Table Storage: one transport per account that does no per-call environment work."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.store.client import Storage
from tools import processes


def test_storage_calls_do_not_consult_proxy_variables(azurite: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """requests used to scan os.environ for proxy settings (twice) and stat ~/.netrc on every storage call,
    a sixth of the call's CPU: the transport ignores the environment, so a proxy variable pointing at a
    closed port changes nothing."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{processes.free_port()}")
    storage = Storage(Settings.from_env({"SCIM_STORAGE_CONNECTION_STRING": azurite}))
    assert storage.directory.get("no-such-tenant", "no-such-row") is None
