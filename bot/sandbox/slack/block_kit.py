"""Walking Block Kit structures: find elements, buttons and options; fill in ids.

Slack gives every block a ``block_id`` and every interactive element an
``action_id`` when the app leaves them out; payloads then carry those generated
ids, so the emulator does the same before storing a message or a view.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from . import ids

# Elements a user can act on. Anything else (images, text objects) never gets an
# action_id and never appears in ``state`` or ``actions``.
INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "overflow",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "radio_buttons",
        "checkboxes",
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
        "rich_text_input",
        "file_input",
    }
)

Element = dict[str, Any]
Block = dict[str, Any]


def elements_of(block: Block) -> list[Element]:
    """The interactive elements directly inside one block, in display order."""
    kind = block.get("type")
    if kind == "input":
        element = block.get("element")
        return [element] if isinstance(element, dict) else []
    if kind == "actions":
        return [e for e in block.get("elements", []) if isinstance(e, dict)]
    if kind == "section":
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") in INTERACTIVE_TYPES:
            return [accessory]
    return []


def iter_elements(blocks: list[Block]) -> Iterator[tuple[Block, Element]]:
    """Every (block, interactive element) pair, in display order."""
    for block in blocks:
        if isinstance(block, dict):
            for element in elements_of(block):
                if element.get("type") in INTERACTIVE_TYPES:
                    yield block, element


def input_blocks(blocks: list[Block]) -> list[Block]:
    """The ``input`` blocks, whose values a view submission carries."""
    return [b for b in blocks if isinstance(b, dict) and b.get("type") == "input"]


def find_element(
    blocks: list[Block],
    *,
    action_id: str | None = None,
    block_id: str | None = None,
    value: str | None = None,
    types: frozenset[str] | None = None,
) -> tuple[Block, Element] | None:
    """The first element matching every given criterion, or ``None``."""
    for block, element in iter_elements(blocks):
        if action_id is not None and element.get("action_id") != action_id:
            continue
        if block_id is not None and block.get("block_id") != block_id:
            continue
        if value is not None and element.get("value") != value:
            continue
        if types is not None and element.get("type") not in types:
            continue
        return block, element
    return None


def describe_elements(blocks: list[Block]) -> str:
    """A short listing of what is clickable, for error messages."""
    found = [
        f"{e.get('type')}(block_id={b.get('block_id')!r}, action_id={e.get('action_id')!r}, "
        f"value={e.get('value')!r})"
        for b, e in iter_elements(blocks)
    ]
    return ", ".join(found) if found else "no interactive elements"


def all_options(element: Element) -> list[dict[str, Any]]:
    """The options an element offers, option groups flattened."""
    options = [o for o in element.get("options", []) if isinstance(o, dict)]
    for group in element.get("option_groups", []) or []:
        options.extend(o for o in group.get("options", []) if isinstance(o, dict))
    return options


def find_option(options: list[dict[str, Any]], value: str) -> dict[str, Any] | None:
    """The option whose ``value`` is ``value``, or ``None``.

    Labels are deliberately not matched: the contract says the option value is
    what the API receives, so tests name options by value.
    """
    for option in options:
        if option.get("value") == value:
            return copy.deepcopy(option)
    return None


def normalise_blocks(blocks: list[Block]) -> list[Block]:
    """A deep copy with a ``block_id`` on every block and an ``action_id`` on every element."""
    normalised = copy.deepcopy(blocks)
    for block in normalised:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", ids.block_id())
        for element in elements_of(block):
            if element.get("type") in INTERACTIVE_TYPES:
                element.setdefault("action_id", ids.block_id())
    return normalised
