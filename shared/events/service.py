"""The webhook admin operations as plain dicts: the CLI (tools/admin/webhooks.py), the admin API and the
console call these. Operations that queue work deliver it at once, within the request's short budget."""

from __future__ import annotations

from typing import Any

from shared import clock, tenants
from shared.errors import NotFound
from shared.events import delivery, endpoints
from shared.store.client import Storage


def add(storage: Storage, tenant_id: str, url: str) -> dict[str, Any]:
    """The secret is in this answer and nowhere else, ever again."""
    tenants.get_entity(storage, tenant_id)
    row, secret = endpoints.add(storage, tenant_id, url)
    tenants.set_webhooks(storage, tenant_id, True)
    return {**endpoints.view(row), "secret": secret}


def list_webhooks(storage: Storage, tenant_id: str) -> list[dict[str, Any]]:
    tenants.get_entity(storage, tenant_id)
    return [endpoints.view(row) for row in endpoints.rows(storage, tenant_id)]


def remove(storage: Storage, tenant_id: str, webhook_id: str) -> dict[str, Any]:
    """The endpoint and its queued deliveries go; events from now on are not kept for it."""
    tenants.get_entity(storage, tenant_id)
    row = endpoints.get(storage, tenant_id, webhook_id)
    storage.directory.delete(tenant_id, row["RowKey"])
    delivery.delete_rows(storage, tenant_id, delivery.rows(storage, tenant_id, webhook_id))
    tenants.set_webhooks(storage, tenant_id, bool(endpoints.rows(storage, tenant_id)))
    return {**endpoints.view(row), "removed": True}


def rotate_secret(storage: Storage, tenant_id: str, webhook_id: str) -> dict[str, Any]:
    """A new secret signs every attempt from now on (retries of older events too); the old one is void."""
    tenants.get_entity(storage, tenant_id)
    endpoints.get(storage, tenant_id, webhook_id)
    secret = endpoints.new_secret()
    endpoints.merge(storage, tenant_id, webhook_id, {"secret": secret, "secretCreated": clock.iso()})
    return {**endpoints.view(endpoints.get(storage, tenant_id, webhook_id)), "secret": secret}


def resume(storage: Storage, tenant_id: str, webhook_id: str) -> dict[str, Any]:
    """Active again; the deliveries held by the pause are due now."""
    tenants.get_entity(storage, tenant_id)
    endpoints.get(storage, tenant_id, webhook_id)
    endpoints.merge(storage, tenant_id, webhook_id, {"state": endpoints.ACTIVE, "failures": 0, "pausedAt": ""})
    held = [r for r in delivery.rows(storage, tenant_id, webhook_id) if r.get("state") == delivery.PENDING]
    delivery.make_due(storage, tenant_id, held)
    delivery.after_change(storage, tenant_id)
    return endpoints.view(endpoints.get(storage, tenant_id, webhook_id))


def deliveries(
    storage: Storage, tenant_id: str, *, webhook_id: str | None = None, failed: bool = False
) -> list[dict[str, Any]]:
    """Queued deliveries (delivered ones are gone); `failed`: those whose last attempt failed."""
    tenants.get_entity(storage, tenant_id)
    if webhook_id is not None:
        endpoints.get(storage, tenant_id, webhook_id)
    views = [delivery.view(row) for row in delivery.rows(storage, tenant_id, webhook_id)]
    return [v for v in views if v["lastError"]] if failed else views


def retry(storage: Storage, tenant_id: str, webhook_id: str, *, delivery_id: str | None = None) -> dict[str, Any]:
    """Deliveries given up (or one named delivery of the endpoint) are attempted again, now."""
    tenants.get_entity(storage, tenant_id)
    endpoints.get(storage, tenant_id, webhook_id)
    queued = delivery.rows(storage, tenant_id, webhook_id)
    if delivery_id is not None:
        chosen = [r for r in queued if delivery.delivery_id(r) == delivery_id]
        if not chosen:
            raise NotFound(f"Delivery {delivery_id!r} is not queued for webhook {webhook_id}.")
    else:
        chosen = [r for r in queued if r.get("state") == delivery.FAILED]
    count = delivery.make_due(storage, tenant_id, chosen)
    delivery.after_change(storage, tenant_id)
    left = {delivery.delivery_id(r) for r in delivery.rows(storage, tenant_id, webhook_id)}
    return {"retried": count, "delivered": sum(1 for r in chosen if delivery.delivery_id(r) not in left)}
