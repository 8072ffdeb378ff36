"""The platform face: ``SlackDriver`` plays Slack's servers delivering user actions to the bot.

Each method does what a user's gesture makes Slack do: mint a trigger id and a
response_url, build the payload from what the emulator currently shows the
user (the current view, the current message blocks), sign it, POST it to the
bot's request URL, then apply Slack's reaction to the ack (close or update a
modal, show an ephemeral). Anything a real user could not do raises
``DriverError``; anything real Slack would have shown as an error lands in the
response's ``problems``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import block_kit, payloads, state_values
from .ack_reactions import apply_command_ack, apply_submission_ack, check_ack, check_options
from .delivery import BotResponse, DeliveryOptions, SentRequest, build_request, post
from .errors import DriverError
from .state import SlackState
from .view_store import ViewRecord
from .workspace import User, Workspace

if TYPE_CHECKING:
    from .emulator import SlackEmulator

EXTERNAL_SELECTS = frozenset({"external_select", "multi_external_select"})
# Slack asks for options only once the user has typed this many characters.
DEFAULT_MIN_QUERY_LENGTH = 3


class SlackDriver:
    """Delivers slash commands, clicks, submissions, suggestions and events to the bot, signed."""

    def __init__(self, emulator: SlackEmulator, bot_url: str, *, timeout_s: float = 10.0) -> None:
        self._emu = emulator
        self.bot_url = bot_url
        self.timeout_s = timeout_s
        # Options the bot served per view and action_id, so a later pick carries their labels.
        self._suggested: dict[str, dict[str, list[dict[str, Any]]]] = {}
        # The bot runs on localhost: never route through a proxy from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def _state(self) -> SlackState:
        return self._emu.state

    @property
    def _ws(self) -> Workspace:
        return self._emu.workspace

    # --- slash commands ------------------------------------------------------------------
    def slash_command(
        self,
        user: str,
        text: str = "",
        channel: str = "C0OPS",
        command: str = "/rds",
        *,
        delivery: DeliveryOptions | None = None,
    ) -> BotResponse:
        """``user`` types ``command text`` in ``channel``."""
        who = self._user(user)
        self._check_can_see(channel, who)
        trigger_id = self._emu.issue_trigger(who.id, "slash_command")
        response_url = self._emu.issue_response_url("slash_command", user=who.id, channel=channel)
        fields = payloads.slash_command(
            self._ws,
            who,
            channel=channel,
            command=command,
            text=text,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        response = self._send(
            "slash_command",
            payloads.form_body(fields),
            payloads.FORM,
            fields,
            delivery,
            trigger_id=trigger_id,
            response_url=response_url,
        )
        apply_command_ack(self._state.messages, response, who, channel, command)
        return response

    def open_modal(
        self,
        user: str,
        text: str = "",
        channel: str = "C0OPS",
        command: str = "/rds",
        *,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """Run a slash command and wait for the modal the bot opens with its trigger id."""
        response = self.slash_command(user, text, channel, command)
        if not response.ok:
            raise DriverError(
                f"{command} {text!r} was answered HTTP {response.status}: {response.text[:300]}"
            )
        trigger_id = response.trigger_id

        def opened() -> dict[str, Any] | None:
            record = next((v for v in self._state.views.all() if v.trigger_id == trigger_id), None)
            return self._emu.current_view(record.id) if record is not None else None

        return self._emu.wait_for(opened, timeout=timeout, what=f"a modal opened for {command} {text!r}")

    # --- modals ----------------------------------------------------------------------------
    def submit_view(
        self,
        user: str,
        view_id: str | None = None,
        values: Mapping[str, Any] | None = None,
        *,
        validate: bool = True,
        delivery: DeliveryOptions | None = None,
    ) -> BotResponse:
        """Fill the user's visible modal with ``values`` (by block_id) and press Submit.

        With ``validate`` (the default) the driver refuses what Slack's client
        refuses: required inputs left empty, options not offered, bad numbers.
        """
        who = self._user(user)
        record = self._visible_view(who, view_id)
        state = self._view_state(record, values, validate=validate)
        trigger_id = self._emu.issue_trigger(who.id, "view_submission", view_id=record.id)
        payload = payloads.view_submission(
            self._ws,
            who,
            view=record.to_slack(self._ws, state=state),
            trigger_id=trigger_id,
            response_urls=self._submission_response_urls(record, state, who),
        )
        response = self._send(
            "view_submission",
            payloads.interactive_body(payload),
            payloads.FORM,
            payload,
            delivery,
            trigger_id=trigger_id,
        )
        apply_submission_ack(self._state.views, response, record)
        return response

    def close_view(
        self, user: str, view_id: str | None = None, *, delivery: DeliveryOptions | None = None
    ) -> BotResponse | None:
        """The user dismisses the visible modal; ``view_closed`` is sent only if the view asked for it."""
        who = self._user(user)
        record = self._visible_view(who, view_id)
        definition = record.definition
        cleared = bool(definition.get("clear_on_close"))
        if cleared:
            self._state.views.clear(record.id)
        else:
            self._state.views.close(record.id)
        if not definition.get("notify_on_close"):
            return None
        view = record.to_slack(self._ws, state=self._view_state(record))
        payload = payloads.view_closed(self._ws, who, view=view, is_cleared=cleared)
        response = self._send(
            "view_closed", payloads.interactive_body(payload), payloads.FORM, payload, delivery
        )
        check_ack(response, "nothing visible (Slack ignores view_closed failures)")
        return response

    def click_in_view(
        self,
        user: str,
        view_id: str | None,
        action_id: str,
        value: str | None = None,
        *,
        delivery: DeliveryOptions | None = None,
    ) -> BotResponse:
        """The user clicks a button in their visible modal."""
        who = self._user(user)
        record = self._visible_view(who, view_id)
        block, element = self._find(
            record.blocks, f"view {record.id}", action_id=action_id, value=value, types=frozenset({"button"})
        )
        return self._view_action(who, record, [payloads.button_action(block, element)], delivery)

    def click_in_home(
        self,
        user: str,
        action_id: str,
        value: str | None = None,
        *,
        delivery: DeliveryOptions | None = None,
    ) -> BotResponse:
        """The user clicks a button in their App Home tab (the view the bot last published for them)."""
        who = self._user(user)
        record = self._state.views.home(who.id)
        if record is None:
            raise DriverError(f"{who.id} has no App Home view published")
        block, element = self._find(
            record.blocks, f"home {record.id}", action_id=action_id, value=value, types=frozenset({"button"})
        )
        return self._view_action(who, record, [payloads.button_action(block, element)], delivery)

    def select_in_view(
        self,
        user: str,
        view_id: str | None,
        block_id: str,
        value: Any,
        *,
        action_id: str | None = None,
        delivery: DeliveryOptions | None = None,
    ) -> BotResponse | None:
        """The user picks/types ``value`` in one element of their visible modal.

        ``action_id`` picks the element when an ``actions`` block holds several.

        Slack tells the app only for elements that dispatch actions (selects in
        ``actions`` blocks or accessories, inputs with ``dispatch_action``);
        otherwise the value is only remembered for the submission and ``None``
        is returned.
        """
        who = self._user(user)
        record = self._visible_view(who, view_id)
        block, element = self._find(
            record.blocks,
            f"view {record.id}",
            block_id=block_id,
            action_id=action_id,
            types=frozenset(state_values.SHAPES),
        )
        entry = state_values.given_value(element, value, suggested=self._suggested.get(record.id), zone=who.tz)
        self._state.views.set_draft(record.id, block_id, element["action_id"], entry)
        if block.get("type") == "input" and not block.get("dispatch_action"):
            return None
        refreshed = self._state.views.get(record.id) or record
        return self._view_action(who, refreshed, [payloads.element_action(block, element, entry)], delivery)

    def suggest(
        self,
        user: str,
        view_id: str | None,
        action_id_or_block_id: str,
        value: str = "",
        *,
        delivery: DeliveryOptions | None = None,
    ) -> BotResponse:
        """The user types ``value`` into an external select: Slack asks the bot for options."""
        who = self._user(user)
        record = self._visible_view(who, view_id)
        where = f"view {record.id}"
        found = block_kit.find_element(record.blocks, action_id=action_id_or_block_id, types=EXTERNAL_SELECTS)
        block, element = found or self._find(
            record.blocks, where, block_id=action_id_or_block_id, types=EXTERNAL_SELECTS
        )
        min_length = int(element.get("min_query_length", DEFAULT_MIN_QUERY_LENGTH))
        if len(value) < min_length:
            raise DriverError(
                f"{where}: Slack sends no block_suggestion before {min_length} characters are typed "
                f"(min_query_length of {element.get('action_id')!r}); got {value!r}"
            )
        payload = payloads.block_suggestion(
            self._ws,
            who,
            view=record.to_slack(self._ws, state=self._view_state(record)),
            block_id=str(block.get("block_id")),
            action_id=str(element.get("action_id")),
            value=value,
        )
        response = self._send(
            "block_suggestion", payloads.interactive_body(payload), payloads.FORM, payload, delivery
        )
        check_ack(response, "the select shows no options")
        check_options(response)
        self._suggested.setdefault(record.id, {})[str(element.get("action_id"))] = response.options
        return response

    # --- messages --------------------------------------------------------------------------
    def click(
        self,
        user: str,
        *,
        channel: str,
        ts: str,
        action_id: str,
        value: str | None = None,
        delivery: DeliveryOptions | None = None,
    ) -> BotResponse:
        """The user clicks a button in a message (or in an ephemeral message they see)."""
        who = self._user(user)
        self._check_can_see(channel, who)
        messages = self._state.messages
        stored = messages.get(channel, ts)
        ephemeral = messages.get_ephemeral(channel, ts) if stored is None else None
        if stored is not None:
            blocks = stored.blocks or []
        elif ephemeral is not None and ephemeral.user == who.id:
            blocks = ephemeral.blocks or []
        else:
            raise DriverError(f"{who.id} sees no message ts={ts} in {channel}")
        where = f"message {ts} in {channel}"
        block, element = self._find(
            blocks, where, action_id=action_id, value=value, types=frozenset({"button"})
        )
        is_ephemeral = stored is None
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": is_ephemeral,
        }
        thread_ts = stored.thread_ts if stored is not None and stored.is_reply else None
        if thread_ts:
            container["thread_ts"] = thread_ts
        trigger_id = self._emu.issue_trigger(who.id, "block_actions")
        response_url = self._emu.issue_response_url(
            "block_actions",
            user=who.id,
            channel=channel,
            message_ts=ts,
            is_ephemeral=is_ephemeral,
            thread_ts=thread_ts,
        )
        # Slack sends the message without its metadata; a bot must not rely on it here.
        message = messages.render(stored, include_metadata=False) if stored is not None else None
        payload = payloads.message_block_actions(
            self._ws,
            who,
            container=container,
            message=message,
            actions=[payloads.button_action(block, element)],
            response_url=response_url,
            trigger_id=trigger_id,
        )
        return self._block_actions(payload, delivery, trigger_id, "the button shows a warning sign",
                                   response_url=response_url)

    # --- events ----------------------------------------------------------------------------
    def event(self, payload: Mapping[str, Any], *, delivery: DeliveryOptions | None = None) -> BotResponse:
        """Deliver an Events API callback; a bare event (``{"type": "app_mention", ...}``) is wrapped."""
        body = dict(payload)
        if body.get("type") not in ("event_callback", "url_verification", "app_rate_limited"):
            body = payloads.event_callback(self._ws, body)
        response = self._send("event", payloads.json_body(body), payloads.JSON, body, delivery)
        check_ack(response, "Slack retries the event (X-Slack-Retry-Num)")
        return response

    def url_verification(
        self, challenge: str = "sandbox-challenge", *, delivery: DeliveryOptions | None = None
    ) -> BotResponse:
        """Slack's request-URL handshake; a problem is noted unless the challenge comes back."""
        response = self.event(payloads.url_verification(self._ws, challenge), delivery=delivery)
        echoed = response.json.get("challenge") if isinstance(response.json, dict) else response.text.strip()
        if echoed != challenge:
            response.problems.append("the request URL did not echo the challenge; Slack refuses to save it")
        return response

    # --- raw delivery ------------------------------------------------------------------------
    def replay(self, response: BotResponse) -> BotResponse:
        """Send the very same bytes and headers again (a replayed request)."""
        sent = response.request
        return self._post(
            response.kind, sent, trigger_id=response.trigger_id, response_url=response.response_url
        )

    def send_raw(
        self, body: bytes, content_type: str = payloads.FORM, *, delivery: DeliveryOptions | None = None
    ) -> BotResponse:
        """Sign and send an arbitrary body (for malformed-request tests)."""
        return self._send("raw", body, content_type, None, delivery)

    # --- internals: wire ------------------------------------------------------------------------
    def _block_actions(self, payload: dict[str, Any], delivery: DeliveryOptions | None, trigger_id: str,
                       warning: str, *, response_url: str | None = None) -> BotResponse:
        """Deliver a block_actions payload and check the ack like Slack would."""
        response = self._send("block_actions", payloads.interactive_body(payload), payloads.FORM, payload, delivery,
                              trigger_id=trigger_id, response_url=response_url)
        check_ack(response, warning)
        return response

    def _send(
        self,
        kind: str,
        body: bytes,
        content_type: str,
        payload: Any,
        delivery: DeliveryOptions | None,
        *,
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> BotResponse:
        options = delivery or DeliveryOptions()
        sent = build_request(
            self.bot_url,
            body,
            content_type,
            payload,
            options=options,
            sign_with_app_secret=self._emu.signed_headers,
        )
        return self._post(kind, sent, trigger_id=trigger_id, response_url=response_url)

    def _post(
        self, kind: str, sent: SentRequest, *, trigger_id: str | None, response_url: str | None
    ) -> BotResponse:
        return post(
            self._opener,
            kind,
            sent,
            timeout_s=self.timeout_s,
            trigger_id=trigger_id,
            response_url=response_url,
        )

    # --- internals: what the user can see and do ---------------------------------------------
    def _user(self, user_id: str) -> User:
        user = self._ws.user(user_id)
        if user is None or user.is_bot:
            raise DriverError(f"{user_id!r} is not a human user of the emulated workspace")
        return user

    def _check_can_see(self, channel: str, who: User) -> None:
        known = self._ws.channel(channel) is not None or self._ws.dm_user(channel) is not None
        if not known:
            raise DriverError(f"channel {channel!r} does not exist in the emulated workspace")
        if not self._state.messages.user_can_see(channel, who.id):
            raise DriverError(f"{who.id} is not a member of {channel}")

    def _visible_view(self, who: User, view_id: str | None) -> ViewRecord:
        stack = self._state.views.stack(who.id)
        if view_id is not None and (not stack or stack[-1].id != view_id):
            record = self._state.views.get(view_id)
            if record is None:
                raise DriverError(f"no view {view_id} was ever opened")
            if record.user != who.id:
                raise DriverError(f"view {view_id} belongs to {record.user}, not {who.id}")
            if not record.is_open:
                raise DriverError(f"view {view_id} is closed")
            raise DriverError(
                f"view {view_id} is not the one {who.id} sees ({stack[-1].id if stack else 'none'})"
            )
        if not stack:
            raise DriverError(f"{who.id} has no modal open")
        return stack[-1]

    @staticmethod
    def _find(
        blocks: list[dict[str, Any]], where: str, **criteria: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        found = block_kit.find_element(blocks, **criteria)
        if found is None:
            wanted = ", ".join(f"{k}={v!r}" for k, v in criteria.items() if v is not None and k != "types")
            raise DriverError(
                f"{where} has no element with {wanted}; it has {block_kit.describe_elements(blocks)}"
            )
        return found

    def _view_state(
        self, record: ViewRecord, values: Mapping[str, Any] | None = None, *, validate: bool = False
    ) -> dict[str, Any]:
        """``state`` as Slack builds it: ``values`` typed now, else drafts, else initial values / nulls.

        With ``validate``, raise ``DriverError`` where Slack's client would refuse to submit.
        """
        values = values or {}
        suggested = self._suggested.get(record.id)
        owner = self._ws.user(record.user)
        zone = owner.tz if owner is not None else None  # a datetimepicker shows its user's wall clock
        state: dict[str, dict[str, Any]] = {}
        used: set[str] = set()
        missing: list[str] = []
        for block, element in block_kit.iter_elements(record.blocks):
            if element.get("type") not in state_values.SHAPES:
                continue
            block_id, action_id = str(block.get("block_id")), str(element.get("action_id"))
            key = block_id if block_id in values else action_id if action_id in values else None
            if key is not None:
                entry = state_values.given_value(element, values[key], suggested=suggested, check=validate, zone=zone)
                used.add(key)
            elif (block_id, action_id) in record.drafts:
                entry = record.drafts[(block_id, action_id)]
            elif block.get("type") == "input":
                entry = state_values.empty_value(element)
            else:
                continue
            if block.get("type") == "input" and not block.get("optional") and state_values.is_empty(entry):
                missing.append(block_id)
            state.setdefault(block_id, {})[action_id] = entry
        unknown = sorted(set(values) - used)
        if unknown:
            raise DriverError(
                f"view {record.id} has no input for {unknown}; "
                f"it has {block_kit.describe_elements(record.blocks)}"
            )
        if missing and validate:
            raise DriverError(
                f"required inputs {missing} of view {record.id} are empty: Slack would not submit "
                "(pass validate=False to send it anyway)"
            )
        return {"values": state}

    def _submission_response_urls(
        self, record: ViewRecord, state: dict[str, Any], who: User
    ) -> list[dict[str, Any]]:
        """A response_url per conversation picked in an input with ``response_url_enabled``."""
        urls = []
        for block in block_kit.input_blocks(record.blocks):
            element = block.get("element", {})
            if not element.get("response_url_enabled"):
                continue
            entry = state["values"].get(block.get("block_id"), {}).get(element.get("action_id"), {})
            channel = entry.get("selected_conversation") or entry.get("selected_channel")
            if channel:
                url = self._emu.issue_response_url("view_submission", user=who.id, channel=channel)
                urls.append(
                    {
                        "block_id": block.get("block_id"),
                        "action_id": element.get("action_id"),
                        "channel_id": channel,
                        "response_url": url,
                    }
                )
        return urls

    def _view_action(
        self, who: User, record: ViewRecord, actions: list[dict[str, Any]], delivery: DeliveryOptions | None
    ) -> BotResponse:
        trigger_id = self._emu.issue_trigger(who.id, "block_actions", view_id=record.id)
        payload = payloads.view_block_actions(
            self._ws,
            who,
            view=record.to_slack(self._ws, state=self._view_state(record)),
            actions=actions,
            trigger_id=trigger_id,
        )
        return self._block_actions(payload, delivery, trigger_id, "the element shows a warning sign")
