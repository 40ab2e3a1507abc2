"""The app's wiring: built once by the composition root (function_app.py), read by every route."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import Settings
from shared.store.client import Storage
from shared.tenants import tenant_url


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    storage: Storage

    @property
    def scim_base_url(self) -> str:
        # Only the configured URL (or the local default): the request's Host header is the client's to
        # forge, and it would flow into Location, meta.location and $ref.
        return tenant_url(self.settings.public_base_url)


_installed: AppContext | None = None


def install(context: AppContext) -> None:
    global _installed
    _installed = context


def current() -> AppContext:
    if _installed is None:
        raise RuntimeError("function_app.py installs the app context before any route runs")
    return _installed
