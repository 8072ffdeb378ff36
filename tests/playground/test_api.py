"""The playground's server over real HTTP, without a browser (issue 16).

One playground (both emulators, the bot on SQLite) serves the whole module; each test acts as a
different person so their modals never meet. Everything goes through the JSON API as the page
uses it; the emulators are looked at only to check what reached RDS.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.sandbox.playground import PlaygroundServer, serve_in_background
from bot.sandbox.slack import ALICE, BOB, CAROL, DAVE, ERIN, OPS_CHANNEL
from bot.slack.ids import Block

PROD = "rm-bp1mysqlprod0001"
DEV = "rm-bp1mysqldev00002"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # localhost: never through a proxy


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlaygroundServer]:
    running = serve_in_background(port=0, job_seconds=1.0, workdir=tmp_path_factory.mktemp("playground"))
    yield running
    running.stop()


class Api:
    """The page's side of the API."""

    def __init__(self, server: PlaygroundServer) -> None:
        self.base = server.url.rstrip("/")

    def get(self, path: str) -> Any:
        with OPENER.open(self.base + path, timeout=30) as response:
            return json.loads(response.read())

    def post(self, path: str, body: dict[str, Any], *, expect: int = 200) -> dict[str, Any]:
        request = urllib.request.Request(self.base + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with OPENER.open(request, timeout=30) as response:
                status, answer = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            status, answer = error.code, json.loads(error.read())
        assert status == expect, answer
        return answer

    def state(self, user: str) -> dict[str, Any]:
        return self.get(f"/api/state?user={user}")

    def until(self, look: Callable[[], Any], what: str, timeout_s: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = look()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no {what} within {timeout_s} s")

    def open_modal(self, user: str, text: str) -> dict[str, Any]:
        answer = self.post("/api/command", {"user": user, "channel": OPS_CHANNEL, "text": text})
        assert answer["status"] == 200, answer
        return self.until(lambda: (self.state(user)["views"] or [None])[-1], f"modal for {user}")


@pytest.fixture
def api(server: PlaygroundServer) -> Api:
    return Api(server)


def test_world_lists_the_people_with_their_roles_and_the_channels(api: Api) -> None:
    world = api.get("/api/world")
    roles = {u["id"]: u["role"] for u in world["users"]}
    assert roles[ALICE] == "engineer" and roles[BOB] == "dba" and roles[DAVE] == "intern"
    assert roles["U0KENJI"] == "engineer"
    assert next(u for u in world["users"] if u["id"] == "U0KENJI")["locale"] == "ja-JP"
    assert world["bot_user_id"] not in roles
    assert {"C0OPS", "C0APPROVALS"} <= {c["id"] for c in world["channels"]}


def test_a_command_opens_a_modal_in_that_persons_state_only(api: Api) -> None:
    view = api.open_modal(ALICE, f"/rds clone {PROD}")
    assert view["callback_id"] == "rds_clone" and view["errors"] == {}
    assert any(b.get("block_id") == "DBInstanceId" for b in view["blocks"])
    assert api.state(CAROL)["views"] == []
    api.post("/api/close", {"user": ALICE, "view_id": view["id"]})
    assert api.until(lambda: api.state(ALICE)["views"] == [], "closed modal")


def test_a_required_field_left_empty_comes_back_as_field_errors_and_reaches_nobody(
        api: Api, server: PlaygroundServer) -> None:
    view = api.open_modal(DAVE, f"clone {PROD}")
    # The facts about the instance follow the modal by a views.update, which (as in Slack) clears errors
    # shown on the view; a person reads them before submitting, and so does this test.
    view = api.until(lambda: next((v for v in api.state(DAVE)["views"] if v["id"] == view["id"]
                                   and any(b.get("block_id") == Block.SOURCE_INFO for b in v["blocks"])), None),
                     "the source panel")
    options = api.post("/api/suggest", {"user": DAVE, "view_id": view["id"], "action_id": "DBInstanceId", "query": ""})
    assert "options" in options and "option_groups" in options
    answer = api.post("/api/submit", {"user": DAVE, "view_id": view["id"], "values": {"DBInstanceId": PROD}})
    assert answer["response_action"] == "errors" and answer["sent"] is False
    assert set(answer["errors"]) >= {"reason", "PayType"}
    server.playground.stack.drain()
    # Slack's client sent nothing: no request at all, not even a denied one.
    assert server.playground.stack.requests.recent(DAVE) == []
    shown = api.state(DAVE)["views"][-1]
    assert shown["id"] == view["id"] and set(shown["errors"]) >= {"reason", "PayType"}
    api.post("/api/close", {"user": DAVE, "view_id": view["id"]})


def test_events_stream_a_change_after_a_gesture(api: Api) -> None:
    with OPENER.open(api.base + "/api/events", timeout=15) as stream:
        assert stream.headers.get_content_type() == "text/event-stream"
        first = _next_event(stream)
        api.post("/api/home", {"user": BOB})
        later = _next_event(stream)
    assert later["seq"] > first["seq"]
    assert api.until(lambda: api.state(BOB)["home"], "Bob's App Home")["type"] == "home"


def _next_event(stream: Any) -> dict[str, Any]:
    """The data of the next ``event: change`` (pings and retry lines skipped)."""
    event = None
    while True:
        line = stream.readline().decode().rstrip("\n")
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == "change":
            return json.loads(line.split(":", 1)[1])


def test_a_backup_shows_in_the_panel_with_a_verified_audit_trail(api: Api) -> None:
    view = api.open_modal(ERIN, f"backup {DEV}")
    answer = api.post("/api/submit", {"user": ERIN, "view_id": view["id"], "values": {"DBInstanceId": DEV}})
    assert answer["sent"] is True and "errors" not in answer

    def finished() -> dict[str, Any] | None:
        panel = api.get("/api/panel")
        done = [j for j in panel["jobs"] if j["kind"] == "CreateBackup" and j["instance"] == DEV
                and j["status"] == "Succeed"]
        return panel if done and any(e["event"] == "final_posted" for e in panel["audit"]["events"]) else None

    panel = api.until(finished, "a finished backup in the panel", timeout_s=30)
    assert any(i["id"] == DEV and i["tags"] for i in panel["instances"])
    assert any(b["instance"] == DEV and b["mode"] == "Manual" for b in panel["backups"])
    verify = panel["audit"]["verify"]
    assert verify["ok"] is True and verify["first_bad"] is None
    assert verify["count"] >= len(panel["audit"]["events"]) > 0
    assert verify["anchor"].startswith(f"{verify['count']}:")
    seqs = [e["seq"] for e in panel["audit"]["events"]]
    assert seqs == sorted(seqs, reverse=True)
    thread = api.state(ERIN)["channels"][OPS_CHANNEL]
    assert any(m["replies"] for m in thread if "backup-" in m["text"])


def test_throttled_rds_answers_throttling_until_set_back(api: Api, server: PlaygroundServer) -> None:
    rds = server.playground.stack.rds
    view = api.open_modal(CAROL, "clone")
    try:
        assert api.post("/api/fault", {"rds": "throttled"}) == {"rds": "throttled"}
        assert api.get("/api/panel")["faults"] == {"rds": "throttled"}
        before = len(rds.calls)
        api.post("/api/suggest", {"user": CAROL, "view_id": view["id"], "action_id": "DBInstanceId", "query": "prod"})
        assert {c.code for c in rds.calls[before:]} == {"Throttling.User"}
    finally:
        api.post("/api/fault", {"rds": "none"})
    before = len(rds.calls)
    api.post("/api/suggest", {"user": CAROL, "view_id": view["id"], "action_id": "DBInstanceId", "query": "prod"})
    assert rds.calls[before:] and all(c.code is None for c in rds.calls[before:])
    api.post("/api/fault", {"rds": "sideways"}, expect=400)
    api.post("/api/close", {"user": CAROL, "view_id": view["id"]})


def test_moving_time_moves_both_clocks_and_fires_what_is_due(api: Api) -> None:
    api.post("/api/command", {"user": ERIN, "channel": OPS_CHANNEL, "text": f"remind {DEV} in 10 minutes"})
    before = api.get("/api/panel")["clock"]
    answer = api.post("/api/time", {"advance_s": 660})
    assert answer["bot_offset_s"] == pytest.approx(before["bot_offset_s"] + 660)
    assert answer["rds_offset_s"] == pytest.approx(before["rds_offset_s"] + 660)
    assert "reminders" in answer["ran"]
    assert api.get("/api/panel")["clock"] == {"bot_offset_s": answer["bot_offset_s"],
                                              "rds_offset_s": answer["rds_offset_s"]}
    api.until(lambda: any("Backup reminder" in m["text"] for m in api.state(ERIN)["channels"][OPS_CHANNEL]),
              "the reminder, due after the jump")
    api.post("/api/time", {"advance_s": -5}, expect=400)


def test_the_page_and_refusals(api: Api) -> None:
    with OPENER.open(api.base + "/", timeout=10) as page:
        assert page.headers.get_content_type() == "text/html"
    for path in ("/static/..%2Fserver.py", "/static/.hidden", "/nowhere"):
        with pytest.raises(urllib.error.HTTPError) as missing:
            OPENER.open(api.base + path, timeout=10)
        assert missing.value.code == 404
    form = urllib.request.Request(api.base + "/api/command", data=b"user=U0ALICE&text=clone")
    with pytest.raises(urllib.error.HTTPError) as refused:
        OPENER.open(form, timeout=10)
    assert refused.value.code == 415  # a form from another site cannot act in the sandbox
    assert "error" in api.post("/api/command", {"user": "U0NOBODY", "channel": OPS_CHANNEL, "text": "help"}, expect=400)
    assert "error" in api.post("/api/click", {"user": ALICE, "channel": OPS_CHANNEL, "ts": "1.000001",
                                              "action_id": "approve"}, expect=400)
