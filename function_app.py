"""Composition root: the Functions app and its blueprints, nothing else (cheap at import: no I/O)."""

import azure.functions as func

from scim_handlers import admin, discovery, fallback, groups, search, timers, users

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in (users.bp, groups.bp, search.bp, discovery.bp, fallback.bp, admin.bp, timers.bp):
    app.register_functions(blueprint)
