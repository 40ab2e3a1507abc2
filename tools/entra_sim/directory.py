"""The directory file: snapshots of an Entra directory's users and groups, in Entra's source attribute
names (format in docs/entra-simulator.md). Unknown keys and dangling references are errors, so a typo
cannot silently turn into a missing attribute."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class DirectoryError(Exception):
    """The directory file cannot be read or does not follow the format."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceUser(_Strict):
    id: str = Field(min_length=1, description="objectId: the anchor Entra caches; not sent by the default mapping")
    userPrincipalName: str = Field(min_length=1)
    mailNickname: str | None = None
    displayName: str | None = None
    givenName: str | None = None
    surname: str | None = None
    mail: str | None = None
    jobTitle: str | None = None
    department: str | None = None
    employeeId: str | None = None
    telephoneNumber: str | None = None
    mobile: str | None = None
    facsimileTelephoneNumber: str | None = None
    streetAddress: str | None = None
    postalCode: str | None = None
    physicalDeliveryOfficeName: str | None = None
    manager: str | None = Field(default=None, description="id of another user in the same snapshot")
    accountEnabled: bool = True


class SourceGroup(_Strict):
    id: str = Field(min_length=1, description="objectId: mapped to the SCIM externalId")
    displayName: str = Field(min_length=1)
    members: tuple[str, ...] = Field(default=(), description="ids of users in the same snapshot")


def _duplicates(values: list[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


class Snapshot(_Strict):
    users: tuple[SourceUser, ...] = ()
    groups: tuple[SourceGroup, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Snapshot:
        user_ids = {user.id for user in self.users}
        problems = []
        for label, values in (
            ("user id", [u.id for u in self.users]),
            ("userPrincipalName", [u.userPrincipalName.lower() for u in self.users]),
            ("group id", [g.id for g in self.groups]),
            ("group displayName", [g.displayName.lower() for g in self.groups]),
        ):
            if dupes := _duplicates(values):
                problems.append(f"duplicate {label}: {', '.join(dupes)}")
        for user in self.users:
            if user.manager is not None and (user.manager not in user_ids or user.manager == user.id):
                problems.append(f"user {user.id}: manager {user.manager!r} is not another user of this snapshot")
        for group in self.groups:
            if unknown := sorted(set(group.members) - user_ids):
                problems.append(f"group {group.id}: members are not users of this snapshot: {', '.join(unknown)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Directory(_Strict):
    snapshots: tuple[Snapshot, ...] = Field(min_length=1)

    def snapshot_for_cycle(self, cycle: int) -> int:
        """Cycle k (1-based) replays snapshot min(k, last): extra cycles repeat the last state."""
        return min(cycle, len(self.snapshots))


def parse(data: object) -> Directory:
    try:
        return Directory.model_validate(data)
    except ValidationError as exc:
        raise DirectoryError(str(exc)) from None


def load(path: Path) -> Directory:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise DirectoryError(f"{path} is not JSON: {exc}") from None
    return parse(data)
