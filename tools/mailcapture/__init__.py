"""A capture SMTP server for local runs and tests: it accepts every message on a loopback port and keeps
it where a person can read it (one .eml file per message plus index.jsonl, one line per message). Nothing
is relayed. Tests start it on a free port, optionally with STARTTLS or implicit TLS, a login, or a fixed
refusal (`reply`, e.g. "451 4.3.0 try later") to play a failing provider."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"] or "")

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else ""


@dataclass
class CaptureHandler:
    directory: Path | None = None
    port: int = 0
    reply: str | None = None  # answer DATA with this instead of accepting (a failing provider)
    messages: list[Captured] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        captured = Captured(envelope.mail_from, list(envelope.rcpt_tos), message)
        with self._lock:
            self.messages.append(captured)
            if self.directory is not None:
                self._store(captured, envelope.content, len(self.messages))
        return "250 2.0.0 captured"

    def _store(self, captured: Captured, raw: bytes, number: int) -> None:
        assert self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{number:05d}.eml"  # sorts by time across restarts
        (self.directory / name).write_bytes(raw)
        line = {
            "file": name,
            "from": captured.mail_from,
            "to": captured.rcpt_tos,
            "subject": str(captured.message["Subject"] or ""),
            "messageId": captured.message_id,
            "date": str(captured.message["Date"] or ""),
        }
        with open(self.directory / "index.jsonl", "a", encoding="utf-8") as index:
            index.write(json.dumps(line, ensure_ascii=False) + "\n")


class _Login:
    """Accepts exactly one username and password (tests of the SMTP login)."""

    def __init__(self, username: str, password: str):
        self.expected = (username.encode(), password.encode())

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == self.expected
        return AuthResult(success=ok, handled=False)


def start(
    port: int,
    *,
    directory: Path | None = None,
    starttls: Any = None,  # an ssl.SSLContext offered through STARTTLS (and then required)
    implicit_tls: Any = None,  # an ssl.SSLContext for TLS from the first byte (port 465 style)
    login: tuple[str, str] | None = None,
) -> tuple[Controller, CaptureHandler]:
    """Start a capture server on 127.0.0.1:port in a thread; stop it with controller.stop()."""
    handler = CaptureHandler(directory, port)
    options: dict[str, Any] = {}
    if starttls is not None:
        options.update(tls_context=starttls, require_starttls=True)
    if login is not None:
        options.update(authenticator=_Login(*login), auth_required=True, auth_require_tls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=implicit_tls, **options)
    controller.start()
    return controller, handler
