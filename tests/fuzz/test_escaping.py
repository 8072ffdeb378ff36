"""Property 5: user text never reaches Slack as live markup.

A clone request is submitted over HTTP with a random, hostile ``reason``
(``<!channel>``, ``<@U...>``, ``<http://evil|trusted>``, control and bidi
characters, entities, newlines); the approval card the bot then posts in the
Slack emulator must hold no ``<!``, no ``<http``, no ``<@`` except the
requester's mention the bot makes itself, no ``<#``, and no control or bidi
characters. The same holds for everything the bot answers to random
``/rds ...`` text (the ack, modals it opens, ephemerals, response_url posts).
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, CAROL, OPS_CHANNEL
from tests.e2e.flows import DEV_MYSQL, first_backup
from tests.fuzz import mutate
from tests.fuzz.conftest import TALLY, FuzzStack, examples, form_body, interactive_body, send_signed

# The bot's own threads (scheduler, retries) use the global ``random`` while hypothesis generates data;
# hypothesis mistakes that for a strategy using ``random``.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

PROP_CARD, PROP_COMMAND = "p5_escaping_approval_card", "p5_escaping_command_replies"
REAL_USERS = {"U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN", "U0RDSBOT"}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ids = itertools.count()

pieces = st.one_of(
    st.sampled_from(["<!channel>", "<!here>", "<!everyone>", "<!subteam^S0DBA|@dba>", "<@U0BOB>", "<@W0X|x>",
                     "<#C0APPROVALS|approvals>", "<http://evil.example|https://console.aliyun.com>",
                     "<https://evil.example>", "<mailto:a@b.c|x>", "< !channel >", "<<!channel>>", "&lt;!channel&gt;",
                     "&amp;", "&", ">", "<", "\u202e", "\u2066", "\x00", "\x1b[31m", "\r\n", "\n> quoted",
                     "*bold*", "`code`", "```block```", "~strike~", "_it_", ":smile:", "@here", "@channel"]),
    st.sampled_from(mutate.HOSTILE),
    st.text(max_size=20),
    st.text(alphabet="<>!@#&|:/hs tp", max_size=12),
)
reasons = st.lists(pieces, min_size=1, max_size=8).map("".join)


BOT_DATE = re.compile(r"date\^\d{1,12}\^(\{[a-z_]+\} ?)+\|\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def mrkdwn_texts(obj: Any, *, parent_type: str | None = None) -> list[str]:
    """Every text Slack renders as mrkdwn: message text and mrkdwn text objects, anywhere in blocks."""
    out: list[str] = []
    if isinstance(obj, dict):
        kind = obj.get("type")
        for key, value in obj.items():
            if key == "text" and isinstance(value, str) and (kind in (None, "mrkdwn") and parent_type != "plain"):
                out.append(value)
            elif isinstance(value, (dict, list)):
                out.extend(mrkdwn_texts(value, parent_type="plain" if kind == "plain_text" else None))
    elif isinstance(obj, list):
        for item in obj:
            out.extend(mrkdwn_texts(item, parent_type=parent_type))
    return out


def live_markup(texts: list[str], allowed_mentions: set[str], allowed_channels: set[str]) -> list[str]:
    """Markup in ``texts`` the bot did not make itself (empty list: all safe)."""
    bad: list[str] = []
    for text in texts:
        for match in re.finditer(r"<([!@#]|https?:|mailto:)([^>]*)>?", text):
            sigil, rest = match.group(1), match.group(2)
            if sigil == "@" and rest in allowed_mentions:
                continue
            if sigil == "#" and rest.split("|")[0] in allowed_channels:
                continue
            if sigil == "!" and BOT_DATE.fullmatch(rest):
                continue  # a time the bot wrote (bot.timeutil.slack_date): digits and its own format only
            bad.append(match.group(0)[:80])
        if CONTROL.search(text):
            bad.append(f"control character in {text[:60]!r}")
    return bad


# ------------------------------------------------------------ approval card
@pytest.fixture(scope="module")
def clone_submission(fuzz_stack: FuzzStack) -> dict[str, Any]:
    """A real view_submission of the clone modal (dev instance), to replay with other reasons."""
    driver = fuzz_stack.stack.driver
    view = driver.open_modal(ALICE, f"clone {DEV_MYSQL}", channel=OPS_CHANNEL)
    backup = first_backup(fuzz_stack.stack, ALICE, view["id"])
    response = driver.submit_view(ALICE, view["id"], {"DBInstanceId": DEV_MYSQL, "BackupId": backup,
                                                      "PayType": "Postpaid", "reason": "baseline"}, validate=False)
    assert response.status == 200, response.text
    fuzz_stack.settle()
    return dict(response.payload)


def _with_reason(template: dict[str, Any], reason: str) -> dict[str, Any]:
    payload = json.loads(json.dumps(template))
    view = payload["view"]
    view["id"] = f"V0ESC{next(_ids):06d}"  # a new modal each time (one request per modal)
    block = view["state"]["values"]["reason"]
    action = next(iter(block))
    block[action]["value"] = reason
    return payload


def card_of(fs: FuzzStack, request_id: str) -> dict[str, Any]:
    return fs.slack.wait_for_message(APPROVALS_CHANNEL, timeout=10, where=lambda m: (
        ((m.get("metadata") or {}).get("event_payload") or {}).get("request_id") == request_id))


@settings(max_examples=examples(80), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(reason=reasons)
@example(reason="<!channel> please approve <@U0BOB> see <http://evil.example|https://console.aliyun.com>")
@example(reason="\u202eevil\u202c <!here|here>")
@example(reason="x" * 2990 + "<!channel>")
@example(reason="&" * 1500 + "<!channel>")
@example(reason="line one\n<!channel>\n> <@U0BOB>")
def test_reason_on_the_approval_card_is_inert(fuzz_stack: FuzzStack, clone_submission: dict[str, Any],
                                              reason: str) -> None:
    before = {r.id for r in fuzz_stack.requests.recent(ALICE, limit=500)}
    response = send_signed(fuzz_stack, interactive_body(_with_reason(clone_submission, reason)))
    TALLY.case(PROP_CARD)
    TALLY.http(PROP_CARD, response.status, response.elapsed_s)
    assert response.status == 200, response.text
    fuzz_stack.settle()
    new = [r for r in fuzz_stack.requests.recent(ALICE, limit=500) if r.id not in before]
    if not reason.strip() or len(reason.strip()) > 3000:
        assert not new and (response.json or {}).get("response_action") == "errors", response.text
        TALLY.count(PROP_CARD, "refused_reason")
        return
    assert len(new) == 1 and new[0].state == "pending_approval", (response.text, [r.state for r in new])
    card = card_of(fuzz_stack, new[0].id)
    TALLY.count(PROP_CARD, "cards_checked")
    # The "May approve" block mentions the approvers on purpose (DESIGN.md); nothing else pings.
    named = [b for b in card.get("blocks") or [] if b.get("block_id") == "approvers"]
    others = [b for b in card.get("blocks") or [] if b.get("block_id") != "approvers"]
    texts = mrkdwn_texts({"text": card.get("text"), "blocks": others})
    bad = live_markup(texts, allowed_mentions={ALICE}, allowed_channels=set())
    bad += live_markup(mrkdwn_texts({"blocks": named}), allowed_mentions={BOB, CAROL}, allowed_channels=set())
    for item in bad:
        TALLY.side_effect(PROP_CARD, f"live markup on the card: {item}")
    assert not bad, (bad, reason)
    reason_blocks = [b for b in card.get("blocks") or [] if b.get("block_id") == "reason"]
    assert reason_blocks, "the card does not show the reason"


# ----------------------------------------------------------- command replies
@pytest.fixture(scope="module")
def command_fields(fuzz_stack: FuzzStack) -> dict[str, str]:
    response = fuzz_stack.stack.driver.slash_command(ALICE, "help", channel=OPS_CHANNEL)
    assert response.status == 200
    return dict(response.payload)


words = st.lists(st.one_of(pieces, st.sampled_from([DEV_MYSQL, "daily", "09:00", "in", "5", "minutes",
                                                     "delete", "list"])), max_size=5)
commands = st.tuples(
    st.sampled_from(["clone", "copy", "restore", "backup", "backups", "status", "remind", "help", "", "<!channel>"]),
    words).map(lambda t: " ".join([t[0], *t[1]]))


@settings(max_examples=examples(100), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=commands, user=st.sampled_from([ALICE, BOB]))
@example(text="<!channel>", user=ALICE)
@example(text="status <!channel>", user=ALICE)
@example(text="clone <http://evil.example|x>", user=ALICE)
@example(text=f"remind {DEV_MYSQL} <!channel> <@U0BOB>", user=BOB)
@example(text="remind delete <!here>", user=BOB)
@example(text="backups <#C0EVIL>", user=ALICE)
def test_command_replies_are_inert(fuzz_stack: FuzzStack, command_fields: dict[str, str], text: str,
                                   user: str) -> None:
    fields = {**command_fields, "text": text, "user_id": user, "user_name": user.lower(),
              "trigger_id": f"{next(_ids)}.fuzz"}
    mark = len(fuzz_stack.slack.calls())
    response = send_signed(fuzz_stack, form_body(fields))
    TALLY.case(PROP_COMMAND)
    TALLY.http(PROP_COMMAND, response.status, response.elapsed_s)
    assert response.status == 200, response.text
    fuzz_stack.settle()
    said: list[Any] = [response.json if response.json is not None else {"text": response.text}]
    for call in fuzz_stack.slack.calls()[mark:]:
        said.append({k: v for k, v in call.params.items() if k in {"text", "blocks", "view", "attachments"}})
    texts = [t for item in said for t in mrkdwn_texts(item)]
    bad = live_markup(texts, allowed_mentions=REAL_USERS, allowed_channels={APPROVALS_CHANNEL})
    for item in bad:
        TALLY.side_effect(PROP_COMMAND, f"live markup in a reply to {text[:40]!r}: {item}")
    assert not bad, (bad, text)


def test_the_oracle_sees_live_markup() -> None:
    """The checks above are not vacuous: raw markup in mrkdwn is caught, plain_text and escaped text are not."""
    message = {"text": "by <@U0ALICE>", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "<!channel> in plain text is inert"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Reason*\n> &lt;!channel&gt; <!here>"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "<http://evil|x>"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "<@U0BOB> \u202e"}]},
    ]}
    texts = mrkdwn_texts(message)
    assert "<!channel> in plain text is inert" not in texts
    bad = live_markup(texts, allowed_mentions={ALICE}, allowed_channels=set())
    assert bad == ["<!here>", "<http://evil|x>", "<@U0BOB>", "control character in '<@U0BOB> \\u202e'"], bad
