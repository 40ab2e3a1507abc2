"""The function app declares exactly the settings the code reads (shared/config.py is the source of truth),
none that Flex Consumption forbids, and the tables and defaults the code uses."""

from __future__ import annotations

from shared.config import DEFAULT_RECONCILE_SCHEDULE, DEPLOYED_SETTINGS, Settings
from shared.store.client import TABLES
from shared.tenants import tenant_url
from tests.infra.bicep import parse, render

MAIN = parse("main.bicep")
FUNCTION_APP = parse("modules/functionapp.bicep")

# What Flex Consumption rejects or ignores: Microsoft Learn, "App settings reference for Azure Functions",
# section "Flex Consumption plan deprecations"
# (https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations).
# This is the one copy of that list in the tests; keep it in step with the page.
#
# App settings (functionAppConfig's runtime, scaleAndConcurrency and deployment replace most of them). The
# group after the blank line is older than this citation and belongs to the plans Flex replaces (content
# mounts, time zone, containers, Windows placeholders).
FLEX_FORBIDDEN_SETTINGS = {
    "ENABLE_ORYX_BUILD",
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_MAX_HTTP_CONCURRENCY",
    "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
    "FUNCTIONS_WORKER_PROCESS_COUNT",
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_WORKER_RUNTIME_VERSION",
    "FUNCTIONS_WORKER_SHARED_MEMORY_DATA_TRANSFER_ENABLED",
    "SCALE_CONTROLLER_SCALE_DOWN_DELAY",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTOVERVNET",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_DNS_SERVER",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
    "WEBSITE_NODE_DEFAULT_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
    "WEBSITE_VNET_ROUTE_ALL",
    "WEBSITE_MOUNT_ENABLED",
    "WEBSITE_TIME_ZONE",
    "TZ",
    "WEBSITES_CONTAINER_START_TIME_LIMIT",
    "WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED",
}
# Site properties, which the page writes as `properties.<name>` and which live on the site or in its
# siteConfig: Flex rejects the site (a 400 in newer regions) when one is set (ftpsState: "FTPS not supported").
# appSettings is not in the table: this template keeps settings in a sites/config resource instead.
FLEX_FORBIDDEN_SITE_PROPERTIES = {
    "alwaysOn",
    "containerSize",
    "ftpsState",
    "functionAppScaleLimit",
    "isReserved",
    "isXenon",
    "javaVersion",
    "linuxFxVersion",
    "netFrameworkVersion",
    "powerShellVersion",
    "preWarmedInstanceCount",
    "use32BitWorkerProcess",
    "windowsFxVersion",
    "appSettings",
}


def _app_settings() -> dict[str, str]:
    config = FUNCTION_APP.resource("Microsoft.Web/sites/config")
    assert config.body["name"] == "appsettings"
    return {name: render(value) for name, value in config.properties.items()}


def test_app_settings_are_exactly_the_settings_the_code_reads():
    assert len(DEPLOYED_SETTINGS) == len(set(DEPLOYED_SETTINGS))
    assert set(_app_settings()) == set(DEPLOYED_SETTINGS)


def test_no_setting_flex_consumption_forbids():
    assert not set(_app_settings()) & FLEX_FORBIDDEN_SETTINGS
    assert "AzureWebJobsStorage" not in _app_settings(), "host storage must be identity-based, not a connection string"


def test_no_site_property_flex_consumption_forbids():
    """Neither the site's properties nor its siteConfig set one (ARM property names are case-insensitive)."""
    site = FUNCTION_APP.resource("Microsoft.Web/sites").properties
    forbidden = {name.casefold() for name in FLEX_FORBIDDEN_SITE_PROPERTIES}
    assert not {name for name in site if name.casefold() in forbidden}
    assert not {name for name in site.get("siteConfig", {}) if name.casefold() in forbidden}


def test_host_storage_and_telemetry_use_the_managed_identity():
    settings = _app_settings()
    assert settings["AzureWebJobsStorage__accountName"] == "hostStorageAccountName"
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__clientId"] == "identityClientId"
    assert settings["AZURE_CLIENT_ID"] == "identityClientId"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "ClientId=${identityClientId};Authorization=AAD"


def test_scim_settings_come_from_the_deployment():
    settings = _app_settings()
    assert settings["SCIM_STORAGE_ENDPOINT"] == "scimStorageEndpoint"
    assert settings["SCIM_PUBLIC_BASE_URL"] == "https://${app.properties.defaultHostName}"
    assert settings["SCIM_RECONCILE_SCHEDULE"] == "reconcileSchedule"
    assert settings["SCIM_RECONCILE_INTERVAL_MINUTES"] == "string(reconcileIntervalMinutes)"
    assert settings["SCIM_RECONCILE_TIME_BUDGET_SECONDS"] == "string(reconcileTimeBudgetSeconds)"


def test_reconciliation_defaults_match_the_code():
    code = Settings.from_env({})
    assert MAIN.default("reconcileSchedule") == DEFAULT_RECONCILE_SCHEDULE
    assert MAIN.default("reconcileIntervalMinutes") == code.reconcile_interval_minutes
    assert MAIN.default("reconcileTimeBudgetSeconds") == code.reconcile_time_budget_seconds


def test_declared_tables_are_the_tables_the_code_uses():
    assert MAIN.variables["scimTables"] == list(TABLES)


def test_tenant_url_output_is_the_code_tenant_url():
    base = MAIN.outputs["SCIM_PUBLIC_BASE_URL"]
    assert MAIN.outputs["SCIM_TENANT_URL"] == tenant_url(base)
