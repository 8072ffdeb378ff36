"""The estate and the jobs the polling benchmark watches (see :mod:`benchmarks.polling`).

Four places (two accounts x two regions), each with a copy source, ``busy`` instances
that each run one backup or one copy and are each the source of ``clones_per_busy``
clones, and ``restores`` instances that each have a cross-region restore running
into them. Every job is started in the RDS emulator through its own operations (so
the emulator knows the jobs, their instances and their timings), on a
:class:`~bot.sandbox.rds.ManualClock` that the benchmark moves between cycles; the
bot's database gets the matching ``running`` requests as the workflow leaves them
after a first poll (thread anchor posted, last status recorded), so a cycle sees
only what changed since.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sandbox.rds import Backup, CrossRegionBackup, Database, Instance, ManualClock, Seed, VSwitch, default_seed
from bot.sandbox.rds.model import SQLSERVER
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, CAROL, OPS_CHANNEL
from bot.sandbox.slack.workspace import DAVE, ERIN

MAIN_ID, OTHER_ID = "1111111111111111", "2222222222222222"
OTHER_KEY, OTHER_SECRET = "LTAI5tBenchOtherAcct1", "bench-other-account-secret"
ACCOUNTS_TOML = (f'[[account]]\nalias = "main"\nid = "{MAIN_ID}"\n\n'
                 f'[[account]]\nalias = "other"\nid = "{OTHER_ID}"\nenv = "OTHER"\n')
# region -> (instance ID prefix, zone, vSwitch, VPC, /16 network)
REGIONS = {
    "cn-hangzhou": ("rm-bp1", "cn-hangzhou-h", "vsw-bp1bench000001", "vpc-bp1bench000001", "10.81"),
    "cn-shanghai": ("rm-uf6", "cn-shanghai-f", "vsw-uf6bench000001", "vpc-uf6bench000001", "10.82"),
}
# (alias in accounts.toml, the emulator's account of its instances, region)
PLACES = (("main", "", "cn-hangzhou"), ("main", "", "cn-shanghai"),
          ("other", OTHER_ID, "cn-hangzhou"), ("other", OTHER_ID, "cn-shanghai"))
REQUESTERS = (ALICE, BOB, CAROL, DAVE, ERIN)
JOB_S = 101.0  # every job's length on the emulator's clock; starts are spread over SPREAD_S
SPREAD_S = 100.0


@dataclass(frozen=True)
class Shape:
    """How many of each, per place."""

    busy: int  # instances with one backup (even) or copy (odd) running
    restores: int  # instances being restored into
    clones_per_busy: int

    @property
    def jobs(self) -> int:
        return len(PLACES) * (self.busy * (1 + self.clones_per_busy) + self.restores)


@dataclass
class Planned:
    """One job to start: its operation, where, the API parameters and who asked."""

    op: str
    alias: str
    account: str
    region: str
    instance: str  # the request's main instance
    params: dict[str, Any]
    requester: str
    result: dict[str, Any] = field(default_factory=dict)  # what RDS answered when it was started
    thread: tuple[str, str] = ("", "")  # (channel, ts) of its anchor message
    progress_ts: str | None = None  # a backup's progress line


def _instance(instance_id: str, region: str, account: str, ip: str, description: str, now: datetime) -> Instance:
    _prefix, zone, vswitch, vpc, _net = REGIONS[region]
    return Instance(id=instance_id, region=region, zone=zone, engine=SQLSERVER, engine_version="2019_std_ha",
                    category="HighAvailability", db_class="mssql.x4.medium.s2", storage_gb=500,
                    storage_type="cloud_essd", description=description, created_at=now - timedelta(days=400),
                    vpc_id=vpc, vswitch_id=vswitch, private_ip=ip, slave_zones=(zone,),
                    tags={"env": "bench"}, account=account)


def build(shape: Shape, now: datetime) -> tuple[Seed, list[Planned]]:
    """The emulator's seed and the jobs to start on it."""
    base = default_seed(now)
    instances: list[Instance] = []
    databases: list[Database] = []
    backups: list[Backup] = []
    crosses: list[CrossRegionBackup] = []
    planned: list[Planned] = []
    yesterday = now - timedelta(days=1)
    serial = iter(range(1, 10**6))
    for place, (alias, account, region) in enumerate(PLACES):
        prefix, _zone, _vsw, _vpc, net = REGIONS[region]
        ip = (f"{net}.{n // 250}.{n % 250 + 2}" for n in range(10**5))

        def add(kind: str, n: int, *, db: str = "app") -> str:
            instance_id = f"{prefix}p{place}{kind}{n:05d}"
            instances.append(_instance(instance_id, region, account, next(ip), f"bench-{kind}-{n}", now))
            databases.append(Database(instance_id, db, now - timedelta(days=300)))
            return instance_id

        source = add("src", 0, db="sales")
        source_set = str(7_000_000 + next(serial))
        backups.append(Backup(source_set, source, yesterday, yesterday + timedelta(minutes=5), databases=("sales",)))
        for n in range(shape.busy):
            busy = add("busy", n)
            own_set = str(7_000_000 + next(serial))
            backups.append(Backup(own_set, busy, yesterday, yesterday + timedelta(minutes=5), databases=("app",)))
            who = REQUESTERS[(place + n) % len(REQUESTERS)]
            if n % 2 == 0:
                planned.append(Planned("backup", alias, account, region, busy,
                                       {"DBInstanceId": busy, "BackupMethod": "Physical"}, who))
            else:
                planned.append(Planned("copy", alias, account, region, source,
                                       {"DBInstanceId": source, "TargetDBInstanceId": busy, "BackupId": source_set,
                                        "DbNames": json.dumps({"sales": f"sales_{n}"})}, who))
            for c in range(shape.clones_per_busy):
                planned.append(Planned("clone", alias, account, region, busy,
                                       {"DBInstanceId": busy, "PayType": "Postpaid", "BackupId": own_set},
                                       REQUESTERS[(place + n + c) % len(REQUESTERS)]))
        for n in range(shape.restores):
            target = add("rest", n)
            cross_id = 8_000_000 + next(serial)
            other_region = next(r for r in REGIONS if r != region)
            crosses.append(CrossRegionBackup(cross_id, target, other_region, (region,), yesterday,
                                             yesterday + timedelta(minutes=5), yesterday + timedelta(minutes=5),
                                             cross_id, ("app",)))
            meta = [{"type": "db", "name": "app", "newname": f"app_restored_{n}", "tables": []}]
            planned.append(Planned("restore", alias, account, region, target,
                                   {"DBInstanceId": target, "RestoreType": "0", "BackupId": str(cross_id),
                                    "TableMeta": json.dumps(meta)}, REQUESTERS[(place + n) % len(REQUESTERS)]))
    vswitches = [*base.vswitches, *(VSwitch(vsw, vpc, region, zone, f"{net}.0.0/16", free_ips=60000)
                                    for region, (_p, zone, vsw, vpc, net) in REGIONS.items())]
    seed = Seed(regions=base.regions, vswitches=vswitches, classes=base.classes, instances=instances,
                databases=databases, backups=backups, cross_region_backups=crosses)
    random.Random(15).shuffle(planned)  # types and places interleave, as real traffic does
    return seed, planned


