"""bot.slack.commands.parse: the text after /rds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.commands import MAX_TEXT, OPERATIONS, OTHERS, Command, parse

KNOWN = set(OPERATIONS) | set(OTHERS)


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t", "\u3000"])
def test_empty_is_help(text: str | None) -> None:
    assert parse(text) == Command("help")


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_every_command(name: str) -> None:
    assert parse(name) == Command(name, [])


@pytest.mark.parametrize("text", ["CLONE", "Clone", "cLoNe", "  clone  "])
def test_command_name_is_case_insensitive(text: str) -> None:
    assert parse(text).name == "clone"


def test_arguments_keep_their_case_and_order() -> None:
    command = parse("Status Req-20261128-ABCDEF12  extra")
    assert command == Command("status", ["Req-20261128-ABCDEF12", "extra"])
    assert command.first == "Req-20261128-ABCDEF12"
    assert Command("help").first is None


@pytest.mark.parametrize(("text", "unknown"), [
    ("frobnicate", "frobnicate"),
    ("delete rm-bp1mysqlprod0001", "delete"),
    ("<!channel> clone", "<!channel>"),
    ("clonex", "clonex"),
])
def test_unknown_is_help_with_what_was_typed(text: str, unknown: str) -> None:
    assert parse(text) == Command("help", unknown=unknown)


def test_unknown_word_is_cut_to_40() -> None:
    command = parse("x" * 100_000)
    assert command.name == "help" and command.unknown == "x" * 40


def test_huge_text_is_bounded() -> None:
    command = parse("clone " + "arg " * 100_000)
    assert command.name == "clone"
    assert sum(len(a) + 1 for a in command.args) <= MAX_TEXT


@settings(max_examples=200, deadline=None, database=None)
@given(text=st.one_of(st.none(), st.text(max_size=2000)))
def test_parse_never_raises(text: str | None) -> None:
    command = parse(text)
    assert command.name in KNOWN or command.name == "help"
    assert command.unknown is None or len(command.unknown) <= 40
    assert command.name != "help" or not command.args
