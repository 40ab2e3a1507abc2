"""HTTP/1.1 persistent connections for the local host, as the Functions host (Kestrel) keeps them.

werkzeug's development server sends `Connection: close` on every response (its run_wsgi cannot drain a
request body it did not read without eating the next request line), so each request paid a new TCP
connection and a new thread. This handler keeps werkzeug's request parsing (make_environ) and replaces
only the response side: the request body is bounded by its Content-Length (or its chunked framing) and
drained after the function ran, the response carries its Content-Length, and the connection stays open
until the client closes it, asks to, or idles past KEEP_ALIVE_SECONDS. One thread serves one
connection for its whole life (socketserver.ThreadingMixIn), not one request.
"""

from __future__ import annotations

import logging
from typing import IO, Any, cast

from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

KEEP_ALIVE_SECONDS = 130  # Kestrel's default KeepAliveTimeout (2 min 10 s)
_NO_BODY = frozenset({204, 304})
_INTERNAL_ERROR = b'{"error": "Exception while executing function"}'

log = logging.getLogger("tools.localhost")


class KeepAliveRequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    # An idle connection's thread ends after this: http.server's handle_one_request takes the socket
    # timeout as the end of the connection.
    timeout = KEEP_ALIVE_SECONDS

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        if not environ.get("wsgi.input_terminated"):
            # Without chunked framing the body is exactly Content-Length bytes: reads stop there, and
            # what the function left unread is drained below instead of being taken for a request line.
            stream = cast("IO[bytes]", self.rfile)  # a BufferedReader over the socket
            environ["wsgi.input"] = LimitedStream(stream, self._content_length(environ))
        return environ

    def _content_length(self, environ: dict[str, Any]) -> int:
        text = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if text.isdigit():
            return int(text)
        self.close_connection = True  # no framing to trust: read nothing and end the connection after
        return 0

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return lambda data: None  # the legacy write() callable; FunctionsWsgi returns its body instead

        try:
            result = self.server.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            status, headers = started
        except Exception:  # FunctionsWsgi answers function failures itself; this is the host's own bug
            log.exception("the local host failed on a %s request", self.command)
            status, headers, body = "500 INTERNAL SERVER ERROR", [("Content-Type", "application/json")], _INTERNAL_ERROR
            self.close_connection = True
        self._drain(environ)
        self._send(status, headers, body)

    def _drain(self, environ: dict[str, Any]) -> None:
        stream = environ["wsgi.input"]
        try:
            if isinstance(stream, LimitedStream):
                stream.exhaust()
            else:
                while stream.read(65536):
                    pass
        except (OSError, ValueError):
            self.close_connection = True  # a body we cannot frame leaves the stream unusable

    def _send(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        self.send_response(code, reason)
        names = set()
        for name, value in headers:
            if name.lower() in ("content-length", "connection", "transfer-encoding"):
                continue  # framing is the host's: the length of what is actually sent
            self.send_header(name, value)
            names.add(name.lower())
        if code not in _NO_BODY and not 100 <= code < 200:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD" and code not in _NO_BODY:
            self.wfile.write(body)
        self.wfile.flush()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """FunctionsWsgi writes the access log (without query strings); werkzeug's line would repeat it."""
