"""`make screenshots`: PNGs of every page under docs/screenshots/, from a real browser: NAME.png at
1280 px and NAME-mobile.png at 390 px, the widget on a host page included.

Skipped in the normal suite; SCREENSHOTS=1 runs it. The data is made through the
real API (chats, a 429) plus backdated rows, so the usage charts have 30 days to show.
Every page shot is also checked (e2e/checks.py): no sideways scroll, no serious axe violation.
"""

import os
import random
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.testing import WebClient  # noqa: F401  (documents where force_login lives)
from channels_app.services import api_key_rotate, channel_set_allowed_origins, channel_update, credits_add
from channels_app.services import publishable_key_issue
from channels_app.credits import credit_request_create
from conftest import make_channel
from conversations.models import FailedRequest, Message, Session
from e2e.checks import DESKTOP, MOBILE, assert_page_ok
from e2e.steps import HOST_PAGE, HostSite
from gateway.testing.api import chat
from gateway.testing.rollups import rebuild_all_usage
from gateway.testing.servers import ThreadedUvicorn

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

pytestmark = pytest.mark.skipif(not os.environ.get("SCREENSHOTS"), reason="set SCREENSHOTS=1 (make screenshots)")

REPLY = """Happy to help! Here is what we have **in stock**:

| Mug | Colour | Price |
|---|---|---|
| Classic | blue | €12 |
| Travel | black | €18 |

Order with `ORDER-10` for 10% off, or see [the shop](https://shop.example/mugs).
<img src=x onerror=alert(1)> ![](https://evil.example/t.png)"""


def _history(channel, days=30):
    rng = random.Random(7)
    now = timezone.now()
    for back in range(days - 1, 0, -1):
        day = now - timedelta(days=back)
        session = Session.objects.create(
            channel=channel, session_id=f"visitor-{back:02d}", started_at=day, expires_at=day + timedelta(hours=24)
        )
        answered = rng.randint(4, 14) + (days - back) // 3
        rows = []
        for i in range(answered):
            at = day + timedelta(minutes=i)
            rows.append(Message(session=session, role="user", content=f"Question {i}", created_at=at))
            rows.append(
                Message(
                    session=session,
                    role="assistant",
                    content=f"Answer {i}",
                    created_at=at,
                    model=channel.model,
                    prompt_tokens=rng.randint(120, 400),
                    completion_tokens=rng.randint(40, 220),
                    latency_ms=rng.randint(350, 900),
                )
            )
        Message.objects.bulk_create(rows)
        for status in rng.choices([429, 429, 403, 500], k=rng.randint(0, 3)):
            failure = FailedRequest.objects.create(channel=channel, endpoint="chat", status=status, error="x")
            FailedRequest.objects.filter(pk=failure.pk).update(created_at=day)
    rebuild_all_usage()  # the usage page reads the roll-ups; these rows bypassed the chat store


