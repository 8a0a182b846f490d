"""The conversation pages in a real browser, at 1280 px and 390 px: context and filters, feedback in the
transcript, export downloads, erasure from the transcript, the retention setting and refused origins; no
serious axe violation in what these pages added, and none of it wider than the screen."""

import csv
import io
import json

import pytest
from playwright.sync_api import expect

from channels_app.models import RefusedOrigin
from conversations.models import AuditEvent, Session
from e2e.checks import assert_accessible, assert_fits
from e2e.steps import log_in
from gateway.testing.api import chat
from gateway.testing.tables import tables_containing

SECRET = "amber-lantern-5521"
ADDED = ["[data-thread-explainer]", "form.search", "[data-export]", "[data-audit-log]", "[data-erase]",
         ".msg-feedback", "[data-refused-origins]", "[data-refused-origins-alert]", "[data-kpi=feedback]"]


@pytest.fixture(params=[(1280, 900), (390, 844)], ids=["desktop", "mobile"])
def page(browser, gateway_server, transactional_db, request):
    from accounts.testing import reset_account_throttles

    reset_account_throttles()
    width, height = request.param
    context = browser.new_context(base_url=gateway_server.url, viewport={"width": width, "height": height})
    context.gateway_url = gateway_server.url
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _check(page, *present):
    for selector in present:
        expect(page.locator(selector).first).to_be_visible()
    assert [s for s in ADDED if page.locator(s).count()]  # the parts this issue added are on the page
    assert_accessible(page)  # the whole page, at the size the test opened it
    assert_fits(page, page.viewport_size)


def test_the_owner_reads_conversations_with_context_and_feedback(page, api, llm, owner, channel, key):
    chat(api, key, "Where is my parcel?", session_id="order-77")
    api.post("/api/feedback", json={"session_id": "order-77", "rating": "down", "comment": "Too vague"},
             headers={"X-API-Key": key})
    log_in(page, land=False)
    page.goto(f"/dashboard/channels/{channel.public_id}/conversations/")
    expect(page.get_by_role("cell", name="Where is my parcel?")).to_be_visible()
    _check(page, "[data-thread-explainer]", "[data-export]")

    page.get_by_label("From").fill("2001-01-01")
    page.get_by_label("To").fill("2001-01-02")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No conversation started on those dates")).to_be_visible()
    page.get_by_role("link", name="Clear").click()
    page.get_by_role("link", name="order-77").click()
    feedback = page.locator(".msg-feedback")
    expect(feedback).to_contain_text("Not helpful: “Too vague”")
    _check(page, ".msg-feedback")

    page.goto(f"/dashboard/channels/{channel.public_id}/usage/")
    expect(page.locator("[data-kpi=feedback]")).to_contain_text("👎 1")
    _check(page, "[data-kpi=feedback]")


def test_the_owner_downloads_both_exports(page, api, llm, owner, channel, key):
    chat(api, key, "=HYPERLINK(\"x\")", session_id="s-1")
    log_in(page, land=False)
    page.goto(f"/dashboard/channels/{channel.public_id}/conversations/")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [r["content"] for r in rows] == ["'=HYPERLINK(\"x\")", "Echo: =HYPERLINK(\"x\")"]
    assert download.value.suggested_filename.endswith(".csv")
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON Lines").click()
    lines = [json.loads(line) for line in open(download.value.path(), encoding="utf-8")]
    assert [line["content"] for line in lines] == ["=HYPERLINK(\"x\")", "Echo: =HYPERLINK(\"x\")"]


def test_the_owner_erases_a_session_from_the_transcript(page, api, llm, owner, channel, key):
    chat(api, key, f"my phone is {SECRET}", session_id="caller-1")
    log_in(page, land=False)
    page.goto(f"/dashboard/channels/{channel.public_id}/conversations/1/caller-1")
    page.get_by_text("Erase this session").click()
    _check(page, "[data-erase]")
    page.get_by_role("button", name="Erase session").click()
    expect(page.get_by_text("Session erased: 1 thread and 2 messages deleted")).to_be_visible()
    expect(page.locator("[data-audit-log]")).to_contain_text("Session erased · Dashboard (owner@example.com)")
    _check(page, "[data-audit-log]")
    assert not Session.objects.exists() and AuditEvent.objects.count() == 1
    assert tables_containing(SECRET) == {}


def test_the_owner_sets_the_retention_and_sees_refused_origins(page, api, owner, channel, widget_key):
    for _ in range(3):
        api.get("/api/widget-config", params={"key": widget_key}, headers={"Origin": "https://mirror.example"})
    assert RefusedOrigin.objects.get().count == 3
    log_in(page, land=False)
    page.goto(f"/dashboard/channels/{channel.public_id}/edit/")
    page.get_by_label("Keep conversations for (days)").fill("30")
    page.locator("form button[type=submit]").last.click()
    expect(page.get_by_text("Channel settings saved.")).to_be_visible()
    channel.refresh_from_db()
    assert channel.retention_days == 30

    page.goto(f"/dashboard/channels/{channel.public_id}/widget/")
    expect(page.locator("[data-refused-origins]")).to_contain_text("https://mirror.example 3 times")
    _check(page, "[data-refused-origins]", "[data-refused-origins-alert]")
