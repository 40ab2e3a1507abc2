"""The timer side of the host: fire each timer-triggered function on its NCRONTAB schedule (UTC), one
background thread per function so a run never overlaps the next of the same function."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from azure.functions.timer import TimerRequest  # the worker's concrete class; func.TimerRequest is abstract
from croniter import croniter

from tools.localhost.functions import TimerFunction

log = logging.getLogger("tools.localhost")


def resolve_schedule(schedule: str, settings: Mapping[str, str]) -> str:
    """A `%NAME%` schedule is an app setting, resolved as the host does; a missing one is an error there too."""
    if len(schedule) > 2 and schedule.startswith("%") and schedule.endswith("%"):
        name = schedule[1:-1]
        if not settings.get(name):
            raise ValueError(f"the schedule refers to app setting {name}, which is not set")
        return settings[name]
    return schedule


def schedule_after(ncrontab: str, start: float) -> croniter:
    """NCRONTAB has six fields with seconds first; croniter reads that order with second_at_beginning."""
    if len(ncrontab.split()) != 6:
        raise ValueError(f"{ncrontab!r} is not a 6-field NCRONTAB expression (sec min hour day month day-of-week)")
    return croniter(ncrontab, datetime.fromtimestamp(start, UTC), second_at_beginning=True)


def start_timers(
    timers: tuple[TimerFunction, ...], stop: threading.Event, settings: Mapping[str, str] = os.environ
) -> None:
    for timer in timers:
        try:
            ncrontab = resolve_schedule(timer.schedule, settings)
            schedule_after(ncrontab, time.time())
        except ValueError as error:
            # The host would refuse this function; the local host keeps serving HTTP and says why.
            log.warning("timer %s disabled: %s", timer.invocable.name, error)
            continue
        threading.Thread(
            target=_run, args=(timer, ncrontab, stop), name=f"timer-{timer.invocable.name}", daemon=True
        ).start()


def _run(timer: TimerFunction, ncrontab: str, stop: threading.Event) -> None:
    if timer.run_on_startup:
        _fire(timer)
    schedule = schedule_after(ncrontab, time.time())
    due = schedule.get_next(float)
    while not stop.wait(max(0.0, due - time.time())):
        _fire(timer)
        due = schedule.get_next(float)
        if due <= time.time():  # the run overran later occurrences: skip them rather than catch up
            schedule = schedule_after(ncrontab, time.time())
            due = schedule.get_next(float)


def _fire(timer: TimerFunction) -> None:
    try:
        timer.invocable(TimerRequest(past_due=False))
    except Exception:
        log.exception("timer %s failed", timer.invocable.name)
