// Azure Cosmos DB for Table: the optional home of the SCIM tables for very large tenants (same
// azure-data-tables code, SCIM_STORAGE_ENDPOINT points here). Keys are disabled; the app identity and
// the optional operator get the data-plane role "Cosmos DB Built-in Data Contributor" through the
// Table API's own role assignments (a preview API version, see docs/deploy.md).
// Cosmos DB fails a control-plane write on an account while another one runs on it (a conflict saying
// another operation is in progress; ARM would otherwise send these in parallel), so the writes below
// run one after another: the tables one by one (@batchSize(1)), then each role assignment.

@description('Cosmos DB account name (3-44 lowercase letters, digits and hyphens).')
@minLength(3)
@maxLength(44)
param name string

@description('Azure region.')
param location string

@description('Tags for the account.')
param tags object = {}

@description('SCIM tables to declare.')
param tableNames array

@description('Autoscale ceiling of each table in RU/s (the floor is a tenth of it).')
@minValue(1000)
param maxThroughput int = 4000

@description('Principal id of the app identity.')
param identityPrincipalId string

@description('Principal that may read and write the SCIM tables too (the operator running the admin CLI); empty for none.')
param operatorPrincipalId string = ''

// Built-in data-plane role of the account, not an Azure RBAC role definition.
var builtInDataContributor = '00000000-0000-0000-0000-000000000002'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  // checkov:skip=CKV_AZURE_99:Flex Consumption without VNet integration calls the public endpoint; access needs an Entra ID token (local auth is disabled).
  // checkov:skip=CKV_AZURE_101:Same reason as CKV_AZURE_99.
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    capabilities: [
      {
        name: 'EnableTable'
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous7Days'
      }
    }
  }
}

@batchSize(1)
resource tables 'Microsoft.DocumentDB/databaseAccounts/tables@2024-11-15' = [for table in tableNames: {
  parent: account
  name: table
  properties: {
    resource: {
      id: table
    }
    options: {
      autoscaleSettings: {
        maxThroughput: maxThroughput
      }
    }
  }
}]

resource identityWritesTables 'Microsoft.DocumentDB/databaseAccounts/tableRoleAssignments@2024-12-01-preview' = {
  parent: account
  name: guid(account.id, identityPrincipalId, builtInDataContributor)
  dependsOn: [
    tables
  ]
  properties: {
    roleDefinitionId: '${account.id}/tableRoleDefinitions/${builtInDataContributor}'
    principalId: identityPrincipalId
    scope: account.id
  }
}

resource operatorWritesTables 'Microsoft.DocumentDB/databaseAccounts/tableRoleAssignments@2024-12-01-preview' = if (!empty(operatorPrincipalId)) {
  parent: account
  name: guid(account.id, operatorPrincipalId, builtInDataContributor)
  dependsOn: [
    identityWritesTables
  ]
  properties: {
    roleDefinitionId: '${account.id}/tableRoleDefinitions/${builtInDataContributor}'
    principalId: operatorPrincipalId
    scope: account.id
  }
}

// The Table API endpoint (public cloud suffix; the account resource exposes only the document one).
output tableEndpoint string = 'https://${account.name}.table.cosmos.azure.com:443/'
