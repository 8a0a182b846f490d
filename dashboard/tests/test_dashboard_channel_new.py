"""/dashboard/channels/new/: the model picker, validation, and the first key."""

from channels_app.models import ApiKey, Channel
from channels_app.providers import catalog

VALID = {
    "name": "Shop",
    "model": "openai/gpt-oss-20b",
    "system_prompt": "You help shoppers.",
    "rate_limit_per_minute": "30",
    "daily_limit": "500",
    "is_active": "on",
}


def test_it_requires_login(web):
    r = web.get("/dashboard/channels/new/")
    assert r.status_code == 302 and "/accounts/login/" in r.headers["location"]


def test_it_shows_the_catalog_as_the_contract_does(owner_web):
    r = owner_web.get("/dashboard/channels/new/")
    assert r.status_code == 200
    models = catalog.pickable()  # the catalog in the database: Groq's two live models (the old ids are retired)
    assert [m.id for m in models] == ["openai/gpt-oss-120b", "openai/gpt-oss-20b"]
    for model in models:
        assert model.name in r.text and model.id in r.text and model.speed in r.text and model.best_for in r.text
    # Prices as Groq publishes them, the 20B's third digit kept (not rounded to $0.08).
    assert "$0.15 / $0.60" in r.text and "$0.075 / $0.30" in r.text
    for cell in ("<td>128K</td>", "<td>64K</td>"):
        assert cell in r.text
    assert "llama-3.3-70b-versatile" not in r.text
    assert 'value="openai/gpt-oss-120b" id="id_model_0" checked' in r.text
    assert 'name="rate_limit_per_minute" value="60"' in r.text and 'name="daily_limit" value="1000"' in r.text


def test_it_creates_the_channel_with_its_first_key(owner_web, owner):
    r = owner_web.submit("/dashboard/channels/new/", VALID)
    channel = Channel.objects.get(owner=owner)
    assert r.status_code == 302
    assert r.headers["location"] == f"/dashboard/channels/{channel.public_id}/"
    assert (channel.name, channel.model, channel.system_prompt) == ("Shop", "openai/gpt-oss-20b", "You help shoppers.")
    assert (channel.rate_limit_per_minute, channel.daily_limit, channel.is_active) == (30, 500, True)
    assert ApiKey.objects.filter(channel=channel, revoked_at__isnull=True).count() == 1
    page = owner_web.get(r.headers["location"]).text
    assert "is ready, with its first API key" in page


def test_it_creates_an_inactive_channel_when_the_switch_is_off(owner_web, owner):
    owner_web.submit("/dashboard/channels/new/", {**VALID, "is_active": ""})
    assert Channel.objects.get(owner=owner).is_active is False


def test_it_rejects_a_blank_name_with_a_clear_message(owner_web, owner):
    r = owner_web.submit("/dashboard/channels/new/", {**VALID, "name": "   "})
    assert r.status_code == 200
    assert "Give the channel a name." in r.text
    assert not Channel.objects.exists()


def test_it_rejects_an_unknown_model(owner_web):
    r = owner_web.submit("/dashboard/channels/new/", {**VALID, "model": "gpt-5"})
    assert "Choose one of the models in the list." in r.text
    assert not Channel.objects.exists()


def test_it_rejects_limits_out_of_range(owner_web):
    r = owner_web.submit("/dashboard/channels/new/", {**VALID, "rate_limit_per_minute": "0", "daily_limit": "99999999"})
    assert "The limit must be at least 1 request a minute." in r.text
    assert "The limit can be at most 10,000,000 chat a day." in r.text
    assert not Channel.objects.exists()


def test_it_rejects_a_non_number_limit(owner_web):
    r = owner_web.submit("/dashboard/channels/new/", {**VALID, "daily_limit": "lots"})
    assert "Enter a whole number." in r.text


def test_it_rejects_a_per_minute_limit_above_the_daily_limit(owner_web):
    r = owner_web.submit("/dashboard/channels/new/", {**VALID, "rate_limit_per_minute": "100", "daily_limit": "50"})
    assert "The per-minute limit cannot be higher than the daily limit." in r.text


def test_it_rejects_a_too_long_system_prompt(owner_web):
    r = owner_web.submit("/dashboard/channels/new/", {**VALID, "system_prompt": "x" * 8001})
    assert "Keep the system prompt to 8,000 characters" in r.text


def test_it_rejects_a_post_without_csrf_token(owner_web):
    owner_web.get("/dashboard/channels/new/")
    r = owner_web.post("/dashboard/channels/new/", data=VALID)
    assert r.status_code == 403
    assert not Channel.objects.exists()
