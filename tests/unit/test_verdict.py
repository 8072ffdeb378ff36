"""A slash command's duplicate check (bot.slack.verdict): asked once, by whoever asks first; errors reach the person."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.slack.verdict import Verdict, go_ahead


class Said:
    """A stand-in for Bolt's ``respond``: what the person was told."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, **message: Any) -> None:
        assert message.get("response_type") == "ephemeral"
        self.texts.append(str(message["text"]))


def test_the_check_runs_once_for_every_asker() -> None:
    calls: list[int] = []
    gate = threading.Event()

    def check() -> bool:
        gate.wait(5)
        calls.append(1)
        return True

    verdict = Verdict(check)
    with ThreadPoolExecutor(4) as pool:
        answers = [pool.submit(verdict.first_time) for _ in range(4)]
        gate.set()
        assert all(a.result(timeout=10) for a in answers)
    verdict.settle()
    assert calls == [1]


def test_a_copy_goes_no_further_and_nobody_is_told() -> None:
    said = Said()
    assert go_ahead(Verdict(lambda: False), said) is False
    assert said.texts == []


def test_a_first_delivery_goes_ahead() -> None:
    said = Said()
    assert go_ahead(Verdict(lambda: True), said) is True
    assert go_ahead(None, said) is True  # no shared record to ask
    assert said.texts == []


def test_a_record_that_cannot_be_read_stops_the_work_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> bool:
        raise ConnectionError("database unreachable")

    verdict = Verdict(broken)
    verdict.settle()  # the request thread's settle keeps the error rather than raising it
    assert "duplicate-delivery check failed" in caplog.text
    with pytest.raises(ConnectionError):
        verdict.first_time()
    said = Said()
    assert go_ahead(verdict, said) is False
    assert len(said.texts) == 1
    assert "did nothing" in said.texts[0]
