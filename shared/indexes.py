"""Index rows of a resource type: a unique, case-insensitive name index (`IU:`/`IG:`, pointing at the
resource id) and a non-unique externalId index (`IXU:`/`IXG:<externalId>:<id>`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.store import keys
from shared.store.table import Entity, Op


@dataclass(frozen=True)
class IndexSpec:
    name_field: str  # userName | displayName
    name_key: Callable[[str], str]
    external_prefix: str


USER_INDEXES = IndexSpec("userName", keys.username_key, keys.USER_EXTERNAL_ID_INDEX)
GROUP_INDEXES = IndexSpec("displayName", keys.displayname_key, keys.GROUP_EXTERNAL_ID_INDEX)


def index_ops(
    spec: IndexSpec, tenant_id: str, resource_id: str, old: Entity | None, new: Entity, *, with_name: bool = True
) -> list[Op]:
    """The index writes that take a resource row from `old` (None: new resource) to `new`. A name
    that only changes case keeps its row (the key is case-insensitive)."""
    ops: list[Op] = []
    old_name = old.get(spec.name_field) if old else None
    if with_name and (old_name is None or spec.name_key(old_name) != spec.name_key(new[spec.name_field])):
        if old_name is not None:
            ops.append(Op("delete", {"PartitionKey": tenant_id, "RowKey": spec.name_key(old_name)}))
        ops.append(
            Op("create", {"PartitionKey": tenant_id, "RowKey": spec.name_key(new[spec.name_field]), "ref": resource_id})
        )
    old_ext = old.get("externalId") if old else None
    if old_ext != new.get("externalId"):
        if old_ext is not None:
            ops.append(Op("delete", _external_row(spec, tenant_id, old_ext, resource_id)))
        if new.get("externalId") is not None:
            ops.append(Op("create", _external_row(spec, tenant_id, new["externalId"], resource_id)))
    return ops


def _external_row(spec: IndexSpec, tenant_id: str, external_id: str, resource_id: str) -> Entity:
    return {"PartitionKey": tenant_id, "RowKey": keys.external_id_key(spec.external_prefix, external_id, resource_id)}


def removal_ops(
    spec: IndexSpec, tenant_id: str, resource_id: str, entity: Entity, *, with_name: bool = True
) -> list[Op]:
    """Deletes of a resource's index rows (a SCIM-deleted user keeps its name row: see shared.users)."""
    ops = (
        [Op("delete", {"PartitionKey": tenant_id, "RowKey": spec.name_key(entity[spec.name_field])})]
        if with_name
        else []
    )
    if entity.get("externalId") is not None:
        ops.append(Op("delete", _external_row(spec, tenant_id, entity["externalId"], resource_id)))
    return ops
