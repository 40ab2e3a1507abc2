"""A webhook receiver on loopback for the tests: records every POST and checks its signature with the
`verify` function printed in docs/webhooks.md (so the documented example is what the tests run).

Each path is one endpoint; a test scripts its answers (`answers[path] = [500, 400, "hang", ...]`, then
200 once the script is used up) and registers the secret it got from `webhooks add`."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verify() -> Callable[[str, str, bytes], bool]:
    text = DOC.read_text()
    section = text.split("## Verifying the signature", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "docs/webhooks.md lost its verification example"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes
    verified: bool

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.raw)


@dataclass
class Receiver:
    port: int = 0
    secrets: dict[str, str] = field(default_factory=dict)
    answers: dict[str, list[Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    hang_seconds: float = 2.0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def events(self, path: str) -> list[dict[str, Any]]:
        """Events the endpoint acknowledged (2xx), in arrival order; every one carried a valid signature."""
        got = [r for r in self.received if r.path == path and r.headers.get("x-answer") == "200"]
        assert all(r.verified for r in got), "a delivery failed signature verification"
        return [r.event for r in got]

    def attempts(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


def _handler(receiver: Receiver, verify: Callable[[str, str, bytes], bool]) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                script = receiver.answers.get(self.path) or []
                answer = script.pop(0) if script else 200
            secret = receiver.secrets.get(self.path, "")
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = bool(secret) and verify(secret, headers.get("x-scim-signature", ""), raw)
            headers["x-answer"] = str(answer)
            with lock:
                receiver.received.append(Received(self.path, headers, raw, verified))
            if answer == "hang":
                time.sleep(receiver.hang_seconds)
                answer = 200  # too late: the sender has given up on this attempt
            if answer == 200 and not verified:
                answer = 401  # a receiver rejects what it cannot verify
                headers["x-answer"] = "401"
            self.send_response(int(answer))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver, documented_verify()))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
