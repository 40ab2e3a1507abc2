"""A tenant's webhook endpoints: rows `W:<webhookId>` in its directory partition.

The per-endpoint secret must be usable to sign, so it cannot be kept as a hash only: it is stored in the
endpoint row, inside the tenant's partition, readable by the app's identity alone (as the directory data
is). It is returned once, when the endpoint is added or its secret rotated, never listed and never logged.

An endpoint is `active` or `paused`. Delivery pauses it after PAUSE_AFTER consecutive failed attempts;
its deliveries are then held (kept, not attempted) until an admin resumes it.
"""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from shared import clock
from shared.errors import Invalid, NotFound
from shared.store import keys
from shared.store.client import Storage
from shared.store.table import Entity, Row

WEBHOOK = "W:"
ACTIVE = "active"
PAUSED = "paused"
MAX_ENDPOINTS = 10  # per tenant: every event becomes one delivery row per endpoint
MAX_URL = 2048
_LOOPBACK_NAMES = ("localhost",)


class WebhookNotFound(NotFound):
    pass


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host) in (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
    except ValueError:
        return False


def check_url(url: str) -> str:
    """https only, except plain http to a loopback host (local receivers, tests); no credentials in the
    URL (they would be sent to whoever the URL names and shown in every listing)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        raise Invalid(f"A webhook URL is an absolute https URL of at most {MAX_URL} characters.")
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # .port raises on a malformed port
    except ValueError:
        raise Invalid("The webhook URL is not a valid URL.") from None
    if parts.scheme not in ("https", "http") or not host:
        raise Invalid("A webhook URL must be https (http only to 127.0.0.1, ::1 or localhost).")
    if parts.scheme == "http" and not _is_loopback(host):
        raise Invalid("A webhook URL must be https (http only to 127.0.0.1, ::1 or localhost).")
    if parts.username is not None or parts.password is not None:
        raise Invalid("A webhook URL must not carry credentials; the signature authenticates the events.")
    if parts.fragment:
        raise Invalid("A webhook URL must not have a fragment.")
    return url


def view(row: Entity) -> dict[str, Any]:
    return {
        "webhookId": keys.suffix(row["RowKey"], WEBHOOK),
        "url": row["url"],
        "state": row.get("state", ACTIVE),
        "created": row.get("created"),
        "consecutiveFailures": int(row.get("failures", 0)),
        "pausedAt": row.get("pausedAt"),
        "lastSuccess": row.get("lastSuccess"),
        "lastError": row.get("lastError") or None,
        "secretCreated": row.get("secretCreated"),
    }


def rows(storage: Storage, tenant_id: str) -> list[Row]:
    return list(storage.directory.query(tenant_id, prefix=WEBHOOK))


def get(storage: Storage, tenant_id: str, webhook_id: str) -> Row:
    row = storage.directory.get(tenant_id, WEBHOOK + webhook_id) if keys.is_resource_id(webhook_id or "") else None
    if row is None:
        raise WebhookNotFound(f"Webhook {webhook_id!r} not found.")
    return row


def add(storage: Storage, tenant_id: str, url: str) -> tuple[Entity, str]:
    check_url(url)
    if len(rows(storage, tenant_id)) >= MAX_ENDPOINTS:
        raise Invalid(f"A tenant has at most {MAX_ENDPOINTS} webhook endpoints.")
    secret = new_secret()
    row: Entity = {
        "PartitionKey": tenant_id,
        "RowKey": WEBHOOK + uuid.uuid4().hex,
        "url": url,
        "secret": secret,
        "secretCreated": clock.iso(),
        "state": ACTIVE,
        "failures": 0,
        "created": clock.iso(),
    }
    storage.directory.create(row)
    return row, secret


def merge(storage: Storage, tenant_id: str, webhook_id: str, fields: Entity) -> None:
    """Merge fields into an existing endpoint row (RowMissing if it was removed meanwhile)."""
    storage.directory.update(
        {"PartitionKey": tenant_id, "RowKey": WEBHOOK + webhook_id, **fields}, etag=None, replace=False
    )
