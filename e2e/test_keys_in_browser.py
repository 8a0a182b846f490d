"""Keys in a real browser: re-entering the password before a reveal, rotating with a grace period,
and another owner's channel staying out of reach."""

import re

from playwright.sync_api import expect

from e2e.steps import age_password_entry, log_in, log_in_through_the_form

from gateway.testing.api import history


def test_revealing_after_a_while_asks_for_the_password_first(page, browser_context, channel_and_key):
    channel, issued = channel_and_key
    log_in_through_the_form(page)  # a password login stamps the session (accounts/reauth.py); here it has aged
    age_password_entry(browser_context, 16 * 60)
    page.goto(f"/dashboard/channels/{channel.public_id}/")
    page.locator("#keys").get_by_role("button", name="Reveal").click()

    expect(page).to_have_url(re.compile(r"/accounts/confirm-password/\?next="))
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("That password is not correct.")).to_be_visible()
    page.get_by_label("Password").fill("pw-owner-123!")
    page.get_by_role("button", name="Confirm").click()

    # Sudo mode: the reveal the owner started completes after the password.
    expect(page).to_have_url(re.compile(rf"/dashboard/channels/{channel.public_id}/keys/{issued.api_key.public_id}/$"))
    expect(page.locator("[data-key-text]")).to_have_text(issued.plaintext)
    page.get_by_role("link", name="Back to the channel").click()
    expect(page).to_have_url(re.compile(rf"/dashboard/channels/{channel.public_id}/$"))
    page.locator("#keys").get_by_role("button", name="Reveal").click()
    expect(page.locator("#keys [data-key-text]")).to_have_text(issued.plaintext)
    page.locator("#keys").get_by_role("button", name="Hide").click()
    expect(page.locator("#keys [data-key-text]")).to_have_text(issued.api_key.masked)
    assert page.watch.console_errors == []


def test_rotating_shows_the_new_key_and_keeps_the_old_one_for_the_grace(page, api, channel_and_key):
    channel, issued = channel_and_key
    log_in(page, land=False)
    page.goto(f"/dashboard/channels/{channel.public_id}/")
    page.get_by_label("The current key keeps working for").select_option("1h")
    page.get_by_role("button", name="Rotate key").click()

    expect(page.get_by_role("heading", name="Your new API key")).to_be_visible()
    new_key = page.locator("[data-key-text]").inner_text()
    assert new_key.startswith("amgai_") and new_key != issued.plaintext
    expect(page.get_by_text("keeps working until")).to_be_visible()
    page.get_by_role("button", name="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == new_key
    assert history(api, issued.plaintext).status_code == 200
    assert history(api, new_key).status_code == 200

    page.get_by_role("link", name="Back to the channel").click()
    old_row = page.locator("tr", has_text=issued.api_key.masked)
    old_row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("is revoked: requests with it now get 401")).to_be_visible()
    assert history(api, issued.plaintext).status_code == 401
    assert history(api, new_key).status_code == 200


def test_another_owners_channel_is_not_found(page, channel, outsider):
    log_in(page, "outsider@example.com", "pw-outsider-123!", land=False)
    for path in ("", "conversations/", "usage/", "edit/"):
        response = page.goto(f"/dashboard/channels/{channel.public_id}/{path}")
        assert response.status == 404
        expect(page.get_by_text("Page not found")).to_be_visible()
    expect(page.get_by_text("Test site")).to_have_count(0)
