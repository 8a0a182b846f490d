"""/dashboard/org/<id>/usage/: the organisation's channels summed; limits and credits stay per channel."""

import re

from conftest import make_channel
from gateway.testing.api import chat
from teams import services


def _total(html: str, name: str) -> str:
    return re.search(rf'data-total="{name}">([^<]*)<', html).group(1)


def test_it_sums_answered_chats_and_credits_over_the_organisations_channels_only(api, llm, owner, owner_web, outsider):
    first, first_key = make_channel(owner, name="Shop", credits=10)
    second, second_key = make_channel(owner, name="Blog", credits=5)
    other, other_key = make_channel(outsider, name="Elsewhere", credits=10)
    for key, n in ((first_key, 2), (second_key, 1), (other_key, 3)):
        for i in range(n):
            assert chat(api, key.plaintext, "Hi", session_id=f"s{i}").status_code == 200
    org = first.organisation
    assert second.organisation == org and other.organisation != org

    page = owner_web.get(f"/dashboard/org/{org.public_id}/usage/")
    assert page.status_code == 200
    assert _total(page.text, "answered") == "3"
    assert _total(page.text, "credits") == str(10 - 2 + 5 - 1)  # each channel spent its own credits
    assert "Shop" in page.text and "Blog" in page.text and "Elsewhere" not in page.text


def test_an_analyst_sees_it_and_a_developer_does_not(owner, channel, gateway_server):
    from accounts.testing import WebClient
    from teams.tests.worlds import make_user

    org = channel.organisation
    for role, status in (("analyst", 200), ("developer", 403)):
        user = make_user(f"{role}@example.com")
        services.membership_add(organisation=org, user=user, role=role, actor=owner)
        with WebClient(base_url=gateway_server.url) as web:
            web.force_login(user)
            assert web.get(f"/dashboard/org/{org.public_id}/usage/").status_code == status


def test_it_writes_numbers_and_money_as_a_channels_usage_page_does_and_draws_its_charts(owner, owner_web):
    from django.utils import timezone

    from conversations.models import Message, Session
    from gateway.testing.rollups import rebuild_all_usage

    first, _ = make_channel(owner, name="Shop", credits=1500)
    second, _ = make_channel(owner, name="Blog", credits=0)
    at = timezone.now()
    for channel in (first, second):
        session = Session.objects.create(channel=channel, session_id="s", started_at=at, expires_at=at)
        Message.objects.bulk_create(
            Message(session=session, role="assistant", content="a", created_at=at, latency_ms=300,
                    prompt_tokens=400, completion_tokens=108)
            for _ in range(2)
        )
    rebuild_all_usage()  # stored straight through the ORM, not the chat store
    org = first.organisation

    page = owner_web.get(f"/dashboard/org/{org.public_id}/usage/").text
    assert _total(page, "answered") == "4"
    assert _total(page, "tokens") == "2,032"
    assert _total(page, "cost") == "$0.00"
    assert _total(page, "credits") == "1,500"
    assert _total(page, "latency") == "300 ms"
    for chart in ("requests", "tokens", "failed", "latency"):
        assert f'data-chart="{chart}"' in page
    row = page.split(f'data-channel="{first.public_id}"')[1].split("</tr>")[0]
    assert ">1,016<" in row and ">$0.00<" in row and ">1,500<" in row

    week = owner_web.get(f"/dashboard/org/{org.public_id}/usage/?days=7").text
    assert 'aria-current="page" class="active" href="?days=7"' in week
