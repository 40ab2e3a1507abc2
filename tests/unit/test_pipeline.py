"""The request frame in-process: rendering runs inside the one error path, and each edge keeps its body."""

from __future__ import annotations

import json
from dataclasses import dataclass

import azure.functions as func

from scim_handlers.admin import ADMIN_EDGE
from scim_handlers.http import SCIM_EDGE
from scim_handlers.pipeline import Reply, serve
from shared.errors import Conflict, Invalid, NotFound


@dataclass
class Exchange:
    req: func.HttpRequest
    route: str = "Users"
    tenant_id: str | None = None


def _serve(edge, handler) -> func.HttpResponse:
    return serve(edge, Exchange(func.HttpRequest("GET", "http://x/scim/v2/Users", body=b"")), handler)


def test_a_reply_that_cannot_be_rendered_is_a_clean_500():
    response = _serve(SCIM_EDGE, lambda: Reply(200, {"not json": object()}))
    assert response.status_code == 500
    body = json.loads(response.get_body())
    assert body["status"] == "500" and body["detail"] == SCIM_EDGE.internal_detail
    assert response.headers["X-Storage-Calls"] == "0"


def test_domain_errors_map_to_each_edges_body():
    cases = [(Invalid("bad"), 400, "invalidValue"), (Conflict("busy"), 409, None), (NotFound("gone"), 404, None)]
    for error, status, scim_type in cases:

        def fail(error=error):
            raise error

        scim = _serve(SCIM_EDGE, fail)
        assert scim.status_code == status and json.loads(scim.get_body()).get("scimType") == scim_type
        admin = _serve(ADMIN_EDGE, fail)
        assert admin.status_code == status and json.loads(admin.get_body()) == {"status": status, "detail": str(error)}
