"""The integration page in a real browser: reveal fills the examples, the try-it box streams a real
chat token by token into the page and shows it as Markdown (the shared profile, as the widget and the
transcript do), and the page's JavaScript examples run as written."""

import re
import time

import pytest
from playwright.sync_api import expect

from e2e.steps import age_password_entry, log_in, log_in_through_the_form

from channels_app.models import KeyReveal
from gateway.testing.markdown_profile import CASES, NORMALISE_JS

SLOTS = 8  # the six /api/chat examples' key slots and the two OpenAI SDK examples'
REPLY = "Streaming works: one word after another, as the model writes them."


def _open_and_reveal(page, channel, issued):
    page.goto(f"/dashboard/channels/{channel.public_id}/")
    page.get_by_role("navigation", name="Channel").get_by_role("link", name="Integrate").click()
    expect(page).to_have_url(re.compile(rf"/dashboard/channels/{channel.public_id}/integrate/$"))
    slots = page.locator("[data-key-slot]")
    expect(slots).to_have_count(SLOTS)
    for i in range(SLOTS):
        expect(slots.nth(i)).to_have_text(issued.api_key.masked)
    page.locator("#key").get_by_role("button", name="Reveal").click()
    expect(page.locator("#key [data-key-text]")).to_have_text(issued.plaintext)
    for i in range(SLOTS):
        expect(slots.nth(i)).to_have_text(issued.plaintext)


def _watch_output(page, timeout=20.0) -> list[str]:
    """The reply element's text, polled every 50 ms until the chat is over: the distinct states seen."""
    output = page.locator("[data-try-output]")
    states: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text, state = output.evaluate("el => [el.textContent, el.dataset.state]")
        if not states or states[-1] != text:
            states.append(text)
        if state in ("done", "error"):
            return states
        time.sleep(0.05)
    raise AssertionError(f"the chat did not finish; seen {states!r}")


def test_the_try_it_box_shows_tokens_as_they_arrive(page, llm, channel_and_key):
    channel, issued = channel_and_key
    llm.reply = REPLY
    llm.token_delay = 0.3
    log_in(page)
    _open_and_reveal(page, channel, issued)

    page.get_by_label("Message").fill("Does streaming work?")
    page.get_by_role("button", name="Send").click()
    states = _watch_output(page)

    expect(page.locator("[data-try-output]")).to_have_attribute("data-state", "done")
    assert states[-1] == REPLY
    partial = [s for s in states[:-1] if s]
    assert len(partial) >= 2, states  # tokens appeared one by one, not all at the end
    assert all(REPLY.startswith(s) and s != REPLY for s in partial)
    assert [len(s) for s in partial] == sorted(len(s) for s in partial)
    expect(page.locator("[data-try-status]")).to_contain_text("one credit spent")
    assert llm.requests[-1]["json"]["stream"] is True

    session_id = page.locator("[data-try-session]").inner_text()
    assert re.fullmatch(r"dashboard-try-[0-9a-f]{12}", session_id)
    channel.refresh_from_db()
    assert channel.credits == 99

    page.get_by_role("link", name="See this session in Conversations").click()
    page.get_by_role("link", name=session_id).click()
    transcript = page.locator(".transcript")
    expect(transcript).to_contain_text("Does streaming work?")
    expect(transcript).to_contain_text(REPLY)

    assert KeyReveal.objects.filter(api_key=issued.api_key).count() == 1
    assert page.watch.console_errors == []
    assert page.watch.foreign_requests == []
    assert page.watch.dialogs == []


MARKDOWN_REPLY = (
    "Here is **bold text** and a list:\n\n- first item\n- second item\n\n"
    "| Plan | Price |\n|---|---|\n| Basic | 5 |\n\nAnd <img src=x onerror=alert(1)> stays text."
)


def test_the_try_it_box_renders_the_reply_as_markdown(page, llm, channel_and_key):
    channel, issued = channel_and_key
    llm.reply = MARKDOWN_REPLY
    llm.token_delay = 0.05
    log_in(page)
    _open_and_reveal(page, channel, issued)

    page.get_by_label("Message").fill("Show me the plans")
    page.get_by_role("button", name="Send").click()
    states = _watch_output(page)

    assert all("**" not in s for s in states), states  # no raw marker while it streams
    output = page.locator("[data-try-output]")
    expect(output).to_have_attribute("data-state", "done")
    expect(output.locator("strong")).to_have_text("bold text")
    expect(output.locator("ul > li")).to_have_text(["first item", "second item"])
    expect(output.locator("table thead th")).to_have_text(["Plan", "Price"])
    expect(output.locator("table tbody td")).to_have_text(["Basic", "5"])
    # The reply's HTML is text, never markup: no image, no handler that ran.
    expect(output.locator("img")).to_have_count(0)
    expect(output).to_contain_text("And <img src=x onerror=alert(1)> stays text.")
    assert page.watch.dialogs == []
    assert page.watch.console_errors == []
    assert page.watch.foreign_requests == []


