"""The background pool's lanes and the foreground they yield to (outcomes, never timings)."""

from __future__ import annotations

import threading

from bot.workflow.background import Background, Foreground


def test_a_lane_has_threads_of_its_own_and_its_tasks_count_in_the_pool() -> None:
    pool = Background(max_workers=1)
    lane = pool.lane("reads", 1)
    release = threading.Event()
    try:
        pool.submit(release.wait)  # the pool's only thread is taken...
        ran = lane.submit(lambda: "read").result(timeout=10)  # ...and the lane still runs its task
        assert ran == "read"
        slow = lane.submit(release.wait)
        assert pool.busy == 2  # the lane's task counts in the pool: drain waits for it too
        assert not pool.wait_idle(0.05)
        release.set()
        slow.result(timeout=10)
        assert pool.wait_idle(10)
    finally:
        release.set()
        pool.shutdown(wait=True)
    assert lane._shutdown  # stopping the pool stops its lanes


def test_a_lane_that_yields_runs_its_task_only_once_the_foreground_is_quiet() -> None:
    foreground = Foreground(max_wait_s=60)
    pool = Background(max_workers=1)
    lane = pool.lane("reads", 1, yield_to=foreground)
    order: list[str] = []
    try:
        with foreground.busy():
            done = lane.submit(order.append, "facts")
            order.append("modal")  # the task waits: nothing it does happens inside the busy block
            assert not done.done()
        done.result(timeout=10)
        assert order == ["modal", "facts"]
    finally:
        pool.shutdown(wait=True)


def test_a_lane_that_yields_waits_no_longer_than_its_limit() -> None:
    foreground = Foreground(max_wait_s=0.01)
    pool = Background(max_workers=1)
    lane = pool.lane("reads", 1, yield_to=foreground)
    try:
        with foreground.busy():  # never quiet while the task waits: it runs anyway
            assert lane.submit(lambda: "facts").result(timeout=10) == "facts"
    finally:
        pool.shutdown(wait=True)


def test_time_a_task_spent_queued_counts_toward_its_limit(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Under steady foreground work there is never a lull: a task that already waited its limit in
    # the queue runs as soon as a thread takes it, so the queue cannot grow with every request.
    import time as real_time

    from bot.workflow import background

    later = [0.0]

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return real_time.monotonic() + later[0]

    monkeypatch.setattr(background, "time", Clock)
    foreground = Foreground(quiet_s=0, max_wait_s=60)
    pool = Background(max_workers=1)
    lane = pool.lane("reads", 1, yield_to=foreground)
    release, started = threading.Event(), threading.Event()
    try:
        first = lane.submit(lambda: started.set() or release.wait(10))  # quiet now: it takes the only thread
        assert started.wait(10)
        with foreground.busy():  # busy from here on: no lull
            queued = lane.submit(lambda: "queued")
            later[0] = 61.0  # the queued task has now waited longer than its limit
            release.set()
            first.result(timeout=10)
            assert queued.result(timeout=10) == "queued"  # not another 60 s once a thread takes it
    finally:
        release.set()
        pool.shutdown(wait=True)


class _BackedUpLane:
    """A reads lane with as many facts waiting as the opener lets wait."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.queued: list[object] = []

    def submit(self, fn: object, *args: object) -> None:
        self.queued.append(fn)


def _picked(instance: str) -> dict[str, object]:
    """A block_actions body: the clone modal with ``instance`` chosen in its picker."""
    state = {"DBInstanceId": {"DBInstanceId": {"type": "external_select", "selected_option": {"value": instance}}}}
    return {"user": {"id": "U0ALICE"}, "view": {"id": "V1", "callback_id": "rds_clone", "state": {"values": state}}}


def test_facts_are_not_queued_once_rds_reads_are_far_behind() -> None:
    from bot.slack.modal_open import MAX_WAITING_READS, ModalOpener

    behind, keeping_up = _BackedUpLane(MAX_WAITING_READS), _BackedUpLane(MAX_WAITING_READS - 1)
    # Neither runs the read here: it is queued on the lane, or not at all (no Deps needed for that).
    ModalOpener(None, None, reads=behind).source_picked(_picked("rm-bp1mysqlprod0001"), client=None)  # type: ignore[arg-type]
    ModalOpener(None, None, reads=keeping_up).source_picked(_picked("rm-bp1mysqlprod0001"), client=None)  # type: ignore[arg-type]
    assert behind.queued == [] and len(keeping_up.queued) == 1
