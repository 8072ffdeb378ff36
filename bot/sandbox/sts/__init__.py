"""An emulator of Alibaba Cloud STS (AssumeRole) whose sessions the RDS emulator enforces."""

from bot.sandbox.sts.emulator import StsEmulator
from bot.sandbox.rds.sessions import Session, SessionBook, allows

__all__ = ["Session", "SessionBook", "StsEmulator", "allows"]
