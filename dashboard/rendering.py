"""Replies as safe HTML: Markdown rendered, then sanitised with nh3.

A reply comes from a model and may echo whatever a user typed, so it is
untrusted. Raw HTML in it is shown as text, images are never loaded (each becomes a text placeholder showing
its address), links keep only http, https and mailto, and anything else
(scripts, event handlers, styles, iframes, forms) is dropped. The page's
Content Security Policy is the second line of defence.
"""

import xml.etree.ElementTree as etree

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "span", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "span": {"class"}, "th": {"align"}, "td": {"align"}, "code": {"class"}}
URL_SCHEMES = {"http", "https", "mailto"}


class _ImagesToText(Treeprocessor):
    """Replace every Markdown image with a placeholder, so no address is fetched."""

    def run(self, root: etree.Element) -> None:
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag != "img":
                    continue
                placeholder = etree.Element("span", {"class": "md-image"})
                alt = child.get("alt") or "image"
                placeholder.text = f"[{alt}: {child.get('src', '')}]"
                placeholder.tail = child.tail
                parent.remove(child)
                parent.insert(index, placeholder)


class _Inert(Extension):
    """Raw HTML in a reply is shown as text, and images become placeholders."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_ImagesToText(md), "no_images", 0)


def render_markdown(text: str) -> SafeString:
    html = markdown.markdown(text, extensions=["fenced_code", "tables", "sane_lists", "nl2br", _Inert()])
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above
