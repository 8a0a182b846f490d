"""dashboard.rendering.render_markdown: Markdown in, sanitised HTML out."""

import re
from html.parser import HTMLParser

import pytest

from dashboard.rendering import render_markdown


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


XSS_CORPUS = [
    "<javascript:alert(1)>",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x]( javascript:alert(1))",
    "[x](\tjavascript:alert(1))",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "![x](javascript:alert(1))",
    '[x](https://a.example "onmouseover=alert(1)")',
    '[x](https://a.example "a" onmouseover="alert(1)")',
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"https://evil.example/x.swf\">",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "<style>@import 'https://evil.example/x.css';</style>",
    "<img src=\"x\" onerror=\"alert(1)\"",
    "<<script>script>alert(1)<</script>/script>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "`<script>alert(1)</script>` and ```\n<img src=x onerror=alert(1)>\n```",
    "<video><source onerror=\"alert(1)\"></video>",
    "<input autofocus onfocus=alert(1)>",
]


class _Elements(HTMLParser):
    """The real elements and attributes of rendered HTML (escaped text is not markup)."""

    def __init__(self, html):
        super().__init__()
        self.found = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


SAFE_TAGS = {"p", "a", "code", "pre", "span", "strong", "em", "br"}


@pytest.mark.parametrize("text", XSS_CORPUS)
def test_a_wider_xss_corpus_renders_inert(text):
    html = render_markdown(text)
    for tag, attrs in _Elements(html).found:
        assert tag in SAFE_TAGS, (text, html)
        assert not {name for name in attrs if name.startswith("on") or name in ("style", "src", "srcdoc")}, (text, html)
        href = attrs.get("href")
        if href is not None:
            assert href.lower().startswith(("http://", "https://", "mailto:")), (text, html)
