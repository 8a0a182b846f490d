"""Security headers, the CSP, and static files served by the app itself with DEBUG off."""

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/dashboard/"])
def test_every_page_has_the_csp_and_security_headers(web, owner, path):
    if path == "/dashboard/":
        web.force_login(owner)
    r = web.get(path)
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "img-src 'self' data:" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in r.headers["permissions-policy"]


def test_static_files_are_served_by_the_app_with_debug_off(web):
    assert settings.DEBUG is False
    css = web.get("/static/css/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = web.get("/static/js/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert web.get("/static/admin/css/base.css").status_code == 200


def test_the_pages_load_nothing_from_other_origins(owner_web):
    html = owner_web.get("/dashboard/").text + owner_web.get("/").text
    assert not re.search(r"""(src|href)=["']https?://""", html)


@pytest.mark.parametrize("template", sorted(p for p in TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_no_template_has_inline_scripts_styles_or_event_handlers(template):
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"\sstyle=", text), "inline style attribute"
    assert "<style" not in text
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"
    assert "javascript:" not in text
