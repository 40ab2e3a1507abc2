"""`python -m tools.admin`: the admin operations from a shell, against the same storage settings as the
app (SCIM_STORAGE_ENDPOINT with DefaultAzureCredential in Azure, SCIM_STORAGE_CONNECTION_STRING or the
local Azurite otherwise). Exit codes: 0 done, 1 the operation was refused (not found, invalid, conflict),
2 bad usage."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared import admin, reconcile, tenants
from shared.errors import DomainError
from shared.events import delivery
from shared.store.client import Storage, default_storage
from tools.admin import console, invitations, oauth, webhooks
from tools.cli_types import positive_int

DEMO_FILE = Path(".azurite/demo-tenant.json")


def _on_off(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("on", "off"):
        raise argparse.ArgumentTypeError("use on or off")
    return lowered == "on"


def _demo(storage: Storage) -> dict[str, Any]:
    """The tenant `make run` prints: created once, reused while its token still authenticates."""
    if DEMO_FILE.exists():
        saved = json.loads(DEMO_FILE.read_text())
        if tenants.authenticate(storage, saved.get("token")) is not None:
            return {**saved, "tenantUrl": admin.public_tenant_url(), "consoleUrl": _console(storage, saved)}
    created = admin.create_tenant(storage, "Demo organisation")
    DEMO_FILE.parent.mkdir(parents=True, exist_ok=True)
    DEMO_FILE.write_text(json.dumps({k: created[k] for k in ("tenantId", "tenantUrl", "token")}))
    DEMO_FILE.chmod(0o600)
    return {**created, "consoleUrl": _console(storage, created)}


def _console(storage: Storage, demo: dict[str, Any]) -> str | None:
    """A fresh one-time sign-in link for the demo tenant's admin (none against non-local storage)."""
    try:
        return str(console.sign_in_link(storage, demo["tenantId"])["url"])
    except DomainError:
        return None


def _reconcile(storage: Storage, args: argparse.Namespace) -> Any:
    return reconcile.run_now(storage, tenant_id=args.tenant, force=args.force)


def _cycles(storage: Storage, args: argparse.Namespace) -> Any:
    return admin.cycles(storage, args.tenant, limit=args.limit)


