"""/scim/v2/.search: POST a SearchRequest across Users and Groups (RFC 7644 §3.4.3)."""

from scim_handlers.http import Call
from scim_handlers.pipeline import Reply
from scim_handlers.triggers import ScimRoute, blueprint
from shared.query import run_search_all
from shared.scim.errors import ScimError
from shared.scim.listing import parse_list_params


def search_all(call: Call) -> Reply:
    body = call.json()
    if not isinstance(body, dict):
        raise ScimError(400, "invalidSyntax", "A SearchRequest object is expected.")
    return Reply(200, run_search_all(call.scope, parse_list_params(body)))


ROUTES = [ScimRoute("root_search", ".search", ("POST",), search_all)]
bp = blueprint(ROUTES)
