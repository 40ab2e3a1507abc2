"""What a run did: per cycle, the requests sent by kind, the failures (request and answer), throttling
and timing; rendered as text or as one JSON object."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any


class CycleLog:
    """Counters for one cycle (or Test Connection), shared by the worker threads."""

    def __init__(self, label: str, cycle: int | None = None, snapshot: int | None = None):
        self.label = label
        self.cycle = cycle
        self.snapshot = snapshot
        self._lock = threading.Lock()
        self._by_kind: Counter[str] = Counter()
        self._failures: list[dict[str, Any]] = []
        self._throttled = 0
        self._started = time.monotonic()
        self._duration: float | None = None

    def count(self, kind: str) -> None:
        with self._lock:
            self._by_kind[kind] += 1

    def throttled(self) -> None:
        with self._lock:
            self._throttled += 1

    def fail(self, failure: dict[str, Any]) -> None:
        with self._lock:
            self._failures.append({"cycle": self.label, **failure})

    def finish(self) -> None:
        self._duration = time.monotonic() - self._started

    @property
    def requests(self) -> int:
        with self._lock:
            return sum(self._by_kind.values())

    @property
    def failures(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._failures)

    def to_json(self) -> dict[str, Any]:
        duration = self._duration if self._duration is not None else time.monotonic() - self._started
        with self._lock:
            requests = sum(self._by_kind.values())
            result: dict[str, Any] = {"cycle": self.cycle, "snapshot": self.snapshot} if self.cycle is not None else {}
            return result | {
                "requests": requests,
                "failures": list(self._failures),
                "byKind": dict(sorted(self._by_kind.items())),
                "throttled": self._throttled,
                "durationSeconds": round(duration, 3),
                "requestsPerSecond": _rate(requests, duration),
            }


def _rate(requests: int, seconds: float) -> float:
    return round(requests / seconds, 1) if seconds > 0 else 0.0


def summary(run: dict[str, Any], test_connection: CycleLog, cycles: list[CycleLog], duration: float) -> dict[str, Any]:
    logs = [test_connection.to_json()] + [c.to_json() for c in cycles]
    total = sum(log["requests"] for log in logs)
    return run | {
        "testConnection": logs[0],
        "cycles": logs[1:],
        "totalRequests": total,
        "failures": [f for log in logs for f in log["failures"]],
        "throttled": sum(log["throttled"] for log in logs),
        "durationSeconds": round(duration, 3),
        "requestsPerSecond": _rate(total, duration),
    }


def _block(title: str, log: dict[str, Any]) -> list[str]:
    lines = [
        f"{title}: {log['requests']} requests in {log['durationSeconds']:.2f} s ({log['requestsPerSecond']} req/s), "
        f"{len(log['failures'])} failures, {log['throttled']} throttled"
    ]
    width = max((len(kind) for kind in log["byKind"]), default=0)
    lines += [f"  {kind.ljust(width)}  {count}" for kind, count in log["byKind"].items()]
    return lines


def render_text(result: dict[str, Any]) -> str:
    lines = [f"Entra provisioning simulation against {result['tenantUrl']} ({result['dialect']} dialect)"]
    lines += _block("Test Connection", result["testConnection"])
    for cycle in result["cycles"]:
        lines += _block(f"Cycle {cycle['cycle']} (snapshot {cycle['snapshot']})", cycle)
    lines.append(
        f"Total: {result['totalRequests']} requests in {result['durationSeconds']:.2f} s "
        f"({result['requestsPerSecond']} req/s), {len(result['failures'])} failures, {result['throttled']} throttled"
    )
    for failure in result["failures"]:
        request, response = failure["request"], failure["response"]
        lines.append(f"FAILED [{failure['cycle']}] {failure['object']}: {failure['reason']}")
        lines.append(f"  {request['method']} {request['url']}")
        if request["body"] is not None:
            lines.append(f"  request body: {_compact(request['body'])}")
        lines.append(f"  -> {response['status'] or 'no answer:'} {response['body']}")
    return "\n".join(lines)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
