"""A new owner, in a real browser: sign up, create a channel, confirm the e-mail (sent over SMTP
to a real server on loopback) to get the starting credits, reveal and copy the key, chat through
the real API with it, then read the transcript and the usage chart."""

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from channels_app.models import Channel
from gateway.testing.api import chat

HOSTILE_REPLY = (
    "Hello **owner**! <img src=x onerror=alert(1)> "
    "[click me](javascript:alert(1)) ![](https://evil.example/t.png)"
)


def test_a_new_owner_goes_from_sign_up_to_a_first_chat(page, api, llm, mailbox):
    page.goto("/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Email").fill("newowner@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-secret-42")
    page.get_by_label("Password again").fill("a-long-secret-42")
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", name="Create your first channel")).to_be_visible()
    page.get_by_role("link", name="Create channel").click()

    page.get_by_label("Channel name").fill("My shop")
    page.get_by_label("GPT-OSS 20B", exact=True).check()
    page.get_by_label("System prompt").fill("You are the shop's assistant.")
    page.get_by_label("Requests per minute").fill("20")
    page.get_by_label("Chats per day").fill("300")
    page.get_by_role("button", name="Create channel").click()

    expect(page.get_by_text("is ready, with its first API key")).to_be_visible()
    channel = Channel.objects.get(name="My shop")
    assert (channel.model, channel.rate_limit_per_minute, channel.daily_limit) == ("openai/gpt-oss-20b", 20, 300)
    assert channel.credits == 0  # not before the e-mail is confirmed

    page.goto("/dashboard/")
    expect(page.get_by_text("Confirm your e-mail to get your starting credits")).to_be_visible()
    page.goto(urlsplit(mailbox.confirmation_link("newowner@example.com")).path)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your e-mail is confirmed.")).to_be_visible()
    channel.refresh_from_db()
    assert channel.credits == 100
    page.get_by_role("link", name="My shop").first.click()

    key_text = page.locator("#keys [data-key-text]")
    expect(key_text).to_contain_text("••••")
    page.locator("#keys").get_by_role("button", name="Reveal").click()
    expect(key_text).to_have_text(re.compile(r"^amgai_[0-9A-Za-z]{49}$"))
    key = key_text.inner_text()
    assert key == channel.api_keys.get().reveal()

    page.locator("#keys").get_by_role("button", name="Copy").click()
    expect(page.locator("#keys [data-copied]")).to_have_text("Copied!")
    assert page.evaluate("navigator.clipboard.readText()") == key
    page.reload()  # the reveal log is rendered by the server
    expect(page.locator("#reveals")).to_contain_text("newowner@example.com")

    llm.reply = HOSTILE_REPLY
    r = chat(api, key, "Hi, what do you sell?", session_id="visitor-42")
    assert r.status_code == 200

    page.get_by_role("link", name="Conversations").first.click()
    page.get_by_role("link", name="visitor-42").click()
    transcript = page.locator(".transcript")
    expect(transcript).to_contain_text("Hi, what do you sell?")
    expect(transcript.locator(".msg-body strong")).to_have_text("owner")
    expect(transcript).to_contain_text("<img src=x onerror=alert(1)>")  # shown as text
    expect(transcript).to_contain_text("[image: https://evil.example/t.png]")
    assert transcript.locator("img").count() == 0
    link = transcript.get_by_text("click me")
    assert link.get_attribute("href") is None
    link.click()
    page.wait_for_timeout(200)

    page.get_by_role("link", name="Usage").first.click()
    expect(page.locator('[data-kpi="answered"]')).to_have_text("1")
    expect(page.locator("#chart-requests rect.s-answered")).to_have_count(1)
    expect(page.locator("#chart-tokens rect.s-prompt")).to_have_count(1)

    assert page.watch.dialogs == []
    assert page.watch.foreign_requests == []
    assert page.watch.console_errors == []
