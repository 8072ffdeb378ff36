"""DescribeHistoryTasks: every job the emulator ran, one task each, for batched polling.

``FromStartTime`` and ``ToStartTime`` are required (UTC ``yyyy-MM-ddTHH:mm:ssZ``);
``InstanceId``, ``TaskId``, ``TaskType`` and ``Status`` take comma-separated lists (at
most 30 instance IDs); PageSize is 10..100, default 10. TaskType is the API action
that started the job (``CloneDBInstance``, ``CopyDatabaseBetweenInstances``,
``CreateBackup``, ``RestoreDdrTable``); the task's instance is the one the job acts
on (the new instance for a clone, the target for a copy or a restore).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.sandbox.rds.errors import ApiError, invalid
from bot.sandbox.rds.jobs import Job
from bot.sandbox.rds.params import Params, format_time, page, page_number, page_size, parse_time
from bot.sandbox.rds.state import State


def _required_time(params: Params, name: str) -> datetime:
    try:
        return parse_time(params.require(name), "InvalidParameter")
    except ApiError as error:
        if error.code == "MissingParameter":
            raise
        raise invalid(name) from None


def task_view(job: Job, now: float) -> dict[str, Any]:
    """One entry of DescribeHistoryTasks' ``Items``."""
    fraction = job.fraction(now)
    return {
        "TaskId": job.id,
        "TaskType": job.action,
        "Status": job.history_status(),
        "Progress": round(fraction * 100, 1),
        "RemainTime": 0 if job.done else int(job.due_at - now) + 1,
        "StartTime": format_time(datetime.fromtimestamp(job.started_at, UTC)),
        "EndTime": format_time(datetime.fromtimestamp(job.finished_at, UTC)) if job.finished_at else "",
        "InstanceId": job.instance_id,
        "InstanceName": job.instance_id,
        "InstanceType": "Instance",
        "Product": "rds",
        "DbType": job.engine,
        "RegionId": job.region,
        "CurrentStepName": "" if job.done else "exec_task",
        "CallerSource": "User",
        "CallerUid": "",
        "Uid": "",
        "ReasonCode": "",
        "ActionInfo": "",
        "TaskDetail": json.dumps({"action": job.action}),
    }


def describe_history_tasks(state: State, params: Params) -> dict[str, Any]:
    start = _required_time(params, "FromStartTime")
    end = _required_time(params, "ToStartTime")
    instance_ids = set(params.csv("InstanceId"))
    if len(instance_ids) > 30:
        raise invalid("InstanceId")
    task_ids, types, statuses = set(params.csv("TaskId")), set(params.csv("TaskType")), set(params.csv("Status"))
    size = page_size(params, range(10, 101), 10)
    number = page_number(params)
    now = state.clock()
    found = [
        job
        for job in reversed(state.jobs)
        if start.timestamp() <= job.started_at <= end.timestamp()
        and (not instance_ids or job.instance_id in instance_ids)
        and (not task_ids or job.id in task_ids)
        and (not types or job.action in types)
        and (not statuses or job.history_status() in statuses)
    ]
    return {
        "Items": [task_view(job, now) for job in page(found, number, size)],
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
    }


OPERATIONS = {"DescribeHistoryTasks": describe_history_tasks}
