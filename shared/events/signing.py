"""`X-Scim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<raw body>" with the secret>`.

The timestamp is inside the signed text so a captured request cannot be replayed later with a fresh
`t`; receivers reject a `t` outside their tolerance. docs/webhooks.md has the receiver's side, and the
tests' loopback receiver runs that documented code (tests/support/webhook_receiver.py)."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Scim-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
