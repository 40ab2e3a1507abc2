"""A small FunctionApp for the local host's own tests: each function reports what the host handed it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _seen(name: str, req: func.HttpRequest) -> func.HttpResponse:
    body = {
        "function": name,
        "method": req.method,
        "url": req.url,
        "params": dict(req.params),
        "route": dict(req.route_params),
        "headers": dict(req.headers),
        "body": req.get_body().decode("utf-8", "replace"),
        "public_base_url": os.environ.get("SCIM_PUBLIC_BASE_URL"),
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="items/new", methods=["GET"])
def item_new(req: func.HttpRequest) -> func.HttpResponse:
    return _seen("item_new", req)


@app.route(route="items/{id:int}", methods=["GET"])
def item_by_number(req: func.HttpRequest) -> func.HttpResponse:
    return _seen("item_by_number", req)


@app.route(route="items/{name}", methods=["GET", "DELETE"])
def item_by_name(req: func.HttpRequest) -> func.HttpResponse:
    return _seen("item_by_name", req)


@app.route(route="pages/{slug?}", methods=["GET"])
def page(req: func.HttpRequest) -> func.HttpResponse:
    return _seen("page", req)


@app.route(route="echo", methods=["POST", "PUT"], trigger_arg_name="request")
def echo(request: func.HttpRequest) -> func.HttpResponse:
    return _seen("echo", request)


@app.route(route="created", methods=["POST"])
def created(req: func.HttpRequest) -> func.HttpResponse:
    response = func.HttpResponse(
        "made", status_code=201, headers={"Location": "/items/7"}, mimetype="text/html", charset="latin-1"
    )
    response.headers.add("Set-Cookie", "a=1")
    response.headers.add("Set-Cookie", "b=2")
    return response


@app.route(route="asynchronous", methods=["GET"])
async def asynchronous(req: func.HttpRequest) -> func.HttpResponse:
    return _seen("asynchronous", req)


@app.route(route="boom", methods=["GET"])
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("secret detail that must not reach the client")


@app.route(route="keyed", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def keyed(req: func.HttpRequest) -> func.HttpResponse:
    return _seen("keyed", req)


@app.route(route="{*rest}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def anything_else(req: func.HttpRequest) -> func.HttpResponse:
    return _seen("anything_else", req)


@app.timer_trigger(arg_name="tick", schedule="* * * * * *", run_on_startup=False)
def every_second(tick: func.TimerRequest) -> None:
    with Path(os.environ["SAMPLE_TIMER_FILE"]).open("a") as out:
        out.write(f"past_due={tick.past_due}\n")


@app.timer_trigger(arg_name="tick", schedule="%SAMPLE_FAILING_SCHEDULE%")
def failing_timer(tick: func.TimerRequest) -> None:
    raise RuntimeError("timer failure is logged, not fatal")
