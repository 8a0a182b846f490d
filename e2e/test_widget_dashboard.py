"""The dashboard's Widget tab in a real browser: the live preview, Copy, and the key's life cycle."""

import html

from playwright.sync_api import expect

from channels_app.selectors import publishable_key_current
from e2e.steps import log_in


def test_the_preview_follows_the_fields_and_the_snippet_copies(page, channel, gateway_server):
    log_in(page)
    page.goto(f"/dashboard/channels/{channel.public_id}/widget/")
    expect(page.get_by_text("the widget works nowhere until you add your site's origin")).to_be_visible()

    page.get_by_label("Allowed origins").fill("HTTPS://Shop.Example/\nhttp://localhost:8000")
    page.get_by_role("button", name="Save origins").click()
    expect(page.locator("[data-saved-origins]")).to_have_text("https://shop.examplehttp://localhost:8000")
    page.get_by_role("button", name="Create publishable key").click()
    key = publishable_key_current(channel=channel).key
    expect(page.locator("#publishable-key")).to_have_text(key)

    preview = page.locator("[data-widget-preview]")
    head = preview.locator(".wp-head")
    expect(head).to_have_css("background-color", "rgb(37, 99, 235)")  # the default #2563eb, set by the script
    page.get_by_label("Title").fill("Ask Ada")
    page.get_by_label("Greeting").fill("Hi from the preview")
    page.get_by_label("Colour").fill("#ffcc00")
    expect(preview.locator("[data-wp-title]")).to_have_text("Ask Ada")
    expect(preview.locator("[data-wp-greeting]")).to_have_text("Hi from the preview")
    expect(head).to_have_css("background-color", "rgb(255, 204, 0)")
    expect(head).to_have_css("color", "rgb(16, 24, 40)")  # dark text on a light colour
    expect(preview.locator(".wp-launcher")).to_have_css("background-color", "rgb(255, 204, 0)")
    page.get_by_label("Greeting").fill("")
    expect(preview.locator("[data-wp-greeting]")).to_be_hidden()

    page.get_by_role("button", name="Copy snippet").click()
    snippet = f'<script src="{gateway_server.url}/static/widget.js" data-key="{key}" async></script>'
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    assert html.unescape(page.locator("#embed-snippet").inner_text()) == snippet

    page.get_by_role("button", name="Save widget settings").click()
    expect(page.get_by_text("Widget settings saved.")).to_be_visible()
    channel.refresh_from_db()
    assert (channel.widget_title, channel.widget_greeting, channel.widget_color) == ("Ask Ada", "", "#ffcc00")
    expect(head).to_have_css("background-color", "rgb(255, 204, 0)")

    page.get_by_role("button", name="Revoke").click()  # the confirm() is accepted by the page fixture
    expect(page.get_by_text("Publishable key revoked")).to_be_visible()
    expect(page.get_by_role("button", name="Create publishable key")).to_be_visible()
    assert page.watch.console_errors == [] and page.watch.foreign_requests == []


def test_the_real_widget_runs_in_preview_mode_on_the_strict_csp_page(page, channel, gateway_server, llm):
    requests, console_errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    log_in(page)
    page.goto(f"/dashboard/channels/{channel.public_id}/widget/")

    host = page.locator("[data-amg-widget]")
    expect(host).to_have_count(1)
    state = "el => el.shadowRoot.querySelector('.w').dataset.state"
    page.wait_for_function(f"() => document.querySelector('[data-amg-widget]') && ({state})(document.querySelector('[data-amg-widget]')) === 'preview'")
    # Styled although the page forbids inline styles: the widget's sheet is a constructed one.
    size = host.evaluate("el => getComputedStyle(el.shadowRoot.querySelector('button.l')).width")
    assert size == "56px"

    page.get_by_label("Title").fill("Ask Ada")
    page.get_by_label("Greeting").fill("Hello from the real widget")
    page.get_by_label("Colour").fill("#ffcc00")
    page.wait_for_function(
        "() => document.querySelector('[data-amg-widget]').shadowRoot.querySelector('h2').textContent === 'Ask Ada'"
    )
    greeting = host.evaluate("el => el.shadowRoot.querySelector('[data-greeting]').textContent")
    assert "Hello from the real widget" in greeting
    colour = host.evaluate("el => getComputedStyle(el.shadowRoot.querySelector('button.l')).backgroundColor")
    assert colour == "rgb(255, 204, 0)"

    assert not [url for url in requests if "/api/" in url]  # a preview sends nothing
    assert llm.requests == []
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors
