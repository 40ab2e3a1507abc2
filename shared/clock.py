"""Time source: one place to read 'now' so tests can force the clock (cadence, retention, leases)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _system_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _system_now


def now() -> datetime:
    return _now()


def iso(moment: datetime | None = None) -> str:
    """RFC 3339 UTC timestamp with milliseconds, as SCIM meta dates and audit times are written."""
    return (moment or now()).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Force the clock (tests); None restores the real one."""
    global _now
    _now = fn or _system_now
