"""The model catalog in the database: providers staff add in the admin, retirements, owners' choices, reply length.

Everything through real HTTP: the admin's forms and actions, the owner's
dashboard, the API, and two real OpenAI-compatible servers on loopback (the
environment's provider and a second one staff configure).
"""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from channels_app.models import Channel
from channels_app.providers import catalog
from channels_app.providers.catalog_models import AiModel, OwnerNotice, Provider
from conversations.models import Message
from gateway.testing.api import chat

SECOND_KEY = "sk-second-provider-key-abcdefghij0123"
ROTATED_KEY = "sk-rotated-provider-key-klmnopqrst4567"


@pytest.fixture
def second(second_llm_server):
    second_llm_server.app.reset()
    return second_llm_server


def _active(slug: str) -> AiModel:
    """A retired seed model brought back as active (the seed has only two live ones; these tests need more)."""
    AiModel.objects.filter(slug=slug).update(status="active", replacement=None)
    catalog.forget()
    return AiModel.objects.get(slug=slug)


def _add_provider_in_admin(staff_web, url: str) -> Provider:
    r = staff_web.submit("/admin/channels_app/provider/add/", {
        "name": "vLLM in-house", "base_url": url, "enabled": "on", "new_key": SECOND_KEY,
        "connect_timeout": "", "read_timeout": "", "total_timeout": "",
    })
    assert r.status_code == 302, r.text
    return Provider.objects.get(name="vLLM in-house")


def _add_model_in_admin(staff_web, provider: Provider) -> AiModel:
    r = staff_web.submit("/admin/channels_app/aimodel/add/", {
        "slug": "llama-3.3-70b-inhouse", "name": "Llama 3.3 70B (in-house)", "provider": str(provider.pk),
        "upstream_id": "meta-llama/Llama-3.3-70B-Instruct", "position": "5", "context_window": "131072",
        "max_output": "4096", "input_price": "0.10", "output_price": "0.30", "speed": "", "best_for": "",
        "status": "active", "retires_on": "", "replacement": "", "reasoning_effort": "low",
    })
    assert r.status_code == 302, r.text
    return AiModel.objects.get(slug="llama-3.3-70b-inhouse")


def test_the_seed_is_groqs_current_models_and_the_old_ids_retired_to_their_replacements(db):
    environment = Provider.objects.get(from_environment=True)
    models = list(AiModel.objects.order_by("position", "slug"))
    assert [(m.slug, m.status, m.replacement.slug if m.replacement else None) for m in models] == [
        ("openai/gpt-oss-120b", "active", None),
        ("openai/gpt-oss-20b", "active", None),
        ("llama-3.3-70b-versatile", "retired", "openai/gpt-oss-120b"),
        ("llama-3.1-8b-instant", "retired", "openai/gpt-oss-20b"),
        ("llama-3.1-70b-versatile", "retired", "openai/gpt-oss-120b"),
        ("llama-3.2-90b-text-preview", "retired", "openai/gpt-oss-120b"),
        ("mixtral-8x7b-32768", "retired", "openai/gpt-oss-120b"),
        ("gemma2-9b-it", "retired", "openai/gpt-oss-20b"),
    ]
    assert all(m.provider == environment and m.input_price > 0 for m in models)
    big = AiModel.objects.get(slug="openai/gpt-oss-120b")
    assert (big.context_window, big.max_output, big.input_price, big.output_price) == (
        131_072, 65_536, Decimal("0.15"), Decimal("0.60")
    )
    assert big.supports_reasoning and big.supports_tools and big.supports_json_schema and not big.supports_vision
    assert Channel._meta.get_field("model").default == catalog.default_model_id() == "openai/gpt-oss-120b"
    # Every old id still serves: through its replacement.
    snap = catalog.snapshot()
    assert snap.serving("llama-3.3-70b-versatile").id == "openai/gpt-oss-120b"
    assert snap.serving("gemma2-9b-it").id == "openai/gpt-oss-20b"


