"""The transcript renders every case of the shared Markdown profile. The widget is held to the same cases in
e2e/test_widget_experience.py, and the Integrate page's try-it box, which renders with the widget's own code,
in e2e/test_integration_page.py."""

from pathlib import Path

import pytest
from django.conf import settings

from dashboard.rendering import render_markdown
from gateway.testing.markdown_profile import CASES, normalise


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_transcript_renders_the_profile(case):
    assert normalise(str(render_markdown(case["markdown"]))) == case["html"]


def test_the_profile_covers_tables_quotes_code_and_links():
    rendered = "".join(c["html"] for c in CASES)
    for tag in ("<table>", "<th>", "<td>", "<blockquote>", "<pre>", "<code>", "<ul>", "<ol>", "<a href=", "<br>"):
        assert tag in rendered, tag


def test_the_normaliser_tells_structures_apart():
    assert normalise("<p>a<strong>b</strong></p>") != normalise("<p>a<em>b</em></p>")
    assert normalise('<p><a href="https://x.example/">x</a></p>') != normalise("<p>x</p>")
    assert normalise('<p><a rel="nofollow">x</a></p>') == normalise("<p>x</p>")  # an unsafe link's href was dropped


def test_the_try_it_box_renders_with_the_widgets_renderer(owner_web, channel):
    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/integrate/").text
    assert '<script src="/static/widget.js" data-markdown defer></script>' in page
    assert '<div class="msg-body" data-try-output data-state="idle"></div>' in page  # not "plain": rendered
    script = (Path(settings.BASE_DIR) / "static" / "js" / "integrate.js").read_text()
    assert "window.AIGatewayMarkdown" in script and "innerHTML" not in script
