"""The console blueprint with every route registered (importing the modules registers them)."""

from scim_handlers.console import assets, integrations, operator, signin, tenant_actions, tenant_pages
from scim_handlers.console.web import ROUTES, bp

__all__ = ["ROUTES", "assets", "bp", "integrations", "operator", "signin", "tenant_actions", "tenant_pages"]
