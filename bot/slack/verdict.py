"""A slash command's duplicate check, settled beside the work it started rather than before its ack."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from slack_bolt import Respond

from bot.i18n import _

log = logging.getLogger(__name__)

# The key under which a slash command's Verdict is in Bolt's context (the listener's ``context``).
VERDICT = "rdsbot_verdict"


class Verdict:
    """Whether a slash command is this delivery's first, as the replicas' shared record says.

    A slash command's ack says nothing that changes anything (help, a status, or an empty ack),
    so it need not wait for the shared record, nor need the modal an operation opens (Slack takes
    each trigger_id once: see :meth:`~bot.slack.modal_open.ModalOpener.open`). The work the command
    started asks :meth:`first_time` before anything else a person sees or the bot keeps: a copy
    sets no reminder, cancels nothing, reads no facts and tells nobody. The check runs once,
    for whoever asks first; :meth:`settle` runs it without asking (to record the delivery).
    """

    def __init__(self, check: Callable[[], bool]) -> None:
        self._check = check
        self._lock = threading.Lock()
        self._done = False
        self._first = False
        self._error: Exception | None = None

    def settle(self) -> None:
        """Run the check now unless it ran already (an error is kept for the work to report)."""
        with self._lock:
            if self._done:
                return
            try:
                self._first = self._check()
            except Exception as error:  # noqa: BLE001 - kept: first_time raises it where someone can answer
                log.error("duplicate-delivery check failed", exc_info=error)
                self._error = error
            finally:
                self._done = True

    def first_time(self) -> bool:
        """True when this is the delivery's first; raises the check's error if the record could not be read."""
        self.settle()
        if self._error is not None:
            raise self._error
        return self._first


def go_ahead(verdict: Verdict | None, respond: Respond) -> bool:
    """Whether the work a slash command started may act: True for its first delivery (or with no verdict to
    ask). A duplicate is dropped; when the record could not be read the person is told nothing was done."""
    if verdict is None:
        return True
    try:
        first = verdict.first_time()
    except Exception:  # noqa: BLE001 - any database failure: logged where it happened (Verdict.settle)
        respond(text=":warning: " + _("I could not check whether Slack had delivered this command before (my database "
                                      "did not answer), so I did nothing. Please run it again."),
                response_type="ephemeral")
        return False
    if not first:
        log.info("duplicate slash command dropped after its ack")
    return first
