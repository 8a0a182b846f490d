"""A new owner with two channels moves credits to the second one without staff, in Chromium at 1280 px and
390 px: from the empty channel's card to the organisation's Credits tab, the channel already chosen."""

from playwright.sync_api import expect

from conftest import make_channel
from e2e.checks import MOBILE, assert_page_ok
from e2e.steps import log_in


def test_an_owner_moves_credits_to_an_empty_second_channel(page, owner):
    from channels_app.models import Channel

    first, _ = make_channel(owner, name="Mug shop", credits=100)
    second, _ = make_channel(owner, name="Tea shop", credits=0)
    log_in(page, land=False)
    page.goto("/dashboard/")
    page.locator(f'article[data-channel="{second.public_id}"]').get_by_role("link", name="move credits").click()
    expect(page.get_by_label("To")).to_have_value(str(second.public_id))
    assert_page_ok(page)
    page.get_by_label("From").select_option(str(first.public_id))
    page.get_by_label("Credits", exact=True).fill("30")
    page.get_by_role("button", name="Move credits").click()
    expect(page.get_by_text("Moved 30 credits to “Tea shop”: it has 30 now.")).to_be_visible()
    expect(page.locator(f'tr[data-channel="{second.public_id}"] [data-credits]')).to_have_text("30")
    expect(page.locator(f'tr[data-channel="{first.public_id}"] [data-credits]')).to_have_text("70")
    assert_page_ok(page)

    page.set_viewport_size(MOBILE)  # again on a phone, through the organisation menu
    page.goto("/dashboard/")
    page.locator("[data-org-menu] summary").click()
    page.get_by_role("link", name="Credits", exact=True).click()
    page.get_by_label("From").select_option(str(first.public_id))
    page.get_by_label("To").select_option(str(second.public_id))
    page.get_by_label("Credits", exact=True).fill("5")
    page.get_by_role("button", name="Move credits").click()
    expect(page.get_by_text("Moved 5 credits to “Tea shop”: it has 35 now.")).to_be_visible()
    assert_page_ok(page, viewports=(MOBILE,))
    assert (Channel.objects.get(pk=first.pk).credits, Channel.objects.get(pk=second.pk).credits) == (65, 35)

    page.get_by_label("From").select_option(str(second.public_id))
    page.get_by_label("To").select_option("organisation")
    page.get_by_label("Credits", exact=True).fill("36")
    page.get_by_role("button", name="Move credits").click()
    expect(page.get_by_role("alert")).to_contain_text("“Tea shop” has 35 credits: it cannot give 36.")
    assert_page_ok(page)
    assert Channel.objects.get(pk=second.pk).credits == 35


def test_an_owner_lets_a_channel_spend_the_organisations_credits(page, owner, staff):
    from channels_app.models import Channel
    from teams.credits import organisation_credits_grant

    channel, _ = make_channel(owner, name="Tea shop", credits=0)
    organisation_credits_grant(organisation=channel.organisation, amount=40, staff=staff)
    log_in(page, land=False)
    page.set_viewport_size(MOBILE)
    page.goto(f"/dashboard/org/{channel.organisation.public_id}/credits/")
    assert_page_ok(page)
    page.get_by_role("button", name="Spend the organisation's credits: Tea shop").click()
    expect(page.get_by_text("“Tea shop” now spends the organisation's credits.")).to_be_visible()
    expect(page.locator(f'tr[data-channel="{channel.public_id}"] [data-draws]')).to_have_attribute("data-draws", "on")
    assert_page_ok(page)
    assert Channel.objects.get(pk=channel.pk).draws_from_organisation
    page.goto("/dashboard/")
    card = page.locator(f'article[data-channel="{channel.public_id}"]')
    expect(card.locator("[data-draws]")).to_have_text("(the organisation's)")
    expect(card).to_contain_text("40")
    expect(card.get_by_text("Out of credits")).to_have_count(0)
    assert_page_ok(page)
