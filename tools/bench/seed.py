"""Bulk seeding of one tenant's directory partition with the rows the services write (users with
their index rows, groups with theirs, memberships in both directions): through the API 100 rows per
transaction with a few in flight (any storage account), or into a stopped Azurite's database file
(tools.bench.azurite). Far faster than SCIM calls one by one; the rows are what a cycle reads."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from shared import clock, lifecycle
from shared.indexes import GROUP_INDEXES, USER_INDEXES
from shared.scim.schema import ENTERPRISE_USER, GROUP, USER
from shared.store import keys
from shared.store.client import Storage
from shared.store.rows import put_document
from shared.store.table import MAX_TRANSACTION_OPS, Entity, Op

_IN_FLIGHT = 4  # transactions submitted concurrently (the machine has 2 cores; Azurite is one process)
_PROGRESS_EVERY = 10_000


@dataclass(frozen=True)
class Shape:
    users: int
    groups: int
    memberships: int

    def check(self) -> None:
        if self.memberships and not (self.users and self.groups):
            raise ValueError("memberships need users and groups")
        if self.memberships > self.users * self.groups:
            raise ValueError(
                f"at most {self.users * self.groups} distinct memberships fit {self.users} users and {self.groups} groups"
            )


def _user_rows(tenant_id: str, index: int, user_id: str) -> list[Entity]:
    user_name = f"user{index:06d}@bench.example"
    external_id = f"ext-{user_id}"
    document = {
        "schemas": [USER, ENTERPRISE_USER],
        "userName": user_name,
        "externalId": external_id,
        "displayName": f"Bench User {index}",
        "name": {"givenName": "Bench", "familyName": f"User {index}"},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": True,
        ENTERPRISE_USER: {"department": f"Dept {index % 25}", "employeeNumber": str(index)},
    }
    now = clock.iso()
    fields = {k: v for k, v in lifecycle.initial(True).items() if v is not None}
    row: Entity = {
        **fields,
        "PartitionKey": tenant_id,
        "RowKey": keys.user_key(user_id),
        "employeeId": user_id,
        "userName": user_name,
        "externalId": external_id,
        "displayName": document["displayName"],
        "email": user_name,
        "active": True,
        "created": now,
        "lastModified": now,
    }
    put_document(row, document)
    return [
        row,
        {"PartitionKey": tenant_id, "RowKey": USER_INDEXES.name_key(user_name), "ref": user_id},
        {"PartitionKey": tenant_id, "RowKey": keys.external_id_key(USER_INDEXES.external_prefix, external_id, user_id)},
    ]


def _group_rows(tenant_id: str, index: int, group_id: str) -> list[Entity]:
    display_name = f"Bench Group {index:04d}"
    external_id = f"ext-{group_id}"
    now = clock.iso()
    row: Entity = {
        "PartitionKey": tenant_id,
        "RowKey": keys.group_key(group_id),
        "displayName": display_name,
        "externalId": external_id,
        "created": now,
        "lastModified": now,
    }
    put_document(row, {"schemas": [GROUP], "displayName": display_name, "externalId": external_id})
    return [
        row,
        {"PartitionKey": tenant_id, "RowKey": GROUP_INDEXES.name_key(display_name), "ref": group_id},
        {
            "PartitionKey": tenant_id,
            "RowKey": keys.external_id_key(GROUP_INDEXES.external_prefix, external_id, group_id),
        },
    ]


def membership_pairs(shape: Shape, user_ids: list[str], group_ids: list[str]) -> Iterator[tuple[str, str]]:
    """(group, user) pairs spread evenly: user i joins groups i, i+step, i+2*step... (all distinct)."""
    per_user = math.ceil(shape.memberships / shape.users) if shape.memberships else 0
    step = max(1, shape.groups // max(per_user, 1))
    for n in range(shape.memberships):
        user, k = n % shape.users, n // shape.users
        yield group_ids[(user + k * step) % shape.groups], user_ids[user]


def rows(tenant_id: str, shape: Shape) -> Iterator[Entity]:
    """Every row of the tenant, users first (with their index rows), then groups, then memberships."""
    shape.check()
    user_ids = [uuid.uuid4().hex for _ in range(shape.users)]
    group_ids = [uuid.uuid4().hex for _ in range(shape.groups)]
    for index, user_id in enumerate(user_ids):
        yield from _user_rows(tenant_id, index, user_id)
    for index, group_id in enumerate(group_ids):
        yield from _group_rows(tenant_id, index, group_id)
    for group_id, user_id in membership_pairs(shape, user_ids, group_ids):
        yield {"PartitionKey": tenant_id, "RowKey": keys.member_key(group_id, user_id)}
        yield {"PartitionKey": tenant_id, "RowKey": keys.member_of_key(user_id, group_id)}


def _transactions(rows: Iterator[Entity]) -> Iterator[list[Op]]:
    batch: list[Op] = []
    for row in rows:
        batch.append(Op("create", row))
        if len(batch) == MAX_TRANSACTION_OPS:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(storage: Storage, tenant_id: str, shape: Shape, progress: Callable[[int], None] = lambda written: None) -> int:
    """Write the tenant's rows through the API; returns how many. `progress` hears the running total."""
    written = 0
    with ThreadPoolExecutor(max_workers=_IN_FLIGHT) as pool:
        for etags in pool.map(storage.directory.transact, _transactions(rows(tenant_id, shape))):
            written += len(etags)
            if written % _PROGRESS_EVERY < MAX_TRANSACTION_OPS:
                progress(written)
    return written
