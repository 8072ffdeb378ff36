"""The emulator against a real Bolt app in HTTP mode: Bolt must route and accept every driver request.

This is the compatibility check the bot's end-to-end tests rely on: Bolt's
signature check, its payload parsing (command, view, action, options, event
listeners), ``ack`` bodies and ``respond`` through response URLs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.sandbox.slack import (
    ALICE,
    APPROVALS_CHANNEL,
    BOB,
    OPS_CHANNEL,
    DeliveryOptions,
    SlackDriver,
    SlackEmulator,
)
from bot.sandbox.slack.server import ThreadedWsgiServer

TOKEN = "xoxb-bolt-test"
SECRET = "bolt-signing-secret"
FINAL = "rdsbot_request_final"


def plain(value: str) -> dict[str, str]:
    return {"type": "plain_text", "text": value}


MODAL = {
    "type": "modal",
    "callback_id": "rds_clone",
    "title": plain("Clone"),
    "submit": plain("Clone"),
    "blocks": [
        {
            "type": "input",
            "block_id": "DBInstanceId",
            "label": plain("Instance"),
            "element": {"type": "external_select", "action_id": "instance", "min_query_length": 0},
        },
        {
            "type": "input",
            "block_id": "reason",
            "label": plain("Reason"),
            "element": {"type": "plain_text_input", "action_id": "reason"},
        },
    ],
}


def build_app(emu: SlackEmulator) -> App:
    app = App(client=WebClient(base_url=emu.api_url, token=TOKEN), signing_secret=SECRET)

    @app.command("/rds")
    def command(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.options("instance")
    def instances(ack: Any) -> None:
        ack(options=[{"text": plain("rm-1 (prod)"), "value": "rm-1"}])

    @app.view("rds_clone")
    def submitted(ack: Any, view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        if values["reason"]["reason"]["value"] == "no":
            ack(response_action="errors", errors={"reason": "Say why"})
            return
        ack()
        instance = values["DBInstanceId"]["instance"]["selected_option"]["value"]
        client.chat_postMessage(
            channel=APPROVALS_CHANNEL,
            text=f"Clone {instance}?",
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": f"Clone {instance}?"}},
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "approve", "value": "r-1", "text": plain("Approve")}
                    ],
                },
            ],
        )

    @app.action("approve")
    def approve(ack: Any, body: dict[str, Any], respond: Any, client: WebClient) -> None:
        ack()
        respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")
        client.chat_postMessage(
            channel=body["channel"]["id"],
            thread_ts=body["container"]["message_ts"],
            text="Cloned",
            metadata={"event_type": FINAL, "event_payload": {"request_id": "r-1", "state": "succeeded"}},
        )

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your requests"}}],
            },
        )

    return app


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET) as emulator:
        yield emulator


@pytest.fixture
def slack(emu: SlackEmulator) -> Iterator[SlackDriver]:
    server = ThreadedWsgiServer(SlackRequestHandler(build_app(emu)))
    server.start()
    yield SlackDriver(emu, f"http://127.0.0.1:{server.port}/slack/events")
    server.stop()


def test_bolt_runs_the_whole_flow(emu: SlackEmulator, slack: SlackDriver) -> None:
    view = slack.open_modal(ALICE, "clone rm-1", channel=OPS_CHANNEL)
    assert [o["value"] for o in slack.suggest(ALICE, view["id"], "instance").options] == ["rm-1"]
    refused = slack.submit_view(ALICE, view["id"], {"DBInstanceId": "rm-1", "reason": "no"})
    assert (
        refused.response_action == "errors"
        and refused.errors == {"reason": "Say why"}
        and not refused.problems
    )
    accepted = slack.submit_view(ALICE, view["id"], {"DBInstanceId": "rm-1", "reason": "load test"})
    assert accepted.ok and accepted.acked_in_time and emu.open_view(ALICE) is None

    request = emu.wait_for_message(APPROVALS_CHANNEL, where=lambda m: "rm-1" in m["text"])
    assert slack.click(BOB, channel=APPROVALS_CHANNEL, ts=request["ts"], action_id="approve", value="r-1").ok
    final = emu.wait_for_message(
        APPROVALS_CHANNEL,
        thread_ts=request["ts"],
        where=lambda m: m.get("metadata", {}).get("event_type") == FINAL,
    )
    assert final["metadata"]["event_payload"]["state"] == "succeeded"
    emu.wait_for(lambda: emu.message(APPROVALS_CHANNEL, request["ts"])["text"].startswith("Approved"))
    assert "blocks" not in emu.message(
        APPROVALS_CHANNEL, request["ts"]
    )  # replace_original dropped the buttons

    slack.event({"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE", "tab": "home"})
    emu.wait_for(lambda: emu.state.views.home(ALICE))


def test_bolt_refuses_bad_signatures(slack: SlackDriver) -> None:
    assert slack.slash_command(ALICE, "help").status == 200
    for delivery in (
        DeliveryOptions(secret="wrong"),
        DeliveryOptions(timestamp=int(time.time()) - 3600),
        DeliveryOptions(tamper=True),
    ):
        assert slack.slash_command(ALICE, "help", delivery=delivery).status == 401
    assert slack.url_verification("xyz").json == {"challenge": "xyz"}
