"""Migration 0015 on an install that still has the catalog of old: its channels move to the replacements, with notices."""

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("channels_app", "0014_sync_and_reasoning_effort")]
AFTER = [("channels_app", "0015_current_groq_catalog")]


@pytest.mark.django_db(transaction=True)
def test_existing_channels_on_retired_ids_move_to_their_replacements_and_each_manager_is_told():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    AiModel = apps.get_model("channels_app", "AiModel")
    # The catalog as it was: the five old ids active, none of today's.
    AiModel.objects.update(status="active", replacement=None)
    AiModel.objects.filter(slug__startswith="openai/").delete()
    AiModel.objects.filter(slug="llama-3.1-8b-instant").delete()
    User = apps.get_model(settings.AUTH_USER_MODEL)
    owner = User.objects.create(username="owner", email="owner@example.com", password="!")
    admin = User.objects.create(username="admin", email="admin@example.com", password="!")
    analyst = User.objects.create(username="analyst", email="analyst@example.com", password="!")
    org = apps.get_model("teams", "Organisation").objects.create(name="Shop")
    Membership = apps.get_model("teams", "Membership")
    Membership.objects.create(organisation=org, user=owner, role="owner")
    Membership.objects.create(organisation=org, user=admin, role="admin")
    Membership.objects.create(organisation=org, user=analyst, role="analyst")
    Channel = apps.get_model("channels_app", "Channel")
    moved = Channel.objects.create(
        owner=owner, organisation=org, name="Old", model="llama-3.3-70b-versatile", fallback_model="gemma2-9b-it",
        max_reply_tokens=1024,
    )
    collapsed = Channel.objects.create(
        owner=owner, organisation=org, name="Both", model="mixtral-8x7b-32768", fallback_model="llama-3.1-70b-versatile",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Channel = apps.get_model("channels_app", "Channel")
    moved = Channel.objects.get(pk=moved.pk)
    assert (moved.model, moved.fallback_model, moved.max_reply_tokens) == ("openai/gpt-oss-120b", "openai/gpt-oss-20b", 1024)
    collapsed = Channel.objects.get(pk=collapsed.pk)
    assert (collapsed.model, collapsed.fallback_model) == ("openai/gpt-oss-120b", "")  # both went to the 120B
    notices = apps.get_model("channels_app", "OwnerNotice").objects.filter(channel_id=moved.pk)
    assert sorted({n.owner_id for n in notices}) == sorted([owner.pk, admin.pk])  # managers, not the analyst
    texts = {n.text for n in notices if n.owner_id == owner.pk}
    assert any("Llama 3.3 70B (llama-3.3-70b-versatile) was retired" in t and "GPT-OSS 120B" in t for t in texts)
    assert any("as its fallback model" in t and "openai/gpt-oss-20b" in t for t in texts)
    AiModel = apps.get_model("channels_app", "AiModel")
    assert AiModel.objects.get(slug="gemma2-9b-it").replacement.slug == "openai/gpt-oss-20b"
    assert set(AiModel.objects.filter(status="active").values_list("slug", flat=True)) == {
        "openai/gpt-oss-120b", "openai/gpt-oss-20b"
    }
