// Optional Azure Communication Services Email for the invitation e-mail (SCIM_MAIL_CHANNEL=acs): an Email
// Service with an Azure-managed domain and a sender address, linked to a Communication Service the app's
// managed identity may send through. No keys: the app authenticates with the identity (DefaultAzureCredential).
// An Azure-managed domain has low send quotas; a custom domain (verified through DNS) lifts them.

@description('Communication Service name.')
param communicationServiceName string

@description('Email Communication Service name.')
param emailServiceName string

@description('Where ACS keeps data at rest, e.g. Europe or United States.')
param dataLocation string

@description('Tags for every resource.')
param tags object = {}

@description('Local part of the sender address on the Azure-managed domain.')
param senderUsername string

@description('Principal id of the app identity, which sends the mail.')
param identityPrincipalId string

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: emailServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource domain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource sender 'Microsoft.Communication/emailServices/domains/senderUsernames@2023-04-01' = {
  parent: domain
  name: senderUsername
  properties: {
    username: senderUsername
    displayName: 'Invitations'
  }
}

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [
      domain.id
    ]
  }
}

// Sending with Microsoft Entra ID needs these actions on the Communication Service (Microsoft Learn,
// "How to create authentication credentials for sending emails using SMTP": Contributor or a custom role
// with them); a custom role grants exactly them instead of Contributor's everything.
resource emailSender 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'scim-invitation-email-sender')
  properties: {
    roleName: 'SCIM invitation e-mail sender (${resourceGroup().name})'
    description: 'Send e-mail through the Communication Services of this resource group.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read'
          'Microsoft.Communication/CommunicationServices/Write'
          'Microsoft.Communication/EmailServices/write'
        ]
        notActions: []
      }
    ]
  }
}

resource appSendsMail 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communication.id, identityPrincipalId, emailSender.id)
  scope: communication
  properties: {
    roleDefinitionId: emailSender.id
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = 'https://${communication.properties.hostName}'
output senderAddress string = '${sender.properties.username}@${domain.properties.fromSenderDomain}'
