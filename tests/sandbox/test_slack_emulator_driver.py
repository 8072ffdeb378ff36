"""Face 2 of the Slack emulator: the driver delivering signed requests to a bot.

The "bot" here is a tiny WSGI app that verifies signatures with slack_sdk's
SignatureVerifier (as Bolt does), records what it got and answers with
per-test handlers, calling the emulated Web API like a real bot would.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.sandbox.slack import (
    ALICE,
    APPROVALS_CHANNEL,
    BOB,
    OPS_CHANNEL,
    DeliveryOptions,
    DriverError,
    SlackDriver,
    SlackEmulator,
)
from bot.sandbox.slack import delivery as delivery_module
from bot.sandbox.slack.server import ThreadedWsgiServer

TOKEN = "xoxb-driver-test"
SECRET = "driver-signing-secret"
Answer = tuple[int, Any]


def text(value: str) -> dict[str, str]:
    return {"type": "plain_text", "text": value}


def option(value: str, label: str | None = None) -> dict[str, Any]:
    return {"text": text(label or value), "value": value}


def input_block(
    block_id: str, element: dict[str, Any], *, optional: bool = False, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": text(block_id),
        "optional": optional,
        "element": {"action_id": block_id.lower(), **element},
        **extra,
    }


EVERY_ELEMENT = {
    "type": "modal",
    "callback_id": "rds_restore",
    "private_metadata": "req-42",
    "title": text("Restore"),
    "submit": text("Restore"),
    "blocks": [
        input_block("DBInstanceId", {"type": "external_select", "min_query_length": 0}),
        input_block(
            "PayType",
            {
                "type": "static_select",
                "options": [option("Postpaid"), option("Prepaid")],
                "initial_option": option("Postpaid"),
            },
        ),
        input_block(
            "DbNames",
            {"type": "multi_static_select", "options": [option("db1"), option("db2"), option("db3")]},
        ),
        input_block("RestoreTime", {"type": "datetimepicker"}),
        input_block("BackupDate", {"type": "datepicker"}),
        input_block("Window", {"type": "timepicker"}),
        input_block(
            "Period",
            {"type": "number_input", "is_decimal_allowed": False, "min_value": "1", "max_value": "12"},
        ),
        input_block("Approver", {"type": "users_select"}),
        input_block("Notify", {"type": "conversations_select", "response_url_enabled": True}),
        input_block("Channels", {"type": "multi_channels_select"}),
        input_block("Flags", {"type": "checkboxes", "options": [option("force"), option("dry_run")]}),
        input_block("Mode", {"type": "radio_buttons", "options": [option("fast"), option("safe")]}),
        input_block("reason", {"type": "plain_text_input", "multiline": True}),
        input_block("Note", {"type": "plain_text_input"}, optional=True),
        input_block("Tags", {"type": "multi_external_select"}, optional=True),
        input_block("Watchers", {"type": "multi_users_select"}, optional=True),
    ],
}

REQUIRED_VALUES = {
    "DBInstanceId": "rm-1",
    "DbNames": ["db1", "db3"],
    "RestoreTime": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    "BackupDate": date(2024, 5, 1),
    "Window": "02:30",
    "Period": 3,
    "Approver": BOB,
    "Notify": OPS_CHANNEL,
    "Channels": [OPS_CHANNEL, APPROVALS_CHANNEL],
    "Flags": ["force"],
    "Mode": "fast",
    "reason": "load test",
}


@dataclass
class Received:
    kind: str
    valid: bool
    headers: dict[str, str]
    body: bytes
    payload: Any


class FakeBot:
    """A minimal Slack app: signature check, record, answer with a per-kind handler."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self.verifier = SignatureVerifier(SECRET)
        self.received: list[Received] = []
        self.handlers: dict[str, Callable[[Any], Answer]] = {}
        self.url = ""

    def last(self, kind: str) -> Received:
        return [r for r in self.received if r.kind == kind][-1]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        valid = self.verifier.is_valid_request(body, headers)
        if headers["content-type"].startswith("application/json"):
            payload = json.loads(body)
        else:
            payload = dict(parse_qsl(body.decode()))
            if "payload" in payload:
                payload = json.loads(payload["payload"])
        kind = payload.get("type", "slash_command") if "command" not in payload else "slash_command"
        self.received.append(Received(kind, valid, headers, body, payload))
        status, answer = (
            (401, "invalid signature")
            if not valid
            else self.handlers.get(kind, lambda p: (200, None))(payload)
        )
        raw = (
            b""
            if answer is None
            else answer.encode()
            if isinstance(answer, str)
            else json.dumps(answer).encode()
        )
        content_type = "application/json" if isinstance(answer, dict) else "text/plain"
        start_response(f"{status} X", [("Content-Type", content_type), ("Content-Length", str(len(raw)))])
        return [raw]


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET) as emulator:
        yield emulator


