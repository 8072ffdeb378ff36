"""bot.slack.text: user text can never ping a channel or disguise a link."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.text import escape, plain, quote, user


@pytest.mark.parametrize(("text", "expected"), [
    ("<!channel>", "&lt;!channel&gt;"),
    ("<!here>", "&lt;!here&gt;"),
    ("<!everyone>", "&lt;!everyone&gt;"),
    ("<@U123>", "&lt;@U123&gt;"),
    ("<#C123|ops>", "&lt;#C123|ops&gt;"),
    ("<http://evil|bank>", "&lt;http://evil|bank&gt;"),
    ("<!subteam^S123>", "&lt;!subteam^S123&gt;"),
    ("a & b", "a &amp; b"),
    ("&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;"),  # pre-escaped text cannot be smuggled through
    ("plain words", "plain words"),
])
def test_escape_neutralises_mrkdwn_controls(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_escape_drops_control_characters_but_keeps_layout() -> None:
    assert escape("a\x00b\x07c\x1bd\x7fe") == "abcde"
    assert escape("line1\nline2\tcol\r") == "line1\nline2\tcol\r"


@pytest.mark.parametrize("text", [None, ""])
def test_escape_of_nothing(text: str | None) -> None:
    assert escape(text) == ""


def test_escape_truncates_with_an_ellipsis() -> None:
    out = escape("a" * 5000)
    assert len(out) == 2900 and out.endswith("…")
    assert escape("abcdef", limit=4) == "abc…"
    assert escape("abcd", limit=4) == "abcd"


def test_truncation_never_leaves_half_an_entity() -> None:
    out = escape("a" * 2898 + "<<<<")
    assert out.endswith("…") and "<" not in out and not out[:-1].endswith("&")


@pytest.mark.parametrize("char", ["<", ">", "&"])
def test_escaped_text_stays_within_the_limit(char: str) -> None:
    assert len(escape(char * 5000)) <= 2900


def test_quote() -> None:
    assert quote("one\n<!here> two") == "> one\n> &lt;!here&gt; two"
    assert quote("") == "> _(none)_"
    assert quote(None) == "> _(none)_"


def test_plain_only_strips_controls_and_cuts() -> None:
    assert plain("<b>\x00ok") == "<b>ok"
    out = plain("x" * 500)
    assert len(out) == 150 and out.endswith("…")
    assert plain(None) == ""


@pytest.mark.parametrize(("value", "expected"), [
    ("U0ALICE", "<@U0ALICE>"),
    ("W0ENTERPRISE", "<@W0ENTERPRISE>"),
    ("<!channel>", "&lt;!channel&gt;"),
    ("U0ALICE> <!here", "U0ALICE&gt; &lt;!here"),
    ("u0alice", "u0alice"),
    ("", ""),
])
def test_user_mentions_only_valid_ids(value: str, expected: str) -> None:
    assert user(value) == expected


@settings(max_examples=200, deadline=None, database=None)
@given(text=st.text(max_size=4000), limit=st.integers(min_value=1, max_value=3000))
def test_escape_output_never_contains_angle_brackets(text: str, limit: int) -> None:
    out = escape(text, limit=limit)
    assert "<" not in out and ">" not in out
    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in out)


@settings(max_examples=200, deadline=None, database=None)
@given(text=st.text(alphabet=st.characters(blacklist_characters="&<>", blacklist_categories=["Cc"]), max_size=4000))
def test_escape_of_harmless_text_is_within_the_limit(text: str) -> None:
    assert len(escape(text)) <= 2900
