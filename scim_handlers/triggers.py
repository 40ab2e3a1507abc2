"""SCIM routes declared once: each becomes its own HTTP trigger, and the same table lets the catch-all
route re-dispatch paths the host could not match (a doubled slash, a trailing slash)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import azure.functions as func

from scim_handlers.http import Call, run
from scim_handlers.pipeline import Reply
from shared.tenants import SCIM_PATH

SCIM_ROUTE_PREFIX = SCIM_PATH.lstrip("/") + "/"  # host routes carry no leading slash


@dataclass(frozen=True)
class ScimRoute:
    name: str  # function name, unique in the app
    template: str  # below /scim/v2, e.g. "Users/{id}"
    methods: tuple[str, ...]
    handler: Callable[[Call], Reply]
    authenticated: bool = True

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        return re.compile(f"^{regex}$", re.IGNORECASE)


def invoke(route: ScimRoute, req: func.HttpRequest, route_params: dict[str, str]) -> func.HttpResponse:
    call = Call(req=req, route=route.template.split("/")[0], route_params=route_params)
    return run(call, route.handler, authenticated=route.authenticated)


def blueprint(routes: Iterable[ScimRoute]) -> func.Blueprint:
    bp = func.Blueprint()
    for route in routes:
        _register(bp, route)
    return bp


def _register(bp: func.Blueprint, route: ScimRoute) -> None:
    def trigger(req: func.HttpRequest) -> func.HttpResponse:
        return invoke(route, req, dict(req.route_params))

    trigger.__name__ = route.name
    bp.function_name(route.name)(
        bp.route(
            route=SCIM_ROUTE_PREFIX + route.template, methods=list(route.methods), auth_level=func.AuthLevel.ANONYMOUS
        )(trigger)
    )


def resolve(routes: Iterable[ScimRoute], path: str, method: str) -> tuple[ScimRoute | None, dict[str, str], bool]:
    """(route, route params, path known) for a path below /scim/v2 after collapsing empty segments."""
    clean = "/".join(part for part in path.split("/") if part)
    known = False
    for route in routes:
        match = route.pattern.match(clean)
        if match:
            known = True
            if method.upper() in route.methods:
                return route, match.groupdict(), True
    return None, {}, known
