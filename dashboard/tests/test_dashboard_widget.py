"""/dashboard/channels/<public_id>/widget/: origins, looks, visitor limits, the publishable key and its snippet."""

import datetime as dt
import html

import pytest
from django.utils import timezone

from channels_app.models import Channel, PublishableKey
from channels_app.selectors import publishable_key_current
from channels_app.services import channel_set_allowed_origins, publishable_key_issue


def _url(channel, action=""):
    return f"/dashboard/channels/{channel.public_id}/widget/{action}"


def _settings(channel, **changes):
    data = {
        "widget_title": channel.widget_title,
        "widget_greeting": channel.widget_greeting,
        "widget_color": channel.widget_color,
        "visitor_rate_limit_per_minute": str(channel.visitor_rate_limit_per_minute),
        "visitor_daily_limit": str(channel.visitor_daily_limit),
        "visitor_ip_daily_limit": str(channel.visitor_ip_daily_limit),
        "visitor_ip_rate_limit_per_minute": str(channel.visitor_ip_rate_limit_per_minute),
        "widget_share_percent": str(channel.widget_share_percent),
    }
    if channel.widget_pow_required:  # a checkbox: sent only when ticked
        data["widget_pow_required"] = "on"
    return {**data, **changes}


# --- The page ---


def test_it_shows_the_key_in_full_and_the_embed_snippet(owner_web, channel, widget_key, gateway_server):
    r = owner_web.get(_url(channel))
    assert r.status_code == 200
    page = html.unescape(r.text)
    assert f'<code class="key revealed" id="publishable-key">{widget_key}</code>' in r.text
    assert f'<script src="{gateway_server.url}/static/widget.js" data-key="{widget_key}" async></script>' in page
    assert "https://shop.example" in page
    assert "works nowhere until you add" not in page
    assert 'href="/dashboard/channels/%s/widget/" class="active">Widget</a>' % channel.public_id in r.text


def test_it_never_shows_a_secret_key(owner_web, channel_and_key, widget_key):
    channel, issued = channel_and_key
    r = owner_web.get(_url(channel))
    assert issued.plaintext not in r.text
    assert "amgai_" not in r.text  # no secret key at all, not even masked
    assert "/reveal/" not in r.text


def test_it_says_the_widget_works_nowhere_without_origins(owner_web, channel):
    r = owner_web.get(_url(channel))
    assert "the widget works nowhere until you add your site's origin" in r.text
    assert "Create publishable key" in r.text
    assert "data-key=" not in html.unescape(r.text)


def test_it_sends_anonymous_visitors_to_the_login_page(web, channel):
    r = web.get(_url(channel))
    assert r.status_code == 302
    assert r.headers["location"].startswith("/accounts/login/")


def test_it_is_a_404_for_another_owner(outsider_web, channel, widget_key):
    r = outsider_web.get(_url(channel))
    assert r.status_code == 404
    assert widget_key not in r.text


def test_it_has_the_preview_with_the_channels_looks(owner_web, channel):
    channel.widget_title, channel.widget_greeting, channel.widget_color = "Ask us", "Hello <b>there</b>", "#ff0066"
    channel.save()
    r = owner_web.get(_url(channel))
    assert 'data-widget-preview data-color="#ff0066"' in r.text
    assert "<span class=\"wp-title\" data-wp-title>Ask us</span>" in r.text
    assert "Hello &lt;b&gt;there&lt;/b&gt;" in r.text
    assert "/static/js/widget_settings.js" in r.text
    assert owner_web.get("/static/js/widget_settings.js").status_code == 200


# --- Allowed origins ---


def test_it_saves_the_origins_normalised(owner_web, channel):
    text = "HTTPS://Shop.Example:443/\n\n  http://localhost:8000  \nhttps://bücher.example\nhttps://shop.example\n"
    r = owner_web.submit(_url(channel, "origins/"), {"allowed_origins": text}, follow_redirects=True)
    assert r.status_code == 200
    channel.refresh_from_db()
    assert channel.allowed_origins == ["https://shop.example", "http://localhost:8000", "https://xn--bcher-kva.example"]
    assert "Allowed origins saved: the widget works on 3 sites." in r.text
    assert "<li><code>https://xn--bcher-kva.example</code></li>" in r.text
    assert "https://shop.example\nhttp://localhost:8000\nhttps://xn--bcher-kva.example</textarea>" in r.text


def test_it_refuses_bad_origins_with_a_message_each_and_changes_nothing(owner_web, channel):
    channel_set_allowed_origins(channel=channel, allowed_origins=["https://shop.example"])
    text = "https://ok.example\nhttps://*.example.com\nhttps://shop.example/path\nnull\nftp://files.example"
    r = owner_web.submit(_url(channel, "origins/"), {"allowed_origins": text})
    assert r.status_code == 200
    page = html.unescape(r.text)
    assert "Line 2: https://*.example.com: give an exact host (wildcards are not allowed)." in page
    assert "Line 3: https://shop.example/path: an origin has no path, query or fragment." in page
    assert "Line 4: null: an origin is http:// or https:// followed by a host" in page
    assert "Line 5: ftp://files.example: an origin is http:// or https://" in page
    assert "Line 1" not in page
    assert "ftp://files.example</textarea>" in page  # the owner's input is kept to fix
    channel.refresh_from_db()
    assert channel.allowed_origins == ["https://shop.example"]


