"""What a person does on the playground's page, through rendered elements only (no page.evaluate,
no HTTP of the test's own): pick who they are, open a channel, type a command, read messages."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect


def become(page: Any, first_name: str) -> None:
    """Pick the person in the "You are" menu by the name it shows (e.g. "Bob Schmidt (dba)")."""
    who = page.get_by_test_id("who")
    option = who.locator("option", has_text=re.compile(rf"^{re.escape(first_name)}\b"))
    person = option.get_attribute("value")
    who.select_option(person)
    expect(page.locator(f'body[data-user="{person}"]')).to_have_count(1)  # their Slack is on screen


def start_as(page: Any, first_name: str, channel: str) -> None:
    """Be ``first_name`` in ``channel``, with no modal left open from an earlier test."""
    become(page, first_name)
    while page.get_by_test_id("modal-close").count():
        close_modal(page)
    open_channel(page, channel)


def open_channel(page: Any, name: str) -> None:
    page.get_by_role("button", name=f"#{name}", exact=True).click()
    expect(page.locator("#channel-header")).to_contain_text(name)


def command(page: Any, text: str) -> None:
    """Type a slash command in the composer and press Enter."""
    composer = page.get_by_test_id("composer")
    composer.fill(text)
    composer.press("Enter")
    expect(composer).to_have_value("")


def modal(page: Any, callback_id: str | None = None) -> Any:
    found = page.get_by_test_id("modal")
    if callback_id:
        expect(found).to_have_attribute("data-callback-id", callback_id)
    else:
        expect(found).to_be_visible()
    return found


def close_modal(page: Any) -> None:
    page.get_by_test_id("modal-close").click()
    expect(page.get_by_test_id("modal")).to_have_count(0)


def messages(scope: Any, text: str | re.Pattern[str]) -> Any:
    """The rendered messages (channel, thread or ephemeral) in ``scope`` that contain ``text``."""
    return scope.get_by_test_id("message").filter(has_text=text)


def pick_first_backup(form: Any, query: str) -> str:
    """Type ``query`` into the backup-set picker and take its first option; the label shown."""
    picker = form.get_by_label("Backup set")
    picker.fill(query)
    option = form.get_by_role("listbox").get_by_role("option").filter(has_text=query).first
    option.click()
    expect(picker).to_have_value(re.compile(rf"^{re.escape(query)}"))
    return str(picker.input_value())
