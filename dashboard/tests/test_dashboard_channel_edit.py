"""/dashboard/channels/<public_id>/edit/: change settings; other owners get 404."""

from channels_app.models import Channel


def settings_form(channel, **changes):
    data = {
        "name": channel.name,
        "model": channel.model,
        "system_prompt": channel.system_prompt,
        "rate_limit_per_minute": str(channel.rate_limit_per_minute),
        "daily_limit": str(channel.daily_limit),
        "is_active": "on" if channel.is_active else "",
    }
    return {**data, **changes}


def test_it_shows_the_current_settings(owner_web, channel):
    r = owner_web.get(f"/dashboard/channels/{channel.public_id}/edit/")
    assert r.status_code == 200
    assert 'value="Test site"' in r.text
    assert 'value="openai/gpt-oss-120b" id="id_model_0" checked' in r.text


def test_it_saves_the_changes(owner_web, channel):
    r = owner_web.submit(
        f"/dashboard/channels/{channel.public_id}/edit/",
        settings_form(channel, name="Renamed", model="openai/gpt-oss-20b", daily_limit="200", is_active=""),
    )
    assert r.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.model, channel.daily_limit, channel.is_active) == (
        "Renamed",
        "openai/gpt-oss-20b",
        200,
        False,
    )


def test_it_keeps_credits_out_of_the_owners_reach(owner_web, channel):
    owner_web.submit(f"/dashboard/channels/{channel.public_id}/edit/", settings_form(channel, credits="999999"))
    channel.refresh_from_db()
    assert channel.credits == 100


def test_it_shows_validation_messages_and_saves_nothing(owner_web, channel):
    r = owner_web.submit(f"/dashboard/channels/{channel.public_id}/edit/", settings_form(channel, name="", daily_limit="0"))
    assert r.status_code == 200
    assert "Give the channel a name." in r.text
    assert "The limit must be at least 1 chat a day." in r.text
    channel.refresh_from_db()
    assert channel.name == "Test site"


def test_it_is_a_404_for_another_owner_and_changes_nothing(outsider_web, channel):
    url = f"/dashboard/channels/{channel.public_id}/edit/"
    assert outsider_web.get(url).status_code == 404
    assert outsider_web.submit(url, settings_form(channel, name="Hijacked")).status_code == 404
    assert Channel.objects.get(pk=channel.pk).name == "Test site"
