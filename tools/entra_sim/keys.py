"""`python -m tools.entra_sim.keys --key FILE [--jwks FILE] [--kid K] [--json]`: the key pair for a
federation rehearsal. Creates an RSA 2048 private key in FILE (PEM) unless it exists, writes its public
JWKS where asked, and prints the kid and the JWKS. Exit codes: 0 done, 2 unusable key file."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TextIO

from tools.entra_sim import assertion


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.entra_sim.keys",
        description="Create (or reuse) the signing key of a federation rehearsal and print its JWKS.",
    )
    parser.add_argument("--key", required=True, type=Path, help="PEM private key; created (RSA 2048) if missing")
    parser.add_argument("--jwks", type=Path, help="also write the public JWKS to this file (publish it over https)")
    parser.add_argument("--kid", help="the key id (default: the key's RFC 7638 thumbprint)")
    parser.add_argument("--json", action="store_true", help='print {"kid", "jwks"} as one JSON object')
    return parser


def _create(path: Path) -> None:
    """Write a new key readable by its owner only (it is a credential)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(assertion.key_pem(assertion.new_key()))


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if not args.key.exists():
            _create(args.key)
        key = assertion.load_key(args.key)
    except (OSError, assertion.KeyFileError) as exc:
        print(f"error: {exc}", file=stderr)
        return 2
    kid = args.kid or assertion.thumbprint(key)
    document = assertion.jwks(key, kid)
    if args.jwks is not None:
        args.jwks.write_text(json.dumps(document, indent=2) + "\n")
    if args.json:
        print(json.dumps({"kid": kid, "jwks": document}), file=stdout)
    else:
        print(f"kid: {kid}\n{json.dumps(document, indent=2)}", file=stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
