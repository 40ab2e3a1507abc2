"""Compose the host: import the app, index its functions once, serve HTTP with werkzeug, start timers."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from werkzeug.serving import make_server

from tools.localhost.functions import index, load_app
from tools.localhost.keepalive import KeepAliveRequestHandler
from tools.localhost.keys import FUNCTION_KEY_ENV, check_bind
from tools.localhost.timers import start_timers
from tools.localhost.wsgi import FunctionsWsgi

DEFAULT_ROUTE_PREFIX = "api"


def route_prefix(host_json: Path) -> str:
    """extensions.http.routePrefix from host.json; the host's default "api" when the file or key is absent."""
    try:
        config = json.loads(host_json.read_text())
    except FileNotFoundError:
        return DEFAULT_ROUTE_PREFIX
    prefix = config.get("extensions", {}).get("http", {}).get("routePrefix")
    return DEFAULT_ROUTE_PREFIX if prefix is None else prefix.strip("/")


class RawPathRequestHandler(KeepAliveRequestHandler):
    """Python's http.server folds a leading `//` in the request path (a guard for its file server); the
    Functions host does not, so the target is taken from the request line as sent."""

    def make_environ(self) -> dict:
        environ = super().make_environ()
        words = self.requestline.split()
        if len(words) >= 2:
            environ["RAW_URI"] = environ["REQUEST_URI"] = words[1]
        return environ


def serve(app_spec: str, host: str, port: int, timers: bool, host_json: Path) -> None:
    function_key = os.environ.get(FUNCTION_KEY_ENV) or None
    check_bind(host, function_key)
    # Before the app is imported: its settings may be read at import time.
    os.environ.setdefault("SCIM_PUBLIC_BASE_URL", f"http://{host}:{port}")
    functions = index(load_app(app_spec))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # our own access log replaces werkzeug's
    server = make_server(
        host,
        port,
        FunctionsWsgi(functions.http, route_prefix(host_json), function_key),
        threaded=True,
        request_handler=RawPathRequestHandler,
    )
    stop = threading.Event()
    if timers:
        start_timers(functions.timers, stop)
    print(f"Listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
