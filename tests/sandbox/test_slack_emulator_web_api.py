"""Face 1 of the Slack emulator: the Web API, exercised with a real slack_sdk WebClient."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from bot.sandbox.slack import (
    ALICE,
    APPROVALS_CHANNEL,
    BOB,
    DBA_GROUP,
    OPS_CHANNEL,
    PRIVATE_CHANNEL,
    Channel,
    SlackEmulator,
    default_workspace,
)

TOKEN = "xoxb-emulator-test"
SECRET = "emulator-signing-secret"
FINAL = {"event_type": "rdsbot_request_final", "event_payload": {"request_id": "r-1", "state": "succeeded"}}
MODAL = {
    "type": "modal",
    "callback_id": "rds_clone",
    "title": {"type": "plain_text", "text": "Clone"},
    "submit": {"type": "plain_text", "text": "Clone"},
    "blocks": [
        {
            "type": "input",
            "block_id": "DBInstanceId",
            "label": {"type": "plain_text", "text": "Instance"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET) as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(base_url=emu.api_url, token=TOKEN)


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(SlackApiError) as raised:
        call(*args, **kwargs)
    return str(raised.value.response["error"])


# --- auth and directory -------------------------------------------------------------------------
def test_auth_test_and_token_checks(emu: SlackEmulator, client: WebClient) -> None:
    me = client.auth_test()
    assert (me["team_id"], me["user_id"], me["bot_id"]) == ("T0RDSBOT", "U0RDSBOT", "B0RDSBOT")
    assert me["url"].startswith("https://")
    assert error_of(WebClient(base_url=emu.api_url, token="xoxb-wrong").auth_test) == "invalid_auth"
    assert error_of(WebClient(base_url=emu.api_url).auth_test) == "not_authed"
    # Token as a form parameter works too, and is never journaled.
    assert client.api_call("auth.test", params={"token": TOKEN})["ok"]
    assert all("token" not in c.params for c in emu.calls())
    assert TOKEN not in json.dumps([c.params for c in emu.calls()]) and TOKEN not in repr(emu)


def test_users_groups_and_conversations(client: WebClient) -> None:
    alice = client.users_info(user=ALICE)["user"]
    assert alice["tz"] == "Asia/Shanghai" and alice["tz_offset"] == 8 * 3600
    assert alice["real_name"] == "Alice Liu" and alice["profile"]["display_name"] == "alice"
    assert alice["is_bot"] is False and client.users_info(user="U0RDSBOT")["user"]["is_bot"] is True
    # As Slack: the locale only when asked for.
    assert "locale" not in alice and client.users_info(user=ALICE, include_locale=True)["user"]["locale"] == "en-US"
    assert error_of(client.users_info, user="U0NOBODY") == "user_not_found"
    assert client.usergroups_users_list(usergroup=DBA_GROUP)["users"] == [BOB, "U0CAROL"]
    assert client.usergroups_users_list(usergroup="S0ONCALL")["users"] == ["U0ERIN"]
    assert error_of(client.usergroups_users_list, usergroup="S0NONE") == "no_such_subteam"
    assert client.conversations_open(users=ALICE)["channel"]["id"] == "D0ALICE"
    assert error_of(client.conversations_open, users="U0RDSBOT") == "cannot_dm_bot"
    info = client.conversations_info(channel=APPROVALS_CHANNEL)["channel"]
    assert info["name"] == "rds-approvals" and info["is_member"] is True
    assert client.conversations_info(channel=PRIVATE_CHANNEL)["channel"]["is_member"] is False
    assert client.conversations_info(channel="D0BOB")["channel"]["user"] == BOB
    assert error_of(client.conversations_info, channel="C0NOPE") == "channel_not_found"


def test_users_conversations_lists_a_users_channels_the_bot_shares() -> None:
    workspace = default_workspace().with_channel(Channel("C0QA", "qa", members=(BOB,)))
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET, seed=workspace) as emu:
        client = WebClient(token=TOKEN, base_url=emu.api_url)
        every = "public_channel,private_channel"
        # Alice is in #private too, but the bot is not: a bot token does not see it (as on Slack).
        assert [c["id"] for c in client.users_conversations(user=ALICE, types=every)["channels"]] == [
            APPROVALS_CHANNEL, OPS_CHANNEL]
        assert "C0QA" in [c["id"] for c in client.users_conversations(user=BOB, types=every)["channels"]]
        paged = client.users_conversations(user=BOB, types=every, limit=2)
        assert len(paged["channels"]) == 2 and paged["response_metadata"]["next_cursor"]
        assert error_of(client.users_conversations, user="U0NOBODY") == "user_not_found"


# --- messages -----------------------------------------------------------------------------------
def test_post_update_and_replies_with_metadata(emu: SlackEmulator, client: WebClient) -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Clone *rm-1*"}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "value": "r-1",
                    "text": {"type": "plain_text", "text": "Approve"},
                },
                {
                    "type": "button",
                    "action_id": "reject",
                    "value": "r-1",
                    "text": {"type": "plain_text", "text": "Reject"},
                },
            ],
        },
    ]
    parent = client.chat_postMessage(channel=APPROVALS_CHANNEL, text="Clone rm-1?", blocks=blocks)
    assert parent["message"]["bot_id"] == "B0RDSBOT"
    assert all("block_id" in b for b in parent["message"]["blocks"])  # Slack fills missing ids
    progress = client.chat_postMessage(channel=APPROVALS_CHANNEL, thread_ts=parent["ts"], text="running 10%")
    client.chat_update(channel=APPROVALS_CHANNEL, ts=progress["ts"], text="running 50%")
    final = client.chat_postMessage(
        channel=APPROVALS_CHANNEL, thread_ts=parent["ts"], text="done", metadata=FINAL
    )
    assert final["message"]["thread_ts"] == parent["ts"]

    with_meta = client.conversations_replies(
        channel=APPROVALS_CHANNEL, ts=parent["ts"], include_all_metadata=True
    )
    texts = [m["text"] for m in with_meta["messages"]]
    assert texts == ["Clone rm-1?", "running 50%", "done"]
    assert with_meta["messages"][0]["reply_count"] == 2
    assert with_meta["messages"][-1]["metadata"] == FINAL
    without = client.conversations_replies(channel=APPROVALS_CHANNEL, ts=parent["ts"])
    assert all("metadata" not in m for m in without["messages"])

    # chat.update keeps the thread and records history; omitted blocks are kept, [] removes them.
    edited = emu.message(APPROVALS_CHANNEL, progress["ts"])
    assert edited is not None and edited["thread_ts"] == parent["ts"] and "edited" in edited
    assert [v["text"] for v in emu.message_versions(APPROVALS_CHANNEL, progress["ts"])] == [
        "running 10%",
        "running 50%",
    ]
    client.chat_update(channel=APPROVALS_CHANNEL, ts=parent["ts"], text="Approved by Bob")
    assert emu.message(APPROVALS_CHANNEL, parent["ts"])["blocks"] == parent["message"]["blocks"]
    client.chat_update(channel=APPROVALS_CHANNEL, ts=parent["ts"], text="Approved by Bob", blocks=[])
    assert "blocks" not in emu.message(APPROVALS_CHANNEL, parent["ts"])

    assert [m["text"] for m in emu.messages(APPROVALS_CHANNEL)] == ["Approved by Bob"]
    assert [m["text"] for m in emu.messages(APPROVALS_CHANNEL, thread_ts=parent["ts"])] == [
        "running 50%",
        "done",
    ]
    assert [m["text"] for m in emu.thread(APPROVALS_CHANNEL, progress["ts"])] == [
        "Approved by Bob",
        "running 50%",
        "done",
    ]
    link = client.chat_getPermalink(channel=APPROVALS_CHANNEL, message_ts=final["ts"])["permalink"]
    assert f"thread_ts={parent['ts']}" in link


def test_message_refusals(client: WebClient) -> None:
    assert error_of(client.chat_postMessage, channel="C0NOPE", text="x") == "channel_not_found"
    assert error_of(client.chat_postMessage, channel=PRIVATE_CHANNEL, text="x") == "not_in_channel"
    assert (
        error_of(client.chat_postMessage, channel=OPS_CHANNEL, text="x", thread_ts="1.000001")
        == "thread_not_found"
    )
    assert error_of(client.chat_update, channel=OPS_CHANNEL, ts="1.000001", text="x") == "message_not_found"
    with pytest.warns(UserWarning):  # slack_sdk warns too
        assert error_of(client.chat_postMessage, channel=OPS_CHANNEL) == "no_text"
    assert (
        error_of(client.chat_postMessage, channel=OPS_CHANNEL, text="x", metadata={"event_type": "x"})
        == "invalid_metadata_format"
    )
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(
            channel=OPS_CHANNEL,
            text="x",
            blocks=[{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        )
    assert raised.value.response["error"] == "invalid_blocks"
    assert "json-pointer:/blocks/0/text/text" in raised.value.response["response_metadata"]["messages"][0]


def test_dm_by_user_id_ephemerals_delete_and_broadcast(emu: SlackEmulator, client: WebClient) -> None:
    dm = client.chat_postMessage(channel=ALICE, text="Your clone finished")
    assert dm["channel"] == "D0ALICE" and emu.messages("D0ALICE")[0]["text"] == "Your clone finished"

    assert client.chat_postEphemeral(channel=OPS_CHANNEL, user=ALICE, text="denied")["message_ts"]
    assert [e["text"] for e in emu.ephemerals(ALICE)] == ["denied"] and emu.messages(OPS_CHANNEL) == []
    assert error_of(client.chat_postEphemeral, channel="D0ALICE", user=BOB, text="x") == "user_not_in_channel"

    parent = client.chat_postMessage(channel=OPS_CHANNEL, text="parent")
    client.chat_postMessage(
        channel=OPS_CHANNEL, text="also here", thread_ts=parent["ts"], reply_broadcast=True
    )
    history = client.conversations_history(channel=OPS_CHANNEL)["messages"]
    assert [m["text"] for m in history] == ["also here", "parent"]  # newest first
    assert history[0]["subtype"] == "thread_broadcast"
    client.chat_delete(channel="D0ALICE", ts=dm["ts"])
    assert emu.messages("D0ALICE") == []


def test_history_pagination(client: WebClient) -> None:
    for i in range(5):
        client.chat_postMessage(channel=OPS_CHANNEL, text=f"m{i}")
    first = client.conversations_history(channel=OPS_CHANNEL, limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"] and first["has_more"]
    rest = client.conversations_history(
        channel=OPS_CHANNEL, limit=10, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"] and not rest["has_more"]


def test_concurrent_posts_are_all_kept_in_order(emu: SlackEmulator) -> None:
    def post(i: int) -> None:
        WebClient(base_url=emu.api_url, token=TOKEN).chat_postMessage(channel=OPS_CHANNEL, text=str(i))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps = [m["ts"] for m in emu.messages(OPS_CHANNEL)]
    assert len(stamps) == 20 and stamps == sorted(set(stamps))
    assert len(emu.calls("chat.postMessage")) == 20


# --- views --------------------------------------------------------------------------------------
def test_views_open_needs_a_fresh_unused_trigger() -> None:
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET, trigger_ttl_s=0.2) as emu:
        client = WebClient(base_url=emu.api_url, token=TOKEN)
        trigger = emu.issue_trigger(ALICE, "slash_command")
        view = client.views_open(trigger_id=trigger, view=MODAL)["view"]
        assert view["id"].startswith("V") and view["hash"] and view["state"] == {"values": {}}
        assert view["callback_id"] == "rds_clone" and emu.open_view(ALICE)["id"] == view["id"]
        assert error_of(client.views_open, trigger_id=trigger, view=MODAL) == "exchanged_trigger_id"
        assert error_of(client.views_open, trigger_id="123.456.abc", view=MODAL) == "invalid_trigger_id"
        late = emu.issue_trigger(ALICE, "slash_command")
        time.sleep(0.3)
        assert error_of(client.views_open, trigger_id=late, view=MODAL) == "expired_trigger_id"


def test_views_update_hash_external_id_and_push(emu: SlackEmulator, client: WebClient) -> None:
    modal = {**MODAL, "external_id": "req-1"}
    opened = client.views_open(trigger_id=emu.issue_trigger(ALICE, "slash_command"), view=modal)["view"]
    updated = client.views_update(
        view_id=opened["id"], hash=opened["hash"], view={**modal, "private_metadata": "x"}
    )["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert (
        error_of(client.views_update, view_id=opened["id"], hash=opened["hash"], view=MODAL)
        == "hash_conflict"
    )
    by_external = client.views_update(external_id="req-1", view={**modal, "private_metadata": "y"})["view"]
    assert emu.current_view(opened["id"])["private_metadata"] == "y" == by_external["private_metadata"]
    assert error_of(client.views_update, view_id="V0NOPE", view=MODAL) == "not_found"
    bad = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    assert error_of(client.views_update, view_id=opened["id"], view=bad) == "invalid_arguments"

    pushed = client.views_push(
        trigger_id=emu.issue_trigger(ALICE, "block_actions", view_id=opened["id"]), view=MODAL
    )["view"]
    assert pushed["previous_view_id"] == opened["id"] and pushed["root_view_id"] == opened["id"]
    assert [v["id"] for v in emu.views(ALICE)] == [opened["id"], pushed["id"]]
    assert emu.view_record(opened["id"]).versions[0]["private_metadata"] == ""


# --- faults -------------------------------------------------------------------------------------
def test_rate_limit_is_retried_after_retry_after(emu: SlackEmulator) -> None:
    plain = WebClient(base_url=emu.api_url, token=TOKEN)
    emu.inject("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        plain.chat_postMessage(channel=OPS_CHANNEL, text="x")
    assert raised.value.response.status_code == 429 and raised.value.response["error"] == "ratelimited"
    assert raised.value.response.headers["Retry-After"] == "7"

    patient = WebClient(
        base_url=emu.api_url, token=TOKEN, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)]
    )
    emu.inject("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    assert patient.chat_postMessage(channel=OPS_CHANNEL, text="after the wait")["ok"]
    assert time.monotonic() - started >= 1.0
    statuses = [c.status for c in emu.calls("chat.postMessage")]
    assert statuses == [429, 429, 200] and [m["text"] for m in emu.messages(OPS_CHANNEL)] == [
        "after the wait"
    ]


def test_server_errors_are_retried(emu: SlackEmulator) -> None:
    retrying = WebClient(
        base_url=emu.api_url,
        token=TOKEN,
        retry_handlers=[
            ServerErrorRetryHandler(
                max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.05)
            )
        ],
    )
    emu.inject("chat.update", status=503)  # not this method: must stay queued
    emu.inject("chat.postMessage", status=503, times=2)
    assert retrying.chat_postMessage(channel=OPS_CHANNEL, text="x")["ok"]
    assert [c.status for c in emu.calls("chat.postMessage")] == [503, 503, 200]
    assert [f.method for f in emu.faults.pending()] == ["chat.update"]


def test_slack_errors_latency_and_side_effects(emu: SlackEmulator, client: WebClient) -> None:
    emu.inject(error="channel_not_found")  # any method, once
    assert error_of(client.chat_postMessage, channel=OPS_CHANNEL, text="x") == "channel_not_found"
    assert client.chat_postMessage(channel=OPS_CHANNEL, text="x")["ok"]

    emu.inject("chat.postMessage", delay_s=0.3)
    started = time.monotonic()
    client.chat_postMessage(channel=OPS_CHANNEL, text="slow")
    assert time.monotonic() - started >= 0.3

    emu.inject("chat.postMessage", status=500, side_effect=True)
    assert error_of(client.chat_postMessage, channel=OPS_CHANNEL, text="lost answer") == "internal_error"
    assert emu.messages(OPS_CHANNEL)[-1]["text"] == "lost answer"  # it happened; only the answer was lost
    assert [c.fault for c in emu.calls()][-1] == "status=500"


# --- response_url -------------------------------------------------------------------------------
def test_response_url_posts(emu: SlackEmulator, client: WebClient) -> None:
    url = emu.issue_response_url("slash_command", user=ALICE, channel=PRIVATE_CHANNEL)
    hook = WebhookClient(url)
    assert hook.send(text="only you see this").status_code == 200
    assert hook.send(text="everyone sees this", response_type="in_channel").status_code == 200
    assert [e["source"] for e in emu.ephemerals(ALICE)] == ["response_url"]
    assert emu.messages(PRIVATE_CHANNEL)[0]["text"] == "everyone sees this"  # bot need not be a member

    posted = client.chat_postMessage(
        channel=APPROVALS_CHANNEL,
        text="Approve?",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Approve?"}}],
    )
    click_url = emu.issue_response_url(
        "block_actions", user=BOB, channel=APPROVALS_CHANNEL, message_ts=posted["ts"]
    )
    WebhookClient(click_url).send(text="Approved", replace_original=True)
    replaced = emu.message(APPROVALS_CHANNEL, posted["ts"])
    assert replaced["text"] == "Approved" and "blocks" not in replaced
    WebhookClient(click_url).send(text="", delete_original=True)
    assert emu.message(APPROVALS_CHANNEL, posted["ts"]) is None
    assert [r.outcome for r in emu.responses()] == ["ephemeral", "in_channel", "replaced", "deleted"]

    for _ in range(3):
        assert hook.send(text="again").status_code == 200
    used = hook.send(text="sixth")
    assert used.status_code == 404 and "used_url" in used.body
    assert WebhookClient(emu.base_url + "/response/nope").send(text="x").status_code == 404


def test_wait_for_reports_recent_calls(emu: SlackEmulator, client: WebClient) -> None:
    client.chat_postMessage(channel=OPS_CHANNEL, text="hello")

    def later() -> None:
        time.sleep(0.1)
        WebClient(base_url=emu.api_url, token=TOKEN).chat_postMessage(
            channel=OPS_CHANNEL, text="done", metadata=FINAL
        )

    threading.Thread(target=later).start()
    final = emu.wait_for_message(
        OPS_CHANNEL, where=lambda m: m.get("metadata", {}).get("event_type") == FINAL["event_type"]
    )
    assert final["text"] == "done"
    with pytest.raises(TimeoutError, match=r"chat\.postMessage"):
        emu.wait_for(lambda: False, timeout=0.1, what="nothing")


def test_seed_is_a_parameter() -> None:
    seed = default_workspace().with_channel(Channel("C0NEW", "new", bot_is_member=False, members=(ALICE,)))
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET, seed=seed) as emu:
        client = WebClient(base_url=emu.api_url, token=TOKEN)
        assert error_of(client.chat_postMessage, channel="C0NEW", text="x") == "not_in_channel"
        assert client.conversations_info(channel="C0NEW")["channel"]["name"] == "new"
        assert client.chat_postMessage(channel="#ops", text="by name")["channel"] == OPS_CHANNEL
        emu.inject("auth.test", error="account_inactive", times=None)
        emu.reset()  # a clean slate between tests, same URL, seed kept
        assert (
            client.auth_test()["ok"]
            and emu.messages(OPS_CHANNEL) == []
            and emu.calls() == emu.calls("auth.test")
        )
        assert error_of(client.chat_postMessage, channel="C0NEW", text="x") == "not_in_channel"


def test_command_line_serves_the_web_api(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox.slack", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        api_url = line.strip().rsplit(" ", 1)[-1]
        assert api_url.endswith("/api/"), line
        assert WebClient(base_url=api_url, token=TOKEN).auth_test()["bot_id"] == "B0RDSBOT"
        with urllib.request.urlopen(api_url.replace("/api/", "/healthz"), timeout=5) as health:
            assert health.status == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert TOKEN not in stderr and SECRET not in stderr
