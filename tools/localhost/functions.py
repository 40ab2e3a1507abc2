"""Read a FunctionApp's functions the way the Functions host indexes them, and invoke them."""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import azure.functions as func


@dataclass(frozen=True)
class Invocable:
    name: str  # function name, as the host logs it
    argument: str  # the trigger binding's name = the parameter the function takes its input by
    function: Callable[..., Any]

    def __call__(self, value: Any) -> Any:
        result = self.function(**{self.argument: value})
        if inspect.isawaitable(result):
            # The Python worker awaits `async def` functions; each threaded request gets its own loop.
            result = asyncio.run(_awaited(result))
        return result


@dataclass(frozen=True)
class HttpFunction:
    invocable: Invocable
    route: str
    methods: tuple[str, ...]  # empty: every method
    auth_level: str  # function | admin | anonymous: enforced when a key is configured (tools.localhost.keys)


@dataclass(frozen=True)
class TimerFunction:
    invocable: Invocable
    schedule: str  # NCRONTAB as declared, possibly a %SETTING% expression
    run_on_startup: bool


@dataclass(frozen=True)
class Functions:
    http: tuple[HttpFunction, ...]
    timers: tuple[TimerFunction, ...]


def load_app(spec: str) -> func.FunctionApp:
    """`module:attribute` (attribute defaults to `app`), imported like the worker imports function_app.py."""
    module_name, _, attribute = spec.partition(":")
    app = getattr(importlib.import_module(module_name), attribute or "app", None)
    if not isinstance(app, func.FunctionApp):
        raise SystemExit(f"{spec!r} is not an azure.functions.FunctionApp")
    return app


def index(app: func.FunctionApp) -> Functions:
    """Every function by its trigger. get_functions() may be called only once per app: the SDK
    re-validates names on each call and then finds every function twice."""
    http: list[HttpFunction] = []
    timers: list[TimerFunction] = []
    for function in app.get_functions():
        trigger, name = function.get_trigger(), function.get_function_name()
        assert trigger is not None and name is not None, "the SDK registers no function without both"
        binding = trigger.get_dict_repr()
        invocable = Invocable(name, binding["name"], function.get_user_function())
        if binding["name"] not in inspect.signature(invocable.function).parameters:
            # The worker refuses to load such a function; failing at startup beats a 500 per request.
            raise SystemExit(
                f"function {invocable.name}: no parameter named {binding['name']!r} for its trigger binding"
            )
        if binding["type"] == "httpTrigger":
            methods = tuple(str(getattr(m, "value", m)).upper() for m in binding.get("methods") or ())
            auth = binding.get("authLevel")
            http.append(
                HttpFunction(
                    invocable, binding.get("route") or invocable.name, methods, str(getattr(auth, "value", auth))
                )
            )
        elif binding["type"] == "timerTrigger":
            timers.append(TimerFunction(invocable, binding["schedule"], bool(binding.get("runOnStartup"))))
        else:
            raise SystemExit(
                f"function {invocable.name}: {binding['type']} triggers are not supported by the local host"
            )
    return Functions(tuple(http), tuple(timers))


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
