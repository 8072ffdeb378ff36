"""The playground in a real browser (issue 16): the flows a newcomer tries, through rendered elements.

One playground serves the module; each test acts as its own people and finds its own messages by
text, so the order of the tests does not matter. Every gesture is a click or a keystroke on the
page, which sends it to the bot the way Slack would.
"""

from __future__ import annotations

import re
import time

import pytest

pytest.importorskip("playwright.sync_api", reason="the playground's browser tests need playwright")

from playwright.sync_api import Page, expect  # noqa: E402 - after the skip above

from tests.playground.ui import (  # noqa: E402
    become, close_modal, command, messages, modal, open_channel, pick_first_backup, start_as,
)

pytestmark = pytest.mark.xdist_group("playground-browser")

PROD = "rm-bp1mysqlprod0001"
DEV = "rm-bp1mysqldev00002"
PROGRESS = re.compile(r"is \w+ · (\d+)%")


def test_a_production_clone_is_requested_refused_to_an_intern_approved_by_two_dbas_and_done(page: Page) -> None:
    start_as(page, "Alice", "ops")
    command(page, f"/rds clone {PROD}")
    form = modal(page, "rds_clone")
    expect(form.get_by_label("Source instance")).to_have_value(PROD)
    pick_first_backup(form, "3210")  # type-ahead: the bot serves the sets matching what is typed
    form.get_by_label("Billing").select_option(label="Pay-as-you-go (Postpaid)")
    form.get_by_label("Reason").fill("INC-4211: verify restore (browser)")
    form.get_by_test_id("modal-submit").click()
    expect(form).to_contain_text("waiting for 2 approvals")
    close_modal(page)

    open_channel(page, "rds-approvals")
    card = messages(page.get_by_test_id("messages"), "INC-4211: verify restore (browser)")
    expect(card.get_by_role("button", name="Approve")).to_be_visible()
    expect(card).to_contain_text("0/2 approvals")

    become(page, "Dave")  # the intern: refused, with the rule that refuses him
    card.get_by_role("button", name="Approve").click()
    refusal = messages(page, "You may not decide on this request")
    expect(refusal).to_contain_text("Only visible to you")
    expect(refusal).to_contain_text("role:intern")
    expect(refusal).to_contain_text(re.compile(r"policy\.csv:\d+"))

    become(page, "Bob")
    expect(refusal).to_have_count(0)  # Dave's ephemeral is his alone
    card.get_by_role("button", name="Approve").click()
    expect(messages(page, "1 more needed")).to_be_visible()

    become(page, "Carol")
    card.get_by_role("button", name="Approve").click()
    card.get_by_test_id("open-thread").click()
    thread = page.get_by_test_id("thread-pane")
    expect(messages(thread, "Sent to RDS (CloneDBInstance)")).to_be_visible()
    expect(messages(thread, "Done.")).to_contain_text(f"a clone of {PROD}")
    expect(card).to_contain_text("approved by @Bob Schmidt, @Carol Tan")
    expect(card.get_by_test_id("edited").first).to_be_visible()  # the card itself was edited in place
    expect(page.get_by_test_id("audit-verify")).to_contain_text("chain intact")


def test_an_intern_backing_up_production_is_refused_with_the_rule_that_refuses_him(page: Page) -> None:
    start_as(page, "Dave", "ops")
    page.get_by_test_id("composer").fill("please back up prod")
    page.get_by_test_id("composer").press("Enter")  # not a command: said so, nothing sent
    expect(page.get_by_test_id("composer-hint")).to_contain_text("only sends /rds commands")
    expect(page.get_by_test_id("composer")).to_have_value("please back up prod")
    command(page, f"/rds backup {PROD}")
    form = modal(page, "rds_backup")
    form.get_by_test_id("modal-submit").click()
    expect(form).to_contain_text("You are not allowed to back up this instance")
    close_modal(page)
    refusal = messages(page, "You are not allowed to back up this instance")
    expect(refusal).to_have_attribute("data-ephemeral", "true")
    expect(refusal).to_contain_text("Only visible to you")
    expect(refusal).to_contain_text("rds:CreateBackup")
    expect(refusal).to_contain_text(re.compile(r"Explicitly denied by policy\.csv:\d+\s+p, role:intern"))
    become(page, "Alice")
    expect(refusal).to_have_count(0)  # an ephemeral is its recipient's alone
    become(page, "Dave")
    expect(refusal).to_be_visible()


