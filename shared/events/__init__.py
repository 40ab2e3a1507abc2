"""Change events for the password manager's platform (webhooks).

- `outbox`: which audited change emits which event, as rows written in the change's own transaction.
- `endpoints`: the tenant's webhook endpoints (URL rules, per-endpoint secret, pause/resume).
- `signing`: the `X-Scim-Signature` header.
- `delivery`: fan-out of outbox rows to per-endpoint delivery rows, attempts, backoff and pausing.
- `service`: the admin operations (CLI, admin API, console) as plain dicts.
"""
