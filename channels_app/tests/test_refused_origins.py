"""The widget's settings asked for from an origin the channel does not allow: counted per origin for the owner."""

from channels_app.models import RefusedOrigin
from channels_app.refused_origins import refused_origin_record


def config(api, pk, origin):
    return api.get("/api/widget-config", params={"key": pk}, headers={"Origin": origin} if origin else {})


def test_it_counts_each_refused_origin(api, channel, widget_key):
    for _ in range(3):
        assert config(api, widget_key, "https://copy.example").json() == {"error": "Origin not allowed"}
    config(api, widget_key, "http://localhost:3000")
    assert dict(RefusedOrigin.objects.values_list("origin", "count")) == {"https://copy.example": 3, "http://localhost:3000": 1}


def test_it_counts_nothing_for_an_allowed_origin_or_none(api, channel, widget_key):
    assert config(api, widget_key, "https://shop.example").status_code == 200
    assert config(api, widget_key, None).status_code == 403
    assert not RefusedOrigin.objects.exists()


def test_it_ignores_what_no_browser_sends_and_unknown_keys(api, channel, widget_key):
    config(api, widget_key, "https://Copy.example/path")
    config(api, widget_key, "null")
    config(api, "amgpk_" + "x" * 49, "https://copy.example")
    assert not RefusedOrigin.objects.exists()


def test_it_keeps_at_most_its_cap_per_channel(channel):
    for i in range(RefusedOrigin.MAX_PER_CHANNEL + 5):
        refused_origin_record(channel=channel, origin=f"https://s{i}.example")
    assert RefusedOrigin.objects.filter(channel=channel).count() == RefusedOrigin.MAX_PER_CHANNEL
    assert refused_origin_record(channel=channel, origin="https://s0.example")  # known ones still count