def test_a_backup_reports_its_progress_in_one_reply_edited_in_place(page: Page) -> None:
    start_as(page, "Erin", "ops")
    command(page, f"/rds backup {DEV}")
    modal(page, "rds_backup").get_by_test_id("modal-submit").click()
    close_modal(page)
    anchor = messages(page.get_by_test_id("messages"), re.compile(rf"Back up an RDS instance.*{DEV}|{DEV}.*Back up an RDS instance", re.S))
    anchor.get_by_test_id("open-thread").click()
    thread = page.get_by_test_id("thread-pane")
    progress = messages(thread, PROGRESS)
    expect(progress).to_have_count(1)
    ts = progress.get_attribute("data-ts")
    seen = []
    done = messages(thread, "Done.")
    deadline = time.monotonic() + 20
    while not done.count() and time.monotonic() < deadline:
        text = thread.locator(f'[data-testid="message"][data-ts="{ts}"]').inner_text()
        if PROGRESS.search(text) and (not seen or seen[-1] != PROGRESS.search(text).group(1)):
            seen.append(PROGRESS.search(text).group(1))
        time.sleep(0.1)
    expect(done).to_contain_text("Backup")
    reply = thread.locator(f'[data-testid="message"][data-ts="{ts}"]')
    expect(reply).to_contain_text("100%")
    expect(reply.get_by_test_id("edited")).to_be_visible()
    expect(progress).to_have_count(1)  # still one progress reply: edited, never posted again
    assert len(set(seen + ["100"])) >= 2, f"the progress reply never changed: {seen}"


def test_a_field_error_shows_under_its_field(page: Page) -> None:
    start_as(page, "Alice", "ops")
    command(page, f"/rds clone {PROD}")
    form = modal(page, "rds_clone")
    pick_first_backup(form, "3210")
    form.get_by_label("Billing").select_option("Postpaid")
    form.get_by_test_id("modal-submit").click()  # no reason: Slack's client refuses, under the field
    reason = form.locator('[data-block-id="reason"]')
    expect(reason.get_by_test_id("field-error")).to_have_text("Please complete this required field.")
    expect(form.get_by_test_id("field-error")).to_have_count(1)

    form.get_by_label("Reason").fill("INC-4300: a name the API refuses")
    form.get_by_label("Name of the new instance").fill("1-starts-with-a-digit")
    form.get_by_test_id("modal-submit").click()  # the bot checks the API's rule and answers with errors
    name = form.locator('[data-block-id="DBInstanceDescription"]')
    expect(name.get_by_test_id("field-error")).to_contain_text("must start with a letter")
    expect(reason.get_by_test_id("field-error")).to_have_count(0)
    expect(form.get_by_label("Reason")).to_have_value("INC-4300: a name the API refuses")  # kept, as Slack keeps it
    form.locator('[data-block-id="DBInstanceDescription"]').scroll_into_view_if_needed()  # for the screenshot


def test_app_home_shows_what_the_person_may_do(page: Page) -> None:
    start_as(page, "Carol", "ops")
    page.get_by_role("button", name="Home", exact=True).click()
    home = page.get_by_test_id("home")
    expect(home.get_by_role("heading", name="What you may do")).to_be_visible()
    expect(home).to_contain_text("Your roles: role:dba")
    expect(home).to_contain_text("Approve requests")


def test_the_panel_makes_rds_throttled_and_moves_time(page: Page) -> None:
    start_as(page, "Bob", "ops")
    expect(page.get_by_test_id("panel-instances")).to_contain_text(PROD)
    page.get_by_test_id("fault-throttled").click()
    expect(page.get_by_test_id("fault-throttled")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("fault-none")).to_have_attribute("aria-pressed", "false")
    page.get_by_test_id("fault-none").click()
    expect(page.get_by_test_id("fault-none")).to_have_attribute("aria-pressed", "true")
    # Kept last in the module: the RDS emulator's clock stays moved (the bot's is reset after each test).
    page.locator('[data-testid="time-advance"][data-seconds="300"]').click()
    expect(page.get_by_test_id("clock")).to_have_text("bot clock +5 min · RDS clock +5 min")
