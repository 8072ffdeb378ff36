"""`rdsbot sandbox`: a chapter plays through the real stack and reports how it went."""

from __future__ import annotations

import pytest

from bot.sandbox.demo import run_demo


def test_the_guardrail_chapter_refuses_a_production_source_with_its_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo(job_seconds=0.5, chapters=["guardrail"]) == 0
    out = capsys.readouterr().out
    assert "You may not use rm-bp1mysqlprod0001 as the source of this restore" in out
    assert "policy.csv:" in out and "guardrail: ok" in out and "chain intact" in out


def test_the_japanese_chapter_reads_in_japanese(capsys: pytest.CaptureFixture[str]) -> None:
    """Kenji's Slack is in Japanese: the form, the dry run and the deny he reads are Japanese."""
    assert run_demo(job_seconds=0.5, chapters=["japanese"]) == 0
    out = capsys.readouterr().out
    assert "許可されていません" in out and "japanese: ok" in out
