"""The one Markdown profile of replies, shared by the transcript (dashboard/rendering.py) and the widget
(static/widget.js, whose renderer the Integrate page's try-it box also uses): `CASES` in
dashboard/markdown_profile.json, each a reply and the structure every renderer must turn it into.
Structure is compared, not bytes: tags, link targets and text, with whitespace collapsed and an `<a>`
without a safe href unwrapped (docs/dashboard.md#conversations)."""

import html
import json
from html.parser import HTMLParser
from pathlib import Path

CASES = json.loads((Path(__file__).resolve().parents[2] / "dashboard" / "markdown_profile.json").read_text())
VOID = {"br", "hr"}


class _Normaliser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.unwrapped: list[bool] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            self.out.append(f"<{tag}>")
            return
        href = dict(attrs).get("href") if tag == "a" else None
        unwrap = tag == "a" and not href
        self.unwrapped.append(unwrap)
        if not unwrap:
            self.out.append(f'<a href="{html.escape(href)}">' if href else f"<{tag}>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.unwrapped.pop():
            self.out.append(f"</{tag}>")

    def handle_data(self, data):
        text = " ".join(data.split())
        if text:
            self.out.append(html.escape(text, quote=False))


def normalise(markup: str) -> str:
    parser = _Normaliser()
    parser.feed(markup)
    parser.close()
    return "".join(parser.out)


# The same normalisation in the browser, for the widget's DOM (e2e/test_widget_experience.py, e2e/test_integration_page.py).
NORMALISE_JS = """(root) => {
  const esc = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const walk = (node) => {
    let out = "";
    for (const n of node.childNodes) {
      if (n.nodeType === 3) { const t = n.textContent.split(/\\s+/).filter(Boolean).join(" "); if (t) out += esc(t); continue; }
      if (n.nodeType !== 1) continue;
      const tag = n.tagName.toLowerCase();
      if (tag === "br" || tag === "hr") { out += `<${tag}>`; continue; }
      const href = tag === "a" ? n.getAttribute("href") : null;
      if (tag === "a" && !href) { out += walk(n); continue; }
      out += (href ? `<a href="${esc(href).replace(/"/g, "&quot;")}">` : `<${tag}>`) + walk(n) + `</${tag}>`;
    }
    return out;
  };
  return walk(root);
}"""
