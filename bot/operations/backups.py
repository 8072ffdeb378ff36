"""DescribeCrossRegionBackups: list an instance's cross-region backup sets (read-only).

No job, no approval: the listing is answered at once and paged with buttons.
Rules from seeds/DescribeCrossRegionBackups.ja.txt: a time window in UTC
seconds (default: the last 7 days), an optional storage region, PageSize
30/50/100. Engines: MySQL on local disks, PostgreSQL, SQL Server.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from bot.i18n import _
from bot.operations.base import Context, FieldError, FieldErrors, FieldKind, FieldSpec, Form, FormSpec, Meta, instance_field
from bot.operations.checks import engine_name, require_instance
from bot.operations.rules import Checker
from bot.rds.backup_search import CROSS_REGION_WINDOW
from bot.rds.directory import InstanceInfo
from bot.timeutil import to_api

PAGE_SIZES = (("30", _("30 a page")), ("50", _("50 a page")), ("100", _("100 a page")))
DEFAULT_DAYS = 7
MAX_DAYS = CROSS_REGION_WINDOW.days  # one listing's window; the pickers and validation search the same


class ListingQuery(BaseModel):
    """One page of one listing: everything needed to fetch it again."""

    instance_id: str
    start: datetime
    end: datetime
    region: str | None = None
    page_size: int = 30
    page: int = 1

    def pointer(self) -> str:
        """A compact button value; it is parsed and checked again when clicked."""
        return "|".join([self.instance_id, to_api(self.start), to_api(self.end), self.region or "",
                         str(self.page_size), str(self.page)])

    @classmethod
    def from_pointer(cls, value: str, now: datetime) -> ListingQuery:
        """Rebuild a query from a button value, with every rule checked again."""
        parts = (value or "").split("|")
        if len(parts) != 6:
            raise FieldErrors({"DBInstanceId": FieldError.of("foreign_button", "That button is not one of mine.")})
        instance, start, end, region, size, page = parts
        form = {"DBInstanceId": instance, "StartTime": start, "EndTime": end, "CrossBackupRegion": region or None,
                "PageSize": size}
        query = check_query(Checker(form), form, now)
        if not re.fullmatch(r"[0-9]{1,5}", page) or not 1 <= int(page) <= 10_000:
            raise FieldErrors({"DBInstanceId": FieldError.of("no_such_page", "That page does not exist.")})
        return query.model_copy(update={"page": int(page)})


def check_query(c: Checker, form: Form, now: datetime) -> ListingQuery:
    instance_id = c.instance_id()
    start = c.time("StartTime", what=_("The start"))
    end = c.time("EndTime", what=_("The end"))
    region = c.region("CrossBackupRegion", what=_("The region"))
    size = c.choice("PageSize", [v for v, _label in PAGE_SIZES], what=_("The page size")) or "30"
    end = end or now
    try:
        start = start or end - timedelta(days=DEFAULT_DAYS)
    except OverflowError:
        c.fail("EndTime", "implausible_end", "That end time is not plausible.")
        start = end
    if c.ok("StartTime") and c.ok("EndTime"):
        if start >= end:
            c.fail("EndTime", "end_before_start", "The end must be after the start.")
        elif end - start > timedelta(days=MAX_DAYS):
            c.fail("StartTime", "window_too_long", "At most {days} days at a time.", days=MAX_DAYS)
    c.done()
    assert instance_id is not None
    return ListingQuery(instance_id=instance_id, start=start, end=end, region=region, page_size=int(size))


class CrossRegionListing(FormSpec):
    """`/rds backups`: the form (only the instance is required) and its checks."""

    meta = Meta(name="backups", title=_("Cross-region backups"), verb=_("list cross-region backups of"),
                ram_action="rds:DescribeCrossRegionBackups")
    fields = (
        instance_field(),
        FieldSpec("StartTime", _("From"), FieldKind.TIME, hint=_("In your time zone. Default: 7 days ago.")),
        FieldSpec("EndTime", _("To"), FieldKind.TIME, hint=_("In your time zone. Default: now.")),
        FieldSpec("CrossBackupRegion", _("Stored in region"), placeholder="cn-shanghai", hint=_("Default: every region.")),
        FieldSpec("PageSize", _("Page size"), FieldKind.SELECT, options=PAGE_SIZES),
    )

    def validate(self, form: Form, ctx: Context) -> tuple[ListingQuery, InstanceInfo]:
        c = Checker(form)
        query = check_query(c, form, ctx.now)
        info = require_instance(c, ctx, query.instance_id, running=False, primary=False, unlocked=False,
                                engines={"mysql", "postgresql", "sqlserver"}, why_engine=_("cross-region backups exist for"))
        c.done()
        assert info is not None
        if info.engine.lower() == "mysql" and info.storage_type != "local_ssd":
            raise FieldErrors({"DBInstanceId": FieldError.of(
                "no_cross_region_backups",
                "{instance} is {engine} on {disk}; cross-region backups exist only for MySQL on local disks.",
                instance=info.id, engine=engine_name(info.engine), disk=info.storage_type)})
        return query, info


def describe(query: ListingQuery) -> dict[str, Any]:
    """The query as the audit trail records it."""
    return {"instance": query.instance_id, "start": to_api(query.start), "end": to_api(query.end),
            "region": query.region, "page_size": query.page_size, "page": query.page}
