"""The local Functions host: route templates and their precedence, request/response translation over
real HTTP (tests/support/sample_app.py), timers firing on their NCRONTAB schedule."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import azure.functions as func
import pytest
import requests

from tools import processes
from tools.localhost.functions import index
from tools.localhost.keys import FUNCTION_KEY_ENV, is_loopback
from tools.localhost.routing import Template, make_route, order, resolve
from tools.localhost.server import route_prefix
from tools.localhost.timers import resolve_schedule, schedule_after

# --- route templates (no I/O) -------------------------------------------------------------------------


def _winner(templates: list[str], path: str, method: str = "GET") -> str | None:
    routes = order(make_route("", t, ["GET"], t) for t in templates)
    found = resolve(routes, path, method)
    return found[0].target if found else None


@pytest.mark.parametrize(
    "templates",
    [
        ["{*rest}", "items/{name}", "items/{id:int}", "items/new"],
        ["items/new", "items/{id:int}", "items/{name}", "{*rest}"],
    ],
)
def test_precedence_does_not_depend_on_registration_order(templates):
    assert _winner(templates, "/items/new") == "items/new"
    assert _winner(templates, "/items/42") == "items/{id:int}"
    assert _winner(templates, "/items/abc") == "items/{name}"
    assert _winner(templates, "/other/thing") == "{*rest}"


def test_method_outside_the_function_methods_does_not_match():
    assert _winner(["items/new"], "/items/new", "POST") is None


@pytest.mark.parametrize(
    "template,path,expected",
    [
        ("scim/v2/Users/{id}", "/SCIM/v2/users/a%20b", {"id": "a b"}),
        ("scim/v2/Users", "/scim/v2/Users/", {}),  # one trailing slash is tolerated, as in ASP.NET Core
        ("scim/v2/Users", "/scim/v2//Users", None),  # doubled slashes are not folded
        ("scim/v2/{*path}", "/scim/v2//Users", {"path": "/Users"}),
        ("scim/v2/{*path}", "/scim/v2/Groups/1/x", {"path": "Groups/1/x"}),
        ("scim/v2/{*path}", "/scim/v2", {}),
        ("pages/{slug?}", "/pages", {}),
        ("pages/{slug=home}", "/pages", {"slug": "home"}),
        ("pages/{slug}", "/pages", None),
        ("pages/{slug}", "/pages/a/b", None),
        ("n/{id:int}", "/n/2147483648", None),
        ("n/{id:int:range(1,9)}", "/n/5", {"id": "5"}),
        ("n/{id:int:range(1,9)}", "/n/10", None),
        ("c/{code:regex(^(ab|cd)\\d{{2}}$)}", "/c/CD12", {"code": "CD12"}),
        ("c/{code:regex(^(ab|cd)\\d{{2}}$)}", "/c/ef12", None),
        ("c/{code:alpha:minlength(2)}", "/c/a", None),
        ("g/{id:guid}", "/g/0f8fad5b-d9cb-469f-a165-70867728950e", {"id": "0f8fad5b-d9cb-469f-a165-70867728950e"}),
    ],
)
def test_template_matching(template, path, expected):
    assert Template.parse(template).match(path) == expected


@pytest.mark.parametrize("template", ["a/{*rest}/b", "a/{x?}/b", "a/{x:nosuch}", "a/{x}.{y}", "a/{x}/{X}"])
def test_templates_the_host_would_refuse_fail_at_startup(template):
    with pytest.raises(ValueError):
        Template.parse(template)


def test_route_prefix_comes_from_host_json(tmp_path):
    host_json = tmp_path / "host.json"
    assert route_prefix(host_json) == "api"  # no host.json: the host's default
    host_json.write_text(json.dumps({"version": "2.0"}))
    assert route_prefix(host_json) == "api"
    host_json.write_text(json.dumps({"extensions": {"http": {"routePrefix": ""}}}))
    assert route_prefix(host_json) == ""
    host_json.write_text(json.dumps({"extensions": {"http": {"routePrefix": "/v1/"}}}))
    assert route_prefix(host_json) == "v1"
    assert route_prefix(processes.ROOT / "host.json") == ""  # the project's: SCIM at /scim/v2, admin at /api/admin


def test_ncrontab_has_seconds_first_and_settings_resolve():
    start = datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC).timestamp()
    assert schedule_after("0 */15 * * * *", start).get_next(datetime) == datetime(2026, 1, 1, 0, 15, 0, tzinfo=UTC)
    assert schedule_after("*/10 * * * * *", start).get_next(datetime) == datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)
    with pytest.raises(ValueError):
        schedule_after("*/15 * * * *", start)  # 5-field cron is not NCRONTAB
    assert resolve_schedule("%TICK%", {"TICK": "0 0 * * * *"}) == "0 0 * * * *"
    with pytest.raises(ValueError):
        resolve_schedule("%TICK%", {})


def test_index_reads_each_trigger_from_one_get_functions_call():
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="things/{id}", methods=["GET", "PATCH"])
    def thing(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("ok")

    @app.function_name("nightly")
    @app.timer_trigger(arg_name="timer", schedule="0 0 2 * * *", run_on_startup=True)
    def nightly_job(timer: func.TimerRequest) -> None:
        return None

    functions = index(app)
    (http_function,) = functions.http
    assert (http_function.route, http_function.methods, http_function.auth_level) == (
        "things/{id}",
        ("GET", "PATCH"),
        "function",
    )
    assert (http_function.invocable.name, http_function.invocable.argument) == ("thing", "req")
    (timer,) = functions.timers
    assert (timer.invocable.name, timer.invocable.argument, timer.schedule, timer.run_on_startup) == (
        "nightly",
        "timer",
        "0 0 2 * * *",
        True,
    )


def test_a_function_without_a_parameter_for_its_binding_fails_at_startup():
    app = func.FunctionApp()

    @app.route(route="x")  # the binding is named `req` by default
    def misnamed(request: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("never")

    with pytest.raises(SystemExit, match="misnamed"):
        index(app)


# --- the host over HTTP ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    work = tmp_path_factory.mktemp("sample")
    port = processes.free_port()
    env = {k: v for k, v in os.environ.items() if k != "SCIM_PUBLIC_BASE_URL"}
    env.update(SAMPLE_TIMER_FILE=str(work / "ticks.txt"), SAMPLE_FAILING_SCHEDULE="* * * * * *")
    log = work / "localhost.log"
    process = processes.start_localhost(port, env, log, app="tests.support.sample_app:app", timers=True)
    yield {"base": f"http://127.0.0.1:{port}", "port": port, "log": log, "ticks": work / "ticks.txt"}
    processes.stop(process)


def _get(sample: dict, path: str, method: str = "GET", **kwargs) -> requests.Response:
    return requests.request(method, sample["base"] + path, timeout=10, **kwargs)


def _raw(sample: dict, method: str, path: str) -> tuple[int, bytes]:
    """http.client sends the path byte for byte (no client-side normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", sample["port"], timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path,function,route",
    [
        ("/items/new", "item_new", {}),
        ("/ITEMS/New", "item_new", {}),
        ("/items/new/", "item_new", {}),
        ("/items/42", "item_by_number", {"id": "42"}),
        ("/items/a%20b", "item_by_name", {"name": "a b"}),
        ("/pages", "page", {}),
        ("/pages/about", "page", {"slug": "about"}),
        ("/api/items/new", "anything_else", {"rest": "api/items/new"}),  # routePrefix "" from the repo's host.json
    ],
)
def test_requests_reach_the_function_the_host_would_pick(sample, path, function, route):
    seen = _get(sample, path).json()
    assert (seen["function"], seen["route"]) == (function, route)


