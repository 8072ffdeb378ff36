"""A polling round's snapshot of one place: statuses in batches of 30, other fresh reads once per instance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bot.rds.directory import RdsDirectory
from bot.rds.errors import ErrorKind, RdsError
from bot.rds.retry import CallSafety
from bot.rds.snapshot import Snapshot


class Gateway:
    """RDS as far as a snapshot asks: instances listed by ID, backup tasks, databases; throttles on demand."""

    region_id = "cn-hangzhou"

    def __init__(self, statuses: dict[str, str]) -> None:
        self.statuses = statuses
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.throttle: set[str] = set()  # instance IDs whose batch is throttled
        self.gone: set[str] = set()  # instance IDs RDS does not know

    def call(self, action: str, params: Mapping[str, Any], *, safety: CallSafety = CallSafety.READ) -> dict[str, Any]:
        self.calls.append((action, dict(params)))
        if action == "DescribeDBInstances":
            ids = str(params["DBInstanceId"]).split(",")
            assert len(ids) <= 30, "DescribeDBInstances takes up to 30 IDs"
            if self.throttle & set(ids):
                raise RdsError("Throttling.User", "slow down", ErrorKind.THROTTLED)
            return {"Items": {"DBInstance": [{"DBInstanceId": i, "DBInstanceStatus": self.statuses[i]}
                                             for i in ids if i in self.statuses]}}
        if action == "DescribeDBInstanceAttribute":
            if params["DBInstanceId"] in self.gone:
                raise RdsError("InvalidDBInstanceId.NotFound", "no such instance", status=404)
            return {"Items": {"DBInstanceAttribute": [{"DBInstanceId": params["DBInstanceId"],
                                                       "DBInstanceStatus": "Running"}]}}
        if action == "DescribeBackupTasks":
            return {"Items": {"BackupJob": [{"BackupJobId": "1", "BackupStatus": "Uploading", "Process": "40"}]}}
        return {"Databases": {"Database": [{"DBName": "sales", "DBStatus": "Creating"}]}}

    def actions(self) -> list[str]:
        return [action for action, _params in self.calls]


def _snapshot(count: int) -> tuple[Snapshot, Gateway]:
    statuses = {f"rm-{n:03d}": ("Creating" if n % 2 else "Running") for n in range(count)}
    gateway = Gateway(statuses)
    return Snapshot(RdsDirectory(gateway), statuses), gateway  # type: ignore[arg-type]


def test_61_watched_instances_are_read_in_three_calls_and_answered_from_them() -> None:
    snapshot, gateway = _snapshot(61)
    snapshot.load()
    assert gateway.actions() == ["DescribeDBInstances"] * 3
    assert sorted(len(p["DBInstanceId"].split(",")) for _a, p in gateway.calls) == [1, 30, 30]
    assert [snapshot.status(f"rm-{n:03d}") for n in (0, 1, 60)] == ["Running", "Creating", "Running"]
    assert len(gateway.calls) == 3, "every status came from the batches"
    assert snapshot.status("rm-unwatched") == "Running" and gateway.actions()[-1] == "DescribeDBInstanceAttribute"


def test_an_instance_the_listing_leaves_out_is_asked_about_alone_and_a_failed_batch_fails_its_own() -> None:
    snapshot, gateway = _snapshot(31)
    del gateway.statuses["rm-005"], gateway.statuses["rm-006"]
    gateway.gone = {"rm-005"}
    gateway.throttle = {"rm-030"}  # the second batch: rm-030 alone
    snapshot.load()
    with pytest.raises(RdsError) as gone:
        snapshot.status("rm-005")
    assert gone.value.code.endswith("NotFound")
    assert snapshot.status("rm-006") == "Running", "not listed (yet), but RDS knows it: its job goes on"
    assert gateway.actions().count("DescribeDBInstanceAttribute") == 2
    with pytest.raises(RdsError) as throttled:
        snapshot.status("rm-030")
    assert throttled.value.code == "Throttling.User"
    assert snapshot.status("rm-029") == "Creating", "the first batch stands"


def test_other_fresh_reads_are_made_once_per_instance_in_a_round() -> None:
    snapshot, gateway = _snapshot(0)
    for _ in range(3):
        assert [d.name for d in snapshot.databases("rm-target", fresh=True)] == ["sales"]
        assert [t.job_id for t in snapshot.backup_tasks("rm-busy", job_id="1")] == ["1"]
    assert gateway.actions() == ["DescribeDatabases", "DescribeBackupTasks"]
    Snapshot(RdsDirectory(gateway), []).databases("rm-target", fresh=True)  # type: ignore[arg-type]
    assert gateway.actions().count("DescribeDatabases") == 2, "the next round reads again"
