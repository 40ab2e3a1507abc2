"""A tenant's screens, in the seed portal's shape: Dashboard (provisioning activity), Employees, Groups,
Audit logs, Settings → SCIM integration. Each page reads through shared.admin and the shared services."""

from __future__ import annotations

from scim_handlers.console.render import render_page
from scim_handlers.console.web import Reply, Request, html, register
from shared import admin, employees, group_views, health, tenants
from shared.lifecycle import STATUSES

PAGE_SIZE = 50


def render_tenant_page(request: Request, template: str, section: str, **context: object) -> Reply:
    """A page of the tenant's screens: the sidebar needs the tenant, `section` marks where the page sits."""
    tenant = tenants.get_tenant(request.storage, request.tenant_id)
    return html(render_page(template, request.session, tenant=tenant, section=section, **context))


def _dashboard(request: Request) -> Reply:
    s, t = request.storage, request.tenant_id
    return render_tenant_page(
        request,
        "dashboard.html",
        "dashboard",
        health=admin.tenant_health(s, t),
        cycles=admin.cycles(s, t, limit=5),
        errors=health.recent_errors(s, t),
    )


def _settings(request: Request) -> Reply:
    return render_tenant_page(request, "settings.html", "settings", tenant_url=admin.public_tenant_url())


def _employees(request: Request) -> Reply:
    status, search = request.param("status"), request.param("q")
    result = admin.list_employees(
        request.storage,
        request.tenant_id,
        status=status,
        search=search,
        limit=PAGE_SIZE,
        continuation=request.param("after"),
    )
    rows = result["employees"]
    groups = employees.group_names(request.storage, request.tenant_id, [r["id"] for r in rows])
    return render_tenant_page(
        request,
        "employees.html",
        "employees",
        employees=rows,
        groups=groups,
        statuses=STATUSES,
        status=status or "",
        search=search or "",
        after=result["continuation"],
    )


def _groups(request: Request) -> Reply:
    items, after = group_views.list_groups(
        request.storage, request.tenant_id, limit=PAGE_SIZE, continuation=request.param("after")
    )
    return render_tenant_page(request, "groups.html", "groups", groups=items, after=after)


def _group(request: Request) -> Reply:
    group = group_views.group_members(
        request.storage,
        request.tenant_id,
        request.req.route_params["group"],
        limit=PAGE_SIZE,
        continuation=request.param("after"),
    )
    return render_tenant_page(request, "group.html", "groups", group=group)


def _audit(request: Request) -> Reply:
    action, since, until = request.param("action"), request.param("since"), request.param("until")
    result = admin.audit_log(
        request.storage,
        request.tenant_id,
        limit=PAGE_SIZE,
        action=action,
        since=_as_iso(since),
        until=_as_iso(until),
        continuation=request.param("after"),
    )
    return render_tenant_page(
        request,
        "audit.html",
        "audit",
        events=result["events"],
        after=result["continuation"],
        action=action or "",
        since=since or "",
        until=until or "",
    )


def _as_iso(value: str | None) -> str | None:
    """`<input type="datetime-local">` sends 2024-01-31T12:00 (UTC here, as the page says)."""
    if value is None:
        return None
    return value if value.endswith("Z") or "+" in value else value + ("Z" if len(value) > 16 else ":00Z")


register("console_dashboard", "t/{tenant}", ["GET"], "tenant", _dashboard)
register("console_settings", "t/{tenant}/settings", ["GET"], "tenant", _settings)
register("console_employees", "t/{tenant}/employees", ["GET"], "tenant", _employees)
register("console_groups", "t/{tenant}/groups", ["GET"], "tenant", _groups)
register("console_group", "t/{tenant}/groups/{group}", ["GET"], "tenant", _group)
register("console_audit", "t/{tenant}/audit", ["GET"], "tenant", _audit)