def test_a_second_provider_from_the_admin_serves_a_model_under_its_own_id(
    staff_web, owner_web, api, llm, second, channel, key
):
    provider = _add_provider_in_admin(staff_web, f"{second.url}/v1")
    # Sealed at rest, shown nowhere: not in the row, not on the admin's pages.
    stored = Provider.objects.get(pk=provider.pk)
    assert SECOND_KEY.encode() not in bytes(stored.key_ciphertext) and stored.key_hint == SECOND_KEY[-4:]
    for page in ("/admin/channels_app/provider/", f"/admin/channels_app/provider/{provider.pk}/change/"):
        assert SECOND_KEY not in staff_web.get(page).text
    model = _add_model_in_admin(staff_web, provider)

    # The owner picks it on the dashboard; chats go to the second provider, under its id, with its key.
    r = owner_web.submit(f"/dashboard/channels/{channel.public_id}/edit/", {
        "name": channel.name, "model": model.slug, "system_prompt": "", "rate_limit_per_minute": "60",
        "daily_limit": "1000", "is_active": "on", "max_reply_tokens": "700",
    })
    assert r.status_code == 302, r.text
    assert chat(api, key, "Hi").status_code == 200
    sent = second.app.requests[-1]
    assert sent["json"]["model"] == "meta-llama/Llama-3.3-70B-Instruct" and sent["json"]["max_tokens"] == 700
    assert sent["headers"]["authorization"] == f"Bearer {SECOND_KEY}"
    assert llm.requests == []  # the environment's provider saw nothing
    reply = Message.objects.get(role="assistant")
    assert reply.model == model.slug and reply.cost == Decimal("0.0000032000")  # (11 × 0.10 + 7 × 0.30) / 1M

    # Rotating the key in the admin: the next chat uses the new one, at once.
    r = staff_web.submit(f"/admin/channels_app/provider/{provider.pk}/change/", {
        "name": provider.name, "base_url": f"{second.url}/v1", "enabled": "on", "new_key": ROTATED_KEY,
        "connect_timeout": "", "read_timeout": "", "total_timeout": "",
    })
    assert r.status_code == 302, r.text
    assert chat(api, key, "Again").status_code == 200
    assert second.app.requests[-1]["headers"]["authorization"] == f"Bearer {ROTATED_KEY}"

    # Disabled: its chats fail with the contract's error, the credit is kept.
    Provider.objects.filter(pk=provider.pk).update(enabled=False)
    catalog.forget()
    before = Channel.objects.get(pk=channel.pk).credits
    assert chat(api, key, "Off?").status_code == 500
    assert Channel.objects.get(pk=channel.pk).credits == before


@pytest.mark.django_db(transaction=True)  # the e-mail job's thread reads with a connection of its own
def test_retiring_a_model_moves_its_channels_and_tells_each_owner(
    staff_web, owner_web, outsider_web, api, llm, channel, key, mailbox
):
    channel.fallback_model = "openai/gpt-oss-20b"
    channel.save()
    old = AiModel.objects.get(slug=channel.model)
    replacement = _active("mixtral-8x7b-32768")
    AiModel.objects.filter(pk=old.pk).update(replacement=replacement)

    r = staff_web.submit("/admin/channels_app/aimodel/", {"action": "retire", "_selected_action": [str(old.pk)]})
    assert r.status_code == 302
    channel.refresh_from_db()
    assert (channel.model, channel.fallback_model) == ("mixtral-8x7b-32768", "openai/gpt-oss-20b")
    assert AiModel.objects.get(pk=old.pk).status == "retired"

    # The next chat needs no owner action: it goes to the replacement.
    assert chat(api, key, "Still there?").status_code == 200
    assert llm.requests[-1]["json"]["model"] == "mixtral-8x7b-32768"
    # A notice on the dashboard and an e-mail.
    page = owner_web.get("/dashboard/").text
    assert "was retired" in page and "Mixtral 8x7B" in page
    mail = mailbox.wait_for("owner@example.com")[0]
    assert "retired" in mail.get_content() and channel.name in mail.get_content()
    # Dismissed by its owner only: another owner gets 404 and the notice stays.
    notice = OwnerNotice.objects.get()
    assert outsider_web.submit(f"/notices/{notice.pk}/dismiss/").status_code == 404
    assert OwnerNotice.objects.get().dismissed_at is None
    assert owner_web.submit(f"/notices/{notice.pk}/dismiss/").status_code == 302
    assert "was retired" not in owner_web.get("/dashboard/").text


