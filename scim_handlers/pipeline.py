"""The one frame every HTTP route runs in, whatever API it belongs to (SCIM, admin, the console): it
counts storage calls, parses JSON bodies, turns every error into the edge's own error body, serialises
the reply inside the same error path, and writes one structured log line per request.

An edge (an `Edge`) only says how its errors look and what its content type is; domain errors
(shared.errors) and SCIM errors are mapped to a status here, once, for all edges.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import azure.functions as func

from shared.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from shared.scim.errors import ScimError
from shared.store import counter
from shared.store.errors import StorageUnavailable

MAX_BODY_BYTES = 1024 * 1024
RETRY_AFTER_SECONDS = "30"  # storage unavailable: when a client (Entra) should try again
MAX_JSON_DEPTH = 32  # no SCIM or admin document nests deeper than a handful of levels
_UTF8_BOM = b"\xef\xbb\xbf"
_TOO_DEEP = f"The request body nests deeper than {MAX_JSON_DEPTH} levels."

log = logging.getLogger("scim.pipeline")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Edge:
    """What differs between the APIs served through the frame."""

    event: str  # the log line's event name, e.g. "scim.request"
    logger: logging.Logger
    content_type: str
    error_reply: Callable[[ScimError], Reply]  # the edge's own error body for a status and detail
    internal_detail: str  # what an unexpected failure says (never the exception itself)


class Exchange(Protocol):
    """What the frame needs to know about a request for its log line."""

    @property
    def req(self) -> func.HttpRequest: ...

    @property
    def route(self) -> str: ...

    @property
    def tenant_id(self) -> str | None: ...


def serve(
    edge: Edge,
    exchange: Exchange,
    handler: Callable[[], Reply],
    *,
    observe: Callable[[Reply], None] | None = None,
    log_fields: dict[str, Any] | None = None,
) -> func.HttpResponse:
    """Run `handler` and answer; `observe` sees the final reply while storage calls are still counted."""
    started = time.perf_counter()
    with counter.counting() as calls:
        try:
            reply = handler()
            response = _respond(edge, reply)
        except Exception as exc:  # the one error path: rendering failures land here too
            reply = edge.error_reply(_as_problem(edge, exchange, exc))
            response = _respond(edge, reply)
        if observe is not None:
            try:
                observe(reply)
            except Exception:  # bookkeeping must never fail a request
                edge.logger.warning("request bookkeeping failed", exc_info=True)
    record = {
        "event": edge.event,
        "tenant": exchange.tenant_id,
        "method": exchange.req.method,
        "route": exchange.route,
        "status": reply.status,
        "durationMs": round((time.perf_counter() - started) * 1000, 1),
        "storageCalls": calls.total,
        "storageCallsByKind": calls.by_kind,
        **(log_fields or {}),
    }
    edge.logger.info(json.dumps(record, separators=(",", ":")))
    response.headers["X-Storage-Calls"] = str(calls.total)
    return response


def _as_problem(edge: Edge, exchange: Exchange, exc: Exception) -> ScimError:
    if isinstance(exc, ScimError):
        return exc
    if isinstance(exc, NotFound):
        return ScimError(404, None, str(exc))
    if isinstance(exc, Invalid):
        return ScimError(400, "invalidValue", str(exc))
    if isinstance(exc, Conflict):
        return ScimError(409, None, str(exc))
    if isinstance(exc, Unauthenticated):
        return ScimError(401, None, str(exc))
    if isinstance(exc, Forbidden):
        return ScimError(403, None, str(exc))
    if isinstance(exc, StorageUnavailable):  # the only 5xx that is not a bug: Entra retries after a 503
        edge.logger.warning("storage unavailable on %s %s", exchange.req.method, exchange.route, exc_info=True)
        return ScimError(
            503, None, "Storage is temporarily unavailable; retry later.", headers={"Retry-After": RETRY_AFTER_SECONDS}
        )
    edge.logger.exception("unhandled error on %s %s", exchange.req.method, exchange.route)
    return ScimError(500, None, edge.internal_detail)


def _respond(edge: Edge, reply: Reply) -> func.HttpResponse:
    headers = {"Content-Type": edge.content_type, **reply.headers}
    return func.HttpResponse(body=_serialise(reply.body), status_code=reply.status, headers=headers)


def _serialise(body: Any) -> bytes | None:
    if body is None or isinstance(body, bytes):  # bytes: already rendered (the console's HTML and files)
        return body
    try:
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        # A lone UTF-16 surrogate (stored before input was checked) has no UTF-8 form; as a \u escape
        # it is still valid JSON, so the resource stays readable instead of failing every read.
        return json.dumps(body).encode("ascii")


# --- request bodies ----------------------------------------------------------------------------------


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(f"the number {text[:40]} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _NotJson(f"the member name {key[:80]!r} appears twice in one object")
        out[key] = value
    return out


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def parse_json(raw: bytes) -> Any:
    """A request body as JSON text (RFC 8259): UTF-8 only, one leading byte order mark ignored (§8.1
    allows it), no NaN/Infinity, no number beyond a double, no duplicate member names, bounded nesting.
    Anything else is a 400 invalidSyntax; an empty body is the caller's to judge (None)."""
    if len(raw) > MAX_BODY_BYTES:
        raise ScimError(413, None, f"The request body exceeds {MAX_BODY_BYTES} bytes.")
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScimError(400, "invalidSyntax", "The request body must be JSON encoded as UTF-8.") from None
    if not text.strip():
        return None
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ScimError(400, "invalidSyntax", _TOO_DEEP) from None
    except ValueError as exc:  # json.JSONDecodeError, _NotJson, int() beyond its digit limit
        raise ScimError(400, "invalidSyntax", f"The request body is not valid JSON: {exc}.") from None
    if _too_deep(value):
        raise ScimError(400, "invalidSyntax", _TOO_DEEP)
    return value
