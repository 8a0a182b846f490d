"""The widget on a host page passes the same browser checks as the dashboard (e2e/checks.py): zero
serious or critical axe-core violations inside its Shadow DOM, closed and open, and no sideways
scroll at 390 px."""

import pytest
from playwright.sync_api import expect

from channels_app.services import channel_set_allowed_origins, publishable_key_issue
from e2e.checks import DESKTOP, MOBILE, assert_page_ok, axe_violations
from e2e.steps import HOST_PAGE, HostSite
from gateway.testing.servers import ThreadedUvicorn


@pytest.fixture
def shop(channel, gateway_server):
    host = HostSite()
    site = ThreadedUvicorn(host).start()
    channel_set_allowed_origins(channel=channel, allowed_origins=[site.url])
    host.html = HOST_PAGE.format(gateway=gateway_server.url, key=publishable_key_issue(channel=channel).key).encode()
    yield site
    site.stop()


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["1280", "390"])
def test_the_widget_passes_axe_closed_open_and_after_a_reply(browser, shop, llm, viewport):
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.goto(shop.url)
        widget = page.locator("[data-amg-widget] .w")
        expect(widget).to_have_attribute("data-state", "ready")
        assert axe_violations(page, include="[data-amg-widget]") == []
        page.locator("[data-amg-widget] button.l").click()
        llm.reply = "We have **two** mugs:\n\n| Mug | Price |\n|---|---|\n| Classic | €12 |\n\n> Free shipping over €30."
        box = page.get_by_role("textbox", name="Message")
        box.fill("Which mugs do you have?")
        box.press("Enter")
        page.locator('[data-amg-widget] .m[data-role="assistant"][data-state="done"]').last.wait_for()
        assert_page_ok(page, viewports=(viewport,))
    finally:
        context.close()