def test_it_refuses_more_than_twenty_origins(owner_web, channel):
    text = "\n".join(f"https://site{n}.example" for n in range(21))
    r = owner_web.submit(_url(channel, "origins/"), {"allowed_origins": text})
    assert "At most 20 allowed origins (there are 21)." in r.text
    assert Channel.objects.get(pk=channel.pk).allowed_origins == []


def test_it_clears_the_origins(owner_web, channel):
    channel_set_allowed_origins(channel=channel, allowed_origins=["https://shop.example"])
    r = owner_web.submit(_url(channel, "origins/"), {"allowed_origins": "  \n"}, follow_redirects=True)
    assert "the widget now works nowhere" in r.text
    assert Channel.objects.get(pk=channel.pk).allowed_origins == []


def test_origins_are_a_404_for_another_owner_and_change_nothing(outsider_web, channel):
    r = outsider_web.submit(_url(channel, "origins/"), {"allowed_origins": "https://evil.example"})
    assert r.status_code == 404
    assert Channel.objects.get(pk=channel.pk).allowed_origins == []


def test_origins_need_the_csrf_token(owner_web, channel):
    assert owner_web.post(_url(channel, "origins/"), data={"allowed_origins": "https://a.example"}).status_code == 403
    assert Channel.objects.get(pk=channel.pk).allowed_origins == []


# --- Looks and visitor limits ---


def test_it_saves_the_widget_settings(owner_web, channel, api, widget_key):
    changes = _settings(
        channel,
        widget_title="  Ask Ada ",
        widget_greeting="Hello!",
        widget_color="#FF0066",
        visitor_rate_limit_per_minute="5",
        visitor_daily_limit="20",
        visitor_ip_daily_limit="80",
    )
    r = owner_web.submit(_url(channel, "settings/"), changes, follow_redirects=True)
    assert "Widget settings saved." in r.text
    channel.refresh_from_db()
    assert (channel.widget_title, channel.widget_greeting, channel.widget_color) == ("Ask Ada", "Hello!", "#ff0066")
    assert (channel.visitor_rate_limit_per_minute, channel.visitor_daily_limit, channel.visitor_ip_daily_limit) == (5, 20, 80)
    config = api.get(f"/api/widget-config?key={widget_key}", headers={"Origin": "https://shop.example"})
    assert config.json() == {"title": "Ask Ada", "greeting": "Hello!", "color": "#ff0066"}


def test_it_saves_the_widget_share_and_the_proof_of_work_switch(owner_web, channel, api, widget_key):
    page = owner_web.get(_url(channel)).text
    assert 'name="widget_share_percent" value="20"' in page and 'name="widget_pow_required"' in page
    changes = _settings(channel, widget_share_percent="35", visitor_ip_rate_limit_per_minute="7", widget_pow_required="on")
    r = owner_web.submit(_url(channel, "settings/"), changes, follow_redirects=True)
    assert "Widget settings saved." in r.text
    channel.refresh_from_db()
    assert (channel.widget_share_percent, channel.visitor_ip_rate_limit_per_minute, channel.widget_pow_required) == (35, 7, True)
    config = api.get(f"/api/widget-config?key={widget_key}", headers={"Origin": "https://shop.example"})
    assert config.json()["pow_required"] is True
    owner_web.submit(_url(channel, "settings/"), {k: v for k, v in _settings(channel).items() if k != "widget_pow_required"})
    channel.refresh_from_db()
    assert channel.widget_pow_required is False


@pytest.mark.parametrize("share, error", [("0", "The share must be at least 1 percent."), ("101", "The share can be at most 100 percent."),
                                          ("", "Set a share from 1 to 100 percent.")])
def test_it_refuses_a_share_out_of_range_and_saves_nothing(owner_web, channel, share, error):
    r = owner_web.submit(_url(channel, "settings/"), _settings(channel, widget_share_percent=share, widget_title="New"))
    assert r.status_code == 200 and error in html.unescape(r.text)
    channel.refresh_from_db()
    assert (channel.widget_share_percent, channel.widget_title) == (20, "Chat with us")


def test_it_shows_setting_errors_and_saves_nothing(owner_web, channel):
    changes = _settings(channel, widget_title=" ", widget_color="red", visitor_daily_limit="0", widget_greeting="x" * 301)
    r = owner_web.submit(_url(channel, "settings/"), changes)
    assert r.status_code == 200
    assert "Give the widget a title." in r.text
    assert "Give a colour as #rrggbb." in r.text
    assert "The limit must be at least 1 chat a day." in r.text
    assert "Keep the greeting to 300 characters (it has 301)." in r.text
    fresh = Channel.objects.get(pk=channel.pk)
    assert (fresh.widget_title, fresh.widget_color, fresh.visitor_daily_limit) == ("Chat with us", "#2563eb", 50)


