""""Edit and resubmit": a rejected or failed request's modal, opened again with what its requester typed.

The button's value is only a pointer: the workflow loads the request and
answers only its requester (:func:`bot.workflow.own.resubmission`); anyone else
gets the answer an unknown ID gets, and no modal opens. Submitting the modal is
an ordinary submission of that operation: a new request, with a new ID,
validated, decided and approved like any other.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.i18n import _
from bot.slack.home import HomeTab
from bot.slack.modal_open import ModalOpener
from bot.slack.replies import click
from bot.slack.text import escape
from bot.workflow.deps import Deps
from bot.workflow.own import Prefill, resubmission


class Resubmit:
    """Handles the ``resubmit`` button, in a notice or on the App Home."""

    def __init__(self, deps: Deps, opener: ModalOpener, home: HomeTab) -> None:
        self.deps = deps
        self.opener = opener
        self.home = home

    def click(self, body: dict[str, Any], client: WebClient) -> None:
        request_id, user, channel = click(body)
        found = resubmission(self.deps, request_id, user=user)
        if not isinstance(found, Prefill):
            self.home.answer(body, client, user, channel, ":warning: " + escape(found.message))
            return
        note = ":repeat: " + _("Edit and resubmit: this makes a new request from {request_id}'s values; "
                               "{request_id} itself stays as it was.", request_id=found.source)

        def respond(text: str = "", **_ignored: Any) -> None:  # the opener's refusals, told where the click was
            self.home.answer(body, client, user, channel, text)

        # The new request answers where the first was asked for (private_metadata's channel).
        self.opener.open(found.op, body={**body, "channel_id": found.channel}, client=client,
                         respond=respond,  # type: ignore[arg-type]
                         initial=dict(found.values), notes=[note])  # type: ignore[arg-type]