@pytest.fixture
def bot(emu: SlackEmulator) -> Iterator[FakeBot]:
    fake = FakeBot(WebClient(base_url=emu.api_url, token=TOKEN))
    server = ThreadedWsgiServer(fake)
    server.start()
    fake.url = f"http://127.0.0.1:{server.port}/slack/events"
    yield fake
    server.stop()


@pytest.fixture
def slack(emu: SlackEmulator, bot: FakeBot) -> SlackDriver:
    return SlackDriver(emu, bot.url)


def open_with(bot: FakeBot, view: dict[str, Any]) -> None:
    """On the next slash command, open ``view`` before acking."""

    def handle(command: dict[str, str]) -> Answer:
        bot.client.views_open(trigger_id=command["trigger_id"], view=view)
        return 200, None

    bot.handlers["slash_command"] = handle


# --- slash commands and signing ------------------------------------------------------------------
def test_slash_command_is_signed_and_shaped_like_slack(
    emu: SlackEmulator, bot: FakeBot, slack: SlackDriver
) -> None:
    response = slack.slash_command(ALICE, "clone rm-1", channel=OPS_CHANNEL)
    got = bot.last("slash_command")
    assert response.status == 200 and got.valid and response.acked_in_time and response.elapsed_s > 0
    assert list(got.payload) == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    assert (got.payload["command"], got.payload["text"], got.payload["user_id"]) == (
        "/rds",
        "clone rm-1",
        ALICE,
    )
    assert (got.payload["team_id"], got.payload["channel_name"]) == ("T0RDSBOT", "ops")
    assert got.payload["response_url"].startswith(emu.base_url + "/response/")
    assert got.headers["user-agent"].startswith("Slackbot")
    assert "x-slack-retry-num" not in got.headers
    # The trigger is registered with face 1, so the bot can open a modal with it.
    assert emu.state.triggers.get(got.payload["trigger_id"]).user == ALICE
    # An ack body is shown to the user: ephemeral by default, in the channel when asked.
    bot.handlers["slash_command"] = lambda p: (200, {"response_type": "in_channel", "text": "Backup started"})
    slack.slash_command(ALICE, "backup rm-1")
    assert emu.messages(OPS_CHANNEL)[-1]["text"] == "Backup started"
    bot.handlers["slash_command"] = lambda p: (200, {"text": "Usage: /rds clone <instance-id>"})
    slack.slash_command(ALICE, "", channel="D0ALICE")
    assert (
        emu.ephemerals(ALICE)[-1]["text"].startswith("Usage")
        and bot.last("slash_command").payload["channel_name"] == "directmessage"
    )


