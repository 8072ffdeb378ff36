"""Socket Mode: Slack delivers events over a WebSocket the bot opens, so no public URL is needed.

Kept here so that Bolt stays inside ``bot/slack``; ``rdsbot serve`` imports this
only when SLACK_APP_TOKEN is set.
"""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler


def connect_socket_mode(bolt: App, app_token: str) -> SocketModeHandler:
    """Open the connection; events then arrive on the handler's own threads.

    The caller keeps the returned handler for as long as the bot serves.
    """
    handler = SocketModeHandler(bolt, app_token)
    handler.connect()
    return handler
