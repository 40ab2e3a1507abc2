"""Everything that is not HTTP. Imports point down this map, never up or sideways into an edge:

    scim_handlers (HTTP edge) ──> services ──> shared.scim, shared.store

- `shared.scim`: the SCIM protocol over plain dicts (schemas, filters, PATCH, projection, listing,
  discovery, ScimError). Imports nothing else of ours beyond itself and no Azure package.
- `shared.store`: the storage seam. `table.Table` is the protocol every backend implements (Azure Table
  Storage / Cosmos DB in `azure_table`, process memory in `memory`); keys, rows, the call counter.
  Imports nothing of ours beyond `shared.config`; no HTTP, no SCIM.
- services (`shared/*.py`): the rules that join the two. `errors` (domain errors), `config`, `clock` and
  `audit` sit at the bottom; `resources` (Scope, meta, ETag retries) under `users`/`groups`; `membership`,
  `indexes`, `query` beside them; `tenants`, `lifecycle`, `employees`, `invitations`, `health`, `admin`
  for the product side.
- `shared.reconcile`: the timer's cycle, built on the services above; nothing below imports it except
  `admin`, which triggers and lists cycles.

Context: a service takes `(storage, tenant_id, ...)`. SCIM resource services (users, groups, query),
which also render resources, take a `Scope`: that pair plus the request's base URL, acting principal and
the tenant's auto-invite flag. Only the SCIM edge builds a Scope (at authentication).
"""
