"""Times for people in many zones: the formatters, the time picker, the UTC line under it, the daily-backup day."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot import operations
from bot.operations.backup import Backup
from bot.operations.base import Context, FieldErrors, FieldKind
from bot.sandbox.rds import RdsEmulator
from bot.sandbox.rds.model import Backup as StoredBackup
from bot.sandbox.rds.seed import PG_STAGING
from bot.sandbox.slack import state_values
from bot.sandbox.slack.errors import DriverError
from bot.slack import modals
from bot.slack.blocks import fields
from bot.slack.forms import form_values
from bot.slack.ids import Block
from bot.slack.modal_open import TIME_ACTIONS, ModalOpener
from bot.slack.people import Person
from bot.timeutil import epoch_of, local_time, slack_date, slack_date_of, utc_offset, zoned_time
from bot.workflow import schedules
from bot.workflow.freezes import Frozen

TWO_UTC = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
EPOCH = int(TWO_UTC.timestamp())


# --- the formatters -------------------------------------------------------------------------------
def test_slack_date_lets_each_reader_see_their_zone_and_falls_back_to_utc() -> None:
    assert slack_date(TWO_UTC) == f"<!date^{EPOCH}^{{date_short_pretty}} {{time}}|2026-12-06 02:00 UTC>"
    assert slack_date(TWO_UTC.replace(tzinfo=None)) == slack_date(TWO_UTC), "a naive time is the bot's UTC"
    assert slack_date(TWO_UTC, "{date_num}").startswith(f"<!date^{EPOCH}^{{date_num}}|")


@pytest.mark.parametrize("text", ["2026-12-06T02:00:00Z", "2026-12-06T02:00Z", "2026-12-06T02:00:00+00:00",
                                  "2026-12-06T10:00:00+08:00", "2026-12-06T02:00:00.000000"])
def test_slack_date_of_reads_stored_and_api_times(text: str) -> None:
    assert slack_date_of(text) == slack_date(TWO_UTC)


@pytest.mark.parametrize("text", [None, "", "soon", "2026-13-45T99:99:99Z", "<!channel>"])
def test_slack_date_of_refuses_what_is_not_a_time(text: str | None) -> None:
    assert slack_date_of(text) is None


@pytest.mark.parametrize("zone,moment,offset", [
    ("Asia/Shanghai", TWO_UTC, "UTC+8"),
    ("Asia/Kolkata", TWO_UTC, "UTC+5:30"),
    ("America/St_Johns", TWO_UTC, "UTC-3:30"),
    ("America/New_York", TWO_UTC, "UTC-5"),
    ("America/New_York", datetime(2026, 7, 1, tzinfo=UTC), "UTC-4"),  # daylight saving, at that moment
    ("UTC", TWO_UTC, "UTC"),
])
def test_utc_offset(zone: str, moment: datetime, offset: str) -> None:
    assert utc_offset(moment, zone) == offset


def test_local_and_zoned_time_say_the_wall_clock_of_a_named_zone() -> None:
    assert local_time(TWO_UTC, "Asia/Shanghai") == "2026-12-06 10:00"
    assert zoned_time(datetime(2026, 12, 7, 0, 0, tzinfo=UTC), "Asia/Tokyo") == "Mon 2026-12-07 09:00 Asia/Tokyo"
    assert zoned_time(datetime(2026, 12, 7, 0, 0, tzinfo=UTC), "America/Los_Angeles").startswith("Sun 2026-12-06 16:00")


@pytest.mark.parametrize("text,epoch", [(str(EPOCH), EPOCH), ("2026-12-06T02:00:00Z", EPOCH), (" 2026-12-06T02:00Z ", EPOCH),
                                        (None, None), ("", None), ("tomorrow", None)])
def test_epoch_of(text: str | None, epoch: int | None) -> None:
    assert epoch_of(text) == epoch


def test_a_reminder_and_a_freeze_end_are_said_in_their_own_zone() -> None:
    once = schedules.load("once 2026-12-07T00:00:00.000000Z", "Asia/Tokyo")
    assert once.describe() == "once at Mon 2026-12-07 09:00 Asia/Tokyo"
    frozen = Frozen(window="year-end", until=datetime(2026, 12, 31, 16, 0, tzinfo=UTC), zone="Asia/Shanghai", version="v")
    assert frozen.local_end() == "Fri 2027-01-01 00:00 Asia/Shanghai", "named in full: CST is also Chicago's"


# --- the picker -----------------------------------------------------------------------------------
def _time_fields() -> list[Any]:
    return [f for form in operations.FORMS.values() for f in form.fields if f.kind is FieldKind.TIME]


def test_every_time_input_is_a_datetimepicker_that_dispatches() -> None:
    assert {f.name for f in _time_fields()} >= {"RestoreTime", "StartTime", "EndTime"}
    for form in operations.FORMS.values():
        view = modals.operation_modal(form)
        for spec in (f for f in form.fields if f.kind is FieldKind.TIME):
            block = next(b for b in view["blocks"] if b.get("block_id") == spec.name)
            assert block["element"] == {"type": "datetimepicker", "action_id": spec.name}, form.name
            assert block["dispatch_action"] is True and TIME_ACTIONS.fullmatch(spec.name)
            assert "UTC" not in block["label"]["text"] and "yyyy" not in block.get("hint", {}).get("text", "")


@pytest.mark.parametrize("initial", [str(EPOCH), "2026-12-06T02:00:00Z"])
def test_a_prefilled_time_is_the_pickers_initial_epoch(initial: str) -> None:
    spec = next(f for f in _time_fields() if f.name == "RestoreTime")
    assert modals.element(spec, initial)["initial_date_time"] == EPOCH
    assert "initial_date_time" not in modals.element(spec, "not a time")


def test_the_picked_epoch_reaches_validation_as_text() -> None:
    view = {"state": {"values": {"RestoreTime": {"RestoreTime": {"type": "datetimepicker", "selected_date_time": EPOCH}}}}}
    assert form_values(view) == {"RestoreTime": str(EPOCH)}


def test_with_info_puts_one_line_under_its_block_and_removes_it_when_empty() -> None:
    view = modals.operation_modal(operations.FORMS["clone"])
    block_id = Block.time_info("RestoreTime")
    once = modals.with_info(view, "RestoreTime", block_id, ["first"])
    twice = modals.with_info({**once, "id": "V1"}, "RestoreTime", block_id, ["second"])
    ids = [b.get("block_id") for b in twice["blocks"]]
    assert ids.count(block_id) == 1 and ids.index(block_id) == ids.index("RestoreTime") + 1
    assert twice["blocks"][ids.index(block_id)]["elements"][0]["text"] == "second" and "id" not in twice
    assert block_id not in [b.get("block_id") for b in modals.with_info(twice, "RestoreTime", block_id, [])["blocks"]]


class _People:
    def __init__(self, tz: str | None) -> None:
        self.tz = tz

    def person(self, _user: str) -> Person:
        return Person(tz=self.tz)


class _Client:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def views_update(self, **kwargs: Any) -> None:
        self.updates.append(kwargs)


def _opener(tz: str | None) -> ModalOpener:
    return ModalOpener(None, _People(tz))  # type: ignore[arg-type]  # the time line needs no Deps


@pytest.mark.parametrize("tz,line", [
    ("Asia/Shanghai", "2026-12-06 10:00 (Asia/Shanghai, UTC+8) → RDS receives 2026-12-06T02:00:00Z"),
    ("Europe/Berlin", "2026-12-06 03:00 (Europe/Berlin, UTC+1) → RDS receives 2026-12-06T02:00:00Z"),
    (None, "RDS receives 2026-12-06T02:00:00Z (Slack did not tell me your time zone"),
    ("Mars/Olympus", "RDS receives 2026-12-06T02:00:00Z (Slack did not tell me your time zone"),
])
def test_the_time_line_names_the_zone_and_the_utc_value(tz: str | None, line: str) -> None:
    assert line in _opener(tz).time_line(EPOCH, "U0ALICE")


def test_picking_a_time_updates_the_view_with_its_hash() -> None:
    view = {**modals.operation_modal(operations.FORMS["restore"]), "id": "V1", "hash": "h1"}
    client = _Client()
    action = {"type": "datetimepicker", "action_id": "RestoreTime", "block_id": "RestoreTime",
              "selected_date_time": EPOCH}
    body = {"user": {"id": "U0ALICE"}, "view": view, "actions": [action]}
    _opener("Asia/Shanghai").time_picked(body, client)  # type: ignore[arg-type]
    (update,) = client.updates
    assert (update["view_id"], update["hash"]) == ("V1", "h1")
    info = next(b for b in update["view"]["blocks"] if b.get("block_id") == Block.time_info("RestoreTime"))
    assert "10:00 (Asia/Shanghai, UTC+8)" in info["elements"][0]["text"]
    cleared = {**body, "actions": [{**action, "selected_date_time": None}], "view": {**update["view"], "id": "V1"}}
    _opener("Asia/Shanghai").time_picked(cleared, client)  # type: ignore[arg-type]
    assert Block.time_info("RestoreTime") not in [b.get("block_id") for b in client.updates[-1]["view"]["blocks"]]
    forged = {**body, "actions": [{**action, "action_id": "PayType"}]}
    _opener("Asia/Shanghai").time_picked(forged, client)  # type: ignore[arg-type]
    assert len(client.updates) == 2, "only a time field of the view's own form is answered"


def test_card_facts_show_api_times_to_each_reader_and_escape_the_rest() -> None:
    (section,) = fields([("Point in time", "2026-12-06T02:00:00Z"), ("Name", "<!channel> 2026-12-06T02:00:00Z")])
    point, name = (f["text"] for f in section["fields"])
    assert point == f"*Point in time*\n{slack_date(TWO_UTC)} (`2026-12-06T02:00:00Z`)"
    assert name == "*Name*\n&lt;!channel&gt; 2026-12-06T02:00:00Z"


# --- the daily backup limit -----------------------------------------------------------------------
def test_the_daily_backup_limit_names_the_utc_day_it_counts(emu: RdsEmulator, ctx: Context) -> None:
    now = ctx.now.astimezone(UTC)
    midnight = datetime.combine(now.date(), time(0), tzinfo=UTC)
    with emu.state.lock:
        for n in range(20):
            start = min(midnight + timedelta(seconds=n), now)
            emu.state.backups[f"daily-{n}"] = StoredBackup(id=f"daily-{n}", instance_id=PG_STAGING, start=start,
                                                           end=start, method="Snapshot")
    try:
        with pytest.raises(FieldErrors) as refused:
            Backup().validate({"DBInstanceId": PG_STAGING, "BackupMethod": "Snapshot"}, replace(ctx, now=now))
    finally:
        with emu.state.lock:
            for n in range(20):
                emu.state.backups.pop(f"daily-{n}", None)
    error = refused.value.details["DBInstanceId"]
    assert error.key == "daily_backup_limit" and error.params["day"] == now.date().isoformat()
    assert f"on {now.date().isoformat()}, counted as a UTC day" in error.text and "00:00 UTC" in error.text


# --- the emulator's picker --------------------------------------------------------------------------
def test_the_emulated_picker_reads_a_wall_clock_in_its_users_zone() -> None:
    picker = {"type": "datetimepicker", "action_id": "RestoreTime"}
    entry = state_values.given_value(picker, datetime(2026, 12, 6, 10, 0), zone="Asia/Shanghai")
    assert entry == {"type": "datetimepicker", "selected_date_time": EPOCH}
    assert state_values.given_value(picker, "2026-12-06T10:00", zone="Asia/Shanghai")["selected_date_time"] == EPOCH
    assert state_values.given_value(picker, "2026-12-06T02:00:00Z", zone="Asia/Shanghai")["selected_date_time"] == EPOCH
    with pytest.raises(DriverError):
        state_values.given_value(picker, "yesterday at noon", zone="Asia/Shanghai")
    forged = state_values.given_value(picker, "yesterday at noon", check=False)
    assert forged["selected_date_time"] == "yesterday at noon", "validate=False sends what a crafted request would"
