"""/api/docs/ renders Swagger UI in a real browser under its strict CSP, with no violation."""


def test_swagger_ui_renders_under_the_csp(page):
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/api/docs/")
    page.wait_for_selector(".opblock-summary-path", timeout=15000)  # the operations, drawn from /api/schema/
    assert "/api/chat" in page.content()
    assert violations == [] and page.watch.console_errors == [] and page.watch.foreign_requests == []
