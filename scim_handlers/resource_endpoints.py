"""The SCIM resource endpoints (list, search, create, get, replace, patch, delete) shared by Users and
Groups; each family module supplies its service functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scim_handlers.http import Call
from scim_handlers.pipeline import Reply
from scim_handlers.triggers import ScimRoute
from shared.query import Kind, requested, run_query
from shared.resources import Scope
from shared.scim.errors import ScimError
from shared.scim.listing import parse_list_params
from shared.scim.projection import parse_attribute_list, project


@dataclass(frozen=True)
class Service:
    kind: Kind
    create: Callable[[Scope, Any], dict[str, Any]]
    get: Callable[[Scope, str, bool], dict[str, Any]]  # (scope, id, with related list)
    replace: Callable[[Scope, str, Any, str | None], dict[str, Any]]
    patch: Callable[[Scope, str, Any, str | None], dict[str, Any]]  # without the related list
    delete: Callable[[Scope, str, str | None], None]
    related: str  # the list that costs extra reads: "members" (Group) or "groups" (User)


def _projection(call: Call) -> tuple[list[str] | None, list[str] | None]:
    return parse_attribute_list(call.param("attributes")), parse_attribute_list(call.param("excludedAttributes"))


def _with_version(resource: dict[str, Any]) -> dict[str, str]:
    version = (resource.get("meta") or {}).get("version")
    return {"ETag": version} if version else {}


def _resource_reply(call: Call, service: Service, resource: dict[str, Any], status: int = 200) -> Reply:
    attributes, excluded = _projection(call)
    headers = _with_version(resource)
    if status == 201:
        headers["Location"] = resource["meta"]["location"]
    return Reply(status, project(resource, service.kind.schema, attributes, excluded), headers)


def _wants_related(call: Call, service: Service) -> bool:
    attributes, excluded = _projection(call)
    wanted = requested(service.related, service.kind.schema, attributes, excluded)
    return wanted if service.related == "members" else bool(attributes) and wanted


def routes(prefix: str, endpoint: str, service: Service) -> list[ScimRoute]:
    def list_(call: Call) -> Reply:
        return Reply(200, run_query(call.scope, service.kind, parse_list_params(call.params)))

    def search(call: Call) -> Reply:
        body = call.json()
        if not isinstance(body, dict):
            raise ScimError(400, "invalidSyntax", "A SearchRequest object is expected.")
        return Reply(200, run_query(call.scope, service.kind, parse_list_params(body)))

    def create(call: Call) -> Reply:
        return _resource_reply(call, service, service.create(call.scope, call.json()), 201)

    def get(call: Call) -> Reply:
        resource = service.get(call.scope, call.route_params["id"], _wants_related(call, service))
        return _resource_reply(call, service, resource)

    def replace(call: Call) -> Reply:
        resource = service.replace(call.scope, call.route_params["id"], call.json(), call.header("If-Match"))
        return _resource_reply(call, service, resource)

    def patch(call: Call) -> Reply:
        resource = service.patch(call.scope, call.route_params["id"], call.json(), call.header("If-Match"))
        attributes, excluded = _projection(call)
        if service.related == "members" and not (attributes or excluded):
            return Reply(204, None, _with_version(resource))  # a group can have tens of thousands of members
        if _wants_related(call, service):
            resource = service.get(call.scope, resource["id"], True)
        return _resource_reply(call, service, resource)

    def delete(call: Call) -> Reply:
        service.delete(call.scope, call.route_params["id"], call.header("If-Match"))
        return Reply(204)

    return [
        ScimRoute(f"{prefix}_list", endpoint, ("GET",), list_),
        ScimRoute(f"{prefix}_create", endpoint, ("POST",), create),
        ScimRoute(f"{prefix}_search", f"{endpoint}/.search", ("POST",), search),
        ScimRoute(f"{prefix}_get", f"{endpoint}/{{id}}", ("GET",), get),
        ScimRoute(f"{prefix}_replace", f"{endpoint}/{{id}}", ("PUT",), replace),
        ScimRoute(f"{prefix}_patch", f"{endpoint}/{{id}}", ("PATCH",), patch),
        ScimRoute(f"{prefix}_delete", f"{endpoint}/{{id}}", ("DELETE",), delete),
    ]
