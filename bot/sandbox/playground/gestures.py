"""A person's gestures on the page, delivered to the bot the way Slack delivers them.

Every gesture goes through :class:`~bot.sandbox.slack.SlackDriver`: it mints trigger ids and
response URLs, signs the request with the app's signing secret and POSTs it to the bot's request
URL, then does what Slack does with the ack. Nothing here calls the bot's code. What Slack's own
client refuses before sending (a required field left empty) is refused here the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.sandbox.playground.world import ApiError, Playground, human
from bot.sandbox.slack import BotResponse, DriverError
from bot.sandbox.slack import block_kit, state_values
from bot.sandbox.slack.view_store import ViewRecord

# What Slack's client says under a required input left empty; the modal is not sent.
REQUIRED = "Please complete this required field."
TEXT_TYPES = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})


def _need(body: Mapping[str, Any], name: str) -> Any:
    value = body.get(name)
    if value is None or value == "":
        raise ApiError(400, f"missing field: {name}")
    return value


def _answer(response: BotResponse | None) -> dict[str, Any]:
    if response is None:
        return {"status": None, "problems": []}
    return {"status": response.status, "problems": list(response.problems)}


def _driven(call: Callable[[], BotResponse | None]) -> BotResponse | None:
    """Run a driver call; what a real person could not do (DriverError) is the page's 400."""
    try:
        return call()
    except DriverError as refused:
        raise ApiError(400, str(refused)) from None


def command(playground: Playground, body: Mapping[str, Any]) -> dict[str, Any]:
    """``/rds <text>`` typed in a channel (a leading ``/rds`` in ``text`` is accepted too)."""
    user = human(playground, body.get("user")).id
    channel = str(_need(body, "channel"))
    text = str(body.get("text") or "").strip()
    if text == "/rds" or text.startswith("/rds "):
        text = text[len("/rds"):].strip()
    response = _driven(lambda: playground.stack.driver.slash_command(user, text, channel))
    assert response is not None  # slash_command always answers
    reply = response.json if isinstance(response.json, dict) else {}
    ack = reply.get("text") if reply else (response.text or None)
    return {**_answer(response), "text": ack}


def click(playground: Playground, body: Mapping[str, Any]) -> dict[str, Any]:
    """A button in a message or ephemeral (``channel`` + ``ts``), a modal (``view_id``) or App Home."""
    user = human(playground, body.get("user")).id
    action_id = str(_need(body, "action_id"))
    value = body.get("value")
    value = None if value is None else str(value)
    driver = playground.stack.driver
    if body.get("view_id"):
        response = _driven(lambda: driver.click_in_view(user, str(body["view_id"]), action_id, value))
    elif body.get("home"):
        response = _driven(lambda: driver.click_in_home(user, action_id, value))
    else:
        channel, ts = str(_need(body, "channel")), str(_need(body, "ts"))
        response = _driven(lambda: driver.click(user, channel=channel, ts=ts, action_id=action_id, value=value))
    return _answer(response)


def select(playground: Playground, body: Mapping[str, Any]) -> dict[str, Any]:
    """A pick or an entry in one element of the person's modal: kept for the submission, and sent as
    block_actions when the element dispatches actions (``dispatched``)."""
    user = human(playground, body.get("user")).id
    view_id, block_id = str(_need(body, "view_id")), str(_need(body, "block_id"))
    if "selected_date_time" in body:
        value: Any = _epoch(body["selected_date_time"])
    elif "values" in body:
        value = list(body["values"] or [])
    else:
        value = body.get("value")
    action_id = body.get("action_id")
    response = _driven(lambda: playground.stack.driver.select_in_view(
        user, view_id, block_id, value, action_id=str(action_id) if action_id else None))
    return {**_answer(response), "dispatched": response is not None}


def suggest(playground: Playground, body: Mapping[str, Any]) -> dict[str, Any]:
    """Type-ahead in an external select: Slack asks the bot for options (block_suggestion)."""
    user = human(playground, body.get("user")).id
    view_id = str(_need(body, "view_id"))
    element = str(body.get("action_id") or _need(body, "block_id"))
    query = str(body.get("query") or "")
    response = _driven(lambda: playground.stack.driver.suggest(user, view_id, element, query))
    assert response is not None
    payload = response.json if isinstance(response.json, dict) else {}
    return {**_answer(response), "options": list(payload.get("options") or []),
            "option_groups": response.option_groups}


