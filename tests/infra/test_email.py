"""The optional Azure Communication Services Email of issue 12, and the mail settings the app receives,
read from the parsed Bicep."""

from __future__ import annotations

from tests.infra.bicep import parse, render

MAIN = parse("main.bicep")
EMAIL = parse("modules/email.bicep")
FUNCTION_APP = parse("modules/functionapp.bicep")


def test_email_is_optional_and_the_app_identity_sends():
    module = MAIN.modules()["email"]
    assert module.condition == "deployEmail" and MAIN.default("deployEmail") is False
    assert module.params["identityPrincipalId"] == "identity.outputs.principalId"


def test_azure_managed_domain_without_tracking_linked_to_the_communication_service():
    domain = EMAIL.resource("Microsoft.Communication/emailServices/domains")
    assert domain.properties["domainManagement"] == "AzureManaged"
    assert domain.properties["userEngagementTracking"] == "Disabled"
    service = EMAIL.resource("Microsoft.Communication/communicationServices")
    assert [render(d) for d in service.properties["linkedDomains"]] == ["domain.id"]


def test_the_identity_gets_only_the_actions_sending_needs_on_the_communication_service():
    role = EMAIL.resource("Microsoft.Authorization/roleDefinitions").properties
    [permissions] = role["permissions"]
    assert sorted(permissions["actions"]) == [
        "Microsoft.Communication/CommunicationServices/Read",
        "Microsoft.Communication/CommunicationServices/Write",
        "Microsoft.Communication/EmailServices/write",
    ]
    assert [render(s) for s in role["assignableScopes"]] == ["resource_group().id"]
    assignment = EMAIL.resource("Microsoft.Authorization/roleAssignments")
    assert assignment.body["scope"] == "communication"
    assert assignment.properties["principalId"] == "identityPrincipalId"
    assert render(assignment.properties["roleDefinitionId"]) == "emailSender.id"


def test_mail_settings_reach_the_app():
    config = FUNCTION_APP.resource("Microsoft.Web/sites/config").properties
    settings = {name: render(value) for name, value in config.items()}
    assert settings["SCIM_MAIL_CHANNEL"] == "mailChannel"
    assert settings["SCIM_ACS_ENDPOINT"] == "acsEndpoint"
    assert "@Microsoft.KeyVault(SecretUri=${smtpPasswordSecretUri})" in settings["SCIM_SMTP_PASSWORD"]
    params = MAIN.modules()["functionApp"].params
    assert params["acsEndpoint"] == "deployEmail ? email.outputs.endpoint : acsEndpoint"
    site = FUNCTION_APP.resource("Microsoft.Web/sites").properties
    assert render(site["keyVaultReferenceIdentity"]) == "identityId"  # Key Vault references use the identity