@pytest.mark.parametrize(
    "delivery",
    [
        DeliveryOptions(secret="not-the-secret"),
        DeliveryOptions(timestamp=int(time.time()) - 600),
        DeliveryOptions(tamper=True),
        DeliveryOptions(tamper=lambda body: body.replace(b"clone", b"restore")),
        DeliveryOptions(sign=False),
    ],
    ids=["wrong-secret", "stale", "tampered", "tampered-fn", "unsigned"],
)
def test_bad_signatures_do_not_verify(bot: FakeBot, slack: SlackDriver, delivery: DeliveryOptions) -> None:
    response = slack.slash_command(ALICE, "clone rm-1", delivery=delivery)
    assert not bot.last("slash_command").valid and response.status == 401
    assert any("dispatch_failed" in p for p in response.problems)
    assert "not-the-secret" not in repr(delivery)


def test_replay_sends_identical_bytes_and_retry_headers(bot: FakeBot, slack: SlackDriver) -> None:
    first = slack.slash_command(ALICE, "backup rm-1")
    again = slack.replay(first)
    a, b = bot.received[-2:]
    assert a.valid and b.valid and a.body == b.body
    assert a.headers["x-slack-signature"] == b.headers["x-slack-signature"]
    assert again.request == first.request and again.trigger_id == first.trigger_id

    slack.event(
        {"type": "app_home_opened", "user": ALICE, "tab": "home"},
        delivery=DeliveryOptions(retry_num=2, retry_reason="http_timeout"),
    )
    retried = bot.last("event_callback")
    assert retried.valid and (
        retried.headers["x-slack-retry-num"],
        retried.headers["x-slack-retry-reason"],
    ) == ("2", "http_timeout")
    assert retried.payload["event"]["type"] == "app_home_opened" and retried.payload["event_id"].startswith(
        "Ev"
    )
    assert retried.payload["authorizations"][0]["user_id"] == "U0RDSBOT"


def test_url_verification(bot: FakeBot, slack: SlackDriver) -> None:
    bot.handlers["url_verification"] = lambda p: (200, {"challenge": p["challenge"]})
    assert not slack.url_verification("abc").problems
    bot.handlers["url_verification"] = lambda p: (200, None)
    assert slack.url_verification("abc").problems


# --- modals -----------------------------------------------------------------------------------------
def test_view_submission_state_shapes(emu: SlackEmulator, bot: FakeBot, slack: SlackDriver) -> None:
    open_with(bot, EVERY_ELEMENT)
    view = slack.open_modal(ALICE, "restore rm-1")
    assert view["callback_id"] == "rds_restore"
    response = slack.submit_view(ALICE, view["id"], REQUIRED_VALUES)
    assert response.ok and not response.problems
    payload = bot.last("view_submission").payload
    assert {
        "type",
        "team",
        "user",
        "api_app_id",
        "token",
        "trigger_id",
        "view",
        "response_urls",
        "is_enterprise_install",
        "enterprise",
    } <= set(payload)
    assert payload["user"] == {"id": ALICE, "username": "alice", "name": "alice", "team_id": "T0RDSBOT"}
    sent = payload["view"]
    assert (sent["id"], sent["hash"], sent["callback_id"], sent["private_metadata"]) == (
        view["id"],
        view["hash"],
        "rds_restore",
        "req-42",
    )
    values = {block_id: entry[block_id.lower()] for block_id, entry in sent["state"]["values"].items()}
    assert values["DBInstanceId"] == {
        "type": "external_select",
        "selected_option": {"text": {"type": "plain_text", "text": "rm-1", "emoji": True}, "value": "rm-1"},
    }
    assert values["PayType"] == {
        "type": "static_select",
        "selected_option": option("Postpaid"),
    }  # initial_option
    assert values["DbNames"] == {
        "type": "multi_static_select",
        "selected_options": [option("db1"), option("db3")],
    }
    assert values["RestoreTime"] == {"type": "datetimepicker", "selected_date_time": 1714564800}
    assert values["BackupDate"] == {"type": "datepicker", "selected_date": "2024-05-01"}
    assert values["Window"] == {"type": "timepicker", "selected_time": "02:30"}
    assert values["Period"] == {"type": "number_input", "value": "3"}
    assert values["Approver"] == {"type": "users_select", "selected_user": BOB}
    assert values["Notify"] == {"type": "conversations_select", "selected_conversation": OPS_CHANNEL}
    assert values["Channels"] == {
        "type": "multi_channels_select",
        "selected_channels": [OPS_CHANNEL, APPROVALS_CHANNEL],
    }
    assert values["Flags"] == {"type": "checkboxes", "selected_options": [option("force")]}
    assert values["Mode"] == {"type": "radio_buttons", "selected_option": option("fast")}
    assert values["reason"] == {"type": "plain_text_input", "value": "load test"}
    assert values["Note"] == {"type": "plain_text_input", "value": None}  # optional, left empty
    assert values["Tags"] == {"type": "multi_external_select", "selected_options": []}
    assert values["Watchers"] == {"type": "multi_users_select", "selected_users": []}
    [url] = payload["response_urls"]
    assert (url["block_id"], url["channel_id"]) == ("Notify", OPS_CHANNEL) and url["response_url"].startswith(
        emu.base_url
    )
    assert emu.open_view(ALICE) is None  # empty ack closes the modal


