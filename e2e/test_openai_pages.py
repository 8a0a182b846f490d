"""The OpenAI-compatible API's dashboard pages, in a real browser at 390 px: no sideways scroll, no serious or critical axe violation.

The channel's Integrate page (with its OpenAI SDK examples) and its settings page (with
"Client system messages"). axe-core comes from e2e/package.json (`make install-dev`).
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.steps import log_in

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


def check(page, scope: str):
    """`scope`: the part of the page about the OpenAI-compatible API (the rest of the dashboard has its own checks)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways at 390 px"
    assert AXE.exists(), "axe-core is missing: run `make install-dev`"
    page.evaluate(AXE.read_text())  # evaluated through the devtools protocol, so the page's CSP does not apply
    violations = page.evaluate(
        "scope => axe.run(scope).then(r => r.violations.map(v => [v.id, v.impact, v.nodes.map(n => n.target.join(' '))]))",
        scope,
    )
    serious = [v for v in violations if v[1] in ("serious", "critical")]
    assert not serious, serious


@pytest.mark.parametrize("tab", ["integrate", "edit"])
def test_the_page_fits_390_px_and_passes_axe(page, channel_and_key, tab):
    channel, _issued = channel_and_key
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    page.goto(f"/dashboard/channels/{channel.public_id}/{tab}/")
    if tab == "integrate":
        expect(page.locator("#openai [data-openai-example]")).to_have_count(2)
        scope = "#openai"
    else:
        expect(page.get_by_label("Client system messages (OpenAI-compatible API)")).to_have_value("prepend")
        scope = ".field:has(#id_client_system_messages)"
    check(page, scope)
    assert not page.watch.console_errors
