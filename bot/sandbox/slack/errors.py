"""Errors raised inside the Slack emulator.

``SlackError`` is what a Slack Web API method answers with ``{"ok": false}``;
``DriverError`` is raised to the *test* when it asks the driver for something a
real Slack user could not do (click a button that is not there, submit a modal
with a required field empty).
"""

from __future__ import annotations

from typing import Any


class SlackError(Exception):
    """A Slack API error code, e.g. ``channel_not_found``, with optional details."""

    def __init__(self, error: str, *messages: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)
        self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body Slack sends for this error."""
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body


class DriverError(AssertionError):
    """The test asked the Slack driver for an interaction Slack would not allow.

    It subclasses ``AssertionError`` so that pytest reports it as a test failure
    with its message, not as an error inside the harness.
    """
