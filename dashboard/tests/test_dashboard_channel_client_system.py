"""The channel setting "Client system messages" (the OpenAI-compatible API), on the settings page."""

import openai
import pytest

from channels_app.models import Channel
from dashboard.tests.test_dashboard_channel_edit import settings_form


def test_the_settings_page_offers_it_allowed_by_default(owner_web, channel):
    r = owner_web.get(f"/dashboard/channels/{channel.public_id}/edit/")
    assert 'name="client_system_messages"' in r.text
    assert '<option value="prepend" selected>' in r.text


def test_the_owner_sets_it_and_v1_follows(owner_web, gateway_server, llm, channel, key):
    r = owner_web.submit(f"/dashboard/channels/{channel.public_id}/edit/", settings_form(channel, client_system_messages="refuse"))
    assert r.status_code == 302
    channel.refresh_from_db()
    assert channel.client_system_messages == Channel.ClientSystemMessages.REFUSE
    with openai.OpenAI(base_url=f"{gateway_server.url}/v1", api_key=key, max_retries=0) as client:
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(
                model=channel.model, messages=[{"role": "system", "content": "x"}, {"role": "user", "content": "Hi"}]
            )
    r = owner_web.submit(f"/dashboard/channels/{channel.public_id}/edit/", settings_form(channel, name="Renamed"))
    channel.refresh_from_db()
    assert (channel.name, channel.client_system_messages) == ("Renamed", "refuse")  # a form without it keeps it


def test_an_unknown_value_is_refused(owner_web, channel):
    r = owner_web.submit(f"/dashboard/channels/{channel.public_id}/edit/", settings_form(channel, client_system_messages="maybe"))
    assert r.status_code == 200 and "Select a valid choice" in r.text
    channel.refresh_from_db()
    assert channel.client_system_messages == "prepend"
