"""Security properties and role assignments the deployment must keep (issue 6), and the deployability
rules of issue 15 (Flex-safe site, serialised Cosmos writes, Key Vault recovery), read from the parsed Bicep."""

from __future__ import annotations

import itertools
import json
from typing import NamedTuple

import pytest

from tests.infra.bicep import INFRA, BicepFile, Resource, parse, render

MAIN = parse("main.bicep")
STORAGE = parse("modules/storage.bicep")
MONITORING = parse("modules/monitoring.bicep")
FUNCTION_APP = parse("modules/functionapp.bicep")
COSMOS = parse("modules/cosmos.bicep")
KEY_VAULT = parse("modules/keyvault.bicep")

# Built-in role ids (the same in every tenant).
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
COSMOS_BUILT_IN_DATA_CONTRIBUTOR = "00000000-0000-0000-0000-000000000002"


class Grant(NamedTuple):
    scope: str  # symbol of the resource the role is granted on
    role: str  # role definition id
    principal: str  # rendered principalId
    condition: str | None


def _role_of(doc: BicepFile, role_definition: dict) -> str:
    """The role GUID of `subscriptionResourceId('Microsoft.Authorization/roleDefinitions', <variable>)`."""
    function = role_definition["function"]
    assert function["type"] == "subscription_resource_id", render(role_definition)
    assert function["parameters"]["resource_type"] == "Microsoft.Authorization/roleDefinitions"
    return doc.variables[function["parameters"]["resource_name_1"]]


def _grants(doc: BicepFile) -> set[Grant]:
    grants = set()
    for resource in doc.resources("Microsoft.Authorization/roleAssignments"):
        props = resource.properties
        grants.add(
            Grant(
                resource.body["scope"],
                _role_of(doc, props["roleDefinitionId"]),
                props["principalId"],
                resource.condition,
            )
        )
    return grants


def test_storage_account_is_identity_only_https_tls12_and_private_blobs():
    account = STORAGE.resource("Microsoft.Storage/storageAccounts")
    assert account.body["kind"] == "StorageV2"
    assert account.properties["allowSharedKeyAccess"] is False
    assert account.properties["allowBlobPublicAccess"] is False
    assert account.properties["defaultToOAuthAuthentication"] is True
    assert account.properties["minimumTlsVersion"] == "TLS1_2"
    assert account.properties["supportsHttpsTrafficOnly"] is True


def test_deployment_container_is_private_and_is_what_flex_deploys_from():
    container = STORAGE.resource("Microsoft.Storage/storageAccounts/blobServices/containers")
    assert container.properties["publicAccess"] == "None"
    assert (
        STORAGE.outputs["deploymentContainerUrl"]
        == "${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}"
    )
    assert MAIN.modules()["functionApp"].params["deploymentContainerUrl"] == "storage.outputs.deploymentContainerUrl"


def test_scim_tables_are_declared_in_storage_unless_cosmos_holds_them():
    tables = STORAGE.resource("Microsoft.Storage/storageAccounts/tableServices/tables")
    assert tables.loop == "declaredTables"
    assert render(STORAGE.variables["declaredTables"]) == "holdsScimData ? tableNames : []"
    assert MAIN.modules()["storage"].params["holdsScimData"] == "!useCosmosDb"
    assert MAIN.modules()["storage"].params["tableNames"] == "scimTables"


def test_storage_grants():
    assert _grants(STORAGE) == {
        Grant("storage", STORAGE_BLOB_DATA_OWNER, "identityPrincipalId", None),
        Grant("storage", STORAGE_TABLE_DATA_CONTRIBUTOR, "identityPrincipalId", "holdsScimData"),
        Grant(
            "storage",
            STORAGE_TABLE_DATA_CONTRIBUTOR,
            "operatorPrincipalId",
            "holdsScimData && !empty(operatorPrincipalId)",
        ),
    }


def test_monitoring_has_local_auth_disabled_and_grants_metrics_publisher():
    workspace = MONITORING.resource("Microsoft.OperationalInsights/workspaces")
    assert workspace.properties["features"]["disableLocalAuth"] is True
    insights = MONITORING.resource("Microsoft.Insights/components")
    assert insights.properties["DisableLocalAuth"] is True
    assert render(insights.properties["WorkspaceResourceId"]) == "logAnalytics.id"
    assert _grants(MONITORING) == {
        Grant("applicationInsights", MONITORING_METRICS_PUBLISHER, "identityPrincipalId", None)
    }


