"""The playground's Block Kit and mrkdwn renderer, checked in a real browser (issue 16).

``fixtures/kitchen_sink.json`` holds every block and element type the bot emits (in the shapes it
sends), the others the page draws, hostile text, and types nobody knows; ``fixtures/kitchen.html``
draws them with the page's own ``blockkit.js``. The page is served to the browser by Playwright
from the package's files (no server, nothing fetched from the internet) and is asserted through
the DOM only: what is shown, and what a click or a keystroke does (written into a visible log).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

import bot
import bot.sandbox.playground as playground_package

FIXTURES = Path(__file__).parent / "fixtures"
STATIC = Path(playground_package.__file__).parent / "static"
ORIGIN = "http://kitchen.test"
# Literal "type" values in the bot's code that are not Block Kit blocks or elements: the surfaces,
# the text objects (drawn in every case), and TableMeta's entries for RDS ("db", "table").
NOT_BLOCKS = {"modal", "home", "plain_text", "mrkdwn", "db", "table"}


def _types(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            found.add(node["type"])
        for value in node.values():
            found |= _types(value)
    elif isinstance(node, list):
        for value in node:
            found |= _types(value)
    return found


def test_every_block_and_element_type_the_bot_emits_is_in_the_kitchen_sink() -> None:
    """A type the bot starts to emit must get a rendering and a case here (the rest of this module)."""
    root = Path(bot.__file__).parent
    emitted: set[str] = set()
    for source in root.rglob("*.py"):
        if "sandbox" in source.relative_to(root).parts:
            continue
        emitted |= set(re.findall(r'"type":\s*"([a-z_]+)"', source.read_text(encoding="utf-8")))
    emitted -= NOT_BLOCKS
    assert {"section", "input", "actions", "button", "external_select"} <= emitted  # the scan itself works
    drawn = _types(json.loads((FIXTURES / "kitchen_sink.json").read_text(encoding="utf-8"))["cases"])
    assert emitted <= drawn, f"no kitchen-sink case for {sorted(emitted - drawn)}"


pytest.importorskip("playwright.sync_api", reason="the renderer's browser tests need playwright")

from playwright.sync_api import expect  # noqa: E402 - after the skip above


def _serve(route: Any) -> None:
    path = urlparse(route.request.url).path
    file = STATIC / path.removeprefix("/static/") if path.startswith("/static/") else FIXTURES / path.lstrip("/")
    if file.is_file() and file.resolve().is_relative_to((STATIC if path.startswith("/static/") else FIXTURES).resolve()):
        route.fulfill(path=str(file))
    else:
        route.fulfill(status=404, body="not found")


@pytest.fixture(scope="module")
def kitchen(browser: Any) -> Iterator[Any]:
    """One page for the module, served by Playwright itself; its full-page screenshot is kept."""
    from tests.playground.conftest import artifact_path, open_context

    with open_context(browser, artifact_path("renderer_kitchen_sink"), full_page=True) as page:
        page.route(f"{ORIGIN}/**", _serve)
        yield page


@pytest.fixture
def sink(kitchen: Any) -> Iterator[Any]:
    """The kitchen-sink page, drawn afresh; an uncaught error or a JavaScript dialog (an injected
    alert) fails the test."""
    problems: list[str] = []

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def on_error(error: Any) -> None:
        problems.append(f"error: {error}")

    kitchen.on("dialog", on_dialog)
    kitchen.on("pageerror", on_error)
    kitchen.goto(f"{ORIGIN}/kitchen.html")
    expect(kitchen.locator("body[data-ready=true]")).to_have_count(1)
    yield kitchen
    kitchen.remove_listener("dialog", on_dialog)
    kitchen.remove_listener("pageerror", on_error)
    assert not problems, problems


def case(page: Any, name: str) -> Any:
    return page.locator(f'[data-testid="case"][data-case="{name}"]')


def log(page: Any) -> Any:
    """The logged gestures, one element each."""
    return page.get_by_test_id("action-log").locator("li")


def whole_log(page: Any) -> Any:
    """The log as one element (for "never logged" checks)."""
    return page.get_by_test_id("action-log")


def test_an_approval_card_shows_its_header_fields_quote_mentions_date_and_styled_buttons(sink: Any) -> None:
    card = case(sink, "card")
    expect(card.get_by_role("heading")).to_contain_text("Clone an RDS instance · clone-20261207-2a88101d")
    expect(card.locator(".mention").first).to_have_text("@Alice Liu")
    expect(card.locator("code")).to_have_text("rm-bp1mysqlprod0001")
    expect(card.locator(".bk-field")).to_have_count(3)
    expect(card.locator(".bk-field").nth(1).locator("b")).to_have_text("Backup set")
    expect(card.locator("blockquote")).to_have_text("INC-4211: verify <restore> & compare")
    date = card.locator("time.mk-date")
    expect(date).to_have_text("2026-12-07 3:00 AM")  # 18:00 UTC in the browser's zone (Asia/Tokyo)
    expect(date).to_have_attribute("title", "2026-12-06 18:00 UTC")
    expect(card.locator(".mention")).to_have_text(["@Alice Liu", "@Bob Schmidt", "@Carol Tan"])
    expect(card.get_by_role("button", name="Approve")).to_have_class(re.compile(r"\bbk-button-primary\b"))
    expect(card.get_by_role("button", name="Reject")).to_have_class(re.compile(r"\bbk-button-danger\b"))
    expect(card.get_by_role("button", name="Cancel (requester)")).to_have_class("bk-button")
    card.get_by_role("button", name="Approve").click()
    expect(log(sink)).to_have_text("action approve clone-20261207-2a88101d")


def test_a_listing_has_an_accessory_button_a_context_row_and_a_divider(sink: Any) -> None:
    listing = case(sink, "listing")
    expect(listing.locator(".bk-context-item")).to_have_count(3)
    expect(listing.locator(".bk-context-item").nth(0)).to_contain_text("→")
    expect(listing.locator(".bk-context-item").nth(2)).to_have_text("page 1 of 1 · 4 sets")
    expect(listing.locator("hr.bk-divider")).to_have_count(1)
    listing.locator(".bk-accessory").get_by_role("button", name="Restore from this").click()
    expect(log(sink)).to_have_text("action restore_from_backup 1249004")


def test_app_home_blocks(sink: Any) -> None:
    home = case(sink, "home")
    expect(home.get_by_role("heading")).to_have_text(["Your requests", "Waiting for your approval"])
    expect(home.locator(".bk-accessory").get_by_role("button", name="Cancel")).to_have_class(re.compile("danger"))
    home.get_by_role("button", name="Reject").click()
    expect(log(sink)).to_have_text("action reject clone-2")


def test_modal_inputs_labels_hints_values_and_errors(sink: Any) -> None:
    form = case(sink, "modal")
    source = form.get_by_label("Source instance")
    expect(source).to_have_value("rm-bp1mysqlprod0001")
    expect(form.locator('[data-block-id="DBInstanceId"] .bk-hint')).to_have_text("The instance whose data is cloned. Type to search.")
    expect(form.locator('[data-block-id="DBInstanceId"] label')).not_to_contain_text("optional")
    expect(form.locator('[data-block-id="BackupId"] label')).to_have_text("Backup set (optional)")
    expect(form.get_by_label("Billing")).to_have_value("Prepaid")
    expect(form.get_by_label("Subscription length")).to_have_value("3")
    expect(form.get_by_label("Subscription length")).to_have_attribute("type", "number")
    expect(form.get_by_label("Instance class")).to_have_attribute("placeholder", "e.g. mysql.n2.medium.2c")
    expect(form.get_by_label("Reason")).to_have_attribute("maxlength", "3000")
    expect(form.locator('[data-block-id="reason"]').get_by_test_id("field-error")).to_have_text("A reason is required.")
    expect(form.get_by_test_id("field-error")).to_have_count(1)
    expect(form.get_by_label("Dry run: check everything, send nothing")).to_be_checked()
    expect(form.get_by_label("Protect the new instance from being released")).not_to_be_checked()
    expect(form.locator('[data-block-id="note_0"] b')).to_have_text("Edited and sent again")
    form.get_by_label("Protect the new instance from being released").check()
    form.get_by_label("Billing").select_option("Postpaid")
    expect(log(sink)).to_contain_text(['set DeletionProtection [{"value":"true","text":"Protect the new instance from being released"}]',
                                       'set PayType {"value":"Postpaid","text":"Pay-as-you-go (Postpaid)"}'])
    expect(whole_log(sink)).not_to_contain_text("dispatch")  # neither input dispatches actions


def test_external_selects_type_ahead_with_option_groups_and_dispatch(sink: Any) -> None:
    form = case(sink, "modal")
    backup = form.get_by_label("Backup set")
    backup.click()
    listbox = form.get_by_role("listbox")
    expect(listbox.get_by_role("group")).to_have_count(2)
    expect(listbox.locator(".bk-group-label")).to_have_text(["cn-hangzhou", "cn-shanghai"])
    expect(listbox.get_by_role("option")).to_have_count(3)
    backup.fill("1249")
    expect(listbox.get_by_role("option")).to_have_count(1)
    listbox.get_by_role("option").click()
    expect(backup).to_have_value("1249004 · 2026-12-06 18:14 UTC · Physical full")
    expect(log(sink)).to_contain_text(['suggest BackupId ""', 'suggest BackupId "1249"', 'set BackupId {"value":"1249004"'])
    expect(whole_log(sink)).not_to_contain_text("dispatch BackupId")  # no dispatch_action on that input

    source = form.get_by_label("Source instance")
    source.click()
    form.get_by_role("listbox").get_by_role("option", name=re.compile("payments-dev")).click()
    expect(source).to_have_value(re.compile("^rm-bp1mysqldev00002"))
    expect(whole_log(sink)).to_contain_text('dispatch DBInstanceId {"value":"rm-bp1mysqldev00002"')

    databases = form.get_by_label("Databases")
    expect(form.locator('[data-block-id="DbNames"] .bk-chip')).to_have_text(["erp×"])
    databases.click()
    form.get_by_role("listbox").get_by_role("option", name="hr").click()
    expect(form.locator('[data-block-id="DbNames"] .bk-chip')).to_have_text(["erp×", "hr×"])
    form.get_by_role("button", name="Remove erp").click()
    expect(form.locator('[data-block-id="DbNames"] .bk-chip')).to_have_text(["hr×"])
    expect(whole_log(sink)).to_contain_text('set DbNames [{"value":"hr","text":"hr"}]')


def test_a_datetimepicker_shows_the_browsers_zone_and_sends_epoch_seconds(sink: Any) -> None:
    form = case(sink, "modal")
    date = form.get_by_label("Point in time")
    time_of_day = form.locator('[data-block-id="RestoreTime"]').get_by_label("Time", exact=True)
    expect(date).to_have_value("2026-12-07")  # 1796580000 is 2026-12-06 18:00 UTC, 03:00 in Tokyo
    expect(time_of_day).to_have_value("03:00")
    expect(form.locator('[data-block-id="RestoreTime"] .bk-zone')).to_have_text("Asia/Tokyo")
    time_of_day.fill("04:30")
    expect(whole_log(sink)).to_contain_text("dispatch RestoreTime 1796585400")  # dispatch_action: sent on change


def test_mrkdwn_formatting_links_mentions_dates_emoji_and_entities(sink: Any) -> None:
    text = case(sink, "mrkdwn")
    expect(text.locator("b")).to_have_text(["bold", "bold with italic inside"])
    expect(text.locator("b i")).to_have_text("italic")
    expect(text.locator("i")).to_have_text(["italic", "italic"])
    expect(text.locator("s")).to_have_text("struck")
    expect(text.locator("code")).to_have_text("a_b*c*")
    expect(text).to_contain_text("snake_case_name stays 2*3*4")
    expect(text.locator("blockquote")).to_have_text("quoted @Bob Schmidt")
    expect(text.locator("pre")).to_have_text("line one\n  *not bold* <@U0BOB>")
    expect(text.get_by_role("link", name="the docs")).to_have_attribute("href", "https://example.com/docs?a=1&b=2")
    expect(text.get_by_role("link", name="mail")).to_have_attribute("href", "mailto:dba@example.com")
    expect(text.locator(".mention")).to_have_text(["@Bob Schmidt", "#ops", "#named", "@here", "@dba", "@U0NOBODY"])
    # The emoji, or without an emoji font a plain check mark, or at worst its name: never an empty box.
    expect(text).to_contain_text(re.compile(r"(✅|✔|:white_check_mark:) :no_such_emoji: 10:30:45 <b>not html</b> &amp;"))
    expect(text.locator("b", has_text="not html")).to_have_count(0)
    expect(text.locator("time")).to_have_text("Monday, December 7th, 2026 at 3:00 AM")
    expect(text).to_contain_text("the fallback")


def test_hostile_text_is_shown_as_text_and_never_becomes_html(sink: Any) -> None:
    hostile = case(sink, "hostile")
    expect(hostile).to_contain_text("<img src=x onerror=alert(1)> and <script>alert(2)</script>")
    expect(hostile.locator("img, script, u, i, b")).to_have_count(0)
    expect(hostile.locator("a")).to_have_count(0)  # javascript: and data: are not links
    expect(hostile).to_contain_text("<javascript:alert(3)|click me>")
    expect(hostile.get_by_role("heading")).to_have_text('<b onclick="alert(4)">not bold</b>')
    expect(hostile.get_by_role("button")).to_have_text("<i>plain</i>")
    expect(hostile.locator("label")).to_have_text("<u>label</u>")
    expect(hostile.locator("select option")).to_have_count(2)  # "Select an option" and the one real option
    expect(hostile.locator("select option").nth(1)).to_have_text("<option>evil</option>")
    hostile.get_by_role("button").click()
    expect(log(sink)).to_have_text('action x "><img src=x onerror=alert(5)>')


def test_unknown_block_and_element_types_render_visibly_as_such(sink: Any) -> None:
    unknown = case(sink, "unknown").get_by_test_id("unsupported")
    expect(unknown).to_have_text(["[unsupported: fancy_block]", "[unsupported: fancy_button]",
                                  "[unsupported: mystery_accessory]", "[unsupported: weird_text]",
                                  "[unsupported: mystery_input]", "[unsupported: (no type)]"])
    expect(case(sink, "unknown")).to_contain_text("with a strange accessory")
    expect(sink.get_by_test_id("unsupported")).to_have_count(6)  # every other case is fully drawn


def test_images_overflow_confirm_rich_text_and_the_other_inputs(sink: Any) -> None:
    extras = case(sink, "extras")
    expect(extras.get_by_role("img", name="a pixel")).to_be_visible()
    expect(extras.locator("figcaption")).to_have_text("An image")
    expect(sink.locator('img[src^="http"]')).to_have_count(0)  # nothing is fetched from the internet
    expect(extras).to_contain_text("a remote chart")
    expect(extras).to_contain_text("a thumbnail")
    expect(extras.locator(".bk-context img")).to_have_count(1)

    extras.get_by_role("button", name="More actions").click()
    extras.get_by_role("menuitem", name="Show the timeline").click()
    expect(log(sink)).to_have_text("action more timeline")

    extras.get_by_role("button", name="Drop it").click()
    dialog = sink.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Really?")
    expect(dialog.locator("b")).to_have_text("db1")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_have_count(0)
    expect(log(sink)).to_have_text("action more timeline")  # denied: nothing sent
    extras.get_by_role("button", name="Drop it").click()
    sink.get_by_role("alertdialog").get_by_role("button", name="Drop").click()
    expect(log(sink)).to_have_text(["action more timeline", "action drop db1"])

    rich = extras.locator(".bk-rich")
    expect(rich.locator("b")).to_have_text("bold")
    expect(rich.locator(".mention")).to_have_text("@Carol Tan")
    expect(rich.get_by_role("listitem")).to_have_text(["first item", "second item"])
    expect(rich.locator("pre")).to_have_text("SELECT 1;")

    engines = extras.get_by_label("Engines")
    expect(engines.locator("optgroup")).to_have_count(2)
    engines.select_option(["MySQL", "SQLServer"])
    expect(whole_log(sink)).to_contain_text('set Engines [{"value":"MySQL","text":"MySQL"},{"value":"SQLServer","text":"SQL Server"}]')
    extras.get_by_label("Careful").check()
    expect(whole_log(sink)).to_contain_text('set Mode {"value":"careful","text":"Careful"}')
    expect(extras).to_contain_text("checks twice")
    expect(extras.get_by_label(re.compile(r"^Day\b"))).to_have_value("2026-12-24")
    expect(extras.get_by_label(re.compile(r"^At\b"))).to_have_value("09:30")
    expect(extras.get_by_label("Email")).to_have_attribute("type", "email")
