// Flex Consumption plan (FC1, Linux) and the Python 3.11 function app. Runtime, scale and deployment
// live in functionAppConfig; the app settings below are exactly what the code reads
// (shared/config.py DEPLOYED_SETTINGS; tests/infra checks it) and none that Flex forbids.

@description('Function app name (also its default host name).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags for both resources.')
param tags object = {}

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (azure-identity, the host and Application Insights pick it by this id).')
param identityClientId string

@description('Storage account of the Functions host (AzureWebJobsStorage, identity-based).')
param hostStorageAccountName string

@description('URL of the blob container Flex deploys the package to.')
param deploymentContainerUrl string

@description('Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Table service URL of the SCIM data (Storage or Cosmos DB for Table).')
param scimStorageEndpoint string

@description('Maximum instance count the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('NCRONTAB schedule of the reconciliation timer.')
param reconcileSchedule string

@description('Minutes between two reconciliations of one tenant.')
param reconcileIntervalMinutes int

@description('Time box of one reconciliation timer run, in seconds.')
param reconcileTimeBudgetSeconds int

@description('Invitation e-mail channel: acs or smtp.')
param mailChannel string

@description('Sender address of the invitations.')
param mailFrom string

@description('Communication Service endpoint (channel acs).')
param acsEndpoint string

@description('SMTP server (channel smtp).')
param smtpHost string

@description('SMTP port; 465 means implicit TLS.')
param smtpPort int

@description('SMTP login; empty for none.')
param smtpUsername string

@description('Use STARTTLS.')
param smtpStartTls bool

@description('Key Vault secret URI of the SMTP password; empty for none.')
param smtpPasswordSecretUri string

@description('Admin console: client id of its Entra app registration (in-app ID token validation; see docs/deploy.md).')
param consoleEntraClientId string

@description('Admin console: the Entra tenant operators sign in to.')
param consoleOperatorTenantId string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225:Zone redundancy on Flex Consumption is a regional opt-in not offered in every region; enable it per environment.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222:The SCIM endpoint must be reachable from the internet: Microsoft Entra ID provisioning calls it (AzureActiveDirectory service tag); every SCIM call needs a tenant bearer token.
  // checkov:skip=CKV_AZURE_17:Entra ID provisioning presents no client certificate; it authenticates with the tenant's bearer token.
  // checkov:skip=CKV_AZURE_212:Flex Consumption is serverless and scales from zero; there is no minimum worker count (always-ready instances can be added per environment).
  // checkov:skip=CKV_AZURE_213:The App Service health check probes a fixed instance set; Flex Consumption scales to zero and replaces unhealthy instances itself.
  // checkov:skip=CKV_AZURE_78:Flex Consumption rejects siteConfig.ftpsState (Microsoft lists it among its deprecated properties: FTPS not supported); FTP is off through the 'ftp' publishing-credentials policy below.
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    keyVaultReferenceIdentity: identityId // resolves @Microsoft.KeyVault(...) settings (the SMTP password)
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
    }
  }
}

// A config resource (not siteConfig.appSettings) so the base URL can use the app's real host name.
// checkov reads every sites/config resource as the 'web' configuration; this one is 'appsettings'
// (key-value pairs only), so the checks skipped below concern properties it cannot hold. The site
// itself is checked on the app resource above.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  // checkov:skip=CKV_AZURE_13:Not a 'web' config (see above); App Service authentication is not used: tenants authenticate with bearer tokens.
  // checkov:skip=CKV_AZURE_63:Not a 'web' config (see above); HTTP logs of Flex Consumption go to Application Insights.
  // checkov:skip=CKV_AZURE_65:Not a 'web' config (see above); errors go to Application Insights.
  // checkov:skip=CKV_AZURE_66:Not a 'web' config (see above); request traces go to Application Insights.
  // checkov:skip=CKV_AZURE_80:Not a 'web' config (see above); the app runs Python, not .NET.
  // checkov:skip=CKV_AZURE_88:Not a 'web' config (see above); Flex Consumption runs from its deployment container and has no Azure Files share.
  // checkov:skip=CKV_AZURE_222:Not a 'web' config (see above); public network access is decided on the app resource (see its skip).
  parent: app
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__accountName: hostStorageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    AZURE_CLIENT_ID: identityClientId
    SCIM_STORAGE_ENDPOINT: scimStorageEndpoint
    SCIM_PUBLIC_BASE_URL: 'https://${app.properties.defaultHostName}'
    SCIM_RECONCILE_SCHEDULE: reconcileSchedule
    SCIM_RECONCILE_INTERVAL_MINUTES: string(reconcileIntervalMinutes)
    SCIM_RECONCILE_TIME_BUDGET_SECONDS: string(reconcileTimeBudgetSeconds)
    SCIM_MAIL_CHANNEL: mailChannel
    SCIM_MAIL_FROM: mailFrom
    SCIM_ACS_ENDPOINT: acsEndpoint
    SCIM_SMTP_HOST: smtpHost
    SCIM_SMTP_PORT: string(smtpPort)
    SCIM_SMTP_USERNAME: smtpUsername
    SCIM_SMTP_STARTTLS: smtpStartTls ? 'true' : 'false'
    SCIM_SMTP_PASSWORD: empty(smtpPasswordSecretUri) ? '' : '@Microsoft.KeyVault(SecretUri=${smtpPasswordSecretUri})'
    CONSOLE_ENTRA_CLIENT_ID: consoleEntraClientId
    CONSOLE_OPERATOR_TENANT_ID: consoleOperatorTenantId
  }
}

// Deployments go through Entra ID (azd, az, functions-action); no FTP or SCM username/password. This
// policy is the app's only FTP switch: Flex Consumption has no siteConfig.ftpsState. `location` is
// required on these child resources (an ARM quirk; Microsoft's own modules set it).
resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  location: location
  properties: {
    allow: false
  }
}

resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  location: location
  properties: {
    allow: false
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