def test_every_identity_grant_goes_to_the_app_identity():
    for module in ("monitoring", "storage", "cosmos"):
        assert MAIN.modules()[module].params["identityPrincipalId"] == "identity.outputs.principalId"


def test_plan_is_flex_consumption_on_linux():
    plan = FUNCTION_APP.resource("Microsoft.Web/serverfarms")
    assert plan.body["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    assert plan.properties["reserved"] is True


@pytest.fixture(scope="module")
def site() -> Resource:
    return FUNCTION_APP.resource("Microsoft.Web/sites")


def test_function_app_is_https_only_tls12(site):
    assert site.body["kind"] == "functionapp,linux"
    assert site.properties["httpsOnly"] is True
    assert site.properties["siteConfig"] == {"minTlsVersion": "1.2", "scmMinTlsVersion": "1.2", "http20Enabled": True}


def test_ftp_is_off_through_the_policy_not_ftps_state(site):
    """Flex Consumption rejects siteConfig.ftpsState (issue 15, item 1): the `ftp` policy is the only switch."""
    assert "ftpsState" not in site.properties["siteConfig"]
    assert "ftpsState" not in site.properties


def test_function_app_runs_python_311_as_the_user_assigned_identity(site):
    assert site.body["identity"]["type"] == "UserAssigned"
    assert list(site.body["identity"]["userAssignedIdentities"]) == ["'${identityId}'"]
    assert site.properties["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.11"}


def test_function_app_deploys_from_the_blob_container_with_the_identity(site):
    storage = site.properties["functionAppConfig"]["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["value"] == "deploymentContainerUrl"
    assert storage["authentication"] == {"type": "UserAssignedIdentity", "userAssignedIdentityResourceId": "identityId"}


def test_instance_limits_are_parameters(site):
    scale = site.properties["functionAppConfig"]["scaleAndConcurrency"]
    assert scale == {"maximumInstanceCount": "maximumInstanceCount", "instanceMemoryMB": "instanceMemoryMB"}
    call = MAIN.modules()["functionApp"].params
    assert call["maximumInstanceCount"] == "maximumInstanceCount"
    assert call["instanceMemoryMB"] == "instanceMemoryMB"
    assert MAIN.decorator("instanceMemoryMB", "allowed") == [512, 2048, 4096]
    assert MAIN.decorator("maximumInstanceCount", "max_value") == 1000


def test_basic_publishing_credentials_are_disabled():
    policies = FUNCTION_APP.resources("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    assert {policy.body["name"]: policy.properties["allow"] for policy in policies} == {"ftp": False, "scm": False}


def test_basic_publishing_credentials_policies_name_their_location():
    """ARM requires `location` on these child resources (issue 15, item 7)."""
    for policy in FUNCTION_APP.resources("Microsoft.Web/sites/basicPublishingCredentialsPolicies"):
        assert policy.body.get("location") == "location", policy.symbol


def test_cosmos_switch_moves_the_data_and_the_setting():
    assert MAIN.modules()["cosmos"].condition == "useCosmosDb"
    assert MAIN.default("useCosmosDb") is False
    endpoint = "useCosmosDb ? cosmos.outputs.tableEndpoint : storage.outputs.tableEndpoint"
    assert MAIN.modules()["functionApp"].params["scimStorageEndpoint"] == endpoint
    assert MAIN.outputs["SCIM_STORAGE_ENDPOINT"] == endpoint


def test_cosmos_account_is_a_keyless_table_api_account():
    account = COSMOS.resource("Microsoft.DocumentDB/databaseAccounts")
    assert {"name": "EnableTable"} in account.properties["capabilities"]
    assert account.properties["disableLocalAuth"] is True
    assert account.properties["disableKeyBasedMetadataWriteAccess"] is True
    assert account.properties["minimalTlsVersion"] == "Tls12"
    assert COSMOS.resource("Microsoft.DocumentDB/databaseAccounts/tables").loop == "tableNames"
    assert MAIN.modules()["cosmos"].params["tableNames"] == "scimTables"


def test_cosmos_grants_the_built_in_data_contributor():
    assignments = COSMOS.resources("Microsoft.DocumentDB/databaseAccounts/tableRoleAssignments")
    role = "${account.id}/tableRoleDefinitions/${builtInDataContributor}"
    assert COSMOS.variables["builtInDataContributor"] == COSMOS_BUILT_IN_DATA_CONTRIBUTOR
    assert {(a.properties["principalId"], a.properties["roleDefinitionId"], a.condition) for a in assignments} == {
        ("identityPrincipalId", role, None),
        ("operatorPrincipalId", role, "!empty(operatorPrincipalId)"),
    }


def _depends_on_transitively(doc: BicepFile, symbol: str) -> set[str]:
    by_symbol = {resource.symbol: resource for resource in doc.resources()}
    seen: set[str] = set()
    pending = list(by_symbol[symbol].depends_on)
    while pending:
        dependency = pending.pop()
        if dependency not in seen:
            seen.add(dependency)
            pending.extend(by_symbol[dependency].depends_on)
    return seen


def test_cosmos_account_writes_run_one_at_a_time():
    """Cosmos DB fails a write on an account while another runs (issue 15, item 5): the table loop runs one
    table at a time, and every two writes under the account are ordered by dependsOn."""
    children = [r for r in COSMOS.resources() if r.body.get("parent") == "account"]
    assert {r.type for r in children} == {
        "Microsoft.DocumentDB/databaseAccounts/tables",
        "Microsoft.DocumentDB/databaseAccounts/tableRoleAssignments",
    }
    for child in children:
        if child.loop is not None:
            assert child.decorator("batchSize") == 1, f"{child.symbol}: a loop under the account needs @batchSize(1)"
    for first, second in itertools.combinations(children, 2):
        ordered = first.symbol in _depends_on_transitively(
            COSMOS, second.symbol
        ) or second.symbol in _depends_on_transitively(COSMOS, first.symbol)
        assert ordered, f"{first.symbol} and {second.symbol} may run at the same time"


def test_key_vault_is_optional_rbac_mode_with_purge_protection():
    assert MAIN.modules()["keyVault"].condition == "deployKeyVault"
    vault = KEY_VAULT.resource("Microsoft.KeyVault/vaults")
    assert vault.properties["enableRbacAuthorization"] is True
    assert vault.properties["enablePurgeProtection"] is True
    assert vault.properties["enableSoftDelete"] is True
    assert vault.properties["networkAcls"]["defaultAction"] == "Deny"
    assert _grants(KEY_VAULT) == {
        Grant("vault", KEY_VAULT_SECRETS_OFFICER, "operatorPrincipalId", "!empty(operatorPrincipalId)")
    }


def test_deployer_data_access_is_an_option():
    assert MAIN.default("grantDeployerDataAccess") is False
    assert render(MAIN.variables["operatorPrincipalId"]) == "grantDeployerDataAccess ? principalId : "
    for module in ("storage", "cosmos", "keyVault"):
        assert MAIN.modules()[module].params["operatorPrincipalId"] == "operatorPrincipalId"


def test_outputs_name_the_app_and_its_urls():
    outputs = MAIN.outputs
    assert outputs["AZURE_FUNCTION_APP_NAME"] == "functionApp.outputs.name"
    assert outputs["SCIM_PUBLIC_BASE_URL"] == "https://${functionApp.outputs.defaultHostName}"
    assert FUNCTION_APP.outputs["defaultHostName"] == "app.properties.defaultHostName"


def test_key_vault_create_mode_reaches_the_vault():
    """`azd up` after `azd down` meets the purge-protected vault in deleted state (issue 15, item 6):
    SCIM_KEY_VAULT_CREATE_MODE=recover restores it, through main.bicep and the module."""
    modes = ["default", "recover"]
    assert MAIN.decorator("keyVaultCreateMode", "allowed") == modes
    assert MAIN.default("keyVaultCreateMode") == "default"
    assert MAIN.modules()["keyVault"].params["createMode"] == "keyVaultCreateMode"
    assert KEY_VAULT.decorator("createMode", "allowed") == modes
    assert KEY_VAULT.default("createMode") == "default"
    assert KEY_VAULT.resource("Microsoft.KeyVault/vaults").properties["createMode"] == "createMode"
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert parameters["keyVaultCreateMode"] == {"value": "${SCIM_KEY_VAULT_CREATE_MODE=default}"}
