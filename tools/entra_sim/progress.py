"""Progress lines on stderr while a run goes on: each phase reports at every tenth of its objects."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TextIO

from tools.entra_sim.report import CycleLog

STEPS = 10


class Progress:
    def __init__(self, stream: TextIO | None):
        self._stream = stream

    def line(self, text: str) -> None:
        if self._stream is not None:
            print(text, file=self._stream, flush=True)

    def phase(self, log: CycleLog, name: str, total: int) -> Callable[[], None]:
        """A tick function for a phase of `total` objects, safe to call from worker threads."""
        lock = threading.Lock()
        done = 0

        def tick() -> None:
            nonlocal done
            with lock:
                done += 1
                step_reached = done == total or done * STEPS // total > (done - 1) * STEPS // total
                if step_reached:
                    self.line(
                        f"[{log.label}] {name}: {done}/{total} ({log.requests} requests, {len(log.failures)} failures)"
                    )

        return tick
