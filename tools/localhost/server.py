"""Serve a FunctionApp: HTTP triggers through werkzeug, timer triggers on their NCRONTAB schedule."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import os
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import azure.functions as func
from croniter import croniter
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tools.localhost.routing import Route, make_route, resolve

log = logging.getLogger("localhost")


def load_app(spec: str) -> func.FunctionApp:
    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "app")


def route_prefix(host_json: Path) -> str:
    try:
        config = json.loads(host_json.read_text())
    except (OSError, ValueError):
        return "api"
    prefix = config.get("extensions", {}).get("http", {}).get("routePrefix")
    return "api" if prefix is None else prefix


def _call(function: Callable[..., Any], argument_name: str, argument: Any) -> Any:
    result = function(**{argument_name: argument})
    if inspect.isawaitable(result):
        result = asyncio.run(result)  # type: ignore[arg-type]
    return result


class Host:
    def __init__(self, app: func.FunctionApp, prefix: str):
        self.routes: list[Route] = []
        self.timers: list[tuple[str, str, str, Callable[..., Any]]] = []
        for function in app.get_functions():  # the Functions SDK allows exactly one call per app
            trigger = function.get_trigger().get_dict_repr()
            user_function = function.get_user_function()
            if trigger["type"] == "httpTrigger":
                methods = [str(getattr(m, "value", m)) for m in trigger.get("methods") or []]
                self.routes.append(make_route(prefix, trigger.get("route") or function.get_function_name(), methods, (trigger["name"], user_function)))
            elif trigger["type"] == "timerTrigger":
                schedule = _expand_setting(trigger["schedule"])
                self.timers.append((function.get_function_name(), schedule, trigger["name"], user_function))

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        started = time.perf_counter()
        response = self.handle(request)
        log.info("%s %s %s %.1fms", request.method, request.full_path.rstrip("?"), response.status_code, (time.perf_counter() - started) * 1000)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        raw_path = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
        raw_path = raw_path.split("?", 1)[0]
        found = resolve(self.routes, raw_path, request.method)
        if found is None:
            return Response(status=404)
        route, params = found
        argument_name, function = route.target
        http_request = func.HttpRequest(
            method=request.method,
            url=request.url,
            headers=dict(request.headers),
            params={k: v for k, v in request.args.items()},
            route_params=params,
            body=request.get_data(),
        )
        try:
            result = _call(function, argument_name, http_request)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return Response(json.dumps({"error": "Exception while executing function"}), status=500, mimetype="application/json")
        return _to_response(result)

    def run_timers(self, stop: threading.Event) -> None:
        schedules = []
        for name, schedule, argument_name, function in self.timers:
            fields = schedule.split()
            cron = " ".join(fields[1:] + fields[:1]) if len(fields) == 6 else schedule  # NCRONTAB puts seconds first
            schedules.append([name, croniter(cron, datetime.now(timezone.utc)), argument_name, function])
            schedules[-1].append(schedules[-1][1].get_next(float))
        while not stop.is_set():
            now = time.time()
            for entry in schedules:
                name, iterator, argument_name, function, due = entry
                if now >= due:
                    entry[4] = iterator.get_next(float)
                    try:
                        _call(function, argument_name, _TimerRequest())
                    except Exception:
                        log.exception("timer %s failed", name)
            stop.wait(0.2)


class _TimerRequest(func.TimerRequest):
    @property
    def past_due(self) -> bool:
        return False


def _expand_setting(value: str) -> str:
    """`%NAME%` binding expressions resolve from app settings, as the Functions host does."""
    if value.startswith("%") and value.endswith("%") and len(value) > 2:
        from shared.config import DEFAULT_RECONCILE_SCHEDULE

        return os.environ.get(value[1:-1]) or DEFAULT_RECONCILE_SCHEDULE
    return value


def _to_response(result: Any) -> Response:
    if result is None:
        return Response(status=204)
    if isinstance(result, func.HttpResponse):
        response = Response(result.get_body(), status=result.status_code)
        response.headers.clear()
        for key, value in result.headers.items():
            response.headers.add(key, value)
        if "content-type" not in {k.lower() for k in result.headers.keys()} and result.mimetype:
            response.headers["Content-Type"] = f"{result.mimetype}; charset={result.charset}" if result.charset else result.mimetype
        return response
    return Response(str(result), status=200)


def serve(app_spec: str, host: str, port: int, timers: bool) -> None:
    os.environ.setdefault("SCIM_PUBLIC_BASE_URL", f"http://{host}:{port}")
    functions_host = Host(load_app(app_spec), route_prefix(Path("host.json")))
    server = make_server(host, port, functions_host.wsgi, threaded=True)
    stop = threading.Event()
    if timers and functions_host.timers:
        threading.Thread(target=functions_host.run_timers, args=(stop,), daemon=True, name="timers").start()
    print(f"Listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
