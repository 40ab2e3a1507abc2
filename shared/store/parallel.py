"""Independent point reads in parallel (member existence checks), keeping the caller's call counter."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WORKERS = 8  # under the HTTP connection pool (10) of the storage client
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="store")
    return _pool


def map_parallel(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    context = contextvars.copy_context()
    # Each task runs in a copy of the caller's context: the copy shares the same CallCount object.
    return list(_executor().map(lambda item: context.copy().run(fn, item), items))
