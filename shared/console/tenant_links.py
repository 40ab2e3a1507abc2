"""The link between one of our tenants and the customer's Entra tenant (`tid`), which makes that
directory's admins the tenant's console admins.

Two rows in the tenants table: the lookup `E:<tid>` / `entra` (sign-in finds the tenant by `tid` with one
point read) and the link's fields on the tenant row (what the operator screen shows). The lookup is
written first: a crash before the tenant write leaves a link that works but is not shown, and relinking
repairs it. An Entra tenant links to one of our tenants at most (the lookup row is unique).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared import audit, tenants
from shared.audit import ACTOR_ADMIN, Target
from shared.errors import Conflict, Invalid
from shared.store.client import Storage
from shared.store.errors import AlreadyExists

LINK_ROW = "entra"


@dataclass(frozen=True)
class EntraLink:
    tenant_id: str
    admin_group_id: str | None


def _guid(value: str, name: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise Invalid(f"{name} must be a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47.") from None


def _pk(entra_tenant_id: str) -> str:
    return "E:" + entra_tenant_id


def link(
    storage: Storage,
    tenant_id: str,
    entra_tenant_id: str,
    *,
    admin_group_id: str | None = None,
    actor: str = ACTOR_ADMIN,
) -> dict[str, str | None]:
    tenant = tenants.get_entity(storage, tenant_id)
    tid = _guid(entra_tenant_id, "The Entra tenant id")
    group = _guid(admin_group_id, "The admin group id") if admin_group_id else None
    row = {"PartitionKey": _pk(tid), "RowKey": LINK_ROW, "tenantId": tenant_id, "adminGroupId": group}
    try:
        storage.tenants.create(row)
    except AlreadyExists:
        existing = storage.tenants.get(_pk(tid), LINK_ROW)
        if existing is not None and existing["tenantId"] != tenant_id:
            raise Conflict("This Entra tenant is already linked to another tenant.") from None
        storage.tenants.upsert(row, replace=True)
    previous = tenant.get("entraTenantId")
    if previous and previous != tid:  # relinked: the old directory's admins lose access
        storage.tenants.delete(_pk(previous), LINK_ROW)
    fields = {"PartitionKey": tenant["PartitionKey"], "RowKey": tenant["RowKey"], "entraTenantId": tid}
    storage.tenants.update({**fields, "entraAdminGroupId": group or ""}, etag=None, replace=False)
    audit.record(storage, tenant_id, actor, "tenant.link", Target("Tenant", tenant_id, tenant["name"]))
    return {"tenantId": tenant_id, "entraTenantId": tid, "adminGroupId": group}


def find(storage: Storage, entra_tenant_id: str) -> EntraLink | None:
    """The tenant linked to this Entra tenant: one point read."""
    try:
        tid = _guid(entra_tenant_id, "tid")
    except Invalid:
        return None
    row = storage.tenants.get(_pk(tid), LINK_ROW)
    return None if row is None else EntraLink(row["tenantId"], row.get("adminGroupId") or None)
