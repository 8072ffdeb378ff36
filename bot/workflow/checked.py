"""What a request was checked against, kept with it for the approver's card.

Gathered once at intake, after the decision (never for a denied request), and
stored as ``requests.checked``, so the card shows the estate as the requester
was checked against it and no renderer ever calls RDS:

- ``resources``: each instance's role, engine, version, class, storage and tags;
- ``backup``: the backup set (local or cross-region) with its time, size, method;
  or ``restore_time``: the point in time and the retention window it lies in;
- ``target_databases``: the databases already on a copy's target;
- ``requester_rule``: the policy rule that allowed the requester;
- ``approval_rule``: the approval rule in force;
- ``price``: for operations that read ``rds:DescribePrice`` (a clone), what RDS
  answered, as it wrote it.

A lookup that fails is kept as ``{"error": ...}``: it never blocks the request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.operations.base import Touched
from bot.operations.checks import window_start
from bot.rds.backup_search import backup_by_id, cross_region_by_id
from bot.rds.directory import BackupInfo, CrossRegionBackup
from bot.rds.errors import RdsError
from bot.timeutil import utcnow
from bot.workflow.assess import Assessment
from bot.workflow.deps import Deps

PRICE_READ = "rds:DescribePrice"
PRICED_PAY_TYPES = {"Prepaid", "Postpaid"}  # DescribePrice prices these; Serverless needs RCU settings


def gather(deps: Deps, found: Assessment) -> dict[str, Any]:
    """The facts of one assessed plan; RDS is read for the backup set, window, databases and price."""
    params = found.plan.params
    facts: dict[str, Any] = {
        "resources": [_instance(t) for t in found.plan.touched],
        "requester_rule": _rule(found),
        "approval_rule": (None if found.needed is None else
                          {"approvers": found.needed.approvers, "pool": found.needed.pool, "rule": found.needed.rule}),
    }
    if params.get("RestoreType") == "0" and params.get("BackupId"):
        # The set's own instance: a "source" when it is restored into another one.
        owner = next((t.instance.id for t in found.plan.touched if t.role == "source"), str(params["DBInstanceId"]))
        facts["backup"] = _guarded(lambda: _cross_backup(deps, owner, str(params["BackupId"])))
    elif params.get("BackupId"):
        facts["backup"] = _guarded(lambda: _backup(deps, str(params["DBInstanceId"]), str(params["BackupId"])))
    if params.get("RestoreTime"):
        source = str(params.get("SourceDBInstanceName") or params["DBInstanceId"])
        facts["restore_time"] = _guarded(lambda: _window(deps, source, str(params["RestoreTime"])))
    if params.get("TargetDBInstanceId"):
        target = str(params["TargetDBInstanceId"])
        # The list validation just read (cached): what the requester was checked against, at no extra call.
        facts["target_databases"] = _guarded(lambda: {"instance_id": target, "names": sorted(
            d.name for d in deps.directory.databases(target))})
    if PRICE_READ in found.op.meta.reads and found.plan.instance is not None:
        facts["price"] = _price(deps, found)
    return facts


def _instance(touched: Touched) -> dict[str, Any]:
    i = touched.instance
    return {"role": touched.role, "instance_id": i.id, "engine": i.engine, "engine_version": i.engine_version,
            "instance_class": i.instance_class, "storage_gb": i.storage_gb, "storage_type": i.storage_type,
            "tags": i.tags}


def _rule(found: Assessment) -> dict[str, Any] | None:
    rule = found.decision.rule
    if rule is None:
        return None
    return {"path": rule.path, "line": rule.line, "text": rule.text, "via": found.decision.via}


def _guarded(read: Any) -> dict[str, Any]:
    try:
        return dict(read())
    except Exception as error:  # noqa: BLE001 - a fact that cannot be read is shown so, never blocks
        return {"error": _reason(error)}


def _reason(error: Exception) -> str:
    return error.plain() if isinstance(error, RdsError) else type(error).__name__


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _backup(deps: Deps, instance_id: str, backup_id: str) -> dict[str, Any]:
    return _backup_set(instance_id, backup_id, backup_by_id(deps.directory, instance_id, backup_id))


def _cross_backup(deps: Deps, instance_id: str, backup_id: str) -> dict[str, Any]:
    found = (cross_region_by_id(deps.directory, instance_id, int(backup_id), now=utcnow())
             if backup_id.isdigit() else None)
    return _backup_set(instance_id, backup_id, found, region=found.region if found is not None else None)


def _backup_set(instance_id: str, backup_id: str, found: BackupInfo | CrossRegionBackup | None,
                **extra: Any) -> dict[str, Any]:
    if found is None:
        return {"id": backup_id, "error": "not listed"}
    return {"id": backup_id, "instance_id": instance_id, "start": _iso(found.start), "end": _iso(found.end),
            "size": found.size, "method": found.method, "type": found.type, **extra}


def _window(deps: Deps, instance_id: str, restore_time: str) -> dict[str, Any]:
    retention = deps.directory.retention_days(instance_id)
    earliest = window_start(deps.directory, instance_id, utcnow())
    return {"time": restore_time, "instance_id": instance_id, "retention_days": retention,
            "earliest": _iso(earliest)}


def _price(deps: Deps, found: Assessment) -> dict[str, Any]:
    params, source = found.plan.params, found.plan.instance
    assert source is not None
    pay_type = str(params.get("PayType") or "")
    if pay_type not in PRICED_PAY_TYPES:
        return {"error": f"DescribePrice does not price {pay_type or 'this'} billing"}
    try:
        price = deps.directory.clone_price(source, params)
    except Exception as error:  # noqa: BLE001 - a price that cannot be read never blocks the request
        return {"error": _reason(error)}
    return {"currency": price.currency, "original": price.original, "discount": price.discount,
            "trade": price.trade, "pay_type": pay_type, "period": params.get("Period"),
            "used_time": params.get("UsedTime")}
