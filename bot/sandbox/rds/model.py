"""The emulator's records: plain dataclasses, one per thing the RDS API describes.

Field names are Python's; the operation modules map them to the API's field names
and types. Times are timezone-aware UTC datetimes. Records are mutable because the
state evolves (an instance goes Creating -> Running), but only :mod:`state` and the
operation modules change them, always under the state lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Engines as the API spells them.
MYSQL = "MySQL"
POSTGRESQL = "PostgreSQL"
SQLSERVER = "SQLServer"
MARIADB = "MariaDB"

LOCAL_SSD = "local_ssd"
CLOUD_STORAGE_TYPES = ("cloud_ssd", "cloud_essd", "cloud_essd2", "cloud_essd3", "general_essd")
STORAGE_TYPES = (LOCAL_SSD, *CLOUD_STORAGE_TYPES)


@dataclass
class Timings:
    """How long each long-running job takes, in seconds of (emulator) clock time.

    Tests use a fraction of a second; the sandbox demo a few seconds so a person can
    watch the progress messages.
    """

    clone_s: float = 8.0
    copy_s: float = 6.0
    backup_s: float = 5.0
    restore_s: float = 6.0


@dataclass(frozen=True)
class VSwitch:
    """A vSwitch of a VPC in one zone; ``free_ips`` drives the IP-shortage errors."""

    id: str
    vpc_id: str
    region: str
    zone: str
    cidr: str
    free_ips: int = 200


@dataclass(frozen=True)
class Region:
    """A region, its zones, and whether it offers cross-region backup."""

    id: str
    zones: tuple[str, ...]
    cross_backup_supported: bool = True
    # Prefix of instance IDs created here (rm-bp1... in Hangzhou, rm-uf6... in Shanghai).
    id_prefix: str = "rm-bp1"
    # Dedicated host groups (DedicatedHostGroupId) a clone may be placed in.
    host_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstanceClass:
    """One instance type: which engine it serves and which disks it supports."""

    code: str
    engine: str
    storage_types: tuple[str, ...]
    cpu: int
    memory_mb: int
    max_connections: int = 2000
    max_iops: int = 10000


@dataclass
class Instance:
    """One RDS instance."""

    id: str
    region: str
    zone: str
    engine: str
    engine_version: str
    category: str
    db_class: str
    storage_gb: int
    storage_type: str
    description: str
    created_at: datetime
    status: str = "Running"
    network_type: str = "VPC"
    vpc_id: str = ""
    vswitch_id: str = ""
    private_ip: str = ""
    slave_zones: tuple[str, ...] = ()
    pay_type: str = "Postpaid"
    lock_mode: str = "Unlock"
    lock_reason: str = ""
    instance_type: str = "Primary"  # DBInstanceType: Primary | Readonly
    master_id: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    resource_group_id: str = "rg-acfmz7u4zzr****"
    deletion_protection: bool = False
    backup_retention_days: int = 7
    log_backup: bool = True
    # SQL Server on cloud disks can take snapshot backups; copies respect it.
    snapshot_backup: bool = False
    # Cross-region log backup of this instance, needed for point-in-time RestoreDdrTable.
    cross_region_log_backup: bool = False
    max_databases: int = 200
    expire_time: datetime | None = None
    # What a clone was asked for: AutoPay of its order (Prepaid only), its dedicated host group.
    auto_pay: bool = True
    dedicated_host_group_id: str = ""
    # The account it belongs to: "" is the emulator's main account; only callers acting in an
    # account see its instances (RdsEmulator's ``accounts``: AccessKey ID -> account ID).
    account: str = ""


@dataclass
class Database:
    """One database of an instance."""

    instance_id: str
    name: str
    created_at: datetime
    status: str = "Running"  # Creating | Running | Deleting
    charset: str = "utf8mb4"
    description: str = ""
    size_gb: float = 1.0
    tde: bool = False
    recovery_model: str = "FULL"  # SQL Server only; SIMPLE refuses point-in-time copies
    # Set when the database was moved to cold storage (SQL Server archive tier).
    cold_storage_since: datetime | None = None


@dataclass
class Backup:
    """One backup set (DescribeBackups)."""

    id: str
    instance_id: str
    start: datetime
    end: datetime
    status: str = "Success"  # Success | Failed
    method: str = "Physical"  # Physical | Logical | Snapshot
    backup_type: str = "FullBackup"  # FullBackup | IncrementalBackup
    mode: str = "Automated"  # Automated | Manual
    size_bytes: int = 0
    databases: tuple[str, ...] = ()
    scale: str = "instance"  # instance | db

    @property
    def consistent_time(self) -> datetime:
        """The point in time the set's data represents (its end, as the service reports)."""
        return self.end


@dataclass
class CrossRegionBackup:
    """One cross-region data backup set (DescribeCrossRegionBackups)."""

    id: int
    instance_id: str
    cross_backup_region: str
    restore_regions: tuple[str, ...]
    start: datetime
    end: datetime
    consistent: datetime
    backup_id: int
    databases: tuple[str, ...]
    method: str = "P"  # L | P
    backup_type: str = "F"  # F | I
    scale: int = 0  # 0 instance, 1 database
    status: int = 0  # 0 ok, 1 failed
    size_bytes: int = 0
    node_id: int = 0


@dataclass
class Seed:
    """Everything an emulator starts with. Build one with :func:`default_seed` or by hand."""

    regions: list[Region]
    vswitches: list[VSwitch]
    classes: list[InstanceClass]
    instances: list[Instance]
    databases: list[Database]
    backups: list[Backup]
    cross_region_backups: list[CrossRegionBackup]
    offline_classes: set[str] = field(default_factory=set)
    zones_without_stock: set[str] = field(default_factory=set)
