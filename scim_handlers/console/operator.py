"""The operator's screen: every tenant with its sync state, "Create tenant", link an Entra tenant."""

from __future__ import annotations

from scim_handlers.console.render import render_page
from scim_handlers.console.web import Reply, Request, html, register
from shared import admin, tenants
from shared.console import tenant_links


def _page(request: Request) -> Reply:
    rows = sorted(tenants.list_tenants(request.storage), key=lambda t: (t["name"].casefold(), t["tenantId"]))
    return html(render_page("operator.html", request.session, tenants=rows))


def _create(request: Request) -> Reply:
    created = admin.create_tenant(request.storage, str(request.json().get("name") or ""), actor=request.principal.actor)
    # The first token is not shown here: the tenant's admin generates the one they paste into Entra.
    return Reply(
        201, {"tenantId": created["tenantId"], "name": created["name"], "console": f"/admin/t/{created['tenantId']}"}
    )


def _link(request: Request) -> Reply:
    body = request.json()
    return Reply(
        200,
        tenant_links.link(
            request.storage,
            request.tenant_id,
            str(body.get("entraTenantId") or ""),
            admin_group_id=str(body.get("adminGroupId") or "") or None,
            actor=request.principal.actor,
        ),
    )


register("console_operator", "operator", ["GET"], "operator", _page)
register("console_operator_create", "operator/tenants", ["POST"], "operator", _create, api=True)
register("console_operator_link", "operator/tenants/{tenant}/link", ["POST"], "operator", _link, api=True)