def test_retiring_without_a_replacement_is_refused_and_changes_nothing(staff_web, channel):
    old = AiModel.objects.get(slug=channel.model)
    r = staff_web.submit("/admin/channels_app/aimodel/", {"action": "retire", "_selected_action": [str(old.pk)]},
                         follow_redirects=True)
    assert "needs an active replacement" in r.text
    assert AiModel.objects.get(pk=old.pk).status == "active"
    assert Channel.objects.get(pk=channel.pk).model == old.slug and not OwnerNotice.objects.exists()


def test_a_channel_still_naming_a_retired_model_is_served_by_its_replacement(api, llm, channel, key):
    # Retired behind the application's back (a raw update): the chat still follows the replacement.
    AiModel.objects.filter(slug=channel.model).update(
        status="retired", replacement=AiModel.objects.get(slug="openai/gpt-oss-20b")
    )
    catalog.forget()
    assert chat(api, key, "Hi").status_code == 200
    assert llm.requests[-1]["json"]["model"] == "openai/gpt-oss-20b"


def test_owners_pick_only_active_models(owner_web, channel):
    # llama-3.1-70b-versatile is retired by the seed; the 20B is deprecated here.
    AiModel.objects.filter(slug="openai/gpt-oss-20b").update(
        status="deprecated", retires_on="2027-01-31", replacement=AiModel.objects.get(slug="openai/gpt-oss-120b")
    )
    catalog.forget()
    page = owner_web.get("/dashboard/channels/new/").text
    assert 'value="llama-3.1-70b-versatile"' not in page and 'value="openai/gpt-oss-20b"' not in page
    assert 'value="openai/gpt-oss-120b"' in page
    base = {"name": "X", "system_prompt": "", "rate_limit_per_minute": "60", "daily_limit": "1000", "is_active": "on"}
    for refused in ("llama-3.1-70b-versatile", "openai/gpt-oss-20b", "no-such-model"):
        r = owner_web.submit(f"/dashboard/channels/{channel.public_id}/edit/", {**base, "model": refused})
        assert r.status_code == 200 and "Choose one of the models in the list." in r.text, refused
        assert Channel.objects.get(pk=channel.pk).model == "openai/gpt-oss-120b"
    # A channel already on the deprecated model keeps it selectable (its form stays valid) and sees its date.
    Channel.objects.filter(pk=channel.pk).update(model="openai/gpt-oss-20b", max_reply_tokens=500)
    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/edit/").text
    assert 'value="openai/gpt-oss-20b"' in page and "retires 31 Jan 2027" in page
    r = owner_web.submit(f"/dashboard/channels/{channel.public_id}/edit/", {**base, "model": "openai/gpt-oss-20b"})
    assert r.status_code == 302


def test_the_reply_length_is_the_owners_within_the_models_limit(owner_web, api, llm, channel, key):
    _active("gemma2-9b-it")
    url = f"/dashboard/channels/{channel.public_id}/edit/"
    base = {"name": "X", "system_prompt": "", "rate_limit_per_minute": "60", "daily_limit": "1000", "is_active": "on"}
    r = owner_web.submit(url, {**base, "model": "gemma2-9b-it", "max_reply_tokens": "5000"})
    assert r.status_code == 200 and "Gemma 2 9B writes at most 4,096 tokens per reply." in r.text
    assert Channel.objects.get(pk=channel.pk).max_reply_tokens == 1024
    assert owner_web.submit(url, {**base, "model": "gemma2-9b-it", "max_reply_tokens": "300"}).status_code == 302
    chat(api, key, "Short answer please")
    assert llm.requests[-1]["json"]["max_tokens"] == 300


