"""One Entra provisioning job against a Tenant URL: Test Connection, then one cycle per snapshot step.
Like Entra, the job caches each source object's SCIM id and last provisioned state (its anchors) for the
run, so a later cycle only touches objects whose source changed; a failed object keeps its old anchor
and is retried in the next cycle, as Entra's escrow does."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, NoReturn, TextIO, TypeVar
from urllib.parse import quote

from tools.entra_sim import diff, mapping, patch, report
from tools.entra_sim.auth import Credentials
from tools.entra_sim.directory import Directory, Snapshot, SourceGroup, SourceUser
from tools.entra_sim.patch import Dialect
from tools.entra_sim.progress import Progress
from tools.entra_sim.report import CycleLog
from tools.entra_sim.transport import Exchange, Transport

MEMBERS_PER_REQUEST = 50
EXCLUDE_MEMBERS = ("excludedAttributes", "members")


class ObjectFailed(Exception):
    """A request for one object failed; the failure is already in the cycle's log."""


@dataclass(frozen=True)
class UserAnchor:
    scim_id: str
    targets: dict[str, Any]
    manager: str | None  # the manager's SCIM id as last seen or provisioned


@dataclass(frozen=True)
class GroupAnchor:
    scim_id: str
    targets: dict[str, Any]
    members: frozenset[str]  # SCIM ids Entra has added; it never reads members back


def _eq(attribute: str, value: str) -> tuple[str, str]:
    return ("filter", f"{attribute} eq {json.dumps(value)}")


def _resource_path(collection: str, scim_id: str) -> str:
    return f"{collection}/{quote(scim_id, safe='')}"


def _has_id(resource: Any) -> bool:
    return isinstance(resource, dict) and isinstance(resource.get("id"), str) and bool(resource["id"])


# How Entra reads a failed answer (ENTRA.md §2, §3.3, §5), so the summary tells the admin what would follow.
_ENTRA_READING = {
    401: "Entra quarantines the job for invalid credentials",
    403: "Entra quarantines the job for invalid credentials",
    404: "a 404 fails Test Connection and lookups; on a cached id Entra reports InvalidAnchor",
    409: "Entra logs EntryConflict",
    429: "still throttled after the bounded retries; Entra logs TooManyRequests",
}


def _status_reason(exchange: Exchange) -> str:
    if exchange.status is None:
        return f"{exchange.kind} got no answer (Entra retries it in a later cycle)"
    reading = _ENTRA_READING.get(exchange.status)
    if reading is None and exchange.status >= 500:
        reading = "Entra logs InternalServerError and retries the object in a later cycle"
    return f"{exchange.kind} answered {exchange.status}" + (f": {reading}" if reading else "")


class _Calls:
    """The SCIM requests of one cycle; each checks the answer Entra needs, records a failure and raises."""

    def __init__(self, transport: Transport, log: CycleLog):
        self._transport = transport
        self._log = log

    def fail(self, obj: str, reason: str, exchange: Exchange) -> NoReturn:
        self._log.fail({"object": obj, "reason": reason, **exchange.describe()})
        raise ObjectFailed(reason)

    def send(
        self, obj: str, method: str, path: str, params: list[tuple[str, str]] | None = None, body: Any = None
    ) -> Exchange:
        exchange = self._transport.send(self._log, method, path, params, body)
        if not exchange.ok:
            self.fail(obj, _status_reason(exchange), exchange)
        return exchange

    def listing(self, obj: str, path: str, params: list[tuple[str, str]]) -> tuple[Exchange, list[Any]]:
        exchange = self.send(obj, "GET", path, params)
        answer = exchange.json()
        resources = answer.get("Resources", []) if isinstance(answer, dict) else None
        if exchange.status != 200 or not isinstance(resources, list):
            self.fail(obj, "a filter query must answer 200 with a ListResponse", exchange)
        return exchange, resources

    def lookup(self, obj: str, path: str, params: list[tuple[str, str]]) -> dict | None:
        exchange, resources = self.listing(obj, path, params)
        if len(resources) > 1:
            self.fail(obj, f"DuplicateTargetEntries: the lookup matched {len(resources)} resources", exchange)
        if resources and not _has_id(resources[0]):
            self.fail(obj, "the matched resource has no id", exchange)
        return resources[0] if resources else None

    def get(self, obj: str, path: str, params: list[tuple[str, str]] | None = None) -> dict:
        exchange = self.send(obj, "GET", path, params)
        resource = exchange.json()
        if exchange.status != 200 or not _has_id(resource):
            self.fail(obj, "GET by id must answer 200 with the resource", exchange)
        return resource

    def create(self, obj: str, path: str, body: dict) -> dict:
        exchange = self.send(obj, "POST", path, body=body)
        created = exchange.json()
        if not _has_id(created):
            self.fail(obj, "the created resource has no id", exchange)
        return created

    def patch(self, obj: str, path: str, operations: list[dict[str, Any]]) -> None:
        self.send(obj, "PATCH", path, body=patch.body(operations))

    def delete(self, obj: str, path: str) -> None:
        self.send(obj, "DELETE", path)


