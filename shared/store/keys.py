"""PartitionKey/RowKey construction.

Values taken from users (userName, externalId, displayName) may contain characters Table Storage forbids
in keys (`/ \\ # ?`, control characters) and may be long; Cosmos DB for Table limits keys to 255 bytes.
They are therefore base64url-encoded, and values whose encoding would be long are replaced by a SHA-256
digest (the row keeps the original value, so callers can verify a hit).
"""

from __future__ import annotations

import base64
import hashlib
import re

from shared.scim.casing import fold

_MAX_ENCODED = 160  # leaves room for the row-kind prefix and an id suffix under 255 bytes
_ID_RE = re.compile(r"^[0-9a-f]{32}$")

USER = "U:"
GROUP = "G:"
USERNAME_INDEX = "IU:"
DISPLAYNAME_INDEX = "IG:"
USER_EXTERNAL_ID_INDEX = "IXU:"
GROUP_EXTERNAL_ID_INDEX = "IXG:"
MEMBER = "M:"  # group -> user
MEMBER_OF = "R:"  # user -> group
AUDIT = "A:"
OUTBOX = "O:"


def encode_value(value: str, *, case_insensitive: bool = False) -> str:
    text = fold(value) if case_insensitive else value  # the protocol's case rule, see shared.scim.casing
    encoded = base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")
    if len(encoded) <= _MAX_ENCODED:
        return "b" + encoded
    return "h" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_resource_id(value: str) -> bool:
    """Ids we issue are 32 lowercase hex characters; anything else cannot name a stored resource."""
    return bool(_ID_RE.match(value))


def prefix_range(prefix: str) -> tuple[str, str]:
    """RowKey bounds [low, high) that select exactly the keys starting with prefix."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def user_key(user_id: str) -> str:
    return USER + user_id


def group_key(group_id: str) -> str:
    return GROUP + group_id


def username_key(user_name: str) -> str:
    return USERNAME_INDEX + encode_value(user_name, case_insensitive=True)


def displayname_key(display_name: str) -> str:
    return DISPLAYNAME_INDEX + encode_value(display_name, case_insensitive=True)


def external_id_prefix(kind_prefix: str, external_id: str) -> str:
    return kind_prefix + encode_value(external_id) + ":"


def external_id_key(kind_prefix: str, external_id: str, resource_id: str) -> str:
    return external_id_prefix(kind_prefix, external_id) + resource_id


def member_key(group_id: str, user_id: str) -> str:
    return f"{MEMBER}{group_id}:{user_id}"


def member_of_key(user_id: str, group_id: str) -> str:
    return f"{MEMBER_OF}{user_id}:{group_id}"
