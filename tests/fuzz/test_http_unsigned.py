"""Property 1: unsigned or badly signed requests, any method, path, headers or bytes.

Whatever arrives without a valid Slack signature: the answer is never a 5xx,
a POST to /slack/events is refused with 401 (or 413 / 400 when it is too big or
not UTF-8, before any signature check), and nothing at all happens: no Slack
Web API call, no RDS call, no audit event, no request, approval, delivery or
reminder row.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from slack_bolt import BoltRequest

from bot.sandbox.slack import signing
from tests.fuzz.conftest import TALLY, FuzzStack, effects, examples, form_body, interactive_body, raw_request

# The bot's own threads (scheduler, retries) use the global ``random`` while hypothesis generates data;
# hypothesis mistakes that for a strategy using ``random``.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

PROP = "p1_http_unsigned"
EVENTS = "/slack/events"
MAX_BODY = 1024 * 1024

# -------------------------------------------------------------- strategies
CONTENT_TYPES = st.sampled_from([
    None, "application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded; charset=utf-8", "application/json; charset=latin-1", "", "garbage/\u00e9",
    "application/xml", "application/json;", ";;;",
])

SLASH_FIELDS = {
    "token": "sandbox-verification-token", "team_id": "T0RDSBOT", "team_domain": "rdsbot-sandbox",
    "channel_id": "C0OPS", "channel_name": "ops", "user_id": "U0BOB", "user_name": "bob", "command": "/rds",
    "text": "backup rm-bp1mysqldev00002", "api_app_id": "A0RDSBOT", "is_enterprise_install": "false",
    "response_url": "http://127.0.0.1:9/x", "trigger_id": "1.2.3",
}
APPROVE_CLICK = {
    "type": "block_actions", "user": {"id": "U0BOB"}, "api_app_id": "A0RDSBOT", "team": {"id": "T0RDSBOT"},
    "channel": {"id": "C0APPROVALS"}, "container": {"type": "message", "channel_id": "C0APPROVALS"},
    "actions": [{"action_id": "approve", "block_id": "request_actions", "type": "button",
                 "value": "clone-20260101-deadbeef"}],
}
REALISTIC = [
    form_body(SLASH_FIELDS),
    interactive_body(APPROVE_CLICK),
    json.dumps({"type": "url_verification", "challenge": "abc", "token": "x"}).encode(),
    json.dumps({"type": "event_callback", "event_id": "Ev1",
                "event": {"type": "app_mention", "text": "<@U0RDSBOT> hi"}}).encode(),
    b"payload=%7B",  # payload that is not JSON
    b"{",  # JSON that is not JSON
    b"[1,2,3]",
    b"payload=%5B1%5D",  # payload that is a JSON list
    b"ssl_check=1&token=x",  # Slack's ssl_check (answered by Bolt before verification)
]

text_bodies = st.text(max_size=300).map(lambda s: s.encode("utf-8"))
json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
).map(lambda v: json.dumps(v).encode())
form_bodies = st.dictionaries(st.sampled_from(["payload", "command", "text", "user_id", "ssl_check", "token", "x"]),
                              st.text(max_size=40), max_size=4).map(lambda d: form_body(d))
mutated_real = st.tuples(st.sampled_from(REALISTIC),
                         st.one_of(st.text(max_size=8).map(str.encode), st.binary(max_size=8)),
                         st.integers(0, 400)).map(
    lambda t: t[0][: t[2]] + t[1] + t[0][t[2]:])
non_utf8 = st.binary(min_size=1, max_size=200).filter(lambda b: not _is_utf8(b)) | st.tuples(
    st.sampled_from(REALISTIC), st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80"]),
).map(lambda t: t[0] + t[1])
huge = st.tuples(st.binary(min_size=1, max_size=8), st.integers(MAX_BODY + 1, 2 * MAX_BODY)).map(
    lambda t: (t[0] * (t[1] // len(t[0]) + 1))[: t[1]])

bodies = st.one_of(
    st.sampled_from(REALISTIC), st.sampled_from(REALISTIC), mutated_real, mutated_real, text_bodies, json_bodies,
    json_bodies, form_bodies, form_bodies, st.binary(max_size=300), non_utf8, huge,
)

SIGNING_MODES = ["none", "wrong_secret", "stale", "future", "tampered", "garbage", "no_timestamp",
                 "bad_timestamp", "v1_prefix", "upper_hex", "empty_signature", "only_timestamp", "sig_of_empty"]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def bad_signature_headers(mode: str, secret: str, body: bytes) -> dict[str, str]:
    now = int(time.time())
    if mode == "none":
        return {}
    if mode == "wrong_secret":
        return signing.signed_headers("not-" + secret, body, now)
    if mode == "stale":
        return signing.signed_headers(secret, body, now - 600)
    if mode == "future":
        # Bolt accepts |now - timestamp| <= 300 s; +301 would pass once a second has gone by.
        return signing.signed_headers(secret, body, now + 600)
    if mode == "tampered":
        return signing.signed_headers(secret, body + b"x", now)
    if mode == "garbage":
        return {signing.TIMESTAMP_HEADER: str(now), signing.SIGNATURE_HEADER: "v0=" + "0" * 64}
    if mode == "no_timestamp":
        return {signing.SIGNATURE_HEADER: signing.signature(secret, now, body)}
    if mode.startswith("bad_timestamp"):
        stamp = mode.partition(":")[2] or "yesterday"
        return {signing.TIMESTAMP_HEADER: stamp, signing.SIGNATURE_HEADER: signing.signature(secret, stamp, body)}
    if mode == "v1_prefix":
        return {signing.TIMESTAMP_HEADER: str(now),
                signing.SIGNATURE_HEADER: "v1=" + signing.signature(secret, now, body)[3:]}
    if mode == "upper_hex":
        sig = signing.signature(secret, now, body)
        return {signing.TIMESTAMP_HEADER: str(now), signing.SIGNATURE_HEADER: "v0=" + sig[3:].upper()}
    if mode == "empty_signature":
        return {signing.TIMESTAMP_HEADER: str(now), signing.SIGNATURE_HEADER: ""}
    if mode == "only_timestamp":
        return {signing.TIMESTAMP_HEADER: str(now)}
    if mode == "sig_of_empty":
        return signing.signed_headers(secret, b"", now) if body else signing.signed_headers(secret, b"z", now)
    raise AssertionError(mode)


def _header_safe(text: str) -> str:
    return "".join(ch for ch in text if 0x20 < ord(ch) < 0x7F)[:60] or "x"


random_headers = st.dictionaries(
    st.sampled_from(["X-Slack-Retry-Num", "X-Slack-Retry-Reason", "X-Forwarded-For", "User-Agent", "Accept",
                     "X-Custom", "Cookie", "Authorization", "X-Slack-Signature-Extra", "Origin"]),
    st.text(max_size=30).map(_header_safe), max_size=3)

paths = st.one_of(
    st.just(EVENTS),
    st.sampled_from(["/", "/slack/events/", "/SLACK/EVENTS", "/slack/events?ssl_check=1", "/slack/events?x=%ff",
                     "/slack/events#frag", "/healthz", "/metrics", "/slack", "/slack/commands", "//slack/events",
                     "/slack/events/../events", "/%2e%2e/etc/passwd", "/slack/events?" + "q" * 3000]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#?%"), max_size=40).map(
        lambda s: "/" + s),
)

odd_timestamps = st.one_of(
    st.sampled_from(["yesterday", "", " ", "1e9", "0x10", "-1", "1.5", "\xb2", "99999999999999999999999"]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=12),
).map(lambda t: "bad_timestamp:" + t)

requests = st.fixed_dictionaries({
    "method": st.sampled_from(["POST"] * 12 + ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    "path": st.one_of(st.just(EVENTS), st.just(EVENTS), st.just(EVENTS), paths),
    "body": bodies,
    "content_type": CONTENT_TYPES,
    "signing": st.one_of(st.sampled_from(SIGNING_MODES), st.sampled_from(SIGNING_MODES),
                         st.sampled_from(SIGNING_MODES), odd_timestamps),
    "headers": random_headers,
})


# ------------------------------------------------------------------ oracle
def bolt_cannot_parse(body: bytes, content_type: str | None) -> bool:
    """Whether Bolt's request parsing raises on this (UTF-8) body: the bot then answers 400 before verifying."""
    try:
        BoltRequest(body=body.decode("utf-8"), headers={"content-type": [content_type]} if content_type else {})
    except Exception:  # noqa: BLE001 - any failure is "cannot parse"
        return True
    return False