def test_settings_are_a_404_for_another_owner_and_change_nothing(outsider_web, channel):
    r = outsider_web.submit(_url(channel, "settings/"), _settings(channel, widget_title="Hijacked"))
    assert r.status_code == 404
    assert Channel.objects.get(pk=channel.pk).widget_title == "Chat with us"


# --- The publishable key ---


def test_it_creates_a_publishable_key(owner_web, channel, gateway_server):
    r = owner_web.submit(_url(channel, "key/create/"), follow_redirects=True)
    assert "Publishable key created." in r.text
    created = publishable_key_current(channel=channel)
    assert created is not None and created.key.startswith("amgpk_")
    assert f'data-key="{created.key}"' in html.unescape(r.text)


def test_creating_twice_keeps_the_first_key(owner_web, channel, widget_key):
    r = owner_web.submit(_url(channel, "key/create/"), follow_redirects=True)
    assert "already has a publishable key" in r.text
    assert publishable_key_current(channel=channel).key == widget_key
    assert channel.publishable_keys.count() == 1


@pytest.mark.parametrize("grace, lasts", [("none", dt.timedelta(0)), ("1h", dt.timedelta(hours=1)), ("24h", dt.timedelta(hours=24))])
def test_it_rotates_with_the_chosen_grace(owner_web, channel, widget_key, grace, lasts):
    before = timezone.now()
    r = owner_web.submit(_url(channel, "key/rotate/"), {"grace": grace}, follow_redirects=True)
    assert r.status_code == 200
    new = publishable_key_current(channel=channel)
    assert new.key != widget_key
    old = PublishableKey.objects.get(key=widget_key)
    assert before + lasts - dt.timedelta(seconds=5) <= old.revoked_at <= timezone.now() + lasts
    page = html.unescape(r.text)
    assert f'data-key="{new.key}"' in page
    assert (widget_key in page) == (grace != "none")  # a key in its grace period is listed, with Revoke


def test_it_refuses_an_unknown_grace(owner_web, channel, widget_key):
    r = owner_web.submit(_url(channel, "key/rotate/"), {"grace": "1y"}, follow_redirects=True)
    assert "Choose how long the current key keeps working" in r.text
    assert publishable_key_current(channel=channel).key == widget_key


def test_it_revokes_a_key(owner_web, channel, widget_key):
    current = publishable_key_current(channel=channel)
    r = owner_web.submit(_url(channel, f"key/{current.public_id}/revoke/"), follow_redirects=True)
    assert "Publishable key revoked" in r.text
    assert not PublishableKey.objects.get(pk=current.pk).is_usable()
    assert "Create publishable key" in r.text
    assert 'data-confirm="Revoke this publishable key?' not in r.text


def test_the_revoke_form_asks_for_confirmation(owner_web, channel, widget_key):
    r = owner_web.get(_url(channel))
    assert 'data-confirm="Revoke this publishable key? Widgets embedding it stop working at once."' in r.text


def test_it_revokes_a_key_in_its_grace_period(owner_web, channel, widget_key):
    owner_web.submit(_url(channel, "key/rotate/"), {"grace": "24h"})
    old = PublishableKey.objects.get(key=widget_key)
    assert old.is_usable()
    owner_web.submit(_url(channel, f"key/{old.public_id}/revoke/"))
    assert not PublishableKey.objects.get(pk=old.pk).is_usable()
    assert publishable_key_current(channel=channel).is_usable()


def test_key_actions_are_a_404_for_another_owner(outsider_web, channel, widget_key):
    current = publishable_key_current(channel=channel)
    assert outsider_web.submit(_url(channel, "key/create/")).status_code == 404
    assert outsider_web.submit(_url(channel, "key/rotate/"), {"grace": "none"}).status_code == 404
    assert outsider_web.submit(_url(channel, f"key/{current.public_id}/revoke/")).status_code == 404
    assert list(channel.publishable_keys.values_list("key", "revoked_at")) == [(widget_key, None)]


def test_a_key_of_another_channel_is_a_404_in_the_owners_own_url(owner_web, channel, other_channel_and_key):
    other_channel, _ = other_channel_and_key
    foreign = publishable_key_issue(channel=other_channel)
    r = owner_web.submit(_url(channel, f"key/{foreign.public_id}/revoke/"))
    assert r.status_code == 404
    assert PublishableKey.objects.get(pk=foreign.pk).revoked_at is None


def test_key_actions_need_the_csrf_token(owner_web, channel):
    assert owner_web.post(_url(channel, "key/create/")).status_code == 403
    assert not channel.publishable_keys.exists()
