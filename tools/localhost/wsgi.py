"""The HTTP side of the host: a WSGI app that routes each request to its HTTP-triggered function, hands it
a func.HttpRequest and turns the func.HttpResponse it returns back into HTTP."""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
from werkzeug.wrappers import Request, Response

from tools.localhost.functions import HttpFunction
from tools.localhost.keys import allowed
from tools.localhost.routing import Route, make_route, order, resolve

log = logging.getLogger("tools.localhost")

INTERNAL_ERROR = json.dumps({"error": "Exception while executing function"})


class FunctionsWsgi:
    def __init__(self, functions: Iterable[HttpFunction], route_prefix: str, function_key: str | None = None):
        self.routes: list[Route[HttpFunction]] = order(
            make_route(route_prefix, f.route, f.methods, f) for f in functions
        )
        self.function_key = function_key

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        path, query = raw_target(environ)
        response = self.dispatch(request, path, query)
        # The path only: query strings carry filter values (personal data) and function keys.
        log.info(
            '%s "%s %s" %s %.1fms',
            request.remote_addr,
            request.method,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response(environ, start_response)

    def dispatch(self, request: Request, path: str, query: str) -> Response:
        found = resolve(self.routes, path, request.method)
        if found is None:
            return Response(status=404)
        route, route_params = found
        if not allowed(request, route.target.auth_level, self.function_key):
            return Response(status=401)  # as Azure: no body
        try:
            return to_response(route.target.invocable(to_http_request(request, path, query, route_params)))
        except Exception:
            # The host answers 500 and logs the exception; the caller learns nothing more.
            print(f"Function {route.target.invocable.name} failed:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            return Response(INTERNAL_ERROR, status=500, mimetype="application/json")


def raw_target(environ: dict[str, Any]) -> tuple[str, str]:
    """(path, query) exactly as the client sent them: werkzeug's PATH_INFO is already decoded and folds a
    leading `//`, while routing must see the path as received."""
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not target:
        return environ.get("PATH_INFO") or "/", environ.get("QUERY_STRING", "")
    if not target.startswith("/"):  # absolute-form request target
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    path, _, query = target.partition("?")
    return path, query


def to_http_request(request: Request, path: str, query: str, route_params: dict[str, str]) -> func.HttpRequest:
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        # ASP.NET's query collection joins repeated keys with commas; the host passes that string on.
        params[key] = f"{params[key]},{value}" if key in params else value
    return func.HttpRequest(
        method=request.method,
        url=request.host_url.rstrip("/") + path + (f"?{query}" if query else ""),
        # As Azure's front ends: the caller's address in X-Forwarded-For (the token endpoint rate-limits by it).
        headers={"X-Forwarded-For": request.remote_addr or "", **dict(request.headers.items())},
        params=params,
        route_params=route_params,
        body=request.get_data(),
    )


def to_response(result: Any) -> Response:
    if isinstance(result, func.HttpResponse):
        response = Response(result.get_body(), status=result.status_code)
        response.headers.clear()
        for name, value in result.headers.items():  # keeps repeated headers such as Set-Cookie
            response.headers.add(name, value)
        if "content-type" not in {name.lower() for name in result.headers.keys()}:
            # As the worker's HttpResponseConverter: charset only on text/* types.
            mimetype = result.mimetype
            response.headers["Content-Type"] = (
                f"{mimetype}; charset={result.charset}" if mimetype.startswith("text/") else mimetype
            )
        return response
    if isinstance(result, str):
        return Response(result, status=200, mimetype="text/plain")
    if result is None:
        return Response(status=204)
    raise TypeError(f"an HTTP function returned {type(result).__name__}, not func.HttpResponse")
