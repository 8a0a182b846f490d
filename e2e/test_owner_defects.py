"""Defects an owner saw, in Chromium at 1280 px and 390 px (each page also passes e2e/checks.py there):
model cards labelled cell by cell, a widget transcript's long session id and the audit log's action names
that wrap as words, chart labels readable on a phone, a 403 in the site's layout, a one-row top bar with
the organisation menu, the delete error beside its field, the admin's plural and its columns."""

import re

from playwright.sync_api import expect

from conftest import make_channel
from e2e.checks import DESKTOP, MOBILE, assert_page_ok
from e2e.steps import log_in
from gateway.testing.api import chat, issued_session_id, widget_chat
from teams import audit, services
from teams.tests.worlds import make_user

VIEWPORTS = (DESKTOP, MOBILE)


def _before(locator) -> str:
    return locator.evaluate("el => getComputedStyle(el, '::before').content").strip('"')


def test_model_cards_label_every_cell_on_a_phone(page, owner):
    channel, _ = make_channel(owner, name="Mug shop", credits=50)
    log_in(page, land=False)
    for path in ("/dashboard/channels/new/", f"/dashboard/channels/{channel.public_id}/edit/"):
        page.goto(path)
        page.set_viewport_size(MOBILE)
        row = page.locator(".model-table tbody tr").first
        cells = row.locator("td")
        labels = [_before(cells.nth(i)) for i in range(2, 8)]
        assert labels == ["Model id", "Context", "Max output", "Price per 1M", "Speed", "Best for"], path
        assert cells.nth(5).inner_text().startswith("$") and "/" in cells.nth(5).inner_text()
        assert_page_ok(page)


def test_a_widget_transcript_with_its_long_session_id_fits(page, owner, llm, api, widget_key):
    from channels_app.models import Channel

    assert widget_chat(api, widget_key, "Do you ship to Spain?", session_id="v-1").status_code == 200
    channel = Channel.objects.get()
    session_id = issued_session_id(widget_key, "v-1")
    assert session_id.startswith("ws_") and len(session_id) >= 60
    log_in(page, land=False)
    page.goto(f"/dashboard/channels/{channel.public_id}/conversations/1/{session_id}?source=widget")
    expect(page.locator("h2 code")).to_have_text(session_id)
    assert_page_ok(page)


