"""PATCH bodies in Entra's two dialects (ENTRA.md §3.4-§4.5): the default one, and the RFC-closer one a
Tenant URL carrying `?aadOptscim062020` switches on (flag mode)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tools.entra_sim.diff import Change
from tools.entra_sim.mapping import MANAGER_PATH

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass(frozen=True)
class Dialect:
    flag: bool

    @property
    def name(self) -> str:
        return "aadOptscim062020" if self.flag else "default"

    def op(self, verb: str) -> str:
        return verb.lower() if self.flag else verb.capitalize()

    def value(self, path: str, value: Any) -> Any:
        # The default mapping turns IsSoftDeleted into the strings "True"/"False"; flag mode sends booleans.
        if path == "active" and not self.flag:
            return "True" if value else "False"
        return value

    def member(self, scim_id: str) -> dict[str, Any]:
        return {"value": scim_id} if self.flag else {"$ref": None, "value": scim_id}


DEFAULT = Dialect(flag=False)
FLAG = Dialect(flag=True)


def body(operations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": operations}


def _pathed(change: Change, dialect: Dialect) -> dict[str, Any]:
    return {
        "op": dialect.op("replace" if change.present else "add"),
        "path": change.path,
        "value": dialect.value(change.path, change.value),
    }


def attribute_ops(changes: list[Change], dialect: Dialect) -> list[dict[str, Any]]:
    """Default mode: one op per attribute. Flag mode: adds and value-filtered paths keep their own op; the
    replaced plain attributes share one path-less `replace` (dotted and URN keys) once there are several,
    so a lone change (a disable) stays the documented pathed op."""
    if not dialect.flag:
        return [_pathed(c, dialect) for c in changes]
    separate = [c for c in changes if not c.present or "[" in c.path]
    batched = [c for c in changes if c not in separate]
    ops = [_pathed(c, dialect) for c in separate]
    if len(batched) == 1:
        ops.append(_pathed(batched[0], dialect))
    elif batched:
        ops.append({"op": "replace", "value": {c.path: dialect.value(c.path, c.value) for c in batched}})
    return ops


def member_add_ops(scim_ids: Iterable[str], dialect: Dialect) -> list[dict[str, Any]]:
    return [{"op": dialect.op("add"), "path": "members", "value": [dialect.member(i) for i in scim_ids]}]


def member_remove_ops(scim_ids: Iterable[str], dialect: Dialect) -> list[dict[str, Any]]:
    """Default mode names the members to drop in one op's `value`; flag mode sends one filtered path each."""
    if dialect.flag:
        return [{"op": "remove", "path": f"members[value eq {json.dumps(i)}]"} for i in scim_ids]
    return [{"op": "Remove", "path": "members", "value": [dialect.member(i) for i in scim_ids]}]


def manager_ops(manager_scim_id: str | None, dialect: Dialect) -> list[dict[str, Any]]:
    """Set (or change) with `Add` and a bare id; clear with `Replace` and ""."""
    if manager_scim_id is None:
        return [{"op": dialect.op("replace"), "path": MANAGER_PATH, "value": ""}]
    return [{"op": dialect.op("add"), "path": MANAGER_PATH, "value": manager_scim_id}]
