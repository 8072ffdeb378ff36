"""The panel's knobs: make RDS slow or throttled, and move time for RDS and the bot together.

Faults are the RDS emulator's own (``inject``), as the chaos tests use them. Moving time moves the
RDS emulator's clock (jobs finish) and the bot's clock seam (``bot.timeutil.CLOCK``: approval
expiry, reminders, freezes, break-glass reviews), then runs the scheduler's due jobs once, as the
scheduler would on its next round, so the effects show at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.sandbox.playground.reads import clocks
from bot.sandbox.playground.world import FAULTS, ApiError, Playground
from bot.timeutil import CLOCK

log = logging.getLogger(__name__)

SLOW_S = 2.0
# Faults apply to "the next N calls": this many is "until told otherwise".
FOREVER = 10**9
MAX_ADVANCE_S = 400 * 86400
# The scheduler's jobs that act on time, in the order a round would matter: expire and remind first,
# then release what a freeze held (recover), then poll RDS, then deliver what they queued.
TIMED_JOBS = ("expire", "reminders", "break_glass_reviews", "recover", "poll", "outbox")


def fault(playground: Playground, body: Mapping[str, Any]) -> dict[str, Any]:
    """``{"rds": "slow" | "throttled" | "none"}``: every RDS call answers in 2 s, or with Throttling.User."""
    mode = body.get("rds")
    if mode not in FAULTS:
        raise ApiError(400, f"rds must be one of {', '.join(FAULTS)}; got {mode!r}")
    rds = playground.stack.rds
    with playground.lock:
        rds.clear_faults()
        if mode == "slow":
            rds.inject(delay_s=SLOW_S, times=FOREVER)
        elif mode == "throttled":
            rds.inject(code="Throttling.User", times=FOREVER)
        playground.fault = str(mode)
    return {"rds": mode}


def advance(playground: Playground, body: Mapping[str, Any]) -> dict[str, Any]:
    """``{"advance_s": seconds}``: both clocks jump forward, then the due jobs run once."""
    try:
        seconds = float(body.get("advance_s"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ApiError(400, f"advance_s must be a number of seconds; got {body.get('advance_s')!r}") from None
    if not 0 < seconds <= MAX_ADVANCE_S:
        raise ApiError(400, f"advance_s must be above 0 and at most {MAX_ADVANCE_S} (time only moves forward)")
    with playground.lock:
        playground.rds_clock.advance(seconds)
        CLOCK.advance(seconds)
    runtime = playground.stack.runtime
    available = [name for name in TIMED_JOBS if name in runtime.jobs.jobs]
    runtime.jobs.run_now(*available)
    try:
        playground.stack.drain(timeout_s=10.0)
        drained = True
    except TimeoutError:
        # Still busy (RDS made slow, say): the rest arrives on the change stream as it happens.
        log.info("the bot was still busy after a time jump")
        drained = False
    return {**clocks(playground), "ran": available, "drained": drained}