@pytest.fixture
def integrate_page(page, channel):
    log_in(page)
    page.goto(f"/dashboard/channels/{channel.public_id}/integrate/")
    page.wait_for_function("() => window.AIGatewayMarkdown !== undefined")
    return page


def test_the_try_it_box_renders_the_shared_markdown_profile(integrate_page):
    """The renderer the try-it box calls, held to the cases the widget and the transcript are."""
    for case in CASES:
        rendered = integrate_page.evaluate(
            f"""(md) => {{ const box = document.createElement("div");
            box.append(window.AIGatewayMarkdown.render(md)); return ({NORMALISE_JS})(box); }}""",
            case["markdown"],
        )
        assert rendered == case["html"], case["name"]
    assert integrate_page.watch.dialogs == []
    assert integrate_page.watch.console_errors == []


def test_the_try_it_box_asks_for_the_password_first_and_comes_back(page, browser_context, llm, channel_and_key):
    channel, issued = channel_and_key
    log_in_through_the_form(page)  # a password login stamps the session (accounts/reauth.py); here it has aged
    age_password_entry(browser_context, 16 * 60)
    page.goto(f"/dashboard/channels/{channel.public_id}/integrate/")
    expect(page.locator("[data-try-reauth]")).to_be_visible()

    page.get_by_label("Message").fill("Do you ship mugs to Norway?")
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-password/\?next="))
    page.get_by_label("Password").fill("pw-owner-123!")
    page.get_by_role("button", name="Confirm").click()

    # Sudo mode: back on the page, the typed text is kept and the send completes by itself.
    expect(page).to_have_url(re.compile(rf"/dashboard/channels/{channel.public_id}/integrate/$"))
    expect(page.locator("[data-try-reauth]")).to_have_count(0)
    expect(page.get_by_label("Message")).to_have_value("Do you ship mugs to Norway?")
    expect(page.locator("[data-try-output]")).to_have_attribute("data-state", "done")
    expect(page.locator("[data-try-output]")).to_have_text("Echo: Do you ship mugs to Norway?")
    assert KeyReveal.objects.count() == 1
    expect(page.locator("[data-key-slot]").first).to_have_text(issued.plaintext)
    assert page.watch.console_errors == []


def test_the_try_it_box_shows_the_apis_error(page, llm, channel_and_key):
    channel, issued = channel_and_key
    channel.credits = 0
    channel.save(update_fields=["credits"])
    log_in(page, land=False)
    page.goto(f"/dashboard/channels/{channel.public_id}/integrate/")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-try-output]")).to_have_attribute("data-state", "error")
    expect(page.locator("[data-try-status]")).to_contain_text("credit")
    assert llm.requests == []


# The examples are for a backend (Node); here they run in the page, with console.log and
# process.stdout.write collected, against the same origin.
RUN_EXAMPLE = """async () => {{
  const out = [];
  const console = {{ log: (...args) => out.push({{ at: Date.now(), text: args.join(" ") + "\\n" }}) }};
  const process = {{ stdout: {{ write: (text) => out.push({{ at: Date.now(), text }}) }} }};
  {code}
  return out;
}}"""


def test_the_javascript_examples_run_in_the_browser(page, llm, channel_and_key):
    channel, issued = channel_and_key
    log_in(page)
    _open_and_reveal(page, channel, issued)

    code = page.locator('pre[data-example="javascript"]').text_content()
    out = page.evaluate(RUN_EXAMPLE.format(code=code))
    assert "".join(o["text"] for o in out) == "Echo: Hello! What can you help me with?\n"

    llm.reply = REPLY
    llm.token_delay = 0.15
    code = page.locator('pre[data-example="javascript-stream"]').text_content()
    out = page.evaluate(RUN_EXAMPLE.format(code=code))
    assert "".join(o["text"] for o in out) == REPLY + "\n"
    assert len(out) >= 3 and out[-1]["at"] - out[0]["at"] >= 2 * 150  # written piece by piece

    expect(page.locator("#example-curl").get_by_role("button", name="Copy")).to_be_visible()
    page.locator("#example-curl").get_by_role("button", name="Copy").click()
    expect(page.locator("#example-curl [data-copied]")).to_have_text("Copied!")
    assert issued.plaintext in page.evaluate("navigator.clipboard.readText()")
    assert page.watch.console_errors == []
