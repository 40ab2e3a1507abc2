"""Timer triggers: the reconciliation tick (every 15 minutes by default; each tenant every 45)."""

from __future__ import annotations

import azure.functions as func

from scim_handlers import app_context

bp = func.Blueprint()


@bp.function_name("reconcile_tick")
@bp.timer_trigger(arg_name="timer", schedule="%SCIM_RECONCILE_SCHEDULE%", run_on_startup=False, use_monitor=True)
def reconcile_tick(timer: func.TimerRequest) -> None:
    from shared import reconcile  # imported on first tick: keeps cold start of HTTP functions cheap

    context = app_context.current()
    reconcile.run_timer(context.storage, context.settings)
