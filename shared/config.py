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
# Invitation e-mail (shared.mail, docs/mail.md).
SCIM_MAIL_CHANNEL = "SCIM_MAIL_CHANNEL"  # capture (local default: SMTP to a loopback capture server) | smtp | acs
SCIM_MAIL_FROM = "SCIM_MAIL_FROM"  # sender address, every channel
SCIM_SMTP_HOST = "SCIM_SMTP_HOST"
SCIM_SMTP_PORT = "SCIM_SMTP_PORT"  # 465 = implicit TLS
SCIM_SMTP_USERNAME = "SCIM_SMTP_USERNAME"
SCIM_SMTP_PASSWORD = "SCIM_SMTP_PASSWORD"  # a Key Vault reference in Azure
SCIM_SMTP_STARTTLS = "SCIM_SMTP_STARTTLS"  # true | false
SCIM_ACS_ENDPOINT = "SCIM_ACS_ENDPOINT"  # https://<resource>.communication.azure.com, managed identity
MAIL_SETTINGS: tuple[str, ...] = (
    SCIM_MAIL_CHANNEL,
    SCIM_MAIL_FROM,
    SCIM_SMTP_HOST,
    SCIM_SMTP_PORT,
    SCIM_SMTP_USERNAME,
    SCIM_SMTP_PASSWORD,
    SCIM_SMTP_STARTTLS,
    SCIM_ACS_ENDPOINT,
)
# Admin console sign-in with Entra ID (shared.console.entra); unset: only local sign-in links (Azurite).
CONSOLE_ENTRA_CLIENT_ID = "CONSOLE_ENTRA_CLIENT_ID"  # the console's multi-tenant app registration
CONSOLE_OPERATOR_TENANT_ID = "CONSOLE_OPERATOR_TENANT_ID"  # the Entra tenant operators sign in to

APP_SETTINGS: tuple[str, ...] = (
    SCIM_STORAGE_ENDPOINT,
    SCIM_PUBLIC_BASE_URL,
    SCIM_RECONCILE_SCHEDULE,
    SCIM_RECONCILE_INTERVAL_MINUTES,
    SCIM_RECONCILE_TIME_BUDGET_SECONDS,
    *MAIL_SETTINGS,
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


MAIL_CHANNELS = ("capture", "smtp", "acs")
CAPTURE_SMTP_PORT = 2525  # where `make run` starts tools.mailcapture


@dataclass(frozen=True)
class MailSettings:
    channel: str = "capture"
    sender: str = "invitations@scim.localhost"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = CAPTURE_SMTP_PORT
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    acs_endpoint: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MailSettings:
        """Unset values take the channel's defaults: capture is plain SMTP to loopback, smtp is STARTTLS
        on 587. Whether the result is usable is checked where the channel is built (shared.mail.channels)."""
        channel = (env.get(SCIM_MAIL_CHANNEL) or "capture").lower()
        capture = channel == "capture"
        starttls = (env.get(SCIM_SMTP_STARTTLS) or ("false" if capture else "true")).lower()
        if starttls not in ("true", "false"):
            raise ValueError(f"{SCIM_SMTP_STARTTLS} must be true or false.")
        return cls(
            channel=channel,
            sender=env.get(SCIM_MAIL_FROM) or cls.sender,
            smtp_host=env.get(SCIM_SMTP_HOST) or ("127.0.0.1" if capture else ""),
            smtp_port=int(env.get(SCIM_SMTP_PORT) or (CAPTURE_SMTP_PORT if capture else 587)),
            smtp_username=env.get(SCIM_SMTP_USERNAME) or None,
            smtp_password=env.get(SCIM_SMTP_PASSWORD) or None,
            smtp_starttls=starttls == "true",
            acs_endpoint=env.get(SCIM_ACS_ENDPOINT) or None,
        )


@dataclass(frozen=True)
class Settings:
    storage_endpoint: str | None
    storage_connection_string: str | None
    public_base_url: str | None
    reconcile_schedule: str
    reconcile_interval_minutes: int
    reconcile_time_budget_seconds: int
    mail: MailSettings = MailSettings()
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
            mail=MailSettings.from_env(env),
            console_entra_client_id=env.get(CONSOLE_ENTRA_CLIENT_ID) or None,
            console_operator_tenant_id=env.get(CONSOLE_OPERATOR_TENANT_ID) or None,
        )


@functools.cache
def process_settings() -> Settings:
    """The settings of this process, read from the environment once (composition roots, shared.admin)."""
    return Settings.from_env()
