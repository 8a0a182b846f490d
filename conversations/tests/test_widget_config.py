"""GET /api/widget-config: the widget's looks, for its publishable key from an allowed origin."""

from gateway.testing.api import WIDGET_ORIGIN, cors_headers


def config(api, pk, origin=WIDGET_ORIGIN, **headers):
    return api.get("/api/widget-config", params={"key": pk} if pk else None, headers={"Origin": origin, **headers} if origin else headers)


def test_it_answers_the_channels_widget_settings_with_a_cors_grant(api, channel, widget_key):
    channel.widget_title, channel.widget_greeting, channel.widget_color = "Ask us", "Hello there", "#112233"
    channel.save()
    r = config(api, widget_key)
    assert (r.status_code, r.json()) == (200, {"title": "Ask us", "greeting": "Hello there", "color": "#112233"})
    assert cors_headers(r)["access-control-allow-origin"] == WIDGET_ORIGIN


def test_it_refuses_another_origin(api, widget_key):
    for origin in (None, "https://evil.example"):
        r = config(api, widget_key, origin=origin)
        assert (r.status_code, r.json()) == (403, {"error": "Origin not allowed"})
        assert cors_headers(r) == {}


def test_it_refuses_a_secret_key(api, key):
    r = config(api, None, **{"X-API-Key": key})
    assert (r.status_code, r.json()) == (403, {"error": "This endpoint takes a publishable key"})
    assert cors_headers(r) == {}
    assert config(api, key).status_code == 401


def test_it_handles_missing_and_wrong_keys(api, widget_key):
    assert config(api, None).json() == {"error": "Missing API key"}
    assert config(api, "amgpk_wrong").json() == {"error": "Invalid API key"}


def test_an_inactive_channel_says_so_readably(api, channel, widget_key):
    channel.is_active = False
    channel.save()
    r = config(api, widget_key)
    assert (r.status_code, r.json()) == (403, {"error": "Site is inactive"})
    assert cors_headers(r)["access-control-allow-origin"] == WIDGET_ORIGIN


def test_it_is_not_in_the_public_schema(api):
    assert "/api/widget-config" not in api.get("/api/schema/", params={"format": "json"}).json()["paths"]
