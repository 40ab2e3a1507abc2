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
OUTBOX = "O:"  # invitation rows: O:<userId>:<invitationId>
INVITATION_SETTINGS = "OT:invitation"  # the tenant's invitation template and send rate
INVITATION_RATE = "OR:rate"  # the tenant's current send-rate window
TALLY = "N:"  # live resources per kind (shared.tally)
PAGE_CURSOR = "P:"  # where list pages start (shared.paging)


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


def suffix(row_key: str, prefix: str) -> str:
    """What follows prefix in row_key (the id in `U:<id>`, the user in `M:<group>:<user>` after the
    group's member_prefix). A key of another kind is a bug, not data: it raises."""
    if not row_key.startswith(prefix):
        raise ValueError(f"RowKey {row_key!r} does not start with {prefix!r}")
    return row_key[len(prefix) :]


def user_key(user_id: str) -> str:
    return USER + user_id


def group_key(group_id: str) -> str:
    return GROUP + group_id


def user_id(row_key: str) -> str:
    """The id in a user row's key (inverse of user_key)."""
    return suffix(row_key, USER)


def group_id(row_key: str) -> str:
    """The id in a group row's key (inverse of group_key)."""
    return suffix(row_key, GROUP)


def username_key(user_name: str) -> str:
    return USERNAME_INDEX + encode_value(user_name, case_insensitive=True)


def displayname_key(display_name: str) -> str:
    return DISPLAYNAME_INDEX + encode_value(display_name, case_insensitive=True)


def external_id_prefix(kind_prefix: str, external_id: str) -> str:
    return kind_prefix + encode_value(external_id) + ":"


def external_id_key(kind_prefix: str, external_id: str, resource_id: str) -> str:
    return external_id_prefix(kind_prefix, external_id) + resource_id


def member_prefix(group_id: str) -> str:
    """The keys of one group's member rows start with this; the rest is the user id."""
    return f"{MEMBER}{group_id}:"


def member_of_prefix(user_id: str) -> str:
    """The keys of one user's member-of rows start with this; the rest is the group id."""
    return f"{MEMBER_OF}{user_id}:"


def member_key(group_id: str, user_id: str) -> str:
    return member_prefix(group_id) + user_id


def member_of_key(user_id: str, group_id: str) -> str:
    return member_of_prefix(user_id) + group_id


def member_pair(row_key: str) -> tuple[str, str]:
    """(group id, user id) of a membership row, whichever direction it is (`M:` or `R:`)."""
    if row_key.startswith(MEMBER_OF):
        user, group = suffix(row_key, MEMBER_OF).split(":", 1)
        return group, user
    group, user = suffix(row_key, MEMBER).split(":", 1)
    return group, user