_API = {"backup": "CreateBackup", "copy": "CopyDatabaseBetweenInstances", "clone": "CloneDBInstance",
        "restore": "RestoreDdrTable"}


def start_jobs(rds: Any, clock: ManualClock, planned: list[Planned]) -> None:
    """Start every job in the emulator, their starts spread over SPREAD_S of its clock."""
    step = SPREAD_S / max(1, len(planned))
    for job in planned:
        clock.advance(step)
        answer = rds.run(_API[job.op], {**job.params, "RegionId": job.region}, account=job.account)
        job.result = {k: v for k, v in answer.items() if k != "RequestId"}
        job.result["ApiRequestId"] = answer.get("RequestId")


def _first_look(job: Planned) -> tuple[str, dict[str, Any]]:
    """The status a first poll recorded, and the memo it left."""
    if job.op == "clone":
        return "Creating", {}
    if job.op == "restore":
        return "Restoring", {"polls": 1, "busy": True}
    if job.op == "copy":
        name = next(iter(json.loads(job.params["DbNames"]).values()))
        return f"{name} Creating", {"seen": [name], "polls": 1}
    return "NoStart", {}


def requests(planned: list[Planned], now: datetime) -> list[Any]:
    """The ``running`` rows the workflow would have left, one per job."""
    from bot.store.models import Request

    rows = []
    for n, job in enumerate(planned):
        channel, ts = job.thread
        status, memo = _first_look(job)
        account_id = MAIN_ID if job.alias == "main" else OTHER_ID
        approvals = 1 if job.op in ("clone", "restore") else 0
        rows.append(Request(
            id=f"{job.op}-bench-{n:05d}", operation=job.op, state="running", requester=job.requester,
            account=job.alias, region_id=job.region, instance_id=job.instance, channel_id=channel,
            resource=f"acs:rds:{job.region}:{account_id}:dbinstance/{job.instance}", params=job.params,
            reason="benchmark", approvals_needed=approvals, result=job.result, thread_channel=channel, thread_ts=ts,
            progress_ts=job.progress_ts,
            progress={"key": status, "status": status, "percent": None, "seq": 1, "checked_at": now.isoformat(),
                      "misses": 0, "memo": memo},
            exclusive_key=f"backup:{job.instance}" if job.op == "backup" else None,
            created_at=now, updated_at=now, submitted_at=now))
    return rows


def channel_of(job: Planned) -> str:
    """Where its thread is: requests that needed approval in the approvals channel, the others in ops."""
    return APPROVALS_CHANNEL if job.op in ("clone", "restore") else OPS_CHANNEL


def now_utc() -> datetime:
    return datetime.now(UTC)
