"""The `tenant` subcommands for OAuth: client secrets, federation, methods and access-token lifetime.
Each calls shared.oauth.manage (the same functions as the admin API); cli.py registers them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from shared import tenants
from shared.oauth import clients, manage

Leaf = Callable[[Any, str, Callable[..., Any], str], argparse.ArgumentParser]


def _whole(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None


def _methods(args: argparse.Namespace) -> dict[str, bool]:
    wanted = {
        tenants.BEARER: args.bearer,
        tenants.CLIENT_SECRET: args.client_secret,
        tenants.FEDERATION: args.federation,
    }
    return {name: on for name, on in wanted.items() if on is not None}


def register(
    tenant: Any,
    leaf: Leaf,
    with_tenant: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
    on_off: Callable[[str], bool],
) -> None:
    def command(name: str, handler: Callable[..., Any], help_: str) -> argparse.ArgumentParser:
        return with_tenant(leaf(tenant, name, handler, help_))

    p = command(
        "oauth-secret",
        lambda s, a: manage.create_secret(s, a.tenant, a.expires_days),
        "create an OAuth client secret (shown once; at most two active)",
    )
    p.add_argument(
        "--expires-days",
        type=_whole,
        default=clients.DEFAULT_SECRET_DAYS,
        help=f"{clients.MIN_SECRET_DAYS}..{clients.MAX_SECRET_DAYS} (default {clients.DEFAULT_SECRET_DAYS})",
    )
    p = command(
        "oauth-secret-revoke",
        lambda s, a: manage.revoke_secret(s, a.tenant, a.secret_id),
        "revoke a client secret; access tokens issued from it stop working",
    )
    p.add_argument("--secret-id", required=True)
    command("oauth-secrets", lambda s, a: manage.show(s, a.tenant), "client id, token URL, secrets, federation")
    p = command(
        "federation",
        lambda s, a: manage.set_federation(
            s, a.tenant, issuer=a.issuer, jwks_url=a.jwks_url, subject=a.subject, audience=a.audience
        ),
        "configure workload identity federation (the values Entra shows)",
    )
    for flag in ("--issuer", "--jwks-url", "--subject", "--audience"):
        p.add_argument(flag, required=True)
    p = command(
        "methods", lambda s, a: manage.set_methods(s, a.tenant, _methods(a)), "turn authentication methods on or off"
    )
    p.add_argument("--bearer", type=on_off, help="the long-lived secret token (on|off)")
    p.add_argument("--client-secret", type=on_off, help="OAuth client credentials with a secret (on|off)")
    p.add_argument("--federation", type=on_off, help="OAuth workload identity federation (on|off)")
    p = command(
        "oauth-settings",
        lambda s, a: manage.settings(s, a.tenant, access_token_minutes=a.access_token_minutes),
        "show or change the access-token lifetime",
    )
    p.add_argument(
        "--access-token-minutes",
        type=_whole,
        help=f"{clients.MIN_ACCESS_MINUTES}..{clients.MAX_ACCESS_MINUTES} (default {clients.DEFAULT_ACCESS_MINUTES})",
    )
