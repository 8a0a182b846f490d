"""`models sync`: the catalog checked against each provider's GET /models, through real HTTP to loopback providers.

The fake provider's list is changed by the test (as a provider drops a model);
Groq's recorded GET /models answer is replayed byte for byte; the admin's
action and one-click add go through the real admin.
"""

import io

import pytest
from django.core.management import CommandError, call_command

from channels_app.providers import catalog_services
from channels_app.providers.catalog_models import AiModel, OwnerNotice, Provider
from gateway.infra import jobs
from gateway.testing.api import UPSTREAM_KEY

OPS = "ops@example.com"


def _sync() -> str:
    out = io.StringIO()
    call_command("models", "sync", stdout=out)
    return out.getvalue()


@pytest.fixture
def ops(settings, mailbox):
    settings.ADMINS = [("Ops", OPS)]
    return mailbox


def test_a_model_the_provider_dropped_is_flagged_and_staff_are_mailed(db, llm, ops, channel):
    llm.listed_models = ["openai/gpt-oss-120b", "qwen/qwen3.6-27b"]  # the 20B is gone from the list
    out = _sync()
    assert "NO LONGER LISTED: openai/gpt-oss-20b" in out and "not in the catalog: qwen/qwen3.6-27b" in out
    assert llm.requests[-1]["path"] == "/v1/models"
    assert llm.requests[-1]["headers"]["authorization"] == f"Bearer {UPSTREAM_KEY}"
    dropped = AiModel.objects.get(slug="openai/gpt-oss-20b")
    assert "no longer lists openai/gpt-oss-20b" in dropped.attention
    assert AiModel.objects.get(slug="openai/gpt-oss-120b").attention == ""
    # Retired ids are expected to be missing: not flagged.
    assert AiModel.objects.get(slug="llama-3.3-70b-versatile").attention == ""
    mail = ops.wait_for(OPS)[0]
    assert "openai/gpt-oss-20b" in mail["Subject"] and UPSTREAM_KEY not in mail.get_content()
    provider = Provider.objects.get(from_environment=True)
    assert [m["id"] for m in provider.models_missing] == ["qwen/qwen3.6-27b"] and provider.models_check_error == ""
    # Run again: still reported, not mailed again within the hour.
    assert "NO LONGER LISTED: openai/gpt-oss-20b" in _sync()
    assert len(ops.to(OPS)) == 1  # mail_admins is sent in the command itself: a second one would be here by now


def test_a_provider_without_a_model_list_is_reported_not_taken_as_empty(db, llm, channel):
    llm.listed_models = None  # GET /v1/models answers 404
    err = io.StringIO()
    with pytest.raises(CommandError, match="could not be read"):
        call_command("models", "sync", stdout=io.StringIO(), stderr=err)
    assert "HTTP 404" in err.getvalue()
    assert not AiModel.objects.exclude(attention="").exists()  # nothing flagged
    provider = Provider.objects.get(from_environment=True)
    assert "HTTP 404" in provider.models_check_error and provider.models_missing == []


def test_an_answer_that_is_not_a_list_is_an_error_too(db, llm, channel, settings):
    settings.LLM_BASE_URL = f"{settings.LLM_BASE_URL}/chat"  # GET .../chat/models: the fake answers 404 JSON
    with pytest.raises(CommandError):
        call_command("models", "sync", stdout=io.StringIO(), stderr=io.StringIO())
    assert not AiModel.objects.exclude(attention="").exists()


def test_groqs_recorded_model_list_keeps_the_catalog_and_offers_the_rest(db, recorded_llm_server, settings):
    recorded_llm_server.app.reset()
    recorded_llm_server.app.serve_models("groq_models")
    settings.LLM_BASE_URL, settings.LLM_API_KEY = f"{recorded_llm_server.url}/v1", UPSTREAM_KEY
    out = _sync()
    assert "lists 4 model(s)" in out and "NO LONGER LISTED" not in out
    provider = Provider.objects.get(from_environment=True)
    assert provider.models_missing == [
        {"id": "qwen/qwen3.6-27b", "owned_by": "Alibaba Cloud", "context_window": 131072, "max_completion_tokens": 16384},
        {"id": "meta-llama/llama-prompt-guard-2-86m", "owned_by": "Meta", "context_window": 512,
         "max_completion_tokens": 512},
    ]


