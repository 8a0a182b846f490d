"""conversations.rendering.render_markdown: Markdown in, sanitised HTML out."""

import re

import pytest

from conversations.rendering import render_markdown


def test_it_renders_common_markdown():
    html = render_markdown("# Title\n\n**b** *i* `c`\n\n```\nx = 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    for fragment in ("<h1>Title</h1>", "<strong>b</strong>", "<em>i</em>", "<code>c</code>", "<pre><code>", "<td>1</td>"):
        assert fragment in html


def test_it_keeps_safe_links_with_noopener():
    html = render_markdown("[docs](https://example.com/a)")
    assert 'href="https://example.com/a"' in html and 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize(
    "text",
    [
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "<script>alert(1)</script>",
        "<a href='javascript:alert(1)'>x</a>",
        "<svg onload=alert(1)>",
        "<iframe src=https://evil.example></iframe>",
        '<p style="background:url(https://evil.example/x)">x</p>',
        "[x](vbscript:msgbox(1))",
    ],
)
def test_it_renders_hostile_input_inert(text):
    html = render_markdown(text).lower()
    for tag in ("<img", "<script", "<svg", "<iframe"):
        assert tag not in html
    assert not re.search(r"<[^>]*\s(style|on[a-z]+)=", html)
    assert 'href="javascript' not in html.lower() and 'href="data:' not in html and 'href="vbscript' not in html


def test_it_turns_images_into_text_so_nothing_is_fetched():
    html = render_markdown("![logo](https://evil.example/t.png) and ![](/local.png)")
    assert "<img" not in html
    assert "[logo: https://evil.example/t.png]" in html and "[image: /local.png]" in html
