"""Each person reads the bot in their Slack locale; channels read RDSBOT_CHANNEL_LOCALE.

Alice and Dave use Slack in Japanese (``users.info`` says ``ja-JP``), Bob in
English; the approvals channel is set to Simplified Chinese. Expected texts are
the catalogue's own, rendered here with ``use_locale``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from bot import operations
from bot.i18n import _, use_locale
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, DAVE
from bot.sandbox.slack.workspace import default_workspace
from bot.sandbox.stack import Emulators, Stack
from tests.e2e.flows import approval_message, request_clone, request_id_of

TITLE = "Clone an RDS instance"


@pytest.fixture
def stack(emulators: Emulators, make_stack: Callable[..., Stack]) -> Stack:
    world = default_workspace()
    for who in (ALICE, DAVE):
        person = world.user(who)
        assert person is not None
        world = world.with_user(dataclasses.replace(person, locale="ja-JP"))
    emulators.slack.reset(seed=world)
    return make_stack(RDSBOT_CHANNEL_LOCALE="zh-CN")


def _in(locale: str, template: str, **params: object) -> str:
    with use_locale(locale):
        text = _(template, **params)
    assert text != _(template, **params), f"no {locale} translation of {template!r}"
    return text


def test_a_japanese_user_gets_a_japanese_modal_and_the_card_reads_in_the_channels_language(stack: Stack) -> None:
    view, submitted = request_clone(stack, user=ALICE)
    assert view["title"]["text"] == _in("ja", TITLE)[:24]
    assert submitted.status == 200
    card = approval_message(stack)
    assert _in("zh_CN", TITLE) in str(card["blocks"]) and TITLE not in str(card["blocks"])
    assert request_id_of(card).startswith("clone-")  # the contract's metadata does not change with the language
    # The same bot, the same minute: an English reader still reads English.
    assert stack.driver.open_modal(BOB, "clone")["title"]["text"] == TITLE
    # Alice withdraws it from the card: her DM is in Japanese, the card's update in Chinese.
    stack.driver.click(ALICE, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="cancel")
    request_id = request_id_of(card)
    dm = stack.slack.wait_for_message(stack.slack.workspace.dm_channel_id(ALICE), timeout=10)
    assert dm["text"].endswith(_in("ja", "Your request {request_id} is cancelled; nothing was sent to RDS.",
                                   request_id=request_id)), dm["text"]
    stack.drain()
    updated = stack.slack.message(APPROVALS_CHANNEL, card["ts"])
    assert updated is not None and _in("zh_CN", "cancelled") in str(updated["blocks"])


def test_a_japanese_user_is_denied_in_japanese(stack: Stack) -> None:
    request_clone(stack, user=DAVE)
    [denied] = stack.requests.recent(DAVE)
    note = stack.slack.wait_for_ephemeral(DAVE, timeout=5)
    with use_locale("ja"):
        verb = operations.require("clone").verb
    sentence = _in("ja", "You are not allowed to {verb} this instance (recorded as {request_id}).", verb=verb,
                   request_id=denied.id)
    assert sentence in note["text"], note["text"]
    assert "rds:CloneDBInstance" in note["text"] and "policy.csv:" in note["text"]  # the rule is still named
