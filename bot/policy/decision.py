"""The answer to one policy question, with the wording that explains it (in the reader's language)."""

from __future__ import annotations

from pydantic import BaseModel

from bot.i18n import _

from .conditions import conditions_text
from .rules import ANYONE, Rule


class Decision(BaseModel, frozen=True):
    """Whether ``subject`` may do ``action`` on ``resource``, and which line decided.

    ``rule`` is the line that decided: the allow that granted, or the explicit
    deny that refused; ``None`` when nothing allowed (the default deny).
    ``via`` is the role, user group or ``*`` through which ``rule`` applied
    (``None`` when it names the subject itself) and ``path`` the chain from the
    subject to it (``("U0BOB", "role:dba", "role:ops")``).
    ``tags_assumed`` is True when ``rule`` is a tag-conditioned deny that applied
    because the instance's tags were unknown. ``needs_tags`` names a conditional
    allow that would have applied had the tags been known to satisfy it.
    """

    allowed: bool
    subject: str
    action: str
    resource: str
    tags: dict[str, str] | None
    policy_version: str
    rule: Rule | None
    via: str | None = None
    path: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    tags_assumed: bool = False
    needs_tags: Rule | None = None
    unknown_groups: tuple[str, ...] = ()  # user groups whose membership could not be read

    def _groups_text(self) -> str:
        if not self.unknown_groups:
            return ""
        return " " + _("Membership of {groups} could not be read from Slack, so rules for those groups count only "
                       "when they deny.", groups=", ".join(self.unknown_groups))

    @property
    def effect(self) -> str:
        return "allow" if self.allowed else "deny"

    def explain(self) -> str:
        """One or two plain sentences, starting with ``allow`` or ``deny``."""
        return self._explain() + self._groups_text()

    def _explain(self) -> str:
        about = {"subject": self.subject, "action": self.action, "resource": self.resource,
                 "version": self.policy_version}
        if self.rule is None:
            text = _("deny: no rule allows {action} on {resource} for {subject} (policy version {version}).", **about)
            if self.needs_tags is not None:
                text += " " + _("{rule} would allow it when {conditions}, but the instance's tags are unknown.",
                                rule=_cite(self.needs_tags), conditions=conditions_text(self.needs_tags.conditions))
            return text
        via = self._via_text()
        cited = {"rule": _cite(self.rule), "via": f" {via}" if via else ""}
        if self.allowed:
            return _("allow: {subject} may {action} on {resource}, granted by {rule}{via} (policy version {version}).",
                     **cited, **about)
        text = _("deny: {subject} may not {action} on {resource}, explicitly denied by {rule}{via} "
                 "(policy version {version}).", **cited, **about)
        if self.tags_assumed:
            text += " " + _("The instance's tags are unknown, so this tag-conditioned deny applies as if its "
                            "conditions held.")
        return text

    def _via_text(self) -> str:
        if self.via is None:
            return ""
        if self.via == ANYONE:
            return _("(a rule for everyone)")
        chain = " > ".join(self.path) if len(self.path) > 1 else self.via
        return _("via {via} ({chain})", via=self.via, chain=chain)


def _cite(rule: Rule) -> str:
    return f"{rule.where} `{rule.text}`"
