"""Entra's default attribute mapping (ENTRA.md §3, §4.2): a source user or group becomes its SCIM
targets, an ordered {path: value} dict without nulls (Entra cannot flow nulls to an app), and the POST
body Entra sends to create it."""

from __future__ import annotations

from typing import Any

from tools.entra_sim import paths
from tools.entra_sim.directory import SourceGroup, SourceUser

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ADSCIM_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
MANAGER_PATH = f"{ENTERPRISE}:manager"

# Source attribute -> SCIM path, in the order Entra lists its default mappings. `active` (from
# accountEnabled) and `name.formatted` (Join(" ", givenName, surname)) are derived in user_targets.
USER_MAPPING: tuple[tuple[str, str], ...] = (
    ("mailNickname", "externalId"),
    ("userPrincipalName", "userName"),
    ("displayName", "displayName"),
    ("jobTitle", "title"),
    ("mail", 'emails[type eq "work"].value'),
    ("givenName", "name.givenName"),
    ("surname", "name.familyName"),
    ("telephoneNumber", 'phoneNumbers[type eq "work"].value'),
    ("mobile", 'phoneNumbers[type eq "mobile"].value'),
    ("facsimileTelephoneNumber", 'phoneNumbers[type eq "fax"].value'),
    ("streetAddress", 'addresses[type eq "work"].streetAddress'),
    ("postalCode", 'addresses[type eq "work"].postalCode'),
    ("physicalDeliveryOfficeName", 'addresses[type eq "other"].Formatted'),
    ("department", f"{ENTERPRISE}:department"),
    ("employeeId", f"{ENTERPRISE}:employeeNumber"),
)


def user_targets(user: SourceUser) -> dict[str, Any]:
    targets = {path: getattr(user, source) for source, path in USER_MAPPING if getattr(user, source) is not None}
    targets["active"] = user.accountEnabled
    if formatted := " ".join(v for v in (user.givenName, user.surname) if v):
        targets["name.formatted"] = formatted
    return targets


def group_targets(group: SourceGroup) -> dict[str, Any]:
    return {"externalId": group.id, "displayName": group.displayName}


def user_post_body(targets: dict[str, Any]) -> dict[str, Any]:
    """The documented create body: both schema URNs, `meta`, `roles: []`, the work email marked primary."""
    body: dict[str, Any] = {"schemas": [USER_SCHEMA, ENTERPRISE]}
    for path, value in targets.items():
        paths.write(body, path, value)
    if "emails" in body:
        body["emails"] = [{"primary": True, **e} if e["type"] == "work" else e for e in body["emails"]]
    body["meta"] = {"resourceType": "User"}
    body["roles"] = []
    return body


def group_post_body(targets: dict[str, Any]) -> dict[str, Any]:
    """Groups are created empty, with Entra's non-standard ADSCIM URN; members follow by PATCH."""
    return {"schemas": [GROUP_SCHEMA, ADSCIM_GROUP], **targets, "meta": {"resourceType": "Group"}}


def manager_id(resource: dict) -> str | None:
    """The manager's SCIM id as a server returns it (`{"value": id}`, or a bare id); "" means none."""
    value = paths.read(resource, MANAGER_PATH)
    if isinstance(value, dict):
        value = paths.read(value, "value")
    return value if isinstance(value, str) and value else None
