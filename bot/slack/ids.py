"""Every Slack identifier the bot and Slack agree on (DESIGN.md's Slack contract)."""

from __future__ import annotations

from enum import StrEnum

COMMAND = "/rds"


class Callback(StrEnum):
    """Modal callback_ids: ``rds_<operation>`` (see :func:`for_operation`) plus the bot's own dialogs."""

    REJECT = "rds_reject"

    @staticmethod
    def for_operation(name: str) -> str:
        return f"{CALLBACK_PREFIX}{name}"


CALLBACK_PREFIX = "rds_"


class Action(StrEnum):
    """action_ids of buttons in messages."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    REVIEW = "review"  # a break-glass request's owed review
    BACKUP_NOW = "backup_now"
    PAGE_NEXT = "page_next"
    PAGE_PREV = "page_prev"
    RESTORE_FROM_BACKUP = "restore_from_backup"
    RESUBMIT = "resubmit"  # "Edit and resubmit" on a rejected or failed request: its modal, prefilled


class Block(StrEnum):
    """block_ids that are not API parameter names."""

    REASON = "reason"
    ACTIONS = "request_actions"
    SOURCE_INFO = "source_info"
    APPROVERS = "approvers"
    DRY_RUN = "dry_run"  # checkboxes on every operation modal: check and decide, send nothing
    BREAK_GLASS = "break_glass"  # checkboxes for those allowed rdsbot:BreakGlass: approvals and freezes waived
    BREAK_GLASS_NOTE = "break_glass_note"
    REVIEW_ACTIONS = "review_actions"
    RESUBMIT_ACTIONS = "resubmit_actions"
    CHECKED = "checked"  # the card's instances as the requester was checked against them
    CHECKED_MORE = "checked_more"  # backup set or window, target databases, rules, price

    @staticmethod
    def time_info(field: str) -> str:
        """The context block under a time picker: the picked time in the user's zone and in UTC."""
        return f"{field}_utc"


class Metadata(StrEnum):
    """Message metadata event types: how the bot recognises its own messages."""

    FINAL = "rdsbot_request_final"
    UPDATE = "rdsbot_request_update"