def test_audit_action_names_wrap_as_words_at_390_px(page, owner):
    channel, _ = make_channel(owner, name="Mug shop", credits=50)
    org = channel.organisation
    audit.record(organisation=org, actor=owner, action="channel.settings", target="channel Mug shop",
                 changes={"system_prompt": ["You sell mugs and nothing else, politely and briefly.", "You sell mugs."]})
    audit.record(organisation=org, actor=owner, action="invitation.create", target="invitation someone@example.com")
    log_in(page, land=False)
    page.goto(f"/dashboard/org/{org.public_id}/audit/")
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        for code in page.locator("tr[data-audit] code").all():
            box = code.bounding_box()
            line = float(code.evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.6"))
            assert box["height"] < 1.6 * line, f"{code.inner_text()} takes {box['height']} px at {viewport['width']} px"
            assert box["width"] > 80
    assert_page_ok(page)


def _label_px(page, chart: str) -> float:
    """The smallest tick label of a chart, in CSS pixels as drawn (font size × the SVG's scale)."""
    return page.locator(f'[data-chart="{chart}"] svg').evaluate(
        "svg => Math.min(...[...svg.querySelectorAll('.axis-label')].map("
        "t => parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a))"
    )


def test_usage_pages_charts_have_readable_labels_and_the_organisation_page_has_charts(page, owner, llm, api):
    channel, issued = make_channel(owner, name="Mug shop", credits=50)
    assert chat(api, issued.plaintext, "Hi", session_id="a").status_code == 200
    log_in(page, land=False)
    for path in (f"/dashboard/channels/{channel.public_id}/usage/", f"/dashboard/org/{channel.organisation.public_id}/usage/"):
        page.goto(path)
        for viewport in VIEWPORTS:
            page.set_viewport_size(viewport)
            for chart in ("requests", "tokens", "failed", "latency"):
                assert _label_px(page, chart) >= 9.5, f"{path} {chart} at {viewport['width']} px"
        assert_page_ok(page)
    expect(page.locator('[data-total="answered"]')).to_have_text("1")
    expect(page.locator('[data-total="cost"]')).to_have_text(re.compile(r"^(\$\d|under \$0\.0001$)"))


def test_a_refused_page_is_a_page_of_the_site(page, owner, outsider):
    channel, _ = make_channel(owner, name="Mug shop", credits=50)
    services.membership_add(organisation=channel.organisation, user=outsider, role="analyst", actor=owner)
    log_in(page, email="outsider@example.com", password="pw-outsider-123!", land=False)
    response = page.goto(f"/dashboard/channels/{channel.public_id}/integrate/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator("[data-refused]")).to_contain_text("You are analyst in")
    expect(page.locator("header.topbar")).to_be_visible()
    assert_page_ok(page)


def test_the_top_bar_is_one_row_on_a_phone_and_switches_and_renames_organisations(page, owner):
    make_channel(owner, name="Own shop", credits=50)
    colleague = make_user("a.very.long.colleague.address@subsidiary.example.com")
    agency = services.organisation_create(user=colleague, name="Agency with a rather long name")
    make_channel(colleague, name="Client site", organisation=agency)
    services.membership_add(organisation=agency, user=owner, role="admin", actor=colleague)
    log_in(page, land=False)
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        page.goto("/dashboard/")
        bar = page.locator(".topbar-inner")
        assert bar.bounding_box()["height"] < 60, f"the top bar wraps at {viewport['width']} px"
        assert bar.inner_text().count("owner@example.com") == 1  # the personal organisation; the account menu is closed
        assert_page_ok(page, viewports=(viewport,))  # the page loaded at each width, audited at that width

    page.set_viewport_size(MOBILE)
    page.get_by_text("Account", exact=True).click()
    expect(page.get_by_text("Signed in as owner@example.com")).to_be_visible()
    assert_page_ok(page, viewports=(MOBILE,))
    page.locator("[data-org-menu] summary").click()
    expect(page.get_by_text("Signed in as owner@example.com")).to_be_hidden()  # one menu open at a time
    expect(page.get_by_role("button", name="Switch to Agency with a rather long name")).to_be_in_viewport()
    assert_page_ok(page, viewports=(MOBILE,))
    page.get_by_role("button", name="Switch to Agency with a rather long name").click()
    expect(page.get_by_role("link", name="Client site")).to_be_visible()
    expect(page.locator("[data-org-current]")).to_have_text("Agency with a rather long name")

    page.set_viewport_size(DESKTOP)
    page.locator("[data-org-menu] summary").click()
    page.get_by_role("link", name="Rename").click()
    page.get_by_label("Organisation name").fill("Agency")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("The organisation is now called “Agency”.")).to_be_visible()
    expect(page.locator("[data-org-current]")).to_have_text("Agency")
    assert_page_ok(page)
    page.keyboard.press("Escape")


def test_deleting_with_a_wrong_name_shows_the_error_beside_the_field(page, owner):
    from channels_app.models import Channel

    channel, _ = make_channel(owner, name="Mug shop", credits=50)
    log_in(page, land=False)
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        page.goto(f"/dashboard/channels/{channel.public_id}/")
        page.get_by_label("Type “Mug shop” to confirm").fill("Mug shp")
        page.get_by_role("button", name="Delete channel").click()
        error = page.locator("[data-delete-error]")
        expect(error).to_have_text("Type the channel's name exactly to delete it.")
        expect(error).to_be_in_viewport()
        expect(page.locator(".flash")).to_have_count(0)
        assert_page_ok(page, viewports=(viewport,))
    assert Channel.objects.filter(pk=channel.pk).exists()


def test_the_admin_says_webhook_deliveries_and_its_channel_list_fits_1280_px(page, owner, staff):
    for i in range(3):
        make_channel(owner, name=f"A channel with quite a long name {i}", credits=50)
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("staff@example.com")
    page.get_by_label("Password").fill("pw-staff-123!")
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/")
    expect(page.get_by_role("link", name="Webhook deliveries")).to_be_visible()
    assert "deliverys" not in page.content().lower()
    page.set_viewport_size(DESKTOP)
    for path in ("/admin/channels_app/channel/", "/admin/channels_app/aimodel/"):
        page.goto(path)
        right = page.locator("#result_list").evaluate("t => t.getBoundingClientRect().right")
        visible = page.locator("#changelist-form .results").evaluate("d => d.getBoundingClientRect().right")
        assert right <= visible + 1, f"{path}: the last column is cut off ({right} > {visible})"