def submit(playground: Playground, body: Mapping[str, Any]) -> dict[str, Any]:
    """Press Submit with ``values`` (block_id -> value); the bot's answer, its field errors included."""
    who = human(playground, body.get("user"))
    view_id = str(_need(body, "view_id"))
    record = playground.stack.slack.state.views.get(view_id)
    if record is None or record.user != who.id or not record.is_open:
        raise ApiError(400, f"{who.id} has no open modal {view_id}")
    raw = body.get("values") or {}
    if not isinstance(raw, Mapping):
        raise ApiError(400, "values must be an object: block_id -> value")
    values = _prepared(record, raw)
    errors = _client_errors(record, values)
    if errors:
        _keep_errors(playground, record, errors)
        return {"status": None, "problems": [], "response_action": "errors", "errors": errors, "sent": False}
    response = _driven(lambda: playground.stack.driver.submit_view(who.id, view_id, values))
    assert response is not None
    errors = response.errors if response.response_action == "errors" else {}
    _keep_errors(playground, record, errors)
    answer: dict[str, Any] = {**_answer(response), "response_action": response.response_action, "sent": True}
    if errors:
        answer["errors"] = errors
    return answer


def close(playground: Playground, body: Mapping[str, Any]) -> dict[str, Any]:
    """The person dismisses their modal (view_closed reaches the bot if the view asked for it)."""
    user = human(playground, body.get("user")).id
    view_id = str(_need(body, "view_id"))
    return _answer(_driven(lambda: playground.stack.driver.close_view(user, view_id)))


def home(playground: Playground, body: Mapping[str, Any]) -> dict[str, Any]:
    """The person opens the app's Home tab: the app_home_opened event."""
    user = human(playground, body.get("user")).id
    event = {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"}
    return _answer(_driven(lambda: playground.stack.driver.event(event)))


def _epoch(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        raise ApiError(400, f"selected_date_time must be epoch seconds, got {value!r}") from None


def _prepared(record: ViewRecord, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The page's values as the driver takes them: ``{"selected_date_time": epoch}`` unwrapped, and an
    untouched select (``None`` / ``""`` / ``[]``) left out, as Slack sends its initial value or nothing."""
    types = {str(b.get("block_id")): str(e.get("type")) for b, e in block_kit.iter_elements(record.blocks)}
    types.update({str(e.get("action_id")): str(e.get("type")) for _b, e in block_kit.iter_elements(record.blocks)})
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, Mapping) and "selected_date_time" in value:
            value = _epoch(value["selected_date_time"])
        if value in (None, "", []) and types.get(str(key)) not in TEXT_TYPES:
            continue
        values[str(key)] = value
    return values


def _client_errors(record: ViewRecord, values: Mapping[str, Any]) -> dict[str, str]:
    """What Slack's client marks under an input before sending anything: a required input left empty,
    too short or too long a text, a number out of range (block_id -> message)."""
    errors = {}
    for block in block_kit.input_blocks(record.blocks):
        element = block.get("element") or {}
        if element.get("type") not in state_values.SHAPES:
            continue
        block_id, action_id = str(block.get("block_id")), str(element.get("action_id"))
        key = block_id if block_id in values else action_id if action_id in values else None
        if key is not None:
            value = values[key]
            empty = value is None or value == [] or (isinstance(value, str) and not value.strip())
        elif (block_id, action_id) in record.drafts:
            empty = state_values.is_empty(record.drafts[(block_id, action_id)])
        else:
            empty = state_values.is_empty(state_values.empty_value(element))
        if empty and not block.get("optional"):
            errors[block_id] = REQUIRED
        elif key is not None and not empty and element.get("type") in TEXT_TYPES:
            try:
                state_values.given_value(element, values[key])
            except DriverError as refused:
                # "plain_text_input 'reason': Slack needs at least 10 characters, got 3" -> the sentence
                errors[block_id] = str(refused).split(": ", 1)[-1]
    return errors


def _keep_errors(playground: Playground, record: ViewRecord, errors: dict[str, str]) -> None:
    """Remember the errors under the view's current hash: shown until the view is updated or resubmitted."""
    current = playground.stack.slack.state.views.get(record.id)
    with playground.lock:
        if errors and current is not None:
            playground.view_errors[record.id] = (current.hash, dict(errors))
        else:
            playground.view_errors.pop(record.id, None)
