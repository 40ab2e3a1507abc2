"""`python -m tools.entra_sim --url URL --token T --directory FILE [--cycles N] [--concurrency C]
[--flag-mode] [--json]`: run Entra's provisioning traffic against a SCIM endpoint and print a summary.
Exit codes: 0 no failure, 1 at least one failed request, 2 bad arguments or unreadable directory file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from tools.cli_types import positive_int
from tools.entra_sim import directory as directory_file
from tools.entra_sim import patch, report
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
    parser.add_argument("--token", required=True, help="the secret token (sent as Authorization: Bearer)")
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
    return parser


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error
        return int(exc.code or 0)
    try:
        directory = directory_file.load(args.directory)
    except directory_file.DirectoryError as exc:
        print(f"error: {exc}", file=stderr)
        return 2
    flag = args.flag_mode or FLAG.lower() in urlsplit(args.url).query.lower()
    result = simulate(
        args.url,
        args.token,
        directory,
        cycles=args.cycles or len(directory.snapshots),
        concurrency=args.concurrency,
        dialect=patch.FLAG if flag else patch.DEFAULT,
        progress_stream=stderr,
    )
    print(json.dumps(result, indent=2) if args.json else report.render_text(result), file=stdout)
    return 1 if result["failures"] else 0
