"""bot.redact: secrets and credential-shaped strings never reach logs, Slack or errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.redact import _NEEDED, _PATTERNS, MASK, redact, redact_text, register_secrets


@pytest.mark.parametrize("secret", [
    "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp",
    "xoxp-1111-2222-3333-abcdef",
    "xoxa-2-abcdefghij",
    "xoxe-1-My0xAbCdEf",
    "xapp-1-A0123-4567-abcdef",
    "LTAI5tAbCdEfGhIjKlMnOpQr",
    "LTAI4FoobarBaz12345",
])
def test_credential_shapes_are_masked(secret: str) -> None:
    out = redact_text(f"before {secret} after")
    assert secret not in out
    assert out == f"before {MASK} after"


@pytest.mark.parametrize(("text", "expected"), [
    ("secret=abc123&x=1", f"secret={MASK}&x=1"),
    ("password=hunter2 next", f"password={MASK} next"),
    ("Token=abc,def", f"Token={MASK},def"),
    ("url?Signature=deadbeef&Version=1", f"url?Signature={MASK}&Version=1"),
    ("SECRET=X", f"SECRET={MASK}"),
])
def test_key_value_secrets_are_masked(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize("header", [
    "Authorization: Bearer abc.def.ghi",
    "authorization: ACS3-HMAC-SHA256 Credential=AKID1234,SignedHeaders=host;x-acs-date,Signature=deadbeef",
    "AUTHORIZATION:Basic dXNlcjpwYXNz",
])
def test_authorization_headers_are_masked(header: str) -> None:
    out = redact_text(f"sent {header}\nnext line")
    assert "deadbeef" not in out and "abc.def.ghi" not in out and "dXNlcjpwYXNz" not in out
    assert MASK in out and out.endswith("\nnext line")


def test_registered_secrets_are_masked_wherever_they_appear() -> None:
    register_secrets(["unit-Registered-S3cret-7f3a", "", "abc"])  # blanks and short values are ignored
    assert redact_text("x=unit-Registered-S3cret-7f3a;") == f"x={MASK};"
    assert redact_text("abc") == "abc"


def test_longer_registered_secret_is_masked_whole() -> None:
    register_secrets(["unitPartSecretQ9", "unitPartSecretQ9-and-more"])
    assert redact_text("[unitPartSecretQ9-and-more]") == f"[{MASK}]"


def test_redact_walks_nested_structures() -> None:
    data = {
        "reason": "token is xoxb-1234567-abcdefg",
        "list": ["fine", {"deep": ("password=p4ss", 5)}],
        "n": 42,
        "none": None,
        "flag": True,
    }
    out = redact(data)
    assert out == {
        "reason": f"token is {MASK}",
        "list": ["fine", {"deep": [f"password={MASK}", 5]}],
        "n": 42,
        "none": None,
        "flag": True,
    }
    assert data["reason"].endswith("abcdefg")  # the input is not modified


def test_plain_text_is_untouched() -> None:
    text = "Clone rm-bp1mysqldev00002 as of 2026-11-28T16:00:00Z for INC-42 (password reset flow)"
    assert redact_text(text) == text


@pytest.mark.parametrize("text", ["AccessKeySecret=abc123xyz", "access_key_secret=abc123xyz",
                                  "SecurityToken=abc123xyz", "client_secret=abc123xyz"])
def test_compound_secret_keys_are_masked(text: str) -> None:
    assert "abc123xyz" not in redact_text(text)


def test_secret_valued_keys_are_masked_in_dicts() -> None:
    out = redact({"headers": {"Authorization": "Bearer abc123xyz"}, "password": "hunter2xyz"})
    assert "abc123xyz" not in str(out) and "hunter2xyz" not in str(out)


@settings(max_examples=200, deadline=None, database=None)
@given(prefix=st.text(max_size=50), suffix=st.text(max_size=50))
def test_registered_secret_never_survives(prefix: str, suffix: str) -> None:
    register_secrets(["unit-Hypo-S3cret-Value-91c"])
    assert "unit-Hypo-S3cret-Value-91c" not in redact_text(prefix + "unit-Hypo-S3cret-Value-91c" + suffix)


@pytest.mark.parametrize("pattern", [p for p, _ in _PATTERNS], ids=lambda p: p.pattern[:24])
def test_text_a_pattern_matches_is_never_skipped(pattern: re.Pattern[str]) -> None:
    """redact_text skips text without any of _NEEDED: every credential shape must contain one."""
    @settings(max_examples=200, deadline=None, database=None)
    @given(st.from_regex(pattern))
    def check(text: str) -> None:
        assert _NEEDED.search(text), text

    check()
