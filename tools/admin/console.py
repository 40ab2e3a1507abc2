"""`python -m tools.admin console-link` and `tenant link`: the console's sign-in from a shell.

console-link prints a one-time sign-in link (10 minutes; an operator's without --tenant, that tenant's
admin's with it); it works only against the local Azurite storage (shared.console.local)."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from shared import tenants
from shared.config import process_settings
from shared.console import local, tenant_links
from shared.store.client import Storage


def console_url(path: str = "/admin") -> str:
    return tenants.public_base_url(process_settings().public_base_url) + path


def sign_in_link(storage: Storage, tenant_id: str | None) -> dict[str, Any]:
    secret = local.create_link(storage, process_settings(), tenant_id)
    return {"url": console_url(f"/admin/signin/local?code={quote(secret)}"), "expiresInMinutes": 10}


def link(storage: Storage, args: argparse.Namespace) -> dict[str, Any]:
    return tenant_links.link(storage, args.tenant, args.entra_tenant_id, admin_group_id=args.admin_group_id)