def test_submission_is_refused_where_slack_would_refuse_it(bot: FakeBot, slack: SlackDriver) -> None:
    open_with(bot, EVERY_ELEMENT)
    view = slack.open_modal(ALICE)
    without_reason = {k: v for k, v in REQUIRED_VALUES.items() if k != "reason"}
    with pytest.raises(DriverError, match="reason"):
        slack.submit_view(ALICE, view["id"], without_reason)
    with pytest.raises(DriverError, match="offers no option"):
        slack.submit_view(ALICE, view["id"], {**REQUIRED_VALUES, "PayType": "Free"})
    with pytest.raises(DriverError, match="decimals"):
        slack.submit_view(ALICE, view["id"], {**REQUIRED_VALUES, "Period": "1.5"})
    with pytest.raises(DriverError, match="max_value"):
        slack.submit_view(ALICE, view["id"], {**REQUIRED_VALUES, "Period": 13})
    with pytest.raises(DriverError, match="no input for"):
        slack.submit_view(ALICE, view["id"], {**REQUIRED_VALUES, "Typo": "x"})
    with pytest.raises(DriverError, match="belongs to"):
        slack.submit_view(BOB, view["id"], REQUIRED_VALUES)
    assert not any(r.kind == "view_submission" for r in bot.received)
    # A defensive-bot test may still send what Slack never would.
    slack.submit_view(ALICE, view["id"], without_reason, validate=False)
    assert bot.last("view_submission").payload["view"]["state"]["values"]["reason"]["reason"]["value"] is None


