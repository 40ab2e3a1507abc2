"""Composition root: reads the settings once, wires storage and the invitation sender, builds the
Functions app and registers its blueprints (cheap at import: no I/O, storage clients are lazy)."""

import azure.functions as func

from scim_handlers import admin, app_context, discovery, fallback, groups, oauth, search, timers, users
from scim_handlers.console import routes as console
from shared import invitations
from shared.config import process_settings
from shared.mail import channels
from shared.store.client import Storage

settings = process_settings()
app_context.install(app_context.AppContext(settings=settings, storage=Storage(settings)))
invitations.set_sender(channels.from_settings(settings.mail))  # SMTP, the local capture server or ACS

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in (users.bp, groups.bp, search.bp, discovery.bp, fallback.bp, admin.bp, timers.bp, oauth.bp, console.bp):
    app.register_functions(blueprint)