def _shot(page, name, *, check=True):
    """NAME.png at 1280 px and NAME-mobile.png at 390 px, of the page as it is now."""
    OUT.mkdir(parents=True, exist_ok=True)
    if check:
        assert_page_ok(page)
    for viewport, suffix in ((DESKTOP, ""), (MOBILE, "-mobile")):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(150)  # let the layout settle
        page.screenshot(path=str(OUT / f"{name}{suffix}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def _widget_shots(browser, gateway_server, channel, llm):
    host = HostSite()
    site = ThreadedUvicorn(host).start()
    try:
        channel_set_allowed_origins(channel=channel, allowed_origins=[site.url])
        channel_update(channel=channel, widget_title="Ask the Mug Shop", widget_greeting="Hi! Looking for a mug?",
                       widget_color="#7a3e12")
        key = publishable_key_issue(channel=channel).key
        host.html = HOST_PAGE.format(gateway=gateway_server.url, key=key).encode()
        for viewport, suffix in ((DESKTOP, ""), (MOBILE, "-mobile")):
            context = browser.new_context(viewport=viewport)
            try:
                page = context.new_page()
                page.goto(site.url)
                page.locator("[data-amg-widget] .w").wait_for()
                page.locator("[data-amg-widget] button.l").click()
                llm.reply = "The **Travel** mug (€18) fits most cup holders, and its lid keeps coffee hot."
                box = page.get_by_role("textbox", name="Message")
                box.fill("Which mug fits in a car cup holder?")
                box.press("Enter")
                page.locator('[data-amg-widget] .m[data-role="assistant"][data-state="done"]').last.wait_for()
                page.screenshot(path=str(OUT / f"widget{suffix}.png"))
            finally:
                context.close()
    finally:
        site.stop()


def test_screenshots(page, browser, browser_context, gateway_server, api, llm, owner, staff):
    channel, issued = make_channel(owner, name="Mug shop", credits=1000, system_prompt="You sell mugs.")
    make_channel(owner, name="Docs assistant", model="openai/gpt-oss-120b", credits=4, daily_limit=200)
    support, _ = make_channel(owner, name="Support bot", model="openai/gpt-oss-20b", credits=0)
    credit_request_create(channel=support, user=owner, amount=500, note="Launch week: twice the traffic.")
    make_channel(owner, name="Old landing page", model="openai/gpt-oss-20b", is_active=False)
    credits_add(channel=channel, amount=500)
    _history(channel)
    llm.reply = REPLY
    assert chat(api, issued.plaintext, "Which mugs do you have?", session_id="visitor-today").status_code == 200
    llm.reply = None
    chat(api, issued.plaintext, "And do you ship abroad?", session_id="visitor-today")
    api_key_rotate(channel=channel, grace=timedelta(hours=24), revealed_to=owner, ip_address="203.0.113.7")

    page.goto("/")
    _shot(page, "home")
    page.goto("/accounts/signup/")
    _shot(page, "signup")
    page.goto("/accounts/login/")
    _shot(page, "login")
    page.goto("/api/docs/")
    page.wait_for_selector(".opblock-summary-path", timeout=15000)
    _shot(page, "api-docs")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill("pw-owner-123!")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")
    _shot(page, "channels")
    base = f"/dashboard/channels/{channel.public_id}"
    page.goto(f"{base}/")
    page.locator("#keys").get_by_role("button", name="Reveal").click()
    page.locator("#keys [data-key-text].revealed").wait_for()
    _shot(page, "channel")
    page.goto("/dashboard/channels/new/")
    _shot(page, "channel-create")
    page.goto(f"{base}/edit/")
    _shot(page, "channel-settings")
    # The widget on a shop's page first, so the Widget tab, the conversations list and the usage page show it too.
    _widget_shots(browser, gateway_server, channel, llm)
    page.goto(f"{base}/widget/")
    _shot(page, "widget-settings")
    page.goto(f"{base}/conversations/")
    _shot(page, "conversations")
    page.goto(f"{base}/conversations/1/visitor-today")
    _shot(page, "transcript")
    page.goto(f"{base}/usage/")
    _shot(page, "usage")
    page.goto(f"/dashboard/channels/{channel.public_id}/keys/{channel.api_keys.filter(revoked_at__isnull=True).get().public_id}/")
    _shot(page, "key-page")
    page.goto(f"{base}/integrate/")
    page.locator("#key").get_by_role("button", name="Reveal").click()
    page.get_by_label("Message").fill("Which mugs do you have?")
    llm.reply = REPLY
    page.get_by_role("button", name="Send").click()
    page.locator('[data-try-output][data-state="done"]').wait_for()
    _shot(page, "integrate")

    browser_context.clear_cookies()
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("staff@example.com")
    page.get_by_label("Password").fill("pw-staff-123!")
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/channels_app/channel/")
    _shot(page, "admin-channels", check=False)  # Django's own admin: not ours to restyle
    page.goto("/admin/channels_app/apikey/")
    _shot(page, "admin-keys", check=False)
    page.goto("/admin/channels_app/creditrequest/")
    _shot(page, "admin-credit-requests", check=False)
    assert page.watch.dialogs == [] and page.watch.foreign_requests == []