Handler = Callable[[Storage, argparse.Namespace], Any]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.admin", description="Administer tenants, employees and the SCIM integration."
    )
    groups = parser.add_subparsers(dest="area", required=True)

    def leaf(sub: Any, name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        p.set_defaults(handler=handler)
        return p

    def with_tenant(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--tenant", required=True, help="tenant id")
        return p

    tenant = groups.add_parser("tenant", help="tenants, tokens, integration settings").add_subparsers(
        dest="action", required=True
    )
    p = leaf(
        tenant, "create", lambda s, a: admin.create_tenant(s, a.name), "create a tenant and its first secret token"
    )
    p.add_argument("--name", required=True)
    leaf(tenant, "list", lambda s, a: admin.list_tenants(s), "list tenants")
    with_tenant(leaf(tenant, "show", lambda s, a: admin.show_tenant(s, a.tenant), "settings and health of a tenant"))
    p = with_tenant(
        leaf(
            tenant,
            "token",
            lambda s, a: admin.rotate_token(s, a.tenant, a.grace_minutes),
            "generate a new secret token (the old one stops working, or after --grace-minutes)",
        )
    )
    p.add_argument("--grace-minutes", type=int, default=0, help="keep the old token valid this long (0..1440)")
    with_tenant(
        leaf(
            tenant,
            "disable",
            lambda s, a: admin.set_enabled(s, a.tenant, False),
            "disable the SCIM integration (token revoked)",
        )
    )
    with_tenant(
        leaf(tenant, "enable", lambda s, a: admin.set_enabled(s, a.tenant, True), "enable the SCIM integration again")
    )
    p = with_tenant(
        leaf(
            tenant,
            "settings",
            lambda s, a: admin.settings(s, a.tenant, auto_invite=a.auto_invite, retention_days=a.retention_days),
            "show or change settings",
        )
    )
    p.add_argument("--auto-invite", type=_on_off, help="invite newly provisioned users at once (on|off)")
    p.add_argument("--retention-days", type=positive_int, help="days archived employees are kept")
    with_tenant(leaf(tenant, "health", lambda s, a: admin.tenant_health(s, a.tenant), "integration health"))
    oauth.register(tenant, leaf, with_tenant, _on_off)
    p = with_tenant(leaf(tenant, "link", console.link, "link an Entra tenant: its admins manage this tenant"))
    p.add_argument("--entra-tenant-id", required=True, help="the customer's Entra tenant id (tid)")
    p.add_argument("--admin-group-id", help="object id of an Entra group whose members are admins too")

    emp = groups.add_parser("employees", help="the employee lifecycle").add_subparsers(dest="action", required=True)
    p = with_tenant(
        leaf(
            emp,
            "list",
            lambda s, a: admin.list_employees(s, a.tenant, status=a.status, limit=a.limit)["employees"],
            "list employees",
        )
    )
    p.add_argument("--status", choices=["staged", "invited", "active", "archived"])
    p.add_argument("--limit", type=positive_int, default=1000)
    p = with_tenant(
        leaf(
            emp,
            "invite",
            lambda s, a: admin.invite(s, a.tenant, ids=a.id, all_staged=a.all_staged, confirm_count=a.confirm_count),
            "send invitations (delivered through the configured mail channel)",
        )
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--all-staged", action="store_true")
    who.add_argument("--id", action="append", help="SCIM id of an employee (repeatable)")
    p.add_argument("--confirm-count", type=int, help="with --all-staged above 500: the number of staged employees")
    p = with_tenant(
        leaf(
            emp,
            "retry-invite",
            lambda s, a: admin.retry_invitation(s, a.tenant, a.id),
            "send a failed or given-up invitation again now",
        )
    )
    p.add_argument("--id", required=True)
    invitations.add_options(
        with_tenant(leaf(emp, "template", invitations.template, "show or change the invitation e-mail template"))
    )
    p = with_tenant(
        leaf(emp, "activate", lambda s, a: admin.activate(s, a.tenant, a.id), "mark an invited employee active")
    )
    p.add_argument("--id", required=True)
    p = with_tenant(
        leaf(emp, "delete", lambda s, a: admin.delete_employee(s, a.tenant, a.id), "delete an archived employee")
    )
    p.add_argument("--id", required=True)
    p = with_tenant(
        leaf(
            emp,
            "outbox",
            lambda s, a: admin.outbox(s, a.tenant, state=a.state),
            "invitations: delivery state and content",
        )
    )
    p.add_argument("--state", choices=["queued", "sending", "sent", "failed", "givenUp", "cancelled"])

    p = with_tenant(
        leaf(
            groups,
            "audit",
            lambda s, a: admin.audit_log(
                s, a.tenant, limit=a.limit, since=a.since, until=a.until, action=a.action, target_id=a.target
            )["events"],
            "audit log, newest first",
        )
    )
    p.add_argument("--limit", type=positive_int, default=100)
    p.add_argument("--since", help="ISO time")
    p.add_argument("--until", help="ISO time")
    p.add_argument("--action", help="e.g. user.create, or user for every user action")
    p.add_argument("--target", help="target id")

    p = leaf(groups, "reconcile", _reconcile, "run a reconciliation cycle now")
    p.add_argument("--tenant", help="only this tenant (default: every tenant that is due)")
    p.add_argument("--force", action="store_true", help="ignore the 45-minute cadence")
    p = with_tenant(leaf(groups, "cycles", _cycles, "past reconciliation reports"))
    p.add_argument("--limit", type=positive_int, default=20)

    webhooks.register(groups, leaf)
    p = leaf(groups, "console-link", lambda s, a: console.sign_in_link(s, a.tenant), "one-time console sign-in link")
    p.add_argument("--tenant", help="sign in as this tenant's admin (default: as an operator)")
    leaf(
        groups, "demo", lambda s, a: _demo(s), "make sure the local demo tenant exists; print its Tenant URL and token"
    )
    return parser


def _print(result: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    rows = result if isinstance(result, list) else [result]
    for row in rows:
        if isinstance(row, dict):
            print("  ".join(f"{k}={v}" for k, v in row.items() if not isinstance(v, (dict, list))))
        else:
            print(row)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.handler(default_storage(), args)
        if getattr(args, "tenant", None):
            delivery.after_change(default_storage(), args.tenant)  # a change's events go out before we return
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print(result, args.json)
    return 0
