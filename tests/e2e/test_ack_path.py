"""The request path under load: an ack needs no free thread, and RDS reads never hold up modals."""

from __future__ import annotations

import threading

from bot.sandbox.slack import ALICE, OPS_CHANNEL
from bot.sandbox.stack import Stack


def test_an_ack_is_answered_even_while_every_background_thread_is_busy(stack: Stack) -> None:
    release = threading.Event()
    executor = stack.runtime.executor
    blockers = [executor.submit(release.wait) for _ in range(executor._max_workers)]
    try:
        response = stack.driver.slash_command(ALICE, "help", channel=OPS_CHANNEL)
        # The ack ran in the request's own thread: it did not queue behind the busy pool.
        assert response.status == 200 and "/rds" in response.text, response.text[:300]
    finally:
        release.set()
        for blocker in blockers:
            blocker.result(timeout=10)


def test_modals_keep_opening_while_rds_reads_hang(stack: Stack) -> None:
    # Every RDS call hangs far beyond this test: each modal's facts stay stuck on their lane.
    stack.rds.inject(delay_s=60.0, times=10**6)
    try:
        commands = stack.runtime.executor._max_workers + 8
        for n in range(commands):  # more than every background thread, had each kept one read
            view = stack.driver.open_modal(ALICE, f"clone rm-bp1hanging{n:06d}", channel=OPS_CHANNEL)
            assert view["callback_id"] == "rds_clone"
        assert stack.slack.calls("views.update") == []  # no facts shown: they are all still waiting on RDS
    finally:
        stack.rds.clear_faults()
        stack.drain(30)  # the stuck reads time out (RDSBOT_RDS_TIMEOUT_S) and are retried against a quick RDS