def test_response_actions_are_applied_to_the_view(
    emu: SlackEmulator, bot: FakeBot, slack: SlackDriver
) -> None:
    open_with(bot, EVERY_ELEMENT)
    view = slack.open_modal(ALICE)
    bot.handlers["view_submission"] = lambda p: (
        200,
        {"response_action": "errors", "errors": {"DbNames": "no such db"}},
    )
    refused = slack.submit_view(ALICE, view["id"], REQUIRED_VALUES)
    assert refused.errors == {"DbNames": "no such db"} and not refused.problems
    assert emu.open_view(ALICE)["id"] == view["id"]

    bot.handlers["view_submission"] = lambda p: (200, {"response_action": "errors", "errors": {"nope": "x"}})
    assert "not an input block" in slack.submit_view(ALICE, view["id"], REQUIRED_VALUES).problems[0]

    done = {
        "type": "modal",
        "title": text("Submitted"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Waiting for approval"}}],
    }
    bot.handlers["view_submission"] = lambda p: (200, {"response_action": "update", "view": done})
    slack.submit_view(ALICE, view["id"], REQUIRED_VALUES)
    current = emu.open_view(ALICE)
    assert (
        current["id"] == view["id"]
        and current["hash"] != view["hash"]
        and current["title"]["text"] == "Submitted"
    )

    bot.handlers["view_submission"] = lambda p: (
        200,
        {"response_action": "push", "view": {**EVERY_ELEMENT, "callback_id": "step2"}},
    )
    open_with(bot, EVERY_ELEMENT)
    view = slack.open_modal(ALICE)
    slack.submit_view(ALICE, view["id"], REQUIRED_VALUES)
    assert [v["callback_id"] for v in emu.views(ALICE)] == ["rds_restore", "step2"]
    bot.handlers["view_submission"] = lambda p: (200, {"response_action": "clear"})
    slack.submit_view(ALICE, None, REQUIRED_VALUES)
    assert emu.views(ALICE) == []


def test_submission_trigger_can_open_the_next_modal(
    emu: SlackEmulator, bot: FakeBot, slack: SlackDriver
) -> None:
    open_with(bot, EVERY_ELEMENT)
    view = slack.open_modal(ALICE)

    def next_modal(payload: dict[str, Any]) -> Answer:
        bot.client.views_open(trigger_id=payload["trigger_id"], view={**EVERY_ELEMENT, "callback_id": "next"})
        return 200, None

    bot.handlers["view_submission"] = next_modal
    response = slack.submit_view(ALICE, view["id"], REQUIRED_VALUES)
    assert not response.problems and emu.open_view(ALICE)["callback_id"] == "next"


def test_slow_ack_is_reported_and_not_applied(
    monkeypatch: pytest.MonkeyPatch, emu: SlackEmulator, bot: FakeBot, slack: SlackDriver
) -> None:
    open_with(bot, EVERY_ELEMENT)
    view = slack.open_modal(ALICE)
    monkeypatch.setattr(delivery_module, "ACK_DEADLINE_S", 0.05)

    def slow(_payload: Any) -> Answer:
        time.sleep(0.1)
        return 200, None

    bot.handlers["view_submission"] = slow
    response = slack.submit_view(ALICE, view["id"], REQUIRED_VALUES)
    assert not response.acked_in_time and "trouble connecting" in response.problems[0]
    assert emu.open_view(ALICE) is not None


def test_block_suggestion_and_picking_a_served_option(bot: FakeBot, slack: SlackDriver) -> None:
    open_with(bot, EVERY_ELEMENT)
    view = slack.open_modal(ALICE)
    served = {"options": [option("rm-1", "rm-1 (prod, MySQL 8.0)"), option("rm-2", "rm-2 (staging)")]}
    bot.handlers["block_suggestion"] = lambda p: (200, served)
    answer = slack.suggest(ALICE, view["id"], "DBInstanceId", "rm")
    assert [o["value"] for o in answer.options] == ["rm-1", "rm-2"] and not answer.problems
    sent = bot.last("block_suggestion").payload
    assert (sent["type"], sent["action_id"], sent["block_id"], sent["value"]) == (
        "block_suggestion",
        "dbinstanceid",
        "DBInstanceId",
        "rm",
    )
    assert sent["container"] == {"type": "view", "view_id": view["id"]} and sent["view"]["id"] == view["id"]
    with pytest.raises(DriverError, match="min_query_length"):
        slack.suggest(ALICE, view["id"], "tags", "rm")  # default min_query_length is 3

    bot.handlers["block_suggestion"] = lambda p: (
        200,
        {"option_groups": [{"label": text("prod"), "options": [option("t1")]}]},
    )
    assert [o["value"] for o in slack.suggest(ALICE, view["id"], "Tags", "prod").options] == ["t1"]
    slack.submit_view(ALICE, view["id"], REQUIRED_VALUES)
    picked = bot.last("view_submission").payload["view"]["state"]["values"]["DBInstanceId"]["dbinstanceid"]
    assert picked["selected_option"]["text"]["text"] == "rm-1 (prod, MySQL 8.0)"


def test_actions_inside_a_modal(emu: SlackEmulator, bot: FakeBot, slack: SlackDriver) -> None:
    modal = {
        **EVERY_ELEMENT,
        "blocks": [
            input_block(
                "RegionId",
                {"type": "static_select", "options": [option("cn-hangzhou"), option("cn-beijing")]},
                dispatch_action=True,
            ),
            input_block("reason", {"type": "plain_text_input"}),
            {
                "type": "actions",
                "block_id": "nav",
                "elements": [
                    {"type": "button", "action_id": "page_next", "value": "2", "text": text("Next")}
                ],
            },
        ],
    }
    open_with(bot, modal)
    view = slack.open_modal(ALICE)
    assert slack.select_in_view(ALICE, view["id"], "reason", "typed, not dispatched") is None
    picked = slack.select_in_view(ALICE, view["id"], "RegionId", "cn-beijing")
    action = picked.payload["actions"][0]
    assert (action["type"], action["block_id"], action["selected_option"]["value"]) == (
        "static_select",
        "RegionId",
        "cn-beijing",
    )
    state = picked.payload["view"]["state"]["values"]
    assert state["reason"]["reason"]["value"] == "typed, not dispatched"
    assert picked.payload["container"] == {"type": "view", "view_id": view["id"]}

    def push(payload: dict[str, Any]) -> Answer:
        bot.client.views_push(trigger_id=payload["trigger_id"], view={**modal, "callback_id": "page2"})
        return 200, None

    bot.handlers["block_actions"] = push
    clicked = slack.click_in_view(ALICE, view["id"], "page_next")
    assert clicked.payload["actions"][0]["value"] == "2" and clicked.payload["view"]["id"] == view["id"]
    assert emu.open_view(ALICE)["callback_id"] == "page2"
    with pytest.raises(DriverError, match="not the one"):
        slack.click_in_view(ALICE, view["id"], "page_next")  # hidden under the pushed view
    closing = {**modal, "notify_on_close": True}
    open_with(bot, closing)
    slack.open_modal(ALICE)
    assert slack.close_view(ALICE).payload["type"] == "view_closed" and emu.open_view(ALICE) is None


# --- messages -----------------------------------------------------------------------------------------
def approval_blocks(request_id: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"Clone *rm-1* ({request_id})"}},
        {
            "type": "actions",
            "block_id": "decision",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "value": request_id,
                    "style": "primary",
                    "text": text("Approve"),
                },
                {
                    "type": "button",
                    "action_id": "reject",
                    "value": request_id,
                    "style": "danger",
                    "text": text("Reject"),
                },
            ],
        },
    ]


