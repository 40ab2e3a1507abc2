"""`python -m tools.entra_sim --url URL (--token T | OAUTH) --directory FILE [--cycles N] [--concurrency C]
[--flag-mode] [--json]`: run Entra's provisioning traffic against a SCIM endpoint and print a summary.
OAUTH is `--token-url U --client-id ID` with `--client-secret S [--client-auth basic]` (client credentials)
or `--federation-key PEM --issuer I --subject S --audience A [--federation-kid K] [--serve-jwks PORT]`
(workload identity federation); see docs/entra-simulator.md.
Exit codes: 0 no failure, 1 at least one failed request, 2 bad arguments or unreadable directory or key file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from tools.cli_types import positive_int
from tools.entra_sim import assertion, auth, patch, report
from tools.entra_sim import directory as directory_file
from tools.entra_sim.simulator import simulate

FLAG = "aadOptscim062020"


def _tenant_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.entra_sim",
        description="Provision a directory file into a SCIM endpoint the way Microsoft Entra ID does.",
    )
    parser.add_argument(
        "--url",
        required=True,
        type=_tenant_url,
        help=f"the Tenant URL, e.g. http://127.0.0.1:7071/scim/v2 (a ?{FLAG} query selects flag mode)",
    )
    parser.add_argument("--token", help="the long-lived Secret Token (sent as Authorization: Bearer)")
    parser.add_argument("--directory", required=True, type=Path, help="directory file with one or more snapshots")
    parser.add_argument(
        "--cycles",
        type=positive_int,
        help="cycles to run; cycle k replays snapshot min(k, last) (default: one per snapshot)",
    )
    parser.add_argument("--concurrency", type=positive_int, default=4, help="parallel requests (default 4)")
    parser.add_argument(
        "--flag-mode", action="store_true", help=f"send the {FLAG} dialect (lowercase ops, booleans, path-less replace)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    oauth = parser.add_argument_group("OAuth 2.0 client credentials (instead of --token)")
    oauth.add_argument("--token-url", type=_tenant_url, help="the token endpoint, e.g. https://<app>/oauth2/token")
    oauth.add_argument("--client-id", help="the client id the service gave for this tenant")
    oauth.add_argument("--client-secret", help="a client secret of that client")
    oauth.add_argument(
        "--client-auth",
        choices=("post", "basic"),
        default="post",
        help="send the secret in the form (client_secret_post, default) or as HTTP Basic (client_secret_basic)",
    )
    oauth.add_argument("--scope", help="a scope to ask for (default: none sent)")
    federation = parser.add_argument_group("workload identity federation (instead of --client-secret)")
    federation.add_argument("--federation-key", type=Path, help="PEM private key that signs the client assertions")
    federation.add_argument("--federation-kid", help="kid of the assertions (default: the key's RFC 7638 thumbprint)")
    federation.add_argument("--issuer", help="iss of the assertions (the issuer configured at the service)")
    federation.add_argument("--subject", help="sub of the assertions")
    federation.add_argument("--audience", help="aud of the assertions")
    federation.add_argument(
        "--serve-jwks",
        type=int,
        metavar="PORT",
        help="serve the key's JWKS at http://127.0.0.1:PORT/jwks.json while the run lasts (0: any free port)",
    )
    return parser


def _check_auth(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exactly one method, with everything it needs (argparse.error exits with 2)."""
    methods = [name for name in ("token", "client_secret", "federation_key") if getattr(args, name) is not None]
    if len(methods) != 1:
        parser.error("give exactly one of --token, --client-secret, --federation-key")
    oauth = ("token_url", "client_id")
    if args.token is not None and any(getattr(args, name) is not None for name in oauth):
        parser.error("--token-url and --client-id belong to --client-secret or --federation-key, not to --token")
    if args.token is None and any(getattr(args, name) is None for name in oauth):
        parser.error("--client-secret and --federation-key need --token-url and --client-id")
    needed = ("issuer", "subject", "audience")
    if args.federation_key is not None and any(getattr(args, name) is None for name in needed):
        parser.error("--federation-key needs --issuer, --subject and --audience")
    if args.federation_key is None and args.serve_jwks is not None:
        parser.error("--serve-jwks goes with --federation-key")


@contextmanager
def _credentials(args: argparse.Namespace, stderr: TextIO) -> Iterator[auth.Credentials]:
    """The run's credentials; with --serve-jwks the key set is served for as long as the run lasts."""

    def announce(text: str) -> None:
        print(text, file=stderr, flush=True)

    if args.token is not None:
        yield auth.SecretToken(args.token)
        return
    if args.client_secret is not None:
        basic = args.client_auth == "basic"
        yield auth.client_secret(
            args.token_url, args.client_id, args.client_secret, basic=basic, scope=args.scope, announce=announce
        )
        return
    key = assertion.load_key(args.federation_key)
    kid = args.federation_kid or assertion.thumbprint(key)
    signer = assertion.AssertionSigner(key, kid, args.issuer, args.subject, args.audience)
    serving = (
        assertion.serve_jwks(assertion.jwks(key, kid), args.serve_jwks)
        if args.serve_jwks is not None
        else nullcontext()
    )
    with serving as jwks_url:
        if jwks_url is not None:
            announce(f"[federation] JWKS served at {jwks_url} (kid {kid})")
        yield auth.federated(args.token_url, args.client_id, signer, scope=args.scope, announce=announce)


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        _check_auth(parser, args)
    except SystemExit as exc:  # argparse has printed the usage error
        return int(exc.code or 0)
    try:
        directory = directory_file.load(args.directory)
    except directory_file.DirectoryError as exc:
        print(f"error: {exc}", file=stderr)
        return 2
    flag = args.flag_mode or FLAG.lower() in urlsplit(args.url).query.lower()
    try:
        with _credentials(args, stderr) as credentials:
            result = simulate(
                args.url,
                credentials,
                directory,
                cycles=args.cycles or len(directory.snapshots),
                concurrency=args.concurrency,
                dialect=patch.FLAG if flag else patch.DEFAULT,
                progress_stream=stderr,
            )
    except (assertion.KeyFileError, OSError) as exc:  # the key file, or the --serve-jwks port
        print(f"error: {exc}", file=stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else report.render_text(result), file=stdout)
    return 1 if result["failures"] else 0
