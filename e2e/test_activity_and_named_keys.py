"""The activity log and named keys in Chromium at 1280 px and 390 px, with axe: an owner finds a failed request of
the last hour with its error in two clicks; a channel gets a second named key and one is revoked while the other
keeps working."""

import re

from playwright.sync_api import expect

from e2e.checks import DESKTOP, MOBILE, assert_page_ok
from e2e.steps import log_in
from gateway.testing.api import chat, history

AI_ERROR = "AI service error. Please try again."


def test_an_owner_finds_a_failed_request_of_the_last_hour_with_its_error_in_two_clicks(page, api, llm, channel_and_key):
    channel, issued = channel_and_key
    assert chat(api, issued.plaintext, "Where is my order?", session_id="customer-7").status_code == 200
    llm.mode, llm.status = "status", 503
    assert chat(api, issued.plaintext, "Hello?", session_id="customer-7").status_code == 500
    log_in(page)
    page.goto(f"/dashboard/channels/{channel.public_id}/")

    page.get_by_role("navigation", name="Channel").get_by_role("link", name="Activity").click()  # one
    page.get_by_role("link", name="Failed in the last hour").click()  # two
    row = page.locator('tr[data-activity="failed"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text(AI_ERROR)
    expect(row).to_contain_text("customer-7")
    expect(row).to_contain_text("Default")
    expect(page.locator('tr[data-activity="answered"]')).to_have_count(0)
    assert_page_ok(page)

    page.get_by_role("link", name="All", exact=True).click()
    expect(page.locator("tr[data-activity]")).to_have_count(2)
    assert_page_ok(page)

    page.set_viewport_size(MOBILE)  # the organisation's log, on a phone
    page.goto(f"/dashboard/org/{channel.organisation.public_id}/activity/")
    expect(page.locator("tr[data-activity]")).to_have_count(2)
    page.get_by_text("Filters").click()
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr[data-activity]")).to_have_count(1)
    assert_page_ok(page, viewports=(MOBILE,))
    assert page.watch.console_errors == []


def test_a_channel_gets_a_second_named_key_and_one_is_revoked_while_the_other_keeps_working(page, api, channel_and_key):
    channel, issued = channel_and_key
    log_in(page)
    page.goto(f"/dashboard/channels/{channel.public_id}/")
    assert_page_ok(page)
    new_key = page.locator("#new-key")
    new_key.get_by_label("Name", exact=True).fill("Staging")
    new_key.get_by_label("Requests per minute").fill("30")
    new_key.get_by_label("Credit cap").fill("500")
    new_key.get_by_role("button", name="Create key").click()

    expect(page.get_by_role("heading", name="API key: Staging")).to_be_visible()
    staging = page.locator("[data-key-text]").inner_text()
    assert re.fullmatch(r"amgai_\S+", staging) and staging != issued.plaintext
    assert_page_ok(page)
    assert history(api, staging).status_code == 200

    page.get_by_role("link", name="Back to the channel").click()
    expect(page.locator('tr[data-key-row="Staging"]')).to_contain_text("0 of 500 credits")
    expect(page.locator('tr[data-key-row="Staging"]')).to_contain_text("30/min")
    page.locator('tr[data-key-row="Default"]').get_by_role("button", name="Revoke Default").click()
    expect(page.get_by_text("is revoked: requests with it now get 401")).to_be_visible()
    assert history(api, issued.plaintext).status_code == 401
    assert history(api, staging).status_code == 200
    assert_page_ok(page, viewports=(DESKTOP,))  # this state at 390 px: just below (one audit per width)
    page.set_viewport_size(MOBILE)
    assert_page_ok(page, viewports=(MOBILE,))
    assert page.watch.console_errors == []
