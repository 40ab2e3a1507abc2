"""Counts storage calls per unit of work (one HTTP request, one reconciliation cycle).

A context variable, so concurrent requests on one worker thread pool never mix their counts.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class CallCount:
    total: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, kind: str, n: int = 1) -> None:
        # Parallel point reads (member existence checks) share one CallCount across threads.
        with self._lock:
            self.total += n
            self.by_kind[kind] = self.by_kind.get(kind, 0) + n


_current: contextvars.ContextVar[CallCount | None] = contextvars.ContextVar("storage_calls", default=None)


def record(kind: str, n: int = 1) -> None:
    count = _current.get()
    if count is not None:
        count.add(kind, n)


@contextmanager
def counting() -> Iterator[CallCount]:
    """Count the storage calls made inside the block (nested blocks count into their own CallCount only)."""
    count = CallCount()
    token = _current.set(count)
    try:
        yield count
    finally:
        _current.reset(token)
