"""An emulator of the ApsaraDB RDS OpenAPI (2014-08-15) for tests and the sandbox.

It is a real HTTP server that the unmodified ``alibabacloud_rds20140815`` SDK talks
to (``Config(endpoint=emu.endpoint, protocol="http")``): it checks ACS3-HMAC-SHA256
signatures, answers with the documented JSON and error bodies, keeps an in-memory
estate seeded by :func:`default_seed`, runs clone/copy/backup/restore jobs over
configurable :class:`Timings`, and lets tests inject faults and read a journal of
calls. It imports nothing from the Alibaba Cloud SDK.
"""

from bot.sandbox.rds.clock import ManualClock, OffsetClock
from bot.sandbox.rds.emulator import RdsEmulator
from bot.sandbox.rds.errors import ApiError
from bot.sandbox.rds.journal import CallRecord
from bot.sandbox.rds.model import (
    Backup,
    CrossRegionBackup,
    Database,
    Instance,
    InstanceClass,
    Region,
    Seed,
    Timings,
    VSwitch,
)
from bot.sandbox.rds.seed import INSTANCE_ROLES, default_seed

__all__ = [
    "INSTANCE_ROLES",
    "ApiError",
    "Backup",
    "CallRecord",
    "CrossRegionBackup",
    "Database",
    "Instance",
    "InstanceClass",
    "ManualClock",
    "OffsetClock",
    "RdsEmulator",
    "Region",
    "Seed",
    "Timings",
    "VSwitch",
    "default_seed",
]