def test_click_a_button_in_a_message(emu: SlackEmulator, bot: FakeBot, slack: SlackDriver) -> None:
    posted = bot.client.chat_postMessage(
        channel=APPROVALS_CHANNEL, text="Clone rm-1?", blocks=approval_blocks("r-1")
    )

    def decide(payload: dict[str, Any]) -> Answer:
        WebhookClient(payload["response_url"]).send(
            text=f"Approved by <@{payload['user']['id']}>", replace_original=True
        )
        return 200, None

    bot.handlers["block_actions"] = decide
    response = slack.click(BOB, channel=APPROVALS_CHANNEL, ts=posted["ts"], action_id="approve", value="r-1")
    assert response.ok and not response.problems
    sent = response.payload
    assert sent["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": APPROVALS_CHANNEL,
        "is_ephemeral": False,
    }
    assert sent["channel"] == {"id": APPROVALS_CHANNEL, "name": "rds-approvals"}
    assert sent["message"]["ts"] == posted["ts"] and sent["message"]["blocks"][1]["block_id"] == "decision"
    [action] = sent["actions"]
    assert {k: action[k] for k in ("action_id", "block_id", "value", "type", "style")} == {
        "action_id": "approve",
        "block_id": "decision",
        "value": "r-1",
        "type": "button",
        "style": "primary",
    }
    assert (
        float(action["action_ts"]) > 0
        and sent["trigger_id"]
        and sent["response_url"].startswith(emu.base_url)
    )
    assert emu.message(APPROVALS_CHANNEL, posted["ts"])["text"] == "Approved by <@U0BOB>"
    with pytest.raises(DriverError, match="no element with action_id='approve'"):
        slack.click(BOB, channel=APPROVALS_CHANNEL, ts=posted["ts"], action_id="approve")  # buttons are gone
    with pytest.raises(DriverError, match="not a member"):
        slack.click(BOB, channel="D0ALICE", ts=posted["ts"], action_id="approve")


