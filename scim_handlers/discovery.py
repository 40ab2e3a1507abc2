"""/scim/v2/ServiceProviderConfig, /ResourceTypes, /Schemas: public metadata, GET only (else 405)."""

from __future__ import annotations

from collections.abc import Callable

from scim_handlers import app_context
from scim_handlers.http import Call
from scim_handlers.pipeline import Reply
from scim_handlers.triggers import ScimRoute, blueprint
from shared.scim import discovery
from shared.scim.errors import ScimError
from shared.scim.listing import list_response

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _get_only(handler: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
    def guarded(call: Call) -> Reply:
        if call.req.method.upper() != "GET":
            raise ScimError(
                405, None, f"{call.req.method} is not supported on /{call.route}; use GET.", headers={"Allow": "GET"}
            )
        return handler(call)

    return guarded


def _base(call: Call) -> str:
    return app_context.current().scim_base_url


def _listing(items: list[dict]) -> Reply:
    return Reply(200, list_response(items, len(items), 1))


def _public_get(name: str, route: str, handler: Callable[[Call], Reply]) -> ScimRoute:
    """Discovery is public metadata: no token, GET only (405 for the rest)."""
    return ScimRoute(name, route, ALL_METHODS, _get_only(handler), authenticated=False)


ROUTES = [
    _public_get(
        "discovery_spc", "ServiceProviderConfig", lambda c: Reply(200, discovery.service_provider_config(_base(c)))
    ),
    _public_get("discovery_resource_types", "ResourceTypes", lambda c: _listing(discovery.resource_types(_base(c)))),
    _public_get(
        "discovery_resource_type",
        "ResourceTypes/{id}",
        lambda c: Reply(200, discovery.get_resource_type(_base(c), c.route_params["id"])),
    ),
    _public_get("discovery_schemas", "Schemas", lambda c: _listing(discovery.schemas(_base(c)))),
    _public_get(
        "discovery_schema", "Schemas/{id}", lambda c: Reply(200, discovery.get_schema(_base(c), c.route_params["id"]))
    ),
]
bp = blueprint(ROUTES)