def is_ssl_check(body: bytes, content_type: str | None) -> bool:
    try:
        headers = {"content-type": [content_type]} if content_type else {}
        parsed = BoltRequest(body=body.decode("utf-8"), headers=headers).body
    except Exception:  # noqa: BLE001
        return False
    return isinstance(parsed, dict) and parsed.get("ssl_check") == "1"


def expected_statuses(req: dict[str, Any]) -> set[int]:
    """What a POST to /slack/events with a bad signature may get; other routes only must not be 5xx."""
    body, ctype = req["body"], req["content_type"]
    if len(body) > MAX_BODY:
        return {413}
    if not _is_utf8(body):
        return {400}
    if is_ssl_check(body, ctype):
        return {200}  # Bolt's SslCheck answers before verification (harmless, no listener runs)
    return {401}


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def send(fs: FuzzStack, req: dict[str, Any]) -> Any:
    secret = fs.stack.emulators.signing_secret
    headers = dict(req["headers"])
    if req["content_type"] is not None:
        headers["Content-Type"] = req["content_type"]
    headers.update(bad_signature_headers(req["signing"], secret, req["body"]))
    return raw_request(fs, req["method"], req["path"], req["body"], headers)


def check(fs: FuzzStack, req: dict[str, Any]) -> None:
    before = effects(fs)
    response = send(fs, req)
    TALLY.case(PROP)
    TALLY.http(PROP, response.status)
    fs.settle()
    after = effects(fs)
    changed = before.diff(after)
    for what in changed:
        TALLY.side_effect(PROP, what)
    assert response.status < 500, (response.status, response.text[:200])
    assert not changed, changed
    path_only = req["path"].split("?", 1)[0]
    if path_only == EVENTS and req["method"] == "POST":
        allowed = expected_statuses(req)
        assert response.status in allowed, (response.status, allowed, response.text[:200])
    elif path_only == EVENTS:
        # A body too big for Slack is refused by the server from its headers, whatever the method.
        assert response.status == (413 if len(req["body"]) > MAX_BODY else 405), response.status


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow, HealthCheck.data_too_large])
@given(req=requests)
@example(req={"method": "POST", "path": EVENTS, "body": form_body(SLASH_FIELDS),
              "content_type": "application/x-www-form-urlencoded", "signing": "stale", "headers": {}})