def test_click_in_an_ephemeral_message(emu: SlackEmulator, bot: FakeBot, slack: SlackDriver) -> None:
    ts = bot.client.chat_postEphemeral(
        channel=OPS_CHANNEL,
        user=ALICE,
        text="Cancel?",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "action_id": "cancel", "value": "r-9", "text": text("Cancel")}
                ],
            }
        ],
    )["message_ts"]
    with pytest.raises(DriverError, match="sees no message"):
        slack.click(BOB, channel=OPS_CHANNEL, ts=ts, action_id="cancel")
    sent = slack.click(ALICE, channel=OPS_CHANNEL, ts=ts, action_id="cancel").payload
    assert sent["container"]["is_ephemeral"] is True and "message" not in sent


# --- the whole flow, as an end-to-end test would read ---------------------------------------------
def test_request_approval_flow(emu: SlackEmulator, bot: FakeBot, slack: SlackDriver) -> None:
    modal = {
        **EVERY_ELEMENT,
        "callback_id": "rds_clone",
        "blocks": [
            input_block("DBInstanceId", {"type": "external_select", "min_query_length": 0}),
            input_block("reason", {"type": "plain_text_input"}),
        ],
    }

    def later(work: Callable[[], Any]) -> None:
        threading.Thread(target=work).start()  # ack first, work after, like Bolt's lazy listeners

    def command(payload: dict[str, str]) -> Answer:
        later(lambda: bot.client.views_open(trigger_id=payload["trigger_id"], view=modal))
        return 200, None

    def submission(payload: dict[str, Any]) -> Answer:
        values = payload["view"]["state"]["values"]
        instance = values["DBInstanceId"]["dbinstanceid"]["selected_option"]["value"]
        later(
            lambda: bot.client.chat_postMessage(
                channel=APPROVALS_CHANNEL, text=f"Clone {instance}?", blocks=approval_blocks("r-1")
            )
        )
        return 200, None

    def decision(payload: dict[str, Any]) -> Answer:
        message = payload["message"]

        def run() -> None:
            bot.client.chat_update(channel=APPROVALS_CHANNEL, ts=message["ts"], text="Approved", blocks=[])
            bot.client.chat_postMessage(
                channel=APPROVALS_CHANNEL,
                thread_ts=message["ts"],
                text="Cloned rm-1 into rm-2",
                metadata={
                    "event_type": "rdsbot_request_final",
                    "event_payload": {"request_id": "r-1", "state": "succeeded"},
                },
            )

        later(run)
        return 200, None

    bot.handlers.update(slash_command=command, view_submission=submission, block_actions=decision)

    view = slack.open_modal(ALICE, "clone rm-1", channel=OPS_CHANNEL)
    assert slack.submit_view(ALICE, view["id"], {"DBInstanceId": "rm-1", "reason": "load test"}).ok
    request = emu.wait_for_message(APPROVALS_CHANNEL, where=lambda m: "rm-1" in m["text"])
    slack.click(BOB, channel=APPROVALS_CHANNEL, ts=request["ts"], action_id="approve", value="r-1")
    final = emu.wait_for_message(
        APPROVALS_CHANNEL,
        thread_ts=request["ts"],
        where=lambda m: m.get("metadata", {}).get("event_type") == "rdsbot_request_final",
    )
    assert final["metadata"]["event_payload"] == {"request_id": "r-1", "state": "succeeded"}
    assert emu.thread(APPROVALS_CHANNEL, request["ts"])[-1]["ts"] == final["ts"]
    assert [c.method for c in emu.calls()] == [
        "views.open",
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
    ]