Anchor = TypeVar("Anchor", UserAnchor, GroupAnchor)


class Job:
    def __init__(self, transport: Transport, dialect: Dialect, pool: Executor, progress: Progress):
        self._transport = transport
        self._dialect = dialect
        self._pool = pool
        self._progress = progress
        self.users: dict[str, UserAnchor] = {}
        self.groups: dict[str, GroupAnchor] = {}

    def test_connection(self, log: CycleLog) -> bool:
        """Entra's probe: a user filter and a group filter on random GUIDs must answer 200 and match nothing."""
        calls = _Calls(self._transport, log)
        probes = [
            ("/Users", [_eq("userName", str(uuid.uuid4()))]),
            ("/Groups", [EXCLUDE_MEMBERS, _eq("displayName", str(uuid.uuid4()))]),
        ]
        for path, params in probes:
            try:
                exchange, resources = calls.listing("Test Connection", path, params)
                if resources:
                    calls.fail("Test Connection", "a filter on a random GUID must match nothing", exchange)
            except ObjectFailed:
                pass
        return not log.failures

    def run_cycle(self, snapshot: Snapshot, log: CycleLog) -> None:
        """Only objects whose source differs from their anchor get a task, so an unchanged object costs
        no request at all."""
        calls = _Calls(self._transport, log)
        user_ids = {u.id for u in snapshot.users}
        group_ids = {g.id for g in snapshot.groups}
        # Deletions first, so a userName or displayName freed in this cycle can be taken by a new object.
        gone_users = [
            (src, partial(self._delete, calls, "/Users", f"user {src}", a))
            for src, a in self.users.items()
            if src not in user_ids
        ]
        self._phase(log, "user deletions", gone_users, self.users)
        users = [
            (u.id, partial(self._sync_user, calls, u))
            for u in snapshot.users
            if self._changed(self.users, u.id, mapping.user_targets(u))
        ]
        self._phase(log, "users", users, self.users)
        gone_groups = [
            (src, partial(self._delete, calls, "/Groups", f"group {src}", a))
            for src, a in self.groups.items()
            if src not in group_ids
        ]
        self._phase(log, "group deletions", gone_groups, self.groups)
        groups = [
            (g.id, partial(self._sync_group, calls, g))
            for g in snapshot.groups
            if self._changed(self.groups, g.id, mapping.group_targets(g))
        ]
        self._phase(log, "groups", groups, self.groups)
        self._phase(log, "memberships", self._membership_tasks(calls, snapshot), self.groups)
        self._phase(log, "managers", self._manager_tasks(calls, snapshot), self.users)

    def _membership_tasks(self, calls: _Calls, snapshot: Snapshot) -> list[tuple[str, Callable[[], GroupAnchor]]]:
        tasks: list[tuple[str, Callable[[], GroupAnchor]]] = []
        live = frozenset(a.scim_id for a in self.users.values())
        for group in (g for g in snapshot.groups if g.id in self.groups):
            # Members whose user was deleted left with the DELETE: they get no removal.
            provisioned = self.groups[group.id].members & live
            adds, removes = diff.member_changes(
                (self.users[m].scim_id for m in group.members if m in self.users), provisioned
            )
            if adds or removes:
                tasks.append((group.id, partial(self._sync_members, calls, group, provisioned, adds, removes)))
        return tasks

    def _manager_tasks(self, calls: _Calls, snapshot: Snapshot) -> list[tuple[str, Callable[[], UserAnchor]]]:
        tasks: list[tuple[str, Callable[[], UserAnchor]]] = []
        for user in (u for u in snapshot.users if u.id in self.users):
            manager = self.users.get(user.manager) if user.manager else None
            if (wanted := manager.scim_id if manager else None) != self.users[user.id].manager:
                tasks.append((user.id, partial(self._sync_manager, calls, user, wanted)))
        return tasks

    @staticmethod
    def _changed(cache: dict[str, UserAnchor] | dict[str, GroupAnchor], key: str, targets: dict[str, Any]) -> bool:
        anchor = cache.get(key)
        return anchor is None or anchor.targets != targets

    def _phase(
        self,
        log: CycleLog,
        name: str,
        tasks: Sequence[tuple[str, Callable[[], Anchor | None]]],
        cache: dict[str, Anchor],
    ) -> None:
        """Run one task per object in parallel; each returns the anchor the cache holds afterwards (None:
        no anchor). A failed object keeps the anchor it had."""
        if not tasks:
            return
        tick = self._progress.phase(log, name, len(tasks))

        def run(task: tuple[str, Callable[[], Anchor | None]]) -> tuple[str, Anchor | None]:
            key, work = task
            try:
                return key, work()
            except ObjectFailed:
                return key, cache.get(key)
            finally:
                tick()

        for key, anchor in list(self._pool.map(run, tasks)):
            if anchor is None:
                cache.pop(key, None)
            else:
                cache[key] = anchor

    def _delete(self, calls: _Calls, collection: str, obj: str, anchor: UserAnchor | GroupAnchor) -> None:
        calls.delete(obj, _resource_path(collection, anchor.scim_id))

    def _provision(
        self,
        calls: _Calls,
        obj: str,
        collection: str,
        anchor: UserAnchor | GroupAnchor | None,
        lookup: list[tuple[str, str]],
        read: list[tuple[str, str]],
        targets: dict[str, Any],
        post_body: dict,
    ) -> dict:
        """Entra's flow for one object: import it (by the cached id, else by the matching filter), create it
        when nothing matches, else PATCH only what differs. Returns the resource as created or imported."""
        if anchor is None:
            resource = calls.lookup(obj, collection, lookup)
            if resource is None:
                return calls.create(obj, collection, post_body)
        else:
            resource = calls.get(obj, _resource_path(collection, anchor.scim_id), read)
        operations = patch.attribute_ops(diff.attribute_changes(targets, resource), self._dialect)
        if operations:
            calls.patch(obj, _resource_path(collection, resource["id"]), operations)
        return resource

    def _sync_user(self, calls: _Calls, user: SourceUser) -> UserAnchor:
        targets = mapping.user_targets(user)
        resource = self._provision(
            calls,
            f"user {user.id} ({user.userPrincipalName})",
            "/Users",
            self.users.get(user.id),
            [_eq("userName", user.userPrincipalName)],
            [],
            targets,
            mapping.user_post_body(targets),
        )
        return UserAnchor(resource["id"], targets, mapping.manager_id(resource))

    def _sync_group(self, calls: _Calls, group: SourceGroup) -> GroupAnchor:
        targets = mapping.group_targets(group)
        anchor = self.groups.get(group.id)
        resource = self._provision(
            calls,
            f"group {group.id} ({group.displayName})",
            "/Groups",
            anchor,
            [EXCLUDE_MEMBERS, _eq("displayName", group.displayName)],
            [EXCLUDE_MEMBERS],
            targets,
            mapping.group_post_body(targets),
        )
        return GroupAnchor(resource["id"], targets, anchor.members if anchor else frozenset())

    def _sync_members(
        self, calls: _Calls, group: SourceGroup, provisioned: frozenset[str], adds: list[str], removes: list[str]
    ) -> GroupAnchor:
        """Send the membership delta in batches; whatever a failed batch held is retried next cycle."""
        obj = f"group {group.id} ({group.displayName})"
        anchor = self.groups[group.id]
        members = set(provisioned)
        for ids, build, apply in (
            (removes, patch.member_remove_ops, members.difference_update),
            (adds, patch.member_add_ops, members.update),
        ):
            for start in range(0, len(ids), MEMBERS_PER_REQUEST):
                chunk = ids[start : start + MEMBERS_PER_REQUEST]
                try:
                    calls.patch(obj, _resource_path("/Groups", anchor.scim_id), build(chunk, self._dialect))
                except ObjectFailed:
                    continue
                apply(chunk)
        return replace(anchor, members=frozenset(members))

    def _sync_manager(self, calls: _Calls, user: SourceUser, wanted: str | None) -> UserAnchor:
        """Entra links the manager in a separate update once both users exist."""
        anchor = self.users[user.id]
        calls.patch(
            f"user {user.id} ({user.userPrincipalName})",
            _resource_path("/Users", anchor.scim_id),
            patch.manager_ops(wanted, self._dialect),
        )
        return replace(anchor, manager=wanted)


