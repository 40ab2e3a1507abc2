"""App settings: the one list of every setting the deployed app reads (the Bicep drift test compares
against it) and a typed view of the values."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass

# Settings our own code reads.
SCIM_STORAGE_ENDPOINT = (
    "SCIM_STORAGE_ENDPOINT"  # table service URL -> DefaultAzureCredential (Azure, Cosmos DB for Table)
)
SCIM_STORAGE_CONNECTION_STRING = "SCIM_STORAGE_CONNECTION_STRING"  # Azurite / local only
SCIM_PUBLIC_BASE_URL = "SCIM_PUBLIC_BASE_URL"  # e.g. https://<app>.azurewebsites.net; Tenant URL = this + /scim/v2
SCIM_RECONCILE_SCHEDULE = "SCIM_RECONCILE_SCHEDULE"  # NCRONTAB of the reconciliation timer
SCIM_RECONCILE_INTERVAL_MINUTES = "SCIM_RECONCILE_INTERVAL_MINUTES"  # per-tenant cadence
SCIM_RECONCILE_TIME_BUDGET_SECONDS = "SCIM_RECONCILE_TIME_BUDGET_SECONDS"  # time box of one timer run
# Admin console sign-in with Entra ID (shared.console.entra); unset: only local sign-in links (Azurite).
CONSOLE_ENTRA_CLIENT_ID = "CONSOLE_ENTRA_CLIENT_ID"  # the console's multi-tenant app registration
CONSOLE_OPERATOR_TENANT_ID = "CONSOLE_OPERATOR_TENANT_ID"  # the Entra tenant operators sign in to

APP_SETTINGS: tuple[str, ...] = (
    SCIM_STORAGE_ENDPOINT,
    SCIM_PUBLIC_BASE_URL,
    SCIM_RECONCILE_SCHEDULE,
    SCIM_RECONCILE_INTERVAL_MINUTES,
    SCIM_RECONCILE_TIME_BUDGET_SECONDS,
    CONSOLE_ENTRA_CLIENT_ID,
    CONSOLE_OPERATOR_TENANT_ID,
)
"""Settings the deployed app reads (SCIM_STORAGE_CONNECTION_STRING is local-only: Azure uses identity)."""

HOST_SETTINGS: tuple[str, ...] = (
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "AZURE_CLIENT_ID",
)
"""Settings read by the Functions host, the worker or azure-identity on our behalf (user-assigned identity)."""

DEPLOYED_SETTINGS: tuple[str, ...] = APP_SETTINGS + HOST_SETTINGS
"""Exactly the app settings infra/ must declare on the function app."""

DEFAULT_RECONCILE_SCHEDULE = "0 */15 * * * *"
# Azurite's documented development account on its default table port: what `make run` starts, so the
# local host and the admin CLI agree without any configuration.
AZURITE_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
)


@dataclass(frozen=True)
class Settings:
    storage_endpoint: str | None
    storage_connection_string: str | None
    public_base_url: str | None
    reconcile_schedule: str
    reconcile_interval_minutes: int
    reconcile_time_budget_seconds: int
    console_entra_client_id: str | None = None
    console_operator_tenant_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            storage_endpoint=env.get(SCIM_STORAGE_ENDPOINT) or None,
            storage_connection_string=env.get(SCIM_STORAGE_CONNECTION_STRING)
            or (None if env.get(SCIM_STORAGE_ENDPOINT) else AZURITE_CONNECTION_STRING),
            public_base_url=(env.get(SCIM_PUBLIC_BASE_URL) or "").rstrip("/") or None,
            reconcile_schedule=env.get(SCIM_RECONCILE_SCHEDULE) or DEFAULT_RECONCILE_SCHEDULE,
            reconcile_interval_minutes=int(env.get(SCIM_RECONCILE_INTERVAL_MINUTES) or 45),
            reconcile_time_budget_seconds=int(env.get(SCIM_RECONCILE_TIME_BUDGET_SECONDS) or 240),
            console_entra_client_id=env.get(CONSOLE_ENTRA_CLIENT_ID) or None,
            console_operator_tenant_id=env.get(CONSOLE_OPERATOR_TENANT_ID) or None,
        )


@functools.cache
def process_settings() -> Settings:
    """The settings of this process, read from the environment once (composition roots, shared.admin)."""
    return Settings.from_env()
