"""Demo mode is visible: while LLM_API_KEY is empty, every dashboard page says no model is connected."""

import pytest

BANNER = "Demo mode: no AI model is connected."


def _pages(channel):
    base = f"/dashboard/channels/{channel.public_id}"
    return ["/dashboard/", "/dashboard/channels/new/", f"{base}/", f"{base}/edit/", f"{base}/integrate/",
            f"{base}/widget/", f"{base}/conversations/", f"{base}/usage/"]


def test_it_shows_the_banner_on_every_dashboard_page_without_a_provider_key(owner_web, channel, settings):
    settings.LLM_API_KEY = ""
    for path in _pages(channel):
        r = owner_web.get(path)
        assert r.status_code == 200, path
        assert BANNER in r.text, path


def test_it_shows_no_banner_once_a_provider_is_connected(owner_web, channel, llm):
    for path in _pages(channel):
        r = owner_web.get(path)
        assert r.status_code == 200, path
        assert BANNER not in r.text, path


@pytest.mark.parametrize("path", ["/", "/accounts/login/"])
def test_it_shows_no_banner_to_visitors_who_are_not_logged_in(web, path, settings):
    settings.LLM_API_KEY = ""
    r = web.get(path)
    assert r.status_code == 200
    assert BANNER not in r.text