def test_the_offline_demo_and_disabled_providers_are_not_asked(db, settings, fake_llm_server):
    settings.LLM_API_KEY = ""
    fake_llm_server.app.reset()
    catalog_services.provider_create(name="Off", base_url=f"{fake_llm_server.url}/v1", api_key="sk-off-0123456789",
                                     enabled=False)
    out = _sync()
    assert "skipped (no LLM_API_KEY" in out and "Off: skipped (disabled)" in out
    assert fake_llm_server.app.requests == []


def test_staff_check_a_provider_in_the_admin_and_add_a_listed_model_with_one_click(staff_web, owner_web, llm, db):
    llm.listed_models = ["openai/gpt-oss-120b", "openai/gpt-oss-20b", "qwen/qwen3.6-27b"]
    provider = Provider.objects.get(from_environment=True)
    r = staff_web.submit("/admin/channels_app/provider/", {"action": "sync_models", "_selected_action": [str(provider.pk)]},
                         follow_redirects=True)
    assert "lists 3 model(s); 1 not in the catalog." in r.text
    page = staff_web.get(f"/admin/channels_app/provider/{provider.pk}/models/").text
    assert "qwen/qwen3.6-27b" in page
    # Owners never reach it, nor add through it.
    assert owner_web.get(f"/admin/channels_app/provider/{provider.pk}/models/").status_code == 302
    assert owner_web.submit(f"/admin/channels_app/provider/{provider.pk}/models/", {"model_id": "qwen/qwen3.6-27b"},
                            ).status_code in (302, 403)
    assert not AiModel.objects.filter(slug="qwen/qwen3.6-27b").exists()

    r = staff_web.submit(f"/admin/channels_app/provider/{provider.pk}/models/", {"model_id": "qwen/qwen3.6-27b"})
    assert r.status_code == 302
    added = AiModel.objects.get(slug="qwen/qwen3.6-27b")
    assert r.headers["location"] == f"/admin/channels_app/aimodel/{added.pk}/change/"
    assert (added.provider, added.context_window, added.max_output, added.status) == (provider, 131072, 65536, "active")
    assert Provider.objects.get(pk=provider.pk).models_missing == []
    # A model it did not list cannot be added through the page.
    r = staff_web.submit(f"/admin/channels_app/provider/{provider.pk}/models/", {"model_id": "made-up/model"},
                         follow_redirects=True)
    assert "did not list made-up/model" in r.text and not AiModel.objects.filter(slug="made-up/model").exists()


def test_staff_retiring_a_flagged_model_moves_its_channels_and_tells_the_owners(staff_web, llm, db, channel):
    channel.model = "openai/gpt-oss-20b"
    channel.save()
    llm.listed_models = ["openai/gpt-oss-120b"]
    _sync()
    flagged = AiModel.objects.get(slug="openai/gpt-oss-20b")
    assert flagged.attention
    AiModel.objects.filter(pk=flagged.pk).update(replacement=AiModel.objects.get(slug="openai/gpt-oss-120b"))
    r = staff_web.submit("/admin/channels_app/aimodel/", {"action": "retire", "_selected_action": [str(flagged.pk)]})
    assert r.status_code == 302
    channel.refresh_from_db()
    assert channel.model == "openai/gpt-oss-120b"
    assert "was retired" in OwnerNotice.objects.get(owner=channel.owner).text


def test_the_check_is_a_periodic_background_job():
    registered = jobs.load()["models.sync"]
    assert registered.every == "MODEL_SYNC_INTERVAL_SECONDS"
