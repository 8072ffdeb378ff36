"""Per-person rate limits: a clear answer in Slack, counted in the database so replicas share them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.config import Settings
from bot.store import migrate
from bot.store.db import Database
from bot.timeutil import CLOCK
from bot.workflow.limits import Limit, RateLimits
from bot.sandbox.slack import ALICE, ERIN, OPS_CHANNEL
from bot.sandbox.stack import Stack
from tests.e2e.flows_ops import MYSQL_DEV, answer


def _at_window_start(seconds: int) -> None:
    """Move the bot's clock to just after a window of ``seconds`` begins, so no test straddles two windows."""
    now = CLOCK.now().timestamp()
    CLOCK.advance(seconds - now % seconds + 1)


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_two_replicas_count_one_person_together(database_url: str) -> None:
    _at_window_start(3600)
    db = Database(database_url)
    migrate.upgrade(db)
    settings = Settings(RDSBOT_LIMIT_SUBMISSIONS_PER_HOUR=3)  # type: ignore[call-arg]
    first, second = RateLimits(db, settings), RateLimits(db, settings)
    answers = [limits.check(Limit.SUBMISSIONS, ALICE) for limits in (first, second, first, second)]
    assert answers[:3] == [None, None, None]
    assert answers[3] is not None and "limit of 3 requests per 1 h" in answers[3], answers[3]
    assert second.check(Limit.SUBMISSIONS, ERIN) is None  # per person
    CLOCK.advance(3600)
    assert first.check(Limit.SUBMISSIONS, ALICE) is None  # a new window
    db.dispose()


def test_one_submission_too_many_is_told_on_the_modal(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(RDSBOT_LIMIT_SUBMISSIONS_PER_HOUR="1")
    _at_window_start(3600)
    answers = []
    for _ in range(2):
        view = stack.driver.open_modal(ERIN, f"backup {MYSQL_DEV}", channel=OPS_CHANNEL)
        answers.append(stack.driver.submit_view(ERIN, view["id"], {"DBInstanceId": MYSQL_DEV}, validate=False))
        stack.drain()
    assert not answers[0].errors
    assert "limit of 1 requests per 1 h" in (answers[1].errors or {}).get("DBInstanceId", ""), answers[1].text
    assert len(stack.requests.recent(ERIN)) == 1


def test_reminders_beyond_the_daily_limit_are_refused_plainly(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(RDSBOT_LIMIT_REMINDERS_PER_DAY="1")
    _at_window_start(86400)
    answer(stack, ERIN, f"remind {MYSQL_DEV} daily 09:00")
    refused = answer(stack, ERIN, f"remind {MYSQL_DEV} daily 10:00")
    assert "limit of 1 reminders per 1 d" in refused["text"], refused["text"]


def test_lookups_beyond_the_limit_answer_with_a_note_not_silence(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(RDSBOT_LIMIT_LOOKUPS_PER_MINUTE="2")
    view = stack.driver.open_modal(ALICE, "clone", channel=OPS_CHANNEL)
    _at_window_start(60)
    labels = [[o["text"]["text"] for o in stack.driver.suggest(ALICE, view["id"], "DBInstanceId", "rm").options or []]
              for _ in range(3)]
    assert labels[0] and labels[1] and "limit" not in " ".join(labels[1])
    assert len(labels[2]) == 1 and "limit of 2 picker lookups" in labels[2][0], labels[2]
