"""What Entra decides to change after importing a target object: compare the mapped targets with the
resource the server returned. Targets Entra has no value for are never cleared (it cannot flow nulls)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tools.entra_sim import paths


@dataclass(frozen=True)
class Change:
    path: str
    value: Any
    present: bool  # the target already holds a value: Entra replaces it, otherwise it adds one


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _same(desired: Any, current: Any) -> bool:
    if isinstance(desired, bool):
        return _as_bool(current) is desired
    return desired == current


def attribute_changes(targets: Mapping[str, Any], resource: dict) -> list[Change]:
    changes = []
    for path, value in targets.items():
        current = paths.read(resource, path)
        if not _same(value, current):
            changes.append(Change(path, value, current not in (None, "")))
    return changes


def member_changes(desired: Iterable[str], provisioned: Iterable[str]) -> tuple[list[str], list[str]]:
    """(ids to add, ids to remove), sorted so that runs are repeatable."""
    want, have = set(desired), set(provisioned)
    return sorted(want - have), sorted(have - want)
