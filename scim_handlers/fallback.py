"""Everything under /scim/v2 that no SCIM trigger matched: a path with doubled or trailing slashes is
re-dispatched to its route (cheap insurance for hand-typed Tenant URLs); a known path with the wrong
method gets 405; anything else a SCIM 404."""

from __future__ import annotations

import azure.functions as func

from scim_handlers import discovery, groups, search, users
from scim_handlers.http import Call, run
from scim_handlers.pipeline import Reply
from scim_handlers.triggers import SCIM_ROUTE_PREFIX, invoke, resolve
from shared.scim.errors import ScimError
from shared.tenants import SCIM_PATH

ROUTES = users.ROUTES + groups.ROUTES + search.ROUTES + discovery.ROUTES

bp = func.Blueprint()


@bp.function_name("scim_fallback")
@bp.route(
    route=SCIM_ROUTE_PREFIX + "{*path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    auth_level=func.AuthLevel.ANONYMOUS,
)
def scim_fallback(req: func.HttpRequest) -> func.HttpResponse:
    path = req.route_params.get("path") or ""
    route, params, known = resolve(ROUTES, path, req.method)
    if route is not None:
        return invoke(route, req, params)

    def answer(call: Call) -> Reply:
        if known:
            raise ScimError(405, None, f"{req.method} is not supported on {SCIM_PATH}/{path.strip('/')}.")
        raise ScimError(404, None, f"No SCIM endpoint at {SCIM_PATH}/{path.strip('/')}; see {SCIM_PATH}/ResourceTypes.")

    return run(Call(req=req, route="unknown", route_params={}), answer, authenticated=False)
