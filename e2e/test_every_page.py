"""Every page, in Chromium at 1280 px and at 390 px: no sideways scroll and no serious or critical
axe-core violation (e2e/checks.py). One test per kind of visitor; each lists every page it failed on."""

import re

from playwright.sync_api import expect

from conftest import make_channel
from e2e.checks import DESKTOP, MOBILE, assert_page_ok, axe_violations, describe, horizontal_overflow
from e2e.steps import log_in
from gateway.testing.api import chat


def _audit(page, paths) -> list[str]:
    problems = []
    for path in paths:
        for viewport in (DESKTOP, MOBILE):
            page.set_viewport_size(viewport)
            page.goto(path)
            page.wait_for_load_state("load")
            overflow = horizontal_overflow(page)
            if overflow:
                problems.append(f"{path} at {viewport['width']} px scrolls sideways: {overflow}")
            violations = axe_violations(page)
            if violations:
                problems.append(f"{path} at {viewport['width']} px:\n{describe(violations)}")
    return problems


def test_public_and_auth_pages_fit_and_pass_axe(page):
    paths = [
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/no-such-page/",
    ]
    problems = _audit(page, paths)
    assert problems == [], "\n".join(problems)


def test_api_docs_fit_and_pass_axe(page):
    problems = []
    for viewport in (DESKTOP, MOBILE):
        page.set_viewport_size(viewport)
        page.goto("/api/docs/")
        page.wait_for_selector(".opblock-summary-path", timeout=15000)
        page.locator(".opblock-summary").first.click()  # an operation opened, its example shown
        page.wait_for_selector(".opblock-body", timeout=15000)
        if overflow := horizontal_overflow(page):
            problems.append(f"/api/docs/ at {viewport['width']} px scrolls sideways: {overflow}")
        if violations := axe_violations(page):
            problems.append(f"/api/docs/ at {viewport['width']} px:\n{describe(violations)}")
    assert problems == [], "\n".join(problems)


def test_every_dashboard_page_fits_and_passes_axe(page, api, llm, owner):
    channel, issued = make_channel(owner, name="Mug shop", credits=50)
    empty, _ = make_channel(owner, name="Empty shop", credits=0)
    low, _ = make_channel(owner, name="Low shop", credits=3)
    make_channel(owner, name="Old site", is_active=False)
    llm.reply = "We have **blue** mugs.\n\n| Mug | Price |\n|---|---|\n| Classic | €12 |"
    assert chat(api, issued.plaintext, "Which mugs do you have?", session_id="visitor-1").status_code == 200
    log_in(page, land=False)
    base = f"/dashboard/channels/{channel.public_id}"
    paths = [
        "/dashboard/",
        "/dashboard/channels/new/",
        f"{base}/",
        f"{base}/edit/",
        f"{base}/integrate/",
        f"{base}/widget/",
        f"{base}/conversations/",
        f"{base}/conversations/1/visitor-1",
        f"{base}/usage/",
        f"/dashboard/channels/{empty.public_id}/",
        f"/dashboard/channels/{low.public_id}/usage/",
        f"{base}/keys/{issued.api_key.public_id}/",
        "/accounts/password/change/",
        "/accounts/confirm-password/",
    ]
    problems = _audit(page, paths)
    assert problems == [], "\n".join(problems)


def test_the_active_tab_is_visible_at_390_px(page, owner):
    channel, _ = make_channel(owner, name="Mug shop", credits=50)
    log_in(page, land=False)
    page.set_viewport_size(MOBILE)
    base = f"/dashboard/channels/{channel.public_id}"
    for path in (f"{base}/usage/", f"{base}/conversations/", f"{base}/widget/"):
        page.goto(path)
        active = page.locator('.tabs [aria-current="page"]')
        expect(active).to_be_in_viewport()
        assert re.search(r"\S", active.inner_text())


def test_the_demo_mode_banner_fits_and_passes_axe(page, owner, settings):
    settings.LLM_API_KEY = ""
    make_channel(owner, name="Mug shop", credits=50)
    log_in(page)
    expect(page.locator("[data-demo-banner]")).to_contain_text("no AI model is connected")
    assert_page_ok(page)


def test_a_model_retirement_notice_fits_passes_axe_and_dismisses(page, owner, llm):
    from channels_app.providers.catalog_models import OwnerNotice

    channel, _ = make_channel(owner, name="Mug shop", credits=50)
    OwnerNotice.objects.create(
        owner=owner, channel=channel,
        text="Llama 3.1 70B (llama-3.1-70b-versatile) was retired by its provider. Your channel \u201cMug shop\u201d now "
        "uses Llama 3.3 70B (llama-3.3-70b-versatile) as its model; you can pick another model in its settings.",
    )
    log_in(page, land=False)
    for viewport in (DESKTOP, MOBILE):
        page.set_viewport_size(viewport)
        page.goto("/dashboard/")
        expect(page.locator("[data-owner-notice]")).to_contain_text("was retired")
        assert_page_ok(page, viewports=(viewport,))  # the page loaded at each width, audited at that width
    page.get_by_role("button", name="Dismiss").click()
    expect(page.locator("[data-owner-notice]")).to_have_count(0)
