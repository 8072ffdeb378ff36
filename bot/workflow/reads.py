"""Reads of the estate on a user's behalf, each checked against the policy first.

Today that is the cross-region backup listing (`/rds backups`); every read a
user asks for is audited, allowed or not.
"""

from __future__ import annotations

from bot import operations
from bot.operations.backups import ListingQuery
from bot.operations.backups import describe as describe_listing
from bot.operations.base import FieldErrors, Form
from bot.rds.errors import RdsError
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
