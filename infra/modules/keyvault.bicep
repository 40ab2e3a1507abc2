// Optional Key Vault for operator secrets (for example the smoke-test tenant's token). RBAC mode and
// purge protection; the app itself reads nothing from it.
// Purge protection keeps a deleted vault (after `azd down`) for softDeleteRetentionInDays under its name,
// and the name is fixed per environment: a new deployment then fails with 409 "already exists in deleted
// state" until createMode 'recover' brings the old vault back (docs/deploy.md, "When a step fails").

@description('Key Vault name (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for the vault.')
param tags object = {}

@description('Public IP addresses or CIDR ranges allowed through the vault firewall (operators); Azure services bypass it.')
param allowedIpAddresses array = []

@description('Principal that may manage secrets (the operator); empty for none.')
param operatorPrincipalId string = ''

@description('Principal type of operatorPrincipalId.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param operatorPrincipalType string = 'User'

@description('default creates or updates the vault; recover restores the soft-deleted vault of the same name.')
@allowed([
  'default'
  'recover'
])
param createMode string = 'default'

var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_189:Operators reach the vault from their workstations or CI through the firewall (allowedIpAddresses); a private endpoint needs a VNet this deployment does not have.
  name: name
  location: location
  tags: tags
  properties: {
    createMode: createMode
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Deny'
      ipRules: [for address in allowedIpAddresses: {
        value: address
      }]
    }
  }
}

resource operatorManagesSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

output name string = vault.name