@example(req={"method": "POST", "path": EVENTS, "body": b"x" * (MAX_BODY + 1),
              "content_type": "application/x-www-form-urlencoded", "signing": "none", "headers": {}})
@example(req={"method": "POST", "path": EVENTS, "body": b"text=\xff\xfe",
              "content_type": "application/x-www-form-urlencoded", "signing": "wrong_secret", "headers": {}})
@example(req={"method": "DELETE", "path": EVENTS, "body": b"", "content_type": None, "signing": "none", "headers": {}})
@example(req={"method": "POST", "path": EVENTS, "body": b"ssl_check=1&token=x",
              "content_type": "application/x-www-form-urlencoded", "signing": "none", "headers": {}})
def test_unsigned_or_badly_signed_requests_do_nothing(fuzz_stack: FuzzStack, req: dict[str, Any]) -> None:
    check(fuzz_stack, req)


@pytest.mark.parametrize("stamp", ["yesterday", "", "1e9", "1.5"])
def test_non_numeric_timestamp_is_401(fuzz_stack: FuzzStack, stamp: str) -> None:
    before = effects(fuzz_stack)
    body = form_body(SLASH_FIELDS)
    response = raw_request(fuzz_stack, "POST", EVENTS, body, {
        "Content-Type": "application/x-www-form-urlencoded", signing.TIMESTAMP_HEADER: stamp,
        signing.SIGNATURE_HEADER: signing.signature(fuzz_stack.stack.emulators.signing_secret, stamp, body)})
    fuzz_stack.settle()
    assert before.diff(effects(fuzz_stack)) == []
    assert response.status == 401, (response.status, response.text)


@pytest.mark.parametrize("content_length", ["abc", "-1", "1e3", " 12", "+5", "0x10", "5" * 30])
def test_odd_content_length_headers(fuzz_stack: FuzzStack, content_length: str) -> None:
    before = effects(fuzz_stack)
    body = form_body(SLASH_FIELDS)
    response = raw_request(fuzz_stack, "POST", EVENTS, body,
                           {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": content_length,
                            **signing.signed_headers(fuzz_stack.stack.emulators.signing_secret, body)},
                           timeout_s=5)
    TALLY.case(PROP)
    TALLY.http(PROP, response.status)
    fuzz_stack.settle()
    assert response.status < 500
    assert before.diff(effects(fuzz_stack)) == []


def test_chunked_body_is_refused_or_verified(fuzz_stack: FuzzStack) -> None:
    """A chunked body signed correctly must either be read and verified, or refused; never half-read."""
    before = effects(fuzz_stack)
    body = form_body({**SLASH_FIELDS, "text": "help"})
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked",
               **signing.signed_headers(fuzz_stack.stack.emulators.signing_secret, body)}
    response = raw_request(fuzz_stack, "POST", EVENTS, chunked, headers)
    TALLY.case(PROP)
    TALLY.http(PROP, response.status)
    fuzz_stack.settle()
    assert response.status < 500
    # A signed help command has no side effect besides the delivery-dedupe row.
    changed = [c for c in before.diff(effects(fuzz_stack)) if not c.startswith("deliveries")]
    assert changed == []


FORM = "application/x-www-form-urlencoded"
UNPARSEABLE = [(b"{", FORM), (b"payload=%7B", FORM), (b"[1,2,3]", "application/json"), (b"payload=%5B1%5D", FORM),
               (b"{\"a\":" + b"[" * 5000, FORM)]


@pytest.mark.parametrize(("body", "content_type"), UNPARSEABLE,
                         ids=["brace", "payload-not-json", "json-list", "payload-list", "deep-nesting"])
def test_unparseable_unsigned_body_is_401(fuzz_stack: FuzzStack, body: bytes, content_type: str) -> None:
    before = effects(fuzz_stack)
    response = raw_request(fuzz_stack, "POST", EVENTS, body, {"Content-Type": content_type})
    fuzz_stack.settle()
    assert before.diff(effects(fuzz_stack)) == []
    assert response.status == 401, (response.status, response.text)
