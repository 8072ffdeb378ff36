"""`rdsbot audit export|verify` through typer's CliRunner, against a real database."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.store import audit
from bot.store.db import Database

from .conftest import raw

runner = CliRunner()
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
REQUIRED = {"request_id", "event", "state", "actor", "ts", "hash", "prev_hash"}


def _cli(db: Database, *args: str):
    return runner.invoke(app, list(args), env={"RDSBOT_DATABASE_URL": db.url})


def _seed(db: Database) -> None:
    """Two interleaved requests and one event with no request."""
    script = [
        ("clone-a", "requested", "pending_approval", "U0ALICE"),
        ("clone-b", "requested", "approved", "U0BOB"),
        ("clone-a", "approved", "approved", "U0CAROL"),
        (None, "policy_reloaded", None, "rdsbot"),
        ("clone-b", "submitted", "submitted", "rdsbot"),
        ("clone-a", "submitted", "submitted", "rdsbot"),
    ]
    for request_id, event, state, actor in script:
        with db.session() as session:
            audit.append(session, request_id=request_id, event=event, state=state, actor=actor,
                          detail={"token": "xoxb-12345-abcdef"} if event == "requested" else {})


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_export_prints_json_lines_oldest_first_with_the_contract_fields(db: Database) -> None:
    _seed(db)
    result = _cli(db, "audit", "export")
    assert result.exit_code == 0, result.output
    records = _lines(result.stdout)
    assert len(records) == 6 == len(result.stdout.strip().splitlines())
    for record in records:
        assert REQUIRED <= set(record)
        assert ISO_Z.match(record["ts"]), record["ts"]
        assert re.fullmatch(r"[0-9a-f]{64}", record["hash"])
    assert [r["event"] for r in records] == [
        "requested", "requested", "approved", "policy_reloaded", "submitted", "submitted"]
    assert [r["request_id"] for r in records] == ["clone-a", "clone-b", "clone-a", None, "clone-b", "clone-a"]
    assert records[0]["prev_hash"] == audit.GENESIS
    for earlier, later in zip(records, records[1:]):
        assert later["prev_hash"] == earlier["hash"]
    times = [datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) for r in records]
    assert times == sorted(times)
    assert records[3]["state"] is None and records[2]["actor"] == "U0CAROL"
    assert "xoxb-12345-abcdef" not in result.stdout
    # the exported record is enough to recompute the hash (anyone can check an export offline)
    for r in records:
        assert audit.event_hash(
            seq=r["seq"], request_id=r["request_id"], event=r["event"], state=r["state"], actor=r["actor"],
            ts=datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
            detail=r["detail"], prev_hash=r["prev_hash"],
        ) == r["hash"]


def test_export_request_filter(db: Database) -> None:
    _seed(db)
    result = _cli(db, "audit", "export", "--request", "clone-a")
    assert result.exit_code == 0, result.output
    records = _lines(result.stdout)
    assert [(r["request_id"], r["event"]) for r in records] == [
        ("clone-a", "requested"), ("clone-a", "approved"), ("clone-a", "submitted")]
    assert _lines(_cli(db, "audit", "export", "--request", "nope").stdout) == []


def test_export_to_a_file(db: Database, tmp_path: Path) -> None:
    _seed(db)
    target = tmp_path / "trail.jsonl"
    result = _cli(db, "audit", "export", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert len(_lines(target.read_text(encoding="utf-8"))) == 6


def test_export_of_an_empty_trail_prints_nothing(db: Database) -> None:
    result = _cli(db, "audit", "export")
    assert (result.exit_code, result.stdout) == (0, "")


def test_verify_ok_on_an_intact_chain(db: Database) -> None:
    _seed(db)
    result = _cli(db, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 6 events")


def test_verify_ok_on_an_empty_chain(db: Database) -> None:
    result = _cli(db, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 0 events")


def test_verify_names_the_first_bad_event_after_tampering(db: Database) -> None:
    _seed(db)
    raw(db, "UPDATE audit_events SET actor = 'U0MALLORY' WHERE seq = 3")
    raw(db, "UPDATE audit_events SET event = 'nothing' WHERE seq = 5")
    result = _cli(db, "audit", "verify")
    assert result.exit_code != 0
    assert "ok" not in result.stdout
    assert re.search(r"\bevent 3\b", result.stderr), result.stderr
    assert "event 5" not in result.stderr


def test_verify_after_a_deleted_row(db: Database) -> None:
    _seed(db)
    raw(db, "DELETE FROM audit_events WHERE seq = 2")
    result = _cli(db, "audit", "verify")
    assert result.exit_code == 1
    assert "event 3" in result.stderr and "2 is missing" in result.stderr


def test_verify_after_the_last_row_was_deleted(db: Database) -> None:
    _seed(db)
    raw(db, "DELETE FROM audit_events WHERE seq = 6")
    result = _cli(db, "audit", "verify")
    assert result.exit_code == 1
    assert "event 6" in result.stderr


def test_verify_prints_an_anchor_that_a_later_verify_checks(db: Database) -> None:
    _seed(db)
    first = _cli(db, "audit", "verify")
    anchor = first.stdout.strip().splitlines()[-1].removeprefix("anchor: ")
    assert re.fullmatch(r"6:[0-9a-f]{64}", anchor), first.stdout
    again = _cli(db, "audit", "verify", "--anchor", anchor)
    assert again.exit_code == 0 and "1 anchor(s) match" in again.stdout, again.output
    raw(db, "DELETE FROM audit_events WHERE seq > 4")
    row = _lines(_cli(db, "audit", "export").stdout)[-1]
    raw(db, "UPDATE audit_head SET seq = 4, hash = :hash", hash=row["hash"])
    assert _cli(db, "audit", "verify").exit_code == 0  # the cut is invisible without the anchor
    cut = _cli(db, "audit", "verify", "--anchor", anchor)
    assert cut.exit_code == 1
    assert "event 6" in cut.stderr and "ends at 4" in cut.stderr


def test_verify_refuses_a_malformed_anchor_with_exit_2(db: Database) -> None:
    result = _cli(db, "audit", "verify", "--anchor", "yesterday")
    assert result.exit_code == 2
    assert "<event number>:<64 lowercase hex digits>" in result.stderr
