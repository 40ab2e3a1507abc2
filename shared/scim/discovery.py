"""Discovery documents (RFC 7643 §5-§7): what this service implements, and nothing more."""

from __future__ import annotations

from typing import Any

from shared.scim.errors import ScimError
from shared.scim.listing import MAX_RESULTS
from shared.scim.schema import EMPLOYEE, ENTERPRISE_USER, GROUP, USER, documented_attributes, schema_defs

SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
DOCS = "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups"


def service_provider_config(base_url: str) -> dict[str, Any]:
    return {
        "schemas": [SPC_SCHEMA],
        "documentationUri": DOCS,
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The secret token generated for your tenant, sent as 'Authorization: Bearer <token>'.",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base_url}/ServiceProviderConfig"},
    }


_RESOURCE_TYPES: dict[str, dict[str, Any]] = {
    "User": {
        "name": "User",
        "endpoint": "/Users",
        "description": "User Account",
        "schema": USER,
        "schemaExtensions": [{"schema": ENTERPRISE_USER, "required": False}, {"schema": EMPLOYEE, "required": False}],
    },
    "Group": {"name": "Group", "endpoint": "/Groups", "description": "Group", "schema": GROUP, "schemaExtensions": []},
}


def _resource_type(base_url: str, type_id: str) -> dict[str, Any]:
    return {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": type_id,
        **_RESOURCE_TYPES[type_id],
        "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/{type_id}"},
    }


def resource_types(base_url: str) -> list[dict[str, Any]]:
    return [_resource_type(base_url, t) for t in _RESOURCE_TYPES]


def get_resource_type(base_url: str, type_id: str) -> dict[str, Any]:
    if type_id not in _RESOURCE_TYPES:
        raise ScimError(404, None, f"ResourceType {type_id} not found")
    return _resource_type(base_url, type_id)


def _schema(base_url: str, schema_id: str) -> dict[str, Any]:
    definition = schema_defs()[schema_id]
    attributes = [a.to_document() for a in documented_attributes(schema_id)]
    return {
        "schemas": [SCHEMA_SCHEMA],
        "id": definition.id,
        "name": definition.name,
        "description": definition.description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{definition.id}"},
    }


def schemas(base_url: str) -> list[dict[str, Any]]:
    return [_schema(base_url, s) for s in (USER, ENTERPRISE_USER, EMPLOYEE, GROUP)]


def get_schema(base_url: str, schema_id: str) -> dict[str, Any]:
    if schema_id not in schema_defs():
        raise ScimError(404, None, f"Schema {schema_id} not found")
    return _schema(base_url, schema_id)
