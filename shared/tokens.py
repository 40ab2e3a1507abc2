"""Secret tokens: generated with 256 bits of entropy, shown once, stored only as a SHA-256 digest.

The fixed prefix lets secret scanners recognise a leaked token; the digest needs no salt or slow
hash because the token itself is uniformly random (nothing to brute-force from a dictionary).
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "scimgw_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_hint(token: str) -> str:
    """What an admin may see of a token after creation: enough to tell two apart, nothing more."""
    return f"{TOKEN_PREFIX}…{token[-4:]}"