def test_metrics_export_tokens_and_cost_by_model(api, llm, channel, key, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOW_IPS = "metrics-token-0123456789abcdef", []
    scrape = lambda: api.get("/metrics", headers={"Authorization": f"Bearer {settings.METRICS_TOKEN}"}).text  # noqa: E731
    before = _sample(scrape(), f'gateway_cost_usd_total{{model="{channel.model}"}}')
    tokens_before = _sample(scrape(), f'gateway_tokens_total{{kind="completion",model="{channel.model}"}}')
    assert chat(api, key, "Hi").status_code == 200
    text = scrape()
    cost = Message.objects.get(role="assistant").cost
    assert _sample(text, f'gateway_cost_usd_total{{model="{channel.model}"}}') == pytest.approx(before + float(cost))
    assert _sample(text, f'gateway_tokens_total{{kind="completion",model="{channel.model}"}}') == tokens_before + 7


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_the_commands_add_a_provider_rotate_its_key_and_retire_a_model(db, monkeypatch, channel):
    monkeypatch.setattr("sys.stdin", io.StringIO(SECOND_KEY + "\n"))
    call_command("providers", "add", "OpenAI", "https://api.openai.com/v1", "--key-stdin", stdout=io.StringIO())
    provider = Provider.objects.get(name="OpenAI")
    assert provider.api_key() == SECOND_KEY and SECOND_KEY.encode() not in bytes(provider.key_ciphertext)
    monkeypatch.setenv("NEW_OPENAI_KEY", ROTATED_KEY)
    call_command("providers", "set-key", "OpenAI", "--key-env", "NEW_OPENAI_KEY", stdout=io.StringIO())
    assert Provider.objects.get(name="OpenAI").api_key() == ROTATED_KEY
    out = io.StringIO()
    call_command("providers", "list", stdout=out)
    assert ROTATED_KEY not in out.getvalue() and ROTATED_KEY[-4:] in out.getvalue()

    AiModel.objects.filter(slug="openai/gpt-oss-120b").update(
        status="deprecated", retires_on="2026-01-01", replacement=AiModel.objects.get(slug="openai/gpt-oss-20b")
    )
    out = io.StringIO()
    call_command("models", "retire-due", stdout=out)
    assert "openai/gpt-oss-120b retired; 1 channel(s) moved." in out.getvalue()
    assert Channel.objects.get(pk=channel.pk).model == "openai/gpt-oss-20b"


def test_owners_cannot_reach_the_catalogs_admin(owner_web, web):
    for client in (owner_web, web):
        for page in ("/admin/channels_app/provider/", "/admin/channels_app/aimodel/"):
            r = client.get(page)
            assert r.status_code == 302 and "/admin/login/" in r.headers["location"]


def test_a_provider_key_is_never_in_a_log_line(api, second, channel, key, caplog, staff_web):
    # The provider echoes its key back in an error body: the log line has it scrubbed.
    provider = _add_provider_in_admin(staff_web, f"{second.url}/v1")
    model = _add_model_in_admin(staff_web, provider)
    Channel.objects.filter(pk=channel.pk).update(model=model.slug)
    catalog.forget()
    second.app.mode, second.app.status, second.app.echo_key = "status", 401, True
    caplog.set_level("WARNING")
    assert chat(api, key, "Hi").status_code == 500
    assert "upstream says no to Bearer [upstream key]" in caplog.text  # the line is there, without the key
    assert SECOND_KEY not in caplog.text
