"""An offline Slack for rdsbot's end-to-end tests and ``rdsbot sandbox``.

Face 1, ``SlackEmulator``: the Slack Web API the bot calls
(``WebClient(base_url=emu.api_url)``) plus response URLs, with a journal,
accessors, waiters and fault injection.
Face 2, ``SlackDriver``: Slack's servers delivering signed slash commands,
clicks, modal submissions, option requests and events to the bot.

    with SlackEmulator(bot_token="xoxb-test", signing_secret="s3cret") as emu:
        slack = SlackDriver(emu, "http://127.0.0.1:3000/slack/events")
        view = slack.open_modal(ALICE, "clone rm-123")
        slack.submit_view(ALICE, view["id"], {"reason": "load test"})
"""

from .delivery import ACK_DEADLINE_S, BotResponse, DeliveryOptions, SentRequest
from .driver import SlackDriver
from .emulator import SlackEmulator
from .errors import DriverError, SlackError
from .faults import Fault
from .journal import Call
from .response_log import ResponseRecord
from .view_store import ViewRecord
from .workspace import (
    ALICE,
    APPROVALS_CHANNEL,
    BOB,
    BOT_ID,
    BOT_USER_ID,
    CAROL,
    DAVE,
    DBA_GROUP,
    ERIN,
    ONCALL_GROUP,
    OPS_CHANNEL,
    PRIVATE_CHANNEL,
    TEAM_ID,
    Channel,
    User,
    UserGroup,
    Workspace,
    default_workspace,
)

__all__ = [
    "ACK_DEADLINE_S",
    "ALICE",
    "APPROVALS_CHANNEL",
    "BOB",
    "BOT_ID",
    "BOT_USER_ID",
    "CAROL",
    "DAVE",
    "DBA_GROUP",
    "ERIN",
    "ONCALL_GROUP",
    "OPS_CHANNEL",
    "PRIVATE_CHANNEL",
    "TEAM_ID",
    "BotResponse",
    "Call",
    "Channel",
    "DeliveryOptions",
    "DriverError",
    "Fault",
    "ResponseRecord",
    "SentRequest",
    "SlackDriver",
    "SlackEmulator",
    "SlackError",
    "User",
    "UserGroup",
    "ViewRecord",
    "Workspace",
    "default_workspace",
]
