"""Reads of the estate on a user's behalf, each checked against the policy first.

The cross-region backup listing (`/rds backups`, audited allowed or not) and
what the modals' pickers and source panel show: instances need
``rds:DescribeDBInstances``, backup sets ``rds:DescribeBackups``, cross-region
sets ``rds:DescribeCrossRegionBackups``, database names ``rds:DescribeDatabases``,
each on the instance concerned. The bot reads with its own AccessKey; this is
where a person's rights are applied to what it shows them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import operations
from bot.operations.backups import ListingQuery
from bot.operations.backups import describe as describe_listing
from bot.operations.base import FieldErrors, Form
from bot.policy import Decision
from bot.rds.backup_search import Found, cross_region_by_id, search_backups, search_cross_region
from bot.rds.directory import BackupInfo, CrossRegionBackup, InstanceInfo
from bot.rds.errors import RdsError
from bot.rds.estate import Search
from bot.timeutil import utcnow
from bot.workflow import transitions as tx
from bot.workflow.access import decide, decision_record, resource_of
from bot.workflow.deps import Deps
from bot.workflow.intake import context
from bot.workflow.outcomes import Denied, Listing


def list_backups(deps: Deps, *, user: str, form: Form | None = None, pointer: str | None = None) -> Listing | Denied:
    """`/rds backups`: one page of cross-region backups, after the policy check (raises FieldErrors).

    ``pointer`` is a page button's value: only a hint of which page, checked again like a new query.
    """
    spec = operations.LISTING
    ctx = context(deps, user)
    if pointer is not None:
        query = ListingQuery.from_pointer(pointer, ctx.now)
        form = {"DBInstanceId": query.instance_id}
    query_from_form, info = spec.validate(form or {}, ctx)
    if pointer is None:
        query = query_from_form
    resource = resource_of(deps, info)
    decision = decide(deps, user, spec.ram_action, resource, info.tags)
    detail = {"action": spec.ram_action, "resource": resource, "query": describe_listing(query),
              "decision": decision_record(decision)}
    with deps.db.session() as session:
        tx.note(session, None, "listed" if decision.allowed else "list_denied", actor=user, detail=detail)
    if not decision.allowed:
        return Denied(request=None, decision=decision)
    try:
        page = deps.directory.cross_region_backups(info.id, start=query.start, end=query.end, region=query.region,
                                                   page=query.page, page_size=query.page_size)
    except RdsError as error:
        field_name = error.field or "DBInstanceId"
        raise FieldErrors({field_name if spec.has_field(field_name) else "DBInstanceId": error.plain()}) from None
    return Listing(query=query, page=page, instance=info)


# -------------------------------------------------------------- picker reads
# RAM has no per-instance check for these Describe calls; the bot's is stricter on
# purpose (README, Security): what a person may not act on or read, they do not see.
READ_INSTANCE = "rds:DescribeDBInstances"
READ_BACKUPS = "rds:DescribeBackups"
READ_CROSS_REGION = "rds:DescribeCrossRegionBackups"
READ_DATABASES = "rds:DescribeDatabases"


class ReadRefused(Exception):
    """The policy refuses this read; ``decision`` says which rule (or that none allows it)."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.explain())
        self.decision = decision


def may_read(deps: Deps, user: str, action: str, info: InstanceInfo) -> Decision:
    return decide(deps, user, action, resource_of(deps, info), info.tags)


def _readable(deps: Deps, user: str, action: str, instance_id: str) -> InstanceInfo:
    """The instance, once ``user`` may ``action`` on it (raises ReadRefused, RdsError)."""
    info = deps.directory.instance(instance_id)
    decision = may_read(deps, user, action, info)
    if not decision.allowed:
        raise ReadRefused(decision)
    return info


def visible_instances(deps: Deps, user: str, query: str, *, engine: str | None = None) -> list[InstanceInfo]:
    """Instances matching ``query`` that ``user`` may see; the others are not mentioned at all."""
    return visible_search(deps, user, query, engine=engine).instances


def visible_search(deps: Deps, user: str, query: str, *, engine: str | None = None,
                   reach: Reach | None = None) -> Search:
    """Instances matching ``query`` in every account and region (or only where ``reach`` allows) that
    ``user`` may see, and the places that could not be read (their names are no secret: they are the
    bot's configuration)."""
    found = deps.directory.search(query, engine=engine, regions=reach.regions if reach else None,
                                  account=reach.account if reach else None)
    return Search([i for i in found.instances if may_read(deps, user, READ_INSTANCE, i).allowed], found.unreadable)


@dataclass(frozen=True)
class Reach:
    """Where a cross-region backup set can be restored: the regions RDS lists for it, in its own account."""

    regions: tuple[str, ...]
    account: str


def restore_reach(deps: Deps, user: str, owner_id: str, backup_id: str) -> Reach | None:
    """Where set ``backup_id`` of ``owner_id`` may be restored; None when unknown (unreadable for ``user``,
    not found, or RDS lists no regions): then nothing is narrowed and validation decides."""
    if not backup_id.isdigit():
        return None
    try:
        info = _readable(deps, user, READ_CROSS_REGION, owner_id)
        found = cross_region_by_id(deps.directory, info.id, int(backup_id), now=utcnow())
    except (ReadRefused, RdsError):
        return None
    if found is None or not found.restore_regions:
        return None
    return Reach(tuple(found.restore_regions), info.account)


def instance_facts(deps: Deps, user: str, instance_id: str) -> InstanceInfo:
    """The source panel's facts about one instance (raises ReadRefused, RdsError)."""
    return _readable(deps, user, READ_INSTANCE, instance_id)


def backup_sets(deps: Deps, user: str, instance_id: str, query: str = "") -> Found[BackupInfo]:
    """The instance's successful backup sets that ``query`` asks for, among all of them: a day
    (yyyy-mm-dd), a month (yyyy-mm), ID digits, or nothing for the newest (raises ReadRefused, RdsError)."""
    info = _readable(deps, user, READ_BACKUPS, instance_id)
    return search_backups(deps.directory, info.id, query)


def cross_region_sets(deps: Deps, user: str, instance_id: str, query: str = "") -> Found[CrossRegionBackup]:
    """Restorable cross-region sets of the last 730 days that ``query`` asks for, typed as for
    :func:`backup_sets` (raises ReadRefused, RdsError)."""
    info = _readable(deps, user, READ_CROSS_REGION, instance_id)
    return search_cross_region(deps.directory, info.id, query, now=utcnow(), usable=_restorable)


def _restorable(backup: CrossRegionBackup) -> bool:
    """RestoreDdrTable takes a set that succeeded and is physical (a logical set restores no tables)."""
    return not backup.failed and backup.method != "L"


def database_names(deps: Deps, user: str, instance_id: str) -> list[str]:
    """The instance's database names (raises ReadRefused, RdsError)."""
    info = _readable(deps, user, READ_DATABASES, instance_id)
    return [d.name for d in deps.directory.databases(info.id)]
