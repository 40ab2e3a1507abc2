"""List and filter queries (GET /Users, GET /Groups, POST /.search), one engine for both resource types.

Equality on id, userName/displayName and externalId is answered from index rows (point reads, no scan);
an unfiltered, unsorted page with a count reads about that page (shared.paging) and takes the total from
shared.tally; any other filter or sortBy scans the tenant's rows of that type and evaluates the filter in
memory, so results are always correct. Group members are read only when the response or the filter needs them, and a
membership test (`members eq "<id>"`) costs one point read per named user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared import groups, paging, tally, users
from shared.indexes import GROUP_INDEXES, USER_INDEXES, IndexSpec
from shared.membership import group_member_ids, user_group_ids
from shared.query_plan import index_hint, member_values
from shared.resources import Scope, is_live
from shared.scim.filter import matches, parse_filter
from shared.scim.listing import ListParams, list_response, page, sort_resources
from shared.scim.projection import project
from shared.scim.schema import ResourceSchema
from shared.store import keys
from shared.store.parallel import map_parallel
from shared.store.table import Entity, ids_under


@dataclass(frozen=True)
class Kind:
    schema: ResourceSchema
    prefix: str
    indexes: IndexSpec
    has_members: bool


USERS = Kind(users.SCHEMA, keys.USER, USER_INDEXES, False)
GROUPS = Kind(groups.SCHEMA, keys.GROUP, GROUP_INDEXES, True)


def requested(name: str, schema: ResourceSchema, attributes: list[str] | None, excluded: list[str] | None) -> bool:
    """Whether a default-returned attribute (members, groups) is part of the response."""

    def top(entry: str) -> str:
        entry = entry.strip()
        if entry.lower().startswith(schema.core.lower() + ":"):
            entry = entry[len(schema.core) + 1 :]
        return entry.split(".", 1)[0].lower()

    if attributes:
        return any(top(a) == name.lower() for a in attributes)
    return not any(top(e) == name.lower() for e in excluded or [])


def _render(scope: Scope, kind: Kind, entity: Entity, related: list[str] | None) -> dict[str, Any]:
    if kind.has_members:
        return groups.to_resource(scope, entity, related)
    return users.to_resource(scope, entity, group_ids=related)


def _find(scope: Scope, kind: Kind, attribute: str, value: Any) -> list[Entity]:
    directory, pk = scope.storage.directory, scope.tenant_id
    value = str(value)
    if attribute == "id":
        entities = [directory.get(pk, kind.prefix + value)] if keys.is_resource_id(value) else []
    elif attribute == kind.indexes.name_field:
        index = directory.get(pk, kind.indexes.name_key(value))
        entities = [directory.get(pk, kind.prefix + index["ref"])] if index else []
    else:
        prefix = keys.external_id_prefix(kind.indexes.external_prefix, value)
        refs = ids_under(directory, pk, prefix)
        entities = map_parallel(lambda ref: directory.get(pk, kind.prefix + ref), refs)
    return [e for e in entities if is_live(e)]


def _members_of(scope: Scope, group_id: str, candidates: frozenset[str]) -> list[str]:
    pk = scope.tenant_id
    ids = sorted(c for c in candidates if keys.is_resource_id(c))
    present = map_parallel(lambda u: scope.storage.directory.get(pk, keys.member_key(group_id, u)) is not None, ids)
    return [u for u, ok in zip(ids, present, strict=True) if ok]


@dataclass
class _Match:
    kind: Kind
    entity: Entity
    resource: dict[str, Any]
    complete: bool  # resource carries its full related list


def _matching(scope: Scope, kind: Kind, params: ListParams, node: Any) -> list[_Match]:
    schema = kind.schema
    hint = index_hint(node, schema) if node is not None else None
    if hint is not None:
        entities = _find(scope, kind, hint.attribute, hint.value)
    else:
        entities = [e for e in scope.storage.directory.query(scope.tenant_id, prefix=kind.prefix) if is_live(e)]
    tested = member_values(node) if (node is not None and kind.has_members) else frozenset()
    matched = []
    for entity in entities:
        resource_id = keys.suffix(entity["RowKey"], kind.prefix)
        related: list[str] | None = None
        complete = False
        if tested is None:
            related, complete = group_member_ids(scope.storage, scope.tenant_id, resource_id), True
        elif tested:
            related = _members_of(scope, resource_id, tested)
        resource = _render(scope, kind, entity, related)
        if node is None or matches(node, resource, schema):
            matched.append(_Match(kind, entity, resource, complete))
    return matched


def _respond(scope: Scope, matched: list[_Match], params: ListParams, schema: ResourceSchema) -> dict[str, Any]:
    by_id = {m.resource["id"]: m for m in matched}
    ordered = sort_resources([m.resource for m in matched], schema, params.sort_by, params.sort_order)
    selected = [by_id[resource["id"]] for resource in page(ordered, params.start_index, params.count)]
    return list_response(_emit(scope, selected, params), len(ordered), params.start_index)


def _emit(scope: Scope, selected: list[_Match], params: ListParams) -> list[dict[str, Any]]:
    """The page's resources as the response shows them: related lists loaded or dropped, projected."""
    out = []
    for match in selected:
        resource = match.resource
        kind = match.kind
        related_name = "members" if kind.has_members else "groups"
        wanted = requested(related_name, kind.schema, params.attributes, params.excluded_attributes)
        if not kind.has_members:
            wanted = bool(params.attributes) and wanted  # user.groups only on request: it costs a query
        if wanted and not match.complete:
            loader = group_member_ids if kind.has_members else user_group_ids
            resource = _render(scope, kind, match.entity, loader(scope.storage, scope.tenant_id, resource["id"]))
        elif not wanted:
            resource = {k: v for k, v in resource.items() if k != related_name}
        out.append(project(resource, kind.schema, params.attributes, params.excluded_attributes))
    return out


def _listed_page(scope: Scope, kind: Kind, params: ListParams, count: int) -> dict[str, Any]:
    """An unfiltered, unsorted page: totalResults from shared.tally, the rows from shared.paging."""
    total = tally.live_count(scope.storage, scope.tenant_id, kind.prefix)
    entities = paging.live_page(scope.storage, scope.tenant_id, kind.prefix, params.start_index, count)
    selected = [_Match(kind, e, _render(scope, kind, e, None), False) for e in entities]
    return list_response(_emit(scope, selected, params), total, params.start_index)


def run_query(scope: Scope, kind: Kind, params: ListParams) -> dict[str, Any]:
    node = parse_filter(params.filter) if params.filter else None
    if node is None and params.sort_by is None and params.count is not None:
        return _listed_page(scope, kind, params, params.count)
    return _respond(scope, _matching(scope, kind, params, node), params, kind.schema)


def run_search_all(scope: Scope, params: ListParams) -> dict[str, Any]:
    """POST /.search at the service root (RFC 7644 §3.4.3): users and groups together."""
    node = parse_filter(params.filter) if params.filter else None
    matched = _matching(scope, USERS, params, node) + _matching(scope, GROUPS, params, node)
    return _respond(scope, matched, params, USERS.schema)  # sortBy names resolve as on User (displayName is on both)
