"""Typed reads of the RDS estate: one small model per Describe* answer item.

Each field names the API key it is read from (``api("Key")``) and its type says
how the value is read (text, a number, a time), so :meth:`ApiRead.from_api`
turns any answer item into its model with no per-model mapping code. A missing
or empty value, or a number or time that does not parse, leaves the default.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.timeutil import parse_api


def items(body: dict[str, Any], outer: str, inner: str) -> list[dict[str, Any]]:
    """The list in ``body[outer][inner]`` (RDS wraps lists in an object; some answers do not)."""
    return _unwrap(body.get(outer), inner)


def _unwrap(block: Any, inner: str) -> list[Any]:
    found = block.get(inner) if isinstance(block, dict) else block
    return list(found or [])


def as_int(value: Any) -> int | None:
    """An API number (often sent as text), or None when there is none."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _time(value: Any) -> datetime | None:
    """API times come as 'yyyy-MM-ddTHH:mm:ssZ' or, for ConsistentTime, epoch seconds."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text), tz=UTC)
    try:
        return parse_api(text)
    except ValueError:
        return None


def _listed(inner: str, key: str | None = None) -> BeforeValidator:
    """A wrapped list of strings, or of objects whose ``key`` is the string wanted."""

    def read(block: Any) -> list[str]:
        found = (v.get(key) if key and isinstance(v, dict) else v for v in _unwrap(block, inner))
        return [str(v) for v in found if v not in (None, "")]

    return BeforeValidator(read)


Text = Annotated[str, BeforeValidator(lambda v: "" if v is None else str(v))]
Number = Annotated[int | None, BeforeValidator(as_int)]
Size = Annotated[int, BeforeValidator(lambda v: as_int(v) or 0)]
Time = Annotated[datetime | None, BeforeValidator(_time)]


def api(key: str, default: Any = "") -> Any:
    """A field read from the answer's ``key``."""
    return Field(default, validation_alias=key)


class ApiRead(BaseModel):
    """A model filled from one API answer item (fields may also be given by name)."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    @classmethod
    def from_api(cls, item: dict[str, Any], **given: Any) -> Self:
        """Read ``item``; ``given`` (by field name) fills what the item leaves empty."""
        data = {k: v for k, v in item.items() if v not in (None, "")}
        for name, value in given.items():
            if cls.model_fields[name].validation_alias not in data:
                data[name] = value
        return cls.model_validate(data)


class InstanceInfo(ApiRead):
    """What the bot needs to know about one instance (DescribeDBInstanceAttribute)."""

    id: Text = api("DBInstanceId")
    description: Text = api("DBInstanceDescription")
    engine: Text = api("Engine")
    engine_version: Text = api("EngineVersion")
    status: Text = api("DBInstanceStatus")
    instance_class: Text = api("DBInstanceClass")
    category: Text = api("Category")
    storage_type: Text = api("DBInstanceStorageType")
    zone_id: Text = api("ZoneId")
    region_id: Text = api("RegionId")
    network_type: Text = api("InstanceNetworkType")
    vpc_id: Text = api("VpcId")
    vswitch_id: Text = api("VSwitchId")
    pay_type: Text = api("PayType")
    lock_mode: Text = api("LockMode")
    instance_type: Text = api("DBInstanceType")  # Primary | Readonly | Guard | Temp
    storage_gb: Number = api("DBInstanceStorage", None)
    # read-only instances hanging off this one
    read_only_ids: Annotated[list[str], _listed("ReadOnlyDBInstanceId", "DBInstanceId")] = api(
        "ReadOnlyDBInstanceIds", [])
    tags: dict[str, str] | None = None  # None = could not be read
    account: str = ""  # the alias of the account it was found in (accounts.toml); "" = the one account

    @property
    def label(self) -> str:
        desc = f" ({self.description})" if self.description else ""
        return f"{self.id}{desc} · {self.engine} {self.engine_version}".strip()

    @property
    def is_sql_server(self) -> bool:
        return self.engine.lower() == "sqlserver"

    @property
    def is_read_only(self) -> bool:
        return self.instance_type.lower() in {"readonly", "read-only"}


def instance_from_api(item: dict[str, Any], tags: dict[str, str] | None = None) -> InstanceInfo:
    return InstanceInfo.from_api(item, tags=tags)


class _BackupSet(ApiRead):
    """What every backup set says, local or cross-region: when it was taken, and how."""

    start: Time = api("BackupStartTime", None)
    end: Time = api("BackupEndTime", None)
    consistent: Time = api("ConsistentTime", None)
    method: Text = api("BackupMethod")
    type: Text = api("BackupType")


class BackupInfo(_BackupSet):
    """One backup set of an instance (DescribeBackups)."""

    id: Text = api("BackupId")
    instance_id: Text = api("DBInstanceId")
    status: Text = api("BackupStatus")
    size: Size = api("BackupSize", 0)
    # the databases in the set, when RDS says
    databases: Annotated[list[str], _listed("BackupDownloadLinkByDB", "DataBase")] = api("BackupDownloadLinkByDB", [])

    @property
    def ok(self) -> bool:
        return self.status.lower() == "success"


class DatabaseInfo(ApiRead):
    """One database on an instance (DescribeDatabases)."""

    name: Text = api("DBName")
    status: Text = api("DBStatus")
    engine: Text = api("Engine")
    tde: Annotated[bool, BeforeValidator(lambda v: str(v).lower() in {"enabled", "on", "true"})] = api(
        "TDEStatus", False)


class BackupTask(ApiRead):
    """One backup job (DescribeBackupTasks)."""

    job_id: Text = api("BackupJobId")
    status: Text = api("BackupStatus")
    percent: Number = api("Process", None)
    backup_id: Text = api("BackupId")
    mode: Text = api("JobMode")

    @property
    def active(self) -> bool:
        return self.status not in {"Finished", "Failed", ""}


class CrossRegionBackup(_BackupSet):
    """One cross-region backup set (DescribeCrossRegionBackups)."""

    id: Size = api("CrossBackupId", 0)
    region: Text = api("CrossBackupRegion")
    scale: Size = api("BackupSetScale", 0)  # 0 instance, 1 database
    failed: Annotated[bool, BeforeValidator(lambda v: as_int(v) == 1)] = api("BackupSetStatus", False)
    size: Size = api("CrossBackupSetSize", 0)
    engine: Text = api("Engine")
    engine_version: Text = api("EngineVersion")
    restore_regions: Annotated[list[str], _listed("RestoreRegion")] = api("RestoreRegions", [])


class Price(ApiRead):
    """DescribePrice's ``PriceInfo``, the amounts kept as RDS wrote them."""

    currency: Text = api("Currency")
    original: Text = api("OriginalPrice")
    discount: Text = api("DiscountPrice")
    trade: Text = api("TradePrice")


class _Page(BaseModel):
    """Where one page of a listing stands: its number, its size, and how many entries match in all."""

    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def last(self) -> bool:
        """Nothing matches beyond this page."""
        return self.page >= self.pages


class CrossRegionPage(_Page):
    """One page of cross-region backups and the counts to page through the rest."""

    items: list[CrossRegionBackup]


class BackupPage(_Page):
    """One page of an instance's backup sets (DescribeBackups), newest first."""

    items: list[BackupInfo]
