"""The widget in a real browser: typing dots, Markdown while streaming (never a raw marker), the
shared Markdown profile, the input row, feedback, and the axe and 390 px checks, on a host page of its own."""

import time

import pytest
from playwright.sync_api import expect

from channels_app.services import channel_set_allowed_origins, publishable_key_issue
from conversations.models import Feedback
from e2e.checks import axe_violations, horizontal_overflow
from e2e.test_widget import HostPage, _deep_focus, _send, _wait_ready, _widget
from gateway.testing.markdown_profile import CASES, NORMALISE_JS
from gateway.testing.servers import ThreadedUvicorn

STREAMED = "Here is **bold text**, some `inline code` and a [link](https://docs.example/a).\n\n| a | b |\n|---|---|\n| 1 | 2 |"


class LangHostPage(HostPage):
    """The test host page, with the `lang` and landmark a real page has, so axe judges only the widget."""

    def embed(self, gateway_url, pk, css="", title="Shop", script=True, preview=None):
        tag = f'<script src="{gateway_url}/static/widget.js" data-key="{pk}" async></script>' if script else ""
        if preview is not None:
            tag = f'<script src="{gateway_url}/static/widget.js" data-preview data-greeting="{preview}" async></script>'
        self.html = (
            f'<!doctype html><html lang="en"><head><meta charset=utf-8><meta name="viewport" content="width=device-width">'
            f"<title>{title}</title></head><body><main><h1>Our shop</h1></main>{tag}</body></html>"
        )


@pytest.fixture(scope="module")
def site():
    host = LangHostPage()
    server = ThreadedUvicorn(host).start()
    server.host = host
    yield server
    server.stop()


@pytest.fixture
def pk(channel, site):
    channel_set_allowed_origins(channel=channel, allowed_origins=[site.url])
    return publishable_key_issue(channel=channel).key


@pytest.fixture(params=[(1280, 900), (390, 844)], ids=["desktop", "mobile"])
def context(browser, request):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    yield context
    context.close()


def _open(context, site, gateway_server, pk):
    site.host.embed(gateway_server.url, pk)
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda e: page.script_errors.append(str(e)))
    page.goto(site.url)
    _wait_ready(page)
    page.get_by_role("button", name="Chat with us").click()
    return page


def _reply_frames(page, timeout=20.0):
    """(innerHTML, textContent, state) of the last reply, every time it changes, until it is done."""
    reply = page.locator('[data-amg-widget] .m[data-role="assistant"]').last
    frames = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = reply.evaluate("el => [el.innerHTML, el.textContent, el.dataset.state]")
        if not frames or frames[-1] != frame:
            frames.append(frame)
        if frame[2] == "done":
            return frames
        time.sleep(0.02)
    raise AssertionError(f"the reply did not finish: {frames[-3:]!r}")


def test_it_shows_typing_dots_then_renders_markdown_while_streaming(context, site, gateway_server, llm, pk):
    llm.reply = STREAMED
    llm.token_delay = 0.25
    page = _open(context, site, gateway_server, pk)
    # Record the dots as they appear: the first token may replace them within milliseconds.
    page.evaluate(
        """() => { const log = document.querySelector('[data-amg-widget]').shadowRoot.querySelector('.g');
        window.seenDots = [];
        new MutationObserver(() => { const t = log.querySelector('.m .t');
          if (t) window.seenDots.push([t.getAttribute('aria-label'), t.querySelectorAll('i').length, t.closest('.m').textContent]); })
          .observe(log, {childList: true, subtree: true}); }"""
    )
    _send(page, "Show me")
    frames = _reply_frames(page)
    assert page.evaluate("window.seenDots")[0] == ["The assistant is typing", 3, ""]  # dots, and no text of their own
    partial = [f for f in frames[:-1] if f[1]]
    assert len(partial) >= 3, frames
    for html, text, _state in partial:
        assert "**" not in text and "`" not in text and "](" not in text, text  # never a raw marker
        assert "class=\"t\"" not in html  # the dots go with the first token
    assert any("<strong>" in html for html, _t, _s in partial)  # bold already while streaming
    last = page.locator('[data-amg-widget] .m[data-role="assistant"]').last
    expect(last.locator("table td")).to_have_text(["1", "2"])
    expect(last.locator("a")).to_have_attribute("href", "https://docs.example/a")
    assert page.script_errors == []


