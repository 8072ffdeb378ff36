"""Everything one emulated workspace knows, shared by the Web API face and the driver face."""

from __future__ import annotations

from dataclasses import dataclass

from .changes import ChangeFeed
from .ids import TsClock
from .message_store import MessageStore
from .response_log import ResponseLog
from .tokens import ResponseUrlRegistry, TriggerRegistry
from .view_store import ViewStore
from .workspace import Workspace


@dataclass
class SlackState:
    """The stores of one emulated workspace plus the base URL it is served at."""

    workspace: Workspace
    feed: ChangeFeed
    clock: TsClock
    messages: MessageStore
    views: ViewStore
    triggers: TriggerRegistry
    response_urls: ResponseUrlRegistry
    responses: ResponseLog
    base_url: str = ""

    @classmethod
    def create(cls, workspace: Workspace, *, trigger_ttl_s: float, strict_blocks: bool = True) -> SlackState:
        """Fresh, empty stores for ``workspace``."""
        feed = ChangeFeed()
        clock = TsClock()
        triggers = TriggerRegistry(trigger_ttl_s)
        return cls(
            workspace=workspace,
            feed=feed,
            clock=clock,
            messages=MessageStore(workspace, clock, feed, strict_blocks=strict_blocks),
            views=ViewStore(workspace, triggers, feed),
            triggers=triggers,
            response_urls=ResponseUrlRegistry(),
            responses=ResponseLog(feed),
        )

    def response_url(self, token: str) -> str:
        """The full response_url for a token (needs the server to be started)."""
        if not self.base_url:
            raise RuntimeError("start the Slack emulator before issuing response URLs")
        return f"{self.base_url}/response/{token}"
