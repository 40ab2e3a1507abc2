// SCIM 2.0 provisioning service: a Python 3.11 function app on Flex Consumption over Azure Table
// Storage (or Cosmos DB for Table), everything reached with one user-assigned managed identity.
// `azd up` deploys it with main.parameters.json; .github/workflows/deploy.yml with `az deployment sub`.
// Plain resources only (no registry modules): the template builds offline.
targetScope = 'subscription'

@description('Environment name (azd AZURE_ENV_NAME): names the resource group rg-<name> and seeds the other names.')
@minLength(1)
@maxLength(40)
param environmentName string

@description('Azure region of every resource; it must offer Flex Consumption.')
@minLength(1)
param location string

@description('Object id of the deploying user or CI service principal (azd AZURE_PRINCIPAL_ID); empty for none.')
param principalId string = ''

@description('Principal type of principalId.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Grant principalId read/write access to the SCIM data (and secrets, with the Key Vault) so it can run the admin CLI.')
param grantDeployerDataAccess bool = false

@description('Maximum number of instances the function app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each function app instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Replication of the storage account (host storage and, without Cosmos DB, the SCIM data).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
param storageSku string = 'Standard_GRS'

@description('Keep the SCIM data in Azure Cosmos DB for Table instead of the storage account (very large tenants).')
param useCosmosDb bool = false

@description('With useCosmosDb: autoscale ceiling of each SCIM table in RU/s.')
@minValue(1000)
param cosmosMaxThroughput int = 4000

@description('Deploy a Key Vault (RBAC mode, purge protection) for operator secrets.')
param deployKeyVault bool = false

@description('With deployKeyVault: public IPs or CIDR ranges allowed through the vault firewall.')
param keyVaultAllowedIpAddresses array = []

@description('With deployKeyVault: recover restores the soft-deleted vault a previous `azd down` left (purge protection keeps its name taken for 90 days); default creates or updates it.')
@allowed([
  'default'
  'recover'
])
param keyVaultCreateMode string = 'default'

@description('NCRONTAB schedule of the reconciliation timer (SCIM_RECONCILE_SCHEDULE).')
param reconcileSchedule string = '0 */15 * * * *'

@description('Minutes between two reconciliations of one tenant (SCIM_RECONCILE_INTERVAL_MINUTES).')
@minValue(1)
param reconcileIntervalMinutes int = 45

@description('Time box of one reconciliation timer run in seconds (SCIM_RECONCILE_TIME_BUDGET_SECONDS).')
@minValue(1)
param reconcileTimeBudgetSeconds int = 240

@description('Invitation e-mail channel (SCIM_MAIL_CHANNEL): acs sends through Azure Communication Services with the app identity, smtp through smtpHost.')
@allowed([
  'acs'
  'smtp'
])
param mailChannel string = 'acs'

@description('Deploy Azure Communication Services Email (Communication Service, Email Service, Azure-managed domain, sender address) and let the app identity send through it.')
param deployEmail bool = false

@description('With deployEmail: where Azure Communication Services keeps data at rest.')
param emailDataLocation string = 'Europe'

@description('Sender address of the invitations (SCIM_MAIL_FROM); empty with deployEmail: DoNotReply at the Azure-managed domain.')
param mailFrom string = ''

@description('With mailChannel acs and no deployEmail: https endpoint of an existing Communication Service (SCIM_ACS_ENDPOINT).')
param acsEndpoint string = ''

@description('With mailChannel smtp: the SMTP server (SCIM_SMTP_HOST).')
param smtpHost string = ''

@description('SMTP port (SCIM_SMTP_PORT); 465 means TLS from the first byte, otherwise STARTTLS.')
param smtpPort int = 587

@description('SMTP login (SCIM_SMTP_USERNAME); empty for none.')
param smtpUsername string = ''

@description('Use STARTTLS (SCIM_SMTP_STARTTLS); plain SMTP is refused by the app for any host but loopback.')
param smtpStartTls bool = true

@description('Key Vault secret URI of the SMTP password: SCIM_SMTP_PASSWORD becomes a Key Vault reference the platform resolves with the app identity (grant it Key Vault Secrets User on that vault).')
param smtpPasswordSecretUri string = ''

@description('Application (client) id of the admin console\'s multi-tenant Entra app registration (CONSOLE_ENTRA_CLIENT_ID); empty: no Entra sign-in.')
param consoleEntraClientId string = ''

@description('Entra tenant id whose Console.Operator role holders are operators (CONSOLE_OPERATOR_TENANT_ID).')
param consoleOperatorTenantId string = tenant().tenantId

// The tables the app uses (shared/store/client.py TABLES; tests/infra keeps the two equal).
var scimTables = [
  'ScimDirectory'
  'ScimTenants'
]
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var operatorPrincipalId = grantDeployerDataAccess ? principalId : ''

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    identityPrincipalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    sku: storageSku
    deploymentContainerName: 'app-package'
    holdsScimData: !useCosmosDb
    tableNames: scimTables
    identityPrincipalId: identity.outputs.principalId
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: principalType
  }
}

module cosmos 'modules/cosmos.bicep' = if (useCosmosDb) {
  name: 'cosmos'
  scope: rg
  params: {
    name: 'cosmos-${resourceToken}'
    location: location
    tags: tags
    tableNames: scimTables
    maxThroughput: cosmosMaxThroughput
    identityPrincipalId: identity.outputs.principalId
    operatorPrincipalId: operatorPrincipalId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    hostStorageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    scimStorageEndpoint: useCosmosDb ? cosmos.outputs.tableEndpoint : storage.outputs.tableEndpoint
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    reconcileSchedule: reconcileSchedule
    reconcileIntervalMinutes: reconcileIntervalMinutes
    reconcileTimeBudgetSeconds: reconcileTimeBudgetSeconds
    mailChannel: mailChannel
    mailFrom: empty(mailFrom) && deployEmail ? email.outputs.senderAddress : mailFrom
    acsEndpoint: deployEmail ? email.outputs.endpoint : acsEndpoint
    smtpHost: smtpHost
    smtpPort: smtpPort
    smtpUsername: smtpUsername
    smtpStartTls: smtpStartTls
    smtpPasswordSecretUri: smtpPasswordSecretUri
    consoleEntraClientId: consoleEntraClientId
    consoleOperatorTenantId: consoleOperatorTenantId
  }
}

module email 'modules/email.bicep' = if (deployEmail) {
  name: 'email'
  scope: rg
  params: {
    communicationServiceName: 'acs-${resourceToken}'
    emailServiceName: 'acs-email-${resourceToken}'
    dataLocation: emailDataLocation
    tags: tags
    senderUsername: 'DoNotReply'
    identityPrincipalId: identity.outputs.principalId
  }
}

module keyVault 'modules/keyvault.bicep' = if (deployKeyVault) {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    allowedIpAddresses: keyVaultAllowedIpAddresses
    createMode: keyVaultCreateMode
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: principalType
  }
}

// Upper-case names: azd stores outputs as environment values, so `azd env get-values` yields exactly
// the settings the admin CLI reads (SCIM_STORAGE_ENDPOINT, SCIM_PUBLIC_BASE_URL).
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SCIM_PUBLIC_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}'
output SCIM_TENANT_URL string = 'https://${functionApp.outputs.defaultHostName}/scim/v2'
output SCIM_STORAGE_ENDPOINT string = useCosmosDb ? cosmos.outputs.tableEndpoint : storage.outputs.tableEndpoint
output AZURE_KEY_VAULT_NAME string = deployKeyVault ? keyVault.outputs.name : ''
