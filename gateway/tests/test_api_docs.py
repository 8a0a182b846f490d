"""/api/docs/ (Swagger UI) cannot be framed and runs nothing inline: it has the dashboard's CSP and X-Frame-Options."""

import re

from django.conf import settings


def test_the_docs_page_cannot_be_framed_and_has_the_csp(api):
    r = api.get("/api/docs/")
    assert r.status_code == 200 and "swagger-ui" in r.text
    assert r.headers["x-frame-options"] == "DENY"
    csp = r.headers["content-security-policy"]
    assert csp == settings.CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp


def test_the_docs_page_s_script_has_the_headers_too(api):
    r = api.get("/api/docs/", params={"script": ""})
    assert r.status_code == 200 and "SwaggerUIBundle" in r.text
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"] == settings.CONTENT_SECURITY_POLICY


def test_the_docs_page_has_no_inline_script_or_style(api):
    html = api.get("/api/docs/").text
    assert "<style" not in html and "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # every <script> has a src
    assert not re.search(r"""(src|href)=["']https?://""", html)  # and nothing from other origins
