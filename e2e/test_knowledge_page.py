"""The Knowledge page and a transcript with sources in Chromium: at 1280 px and 390 px, no sideways scroll, axe clean."""

from playwright.sync_api import expect

from conftest import make_channel
from e2e.checks import assert_page_ok
from e2e.steps import log_in
from gateway.testing.api import chat
from gateway.testing.waiting import wait_until
from knowledge import services
from knowledge.models import Source
from knowledge.testing import pdf_bytes


def test_the_knowledge_page_fits_passes_axe_and_adds_a_qa_pair_from_an_unanswered_question(page, api, llm, owner):
    channel, issued = make_channel(owner, name="Mug shop", credits=50)
    services.source_add_text(channel=channel, title="Opening hours and a rather long title " * 3,
                             text="We are open from nine to five. " * 80)
    services.source_add_file(channel=channel, name="locked-manual-with-a-long-file-name.pdf",
                             data=pdf_bytes(["secret"], password="pw"))
    services.source_add_site(channel=channel, url="http://127.0.0.1:9/" + "a-very-long-path-segment/" * 8)
    assert wait_until(lambda: not Source.objects.filter(status__in=["pending", "processing"]).exists(), 30)
    assert chat(api, issued.plaintext, "When are you open?", session_id="visitor-1").json()["sources"]
    assert chat(api, issued.plaintext, "Do you sell umbrellas?", session_id="visitor-2").json()["sources"] == []

    log_in(page, land=False)
    base = f"/dashboard/channels/{channel.public_id}"
    page.goto(f"{base}/knowledge/")
    expect(page.locator("[data-status]")).to_have_count(3)
    expect(page.locator("[data-error]").first).to_be_visible()
    page.get_by_text("Preview of the extracted text").first.click()
    assert_page_ok(page)

    page.get_by_label("Your answer").fill("No, only mugs.")
    page.get_by_role("button", name="Add as Q&A pair").click()
    expect(page.get_by_role("status").or_(page.locator(".alert")).first).to_contain_text("Added")
    expect(page.locator("[data-unanswered]")).to_have_count(0)
    assert_page_ok(page)

    page.goto(f"{base}/conversations/1/visitor-1")
    expect(page.locator("[data-sources]")).to_contain_text("Sources given:")
    assert_page_ok(page)
