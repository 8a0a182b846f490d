"""Polish an owner notices, in a real browser: examples in language tabs, "credits left" that follows a
try-it send, no empty bubble, and times in the owner's own time zone with UTC on hover."""

import re

from playwright.sync_api import expect

from channels_app.services import api_key_reveal
from e2e.checks import assert_page_ok
from e2e.steps import log_in


def test_the_integrate_page_has_language_tabs_and_counts_the_credit_a_send_spends(page, llm, channel_and_key):
    channel, issued = channel_and_key
    log_in(page)
    page.goto(f"/dashboard/channels/{channel.public_id}/integrate/")
    expect(page.locator("#example-curl")).to_be_visible()
    expect(page.locator("#example-python")).to_be_hidden()
    page.locator("[data-example-tabs]").get_by_role("link", name="Python", exact=True).click()
    expect(page.locator("#example-python")).to_be_visible()
    expect(page.locator("#example-curl")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"#example-python$"))

    expect(page.locator("[data-credits-left]")).to_have_text("100")
    expect(page.locator("[data-try-exchange] .msg").first).to_be_hidden()
    llm.reply = "Hello there."
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-try-output]")).to_have_attribute("data-state", "done")
    expect(page.locator("[data-credits-left]")).to_have_text("99")
    channel.refresh_from_db()
    assert channel.credits == 99
    assert_page_ok(page)
    assert page.watch.console_errors == []


def test_times_are_shown_in_the_owners_time_zone_with_utc_on_hover(browser, gateway_server, owner, channel_and_key):
    channel, issued = channel_and_key
    api_key_reveal(api_key=issued.api_key, user=owner, ip_address="203.0.113.7")
    context = browser.new_context(base_url=gateway_server.url, timezone_id="Asia/Tokyo", locale="en-US")
    context.gateway_url = gateway_server.url
    try:
        page = context.new_page()
        log_in(page, land=False)
        page.goto(f"/dashboard/channels/{channel.public_id}/")
        when = page.locator("#reveals time[data-local]")
        title = when.get_attribute("title")
        assert title.endswith(" UTC")
        utc_hour = int(title.split(" ")[1][:2])
        shown = when.inner_text()
        assert "UTC" not in shown
        local_hour = int(re.search(r"(\d{1,2}):\d{2}", shown).group(1)) % 12
        assert local_hour == (utc_hour + 9) % 12  # Tokyo is UTC+9 all year
    finally:
        context.close()