def simulate(
    tenant_url: str,
    credentials: Credentials,
    directory: Directory,
    cycles: int,
    concurrency: int,
    dialect: Dialect,
    progress_stream: TextIO | None,
) -> dict[str, Any]:
    """Test Connection, then `cycles` cycles (cycle k replays snapshot min(k, last)); returns the summary.
    No cycle runs when Test Connection fails, as Entra refuses to start the job."""
    started = time.monotonic()
    progress = Progress(progress_stream)
    transport = Transport(tenant_url, credentials)
    logs: list[CycleLog] = []
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="entra-sim") as pool:
        job = Job(transport, dialect, pool, progress)
        connection = CycleLog("test connection")
        connected = job.test_connection(connection)
        connection.finish()
        progress.line(f"[test connection] {'passed' if connected else 'FAILED: no cycle runs'}")
        for cycle in range(1, cycles + 1) if connected else ():
            number = directory.snapshot_for_cycle(cycle)
            log = CycleLog(f"cycle {cycle}", cycle, number)
            progress.line(f"[cycle {cycle}] snapshot {number}")
            job.run_cycle(directory.snapshots[number - 1], log)
            log.finish()
            progress.line(f"[cycle {cycle}] done: {log.requests} requests, {len(log.failures)} failures")
            logs.append(log)
    run = {"tenantUrl": tenant_url, "dialect": dialect.name, "concurrency": concurrency}
    return report.summary(run, connection, logs, time.monotonic() - started)