def test_wrong_method_falls_through_to_the_catch_all_and_unmatched_is_404(sample):
    seen = _get(sample, "/items/new", "POST").json()
    assert (seen["function"], seen["route"]) == ("anything_else", {"rest": "items/new"})
    assert _get(sample, "/items/new", "OPTIONS").status_code == 404  # no function takes OPTIONS


def test_doubled_slashes_reach_the_app_unchanged(sample):
    status, body = _raw(sample, "GET", "//items//new?x=1")
    seen = json.loads(body)
    assert status == 200
    assert (seen["function"], seen["route"]) == ("anything_else", {"rest": "/items//new"})
    assert seen["url"] == f"{sample['base']}//items//new?x=1"


def test_request_translation(sample):
    seen = _get(
        sample, "/echo?q=a+b&slash=%2F&q=c&empty=", "PUT", data=b"\x00raw body", headers={"X-Custom": "yes"}
    ).json()
    assert seen["function"] == "echo"  # bound by its parameter name `request`, not `req`
    assert seen["method"] == "PUT"
    assert seen["url"] == sample["base"] + "/echo?q=a+b&slash=%2F&q=c&empty="
    assert seen["params"] == {"q": "a b,c", "slash": "/", "empty": ""}
    assert seen["headers"]["x-custom"] == "yes"
    assert seen["body"] == "\x00raw body"


def test_response_translation(sample):
    response = _get(sample, "/created", "POST")
    assert response.status_code == 201
    assert response.text == "made"
    assert response.headers["Location"] == "/items/7"
    assert response.headers["Content-Type"] == "text/html; charset=latin-1"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert _get(sample, "/items/1").headers["Content-Type"] == "application/json"


def test_async_functions_are_awaited(sample):
    assert _get(sample, "/asynchronous?x=1").json()["params"] == {"x": "1"}


