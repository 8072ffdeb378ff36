"""The card's "What was checked" sections, from the facts stored with the request at intake.

Pure functions of ``request.checked`` (:mod:`bot.workflow.checked`): each
instance's engine, version, class, storage and tags; the backup set or the point
in time and its retention window; a copy target's databases; the rule that
allowed the requester and the approval rule; a clone's price as RDS returned it.
Never calls RDS. A request stored before these facts were kept shows none.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from bot.i18n import _
from bot.operations.base import role_name
from bot.store.models import Request
from bot.timeutil import human_bytes
from bot.slack.blocks import Blocks, section
from bot.slack.card_parts import iso_time
from bot.slack.ids import Block
from bot.slack.text import escape

MAX_NAMES = 30  # databases listed by name on the card; the rest counted


def checked_blocks(request: Request) -> Blocks:
    """Up to two sections: the instances, then everything else that was checked."""
    facts: dict[str, Any] = request.checked or {}
    if not facts:
        return []
    blocks: Blocks = []
    instances = [_instance(r) for r in facts.get("resources") or []]
    if instances:
        blocks.append(section(_("*What was checked*") + "\n" + "\n".join(instances), block_id=Block.CHECKED))
    lines = [line for line in (_backup(facts.get("backup")), _window(facts.get("restore_time")),
                               _databases(facts.get("target_databases")), _requester_rule(facts.get("requester_rule")),
                               _approval_rule(facts.get("approval_rule")), _price(facts)) if line]
    if lines:
        blocks.append(section("\n".join(lines), block_id=Block.CHECKED_MORE))
    return blocks


def _instance(fact: dict[str, Any]) -> str:
    tags = fact.get("tags")
    tag_text = (", ".join(f"{k}={v}" for k, v in sorted(tags.items())) or _("none")) if tags is not None \
        else _("unknown")
    storage = _("{size} GB", size=fact["storage_gb"]) if fact.get("storage_gb") is not None else "?"
    return "• " + _("`{instance}` ({role}): {engine} {version} · {instance_class} · {storage} {storage_type} · "
                    "tags: {tags}", instance=escape(str(fact.get("instance_id") or "")),
                    role=escape(role_name(str(fact.get("role") or ""))), engine=escape(str(fact.get("engine") or "?")),
                    version=escape(str(fact.get("engine_version") or "")),
                    instance_class=escape(str(fact.get("instance_class") or "?")), storage=storage,
                    storage_type=escape(str(fact.get("storage_type") or "")), tags=escape(tag_text))


def _backup(fact: dict[str, Any] | None) -> str:
    if not fact:
        return ""
    backup = escape(str(fact.get("id") or ""))
    if fact.get("error"):
        return ":warning: " + _("*Backup set* {backup}: could not be read ({reason})", backup=backup,
                                reason=escape(str(fact["error"])))
    start, end = fact.get("start"), fact.get("end")
    taken = f"{iso_time(start)} – {iso_time(end)}" if start and end else iso_time(start or end or "") or "?"
    region = f" · {escape(str(fact['region']))}" if fact.get("region") else ""
    return ":floppy_disk: " + _("*Backup set* {backup}: taken {taken}, {size}, {method}{region}", backup=backup,
                                taken=taken, size=human_bytes(int(fact.get("size") or 0)),
                                method=escape(str(fact.get("method") or "?")), region=region)


def _window(fact: dict[str, Any] | None) -> str:
    if not fact:
        return ""
    if fact.get("error"):
        return ":warning: " + _("*Point in time*: the retention window could not be read ({reason})",
                                reason=escape(str(fact["error"])))
    days = fact.get("retention_days")
    retention = _("{days} days retention", days=days) if days else _("retention unknown")
    return ":clock3: " + _("*Point in time* {time} on `{instance}`: inside the window from {earliest} ({retention})",
                           time=iso_time(str(fact.get("time") or "")), instance=escape(str(fact.get("instance_id") or "")),
                           earliest=iso_time(str(fact.get("earliest") or "")) if fact.get("earliest") else "?",
                           retention=retention)


def _databases(fact: dict[str, Any] | None) -> str:
    if not fact:
        return ""
    if fact.get("error"):
        return ":warning: " + _("*Databases on the target*: could not be read ({reason})",
                                reason=escape(str(fact["error"])))
    names = list(fact.get("names") or [])
    listed = ", ".join(f"`{escape(str(n))}`" for n in names[:MAX_NAMES]) or _("none")
    if len(names) > MAX_NAMES:
        listed += " " + _("and {more} more", more=len(names) - MAX_NAMES)
    return ":file_cabinet: " + _("*Databases already on `{target}`*: {names}",
                                 target=escape(str(fact.get("instance_id") or "")), names=listed)


def _requester_rule(fact: dict[str, Any] | None) -> str:
    if not fact:
        return ""
    via = f" ({escape(str(fact['via']))})" if fact.get("via") else ""
    return ":white_check_mark: " + _("*Requester allowed by* {path}:{line} `{text}`{via}",
                                     path=escape(PurePath(str(fact.get("path") or "")).name),
                                     line=fact.get("line") or "?",
                                     text=escape(str(fact.get("text") or "")), via=via)


def _approval_rule(fact: dict[str, Any] | None) -> str:
    if not fact:
        return ""
    return ":scales: " + _("*Approval rule*: {rule}", rule=escape(str(fact.get("rule") or "")))


def _price(facts: dict[str, Any]) -> str:
    if "price" not in facts:
        return ""
    price = facts.get("price") or {}
    if price.get("error") or not price.get("trade"):
        return ":moneybag: " + _("*Price*: price unavailable ({reason})",
                                 reason=escape(str(price.get("error") or _("RDS gave no TradePrice"))))
    term = ""
    if price.get("pay_type") == "Prepaid":
        term = " · " + _("{count} × {unit}", count=escape(str(price.get("used_time") or 1)),
                         unit=escape(str(price.get("period") or "Month")))
    return ":moneybag: " + _("*Price* (DescribePrice, {pay_type}{term}): TradePrice {trade} {currency} "
                             "(OriginalPrice {original}, DiscountPrice {discount})",
                             pay_type=escape(str(price.get("pay_type") or "")), term=term,
                             trade=escape(str(price["trade"])), currency=escape(str(price.get("currency") or "")),
                             original=escape(str(price.get("original") or "")),
                             discount=escape(str(price.get("discount") or "")))
