"""`python -m tools.admin webhooks ...`: change-event endpoints of a tenant (shared.events.service)."""

from __future__ import annotations

import argparse
from typing import Any

from shared.events import service as webhooks

Leaf = Any  # tools.admin.cli's leaf(sub, name, handler, help) -> ArgumentParser


def register(groups: Any, leaf: Leaf) -> None:
    sub = groups.add_parser("webhooks", help="change events: endpoints and deliveries").add_subparsers(
        dest="action", required=True
    )

    def tenant_leaf(name: str, handler: Any, help_: str, *, with_id: bool = False) -> argparse.ArgumentParser:
        p = leaf(sub, name, handler, help_)
        p.add_argument("--tenant", required=True, help="tenant id")
        if with_id:
            p.add_argument("--id", required=True, help="webhook id")
        return p

    p = tenant_leaf(
        "add", lambda s, a: webhooks.add(s, a.tenant, a.url), "subscribe an endpoint (prints its secret once)"
    )
    p.add_argument("--url", required=True, help="https URL (http only to a loopback host)")
    tenant_leaf("list", lambda s, a: webhooks.list_webhooks(s, a.tenant), "list endpoints")
    tenant_leaf("remove", lambda s, a: webhooks.remove(s, a.tenant, a.id), "remove an endpoint", with_id=True)
    tenant_leaf(
        "rotate-secret",
        lambda s, a: webhooks.rotate_secret(s, a.tenant, a.id),
        "new signing secret (prints it once; the old one stops at once)",
        with_id=True,
    )
    tenant_leaf("resume", lambda s, a: webhooks.resume(s, a.tenant, a.id), "resume a paused endpoint", with_id=True)
    p = tenant_leaf(
        "deliveries",
        lambda s, a: webhooks.deliveries(s, a.tenant, webhook_id=a.webhook, failed=a.failed),
        "queued deliveries and their last error",
    )
    p.add_argument("--webhook", help="only this webhook id")
    p.add_argument("--failed", action="store_true", help="only deliveries whose last attempt failed")
    p = tenant_leaf(
        "retry",
        lambda s, a: webhooks.retry(s, a.tenant, a.id, delivery_id=a.delivery),
        "attempt given-up deliveries (or one) again now",
        with_id=True,
    )
    p.add_argument("--delivery", help="only this delivery id")