def test_the_widget_renders_the_shared_markdown_profile(context, site, gateway_server, pk):
    site.host.embed(gateway_server.url, pk, preview="")
    page = context.new_page()
    page.goto(site.url)
    expect(_widget(page)).to_have_attribute("data-state", "preview")
    for case in CASES:
        page.evaluate(
            "(md) => document.dispatchEvent(new CustomEvent('amg-widget-preview', {detail: {greeting: md}}))", case["markdown"]
        )
        greeting = page.locator("[data-amg-widget] [data-greeting]")
        rendered = greeting.evaluate(NORMALISE_JS)
        assert rendered == case["html"], case["name"]


def test_the_input_row_is_padded_and_shows_a_focus_ring(context, site, gateway_server, llm, pk):
    page = _open(context, site, gateway_server, pk)
    box = page.get_by_role("textbox", name="Message")
    style = box.evaluate(
        """el => { const f = getComputedStyle(el.closest('form')), s = getComputedStyle(el);
        return {form: f.paddingTop, input: s.paddingLeft, outline: s.outlineStyle, shadow: s.boxShadow}; }"""
    )
    assert style["form"] == "12px" and style["input"] == "12px", style
    box.focus()
    assert _deep_focus(page) == "TEXTAREA"
    focused = box.evaluate("el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineWidth, getComputedStyle(el).boxShadow]")
    assert focused[0] == "solid" and focused[1] == "3px" and "rgb(17, 24, 39)" in focused[2], focused
    # The ring (outline 3 px + 2 px offset) stays inside the panel, which clips what overflows it.
    inside = box.evaluate(
        """el => { const b = el.getBoundingClientRect(), p = el.closest('.p').getBoundingClientRect();
        return b.left - 5 >= p.left && b.right + 5 <= p.right && b.bottom + 5 <= p.bottom; }"""
    )
    assert inside


def test_a_visitor_rates_a_reply_and_comments(context, site, gateway_server, llm, pk):
    page = _open(context, site, gateway_server, pk)
    _send(page, "What are your opening hours?")
    expect(page.locator('[data-amg-widget] .m[data-role="assistant"][data-state="done"]')).to_have_count(1)
    rate = page.get_by_role("group", name="Rate this reply")
    rate.get_by_role("button", name="Not helpful").click()
    expect(rate.get_by_role("button", name="Not helpful")).to_have_attribute("aria-pressed", "true")
    expect(rate.get_by_role("status")).to_have_text("Thanks!")
    feedback = Feedback.objects.get()
    assert (feedback.rating, feedback.comment, feedback.message.session.source) == ("down", "", "widget")
    rate.get_by_role("textbox", name="Comment (optional)").fill("You did not say the hours")
    rate.get_by_role("button", name="Send").click()
    expect(rate.get_by_role("status")).to_have_text("Thanks for the comment!")
    feedback.refresh_from_db()
    assert (feedback.rating, feedback.comment) == ("down", "You did not say the hours")

    _send(page, "And on Sunday?")  # only the latest reply can be rated
    expect(page.locator('[data-amg-widget] .m[data-role="assistant"][data-state="done"]')).to_have_count(2)
    expect(page.get_by_role("group", name="Rate this reply")).to_have_count(1)
    page.reload()
    _wait_ready(page)
    page.get_by_role("button", name="Chat with us").click()
    expect(page.get_by_role("group", name="Rate this reply")).to_have_count(1)  # restored with the history


def test_the_widget_has_no_serious_axe_violations_and_fits_the_screen(context, site, gateway_server, llm, pk):
    llm.reply = STREAMED
    page = _open(context, site, gateway_server, pk)
    _send(page, "Hello")
    expect(page.locator('[data-amg-widget] .m[data-role="assistant"][data-state="done"]')).to_have_count(1)
    page.get_by_role("group", name="Rate this reply").get_by_role("button", name="Helpful", exact=True).click()
    expect(page.get_by_role("textbox", name="Comment (optional)")).to_be_visible()
    assert axe_violations(page) == []
    assert horizontal_overflow(page) is None
    panel = page.locator("[data-amg-widget] .p").evaluate("el => el.getBoundingClientRect().toJSON()")
    assert panel["left"] >= 0 and panel["right"] <= page.viewport_size["width"], panel


def test_the_axe_check_finds_a_real_violation(context, site, gateway_server, pk):
    """The audit above can fail: on a page with an unlabelled image and button it reports them."""
    site.host.html = '<!doctype html><html lang="en"><title>t</title><main><img src="data:,"><button></button></main></html>'
    page = context.new_page()
    page.goto(site.url)
    found = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "button-name"} <= found
