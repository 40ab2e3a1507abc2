"""`python -m tools.admin employees template`: the tenant's invitation template from a shell (bodies
from files, since they are multi-line), and the options it takes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from shared import admin
from shared.store.client import Storage
from tools.cli_types import positive_int


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--subject", help="subject line; placeholders {displayName} {organisation} {expires}")
    p.add_argument("--text-file", type=Path, help="file with the plain-text body (must contain {invitationUrl})")
    p.add_argument("--html-file", type=Path, help="file with the HTML body (must contain {invitationUrl})")
    p.add_argument("--url", help="invitation URL template, e.g. https://vault.example.com/join/{invitationId}")
    p.add_argument("--rate-per-minute", type=positive_int, help="invitations this tenant sends per minute at most")
    p.add_argument("--reset", action="store_true", help="back to the default template (other options apply on top)")


def template(storage: Storage, args: argparse.Namespace) -> Any:
    """Without options: show the template; with options: change those fields."""
    changes: dict[str, Any] = {
        "subject": args.subject,
        "text": args.text_file.read_text(encoding="utf-8") if args.text_file else None,
        "html": args.html_file.read_text(encoding="utf-8") if args.html_file else None,
        "invitationUrl": args.url,
        "ratePerMinute": args.rate_per_minute,
    }
    return admin.invitation_template(
        storage, args.tenant, {k: v for k, v in changes.items() if v is not None}, reset=args.reset
    )