def test_a_failing_function_is_a_generic_500_logged_with_its_traceback(sample):
    response = _get(sample, "/boom")
    assert response.status_code == 500
    assert response.json() == {"error": "Exception while executing function"}
    assert "secret" not in response.text
    log = sample["log"].read_text()
    assert "Function boom failed" in log and "RuntimeError: secret detail" in log


def test_startup_line_access_log_and_default_public_base_url(sample):
    assert _get(sample, "/items/3?z=1").json()["public_base_url"] == sample["base"]
    log = sample["log"].read_text()
    assert f"Listening on http://127.0.0.1:{sample['port']}" in log
    assert '"GET /items/3" 200' in log
    assert "z=1" not in log  # query strings carry filter values (personal data): the path only


# --- persistent connections (HTTP/1.1 keep-alive, as the Functions host) --------------------------------


def _exchange(connection: http.client.HTTPConnection, method: str, path: str, **kwargs) -> tuple[int, bytes]:
    connection.request(method, path, **kwargs)
    response = connection.getresponse()
    return response.status, response.read()


def test_one_connection_serves_many_requests_even_when_a_body_is_left_unread(sample):
    connection = http.client.HTTPConnection("127.0.0.1", sample["port"], timeout=10)
    try:
        assert _exchange(connection, "GET", "/items/new")[0] == 200
        socket_ = connection.sock
        assert socket_ is not None  # http.client drops the socket when the server says Connection: close
        # 404 before any function ran: its body is never read, and must not be taken for the next request line
        assert _exchange(connection, "OPTIONS", "/items/new", body=b"GET /items/42 HTTP/1.1\r\n\r\n")[0] == 404
        status, body = _exchange(connection, "PUT", "/echo", body=b"payload")
        assert (status, json.loads(body)["body"]) == (200, "payload")
        chunked = iter([b"chun", b"ked"])
        status, body = _exchange(connection, "PUT", "/echo", body=chunked, encode_chunked=True)
        assert (status, json.loads(body)["body"]) == (200, "chunked")
        assert _exchange(connection, "GET", "/boom")[0] == 500
        status, body = _exchange(connection, "GET", "/items/42")
        assert (status, json.loads(body)["function"]) == (200, "item_by_number")
        assert connection.sock is socket_
    finally:
        connection.close()


def test_a_client_that_asks_to_close_gets_its_connection_closed(sample):
    connection = http.client.HTTPConnection("127.0.0.1", sample["port"], timeout=10)
    try:
        connection.request("GET", "/items/new", headers={"Connection": "close"})
        response = connection.getresponse()
        assert (response.status, response.getheader("Connection")) == (200, "close")
        response.read()
        assert connection.sock is None
    finally:
        connection.close()


def test_non_loopback_bind_without_a_function_key_is_refused():
    env = {k: v for k, v in os.environ.items() if k != FUNCTION_KEY_ENV}
    command = [
        sys.executable,
        "-m",
        "tools.localhost",
        "--host",
        "0.0.0.0",
        "--port",
        str(processes.free_port()),
        "--no-timers",
        "--app",
        "tests.support.sample_app:app",
    ]
    finished = subprocess.run(command, cwd=processes.ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert finished.returncode != 0
    assert FUNCTION_KEY_ENV in finished.stderr


@pytest.mark.parametrize(
    "host,loopback",
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


@pytest.fixture(scope="module")
def keyed_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = processes.free_port()
    env = {**os.environ, FUNCTION_KEY_ENV: "local-test-key"}
    process = processes.start_localhost(
        port, env, tmp_path_factory.mktemp("keyed") / "localhost.log", app="tests.support.sample_app:app"
    )
    yield f"http://127.0.0.1:{port}"
    processes.stop(process)


def test_a_configured_function_key_is_enforced_on_keyed_functions(keyed_host):
    assert requests.get(keyed_host + "/keyed", timeout=10).status_code == 401
    assert requests.get(keyed_host + "/keyed", headers={"x-functions-key": "wrong"}, timeout=10).status_code == 401
    assert (
        requests.get(keyed_host + "/keyed", headers={"x-functions-key": "local-test-key"}, timeout=10).json()[
            "function"
        ]
        == "keyed"
    )
    assert requests.get(keyed_host + "/keyed", params={"code": "local-test-key"}, timeout=10).status_code == 200
    assert requests.get(keyed_host + "/items/new", timeout=10).status_code == 200  # anonymous functions need no key


def test_timers_fire_on_schedule_and_a_failing_timer_is_not_fatal(sample):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _ticks(sample["ticks"]) < 2:
        time.sleep(0.2)
    assert _ticks(sample["ticks"]) >= 2
    assert set(sample["ticks"].read_text().splitlines()) == {"past_due=False"}
    assert "timer failing_timer failed" in sample["log"].read_text()
    assert _get(sample, "/items/new").status_code == 200


def _ticks(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0
