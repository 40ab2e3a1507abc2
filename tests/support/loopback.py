"""A tiny real HTTP server on 127.0.0.1 whose answers a test sets per path, and which records what it got.

Used where the code under test talks HTTP to something outside this service (a JWKS endpoint, a token
endpoint): the client then runs its real network code against a real socket.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


Responder = Callable[[Received], Answer]


class Loopback:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self.routes: dict[str, Responder] = {}
        self.received: list[Received] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def answer(self, path: str, answer: Answer | Responder) -> None:
        """Answer requests to `path` with a fixed answer or one computed from the request."""
        self.routes[path] = answer if callable(answer) else (lambda _request: answer)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.received if r.path == path)


@contextmanager
def loopback() -> Iterator[Loopback]:
    """Serve until the block ends; a path without an answer gets 404."""
    holder: list[Loopback] = []

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Received(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            server = holder[0]
            server.received.append(request)
            responder = server.routes.get(self.path.split("?", 1)[0])
            answer = responder(request) if responder else Answer(404, b"{}")
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder.append(Loopback(server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
