"""The migration that gives every owner without one a personal organisation loses nothing.

It runs on a populated database, at the schema before organisations existed: back, fill, forward.
"""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("channels_app", "0008_client_system_messages"), ("teams", None)]
AFTER = [("channels_app", "0011_channel_organisation_required"), ("teams", "0001_organisations_members_invitations_sso_audit")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()  # re-read what is applied now
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps


def _populate(apps) -> dict:
    User = apps.get_model("auth", "User")
    Channel = apps.get_model("channels_app", "Channel")
    ApiKey = apps.get_model("channels_app", "ApiKey")
    Session = apps.get_model("conversations", "Session")
    Message = apps.get_model("conversations", "Message")
    now = timezone.now()
    ana = User.objects.create(username="ana@example.com", email="ana@example.com")
    bo = User.objects.create(username="bo@example.com", email="bo@example.com")
    User.objects.create(username="idle@example.com", email="idle@example.com")  # no channel: no organisation needed
    for n, (user, credits) in enumerate([(ana, 7), (ana, 0), (bo, 123)]):
        channel = Channel.objects.create(owner=user, name=f"site {n}", credits=credits, system_prompt=f"prompt {n}")
        ApiKey.objects.create(channel=channel, ciphertext=b"x" * 40, digest=f"{n:064d}", hint=f"{n:04d}")
        session = Session.objects.create(
            channel=channel, session_id=f"s{n}", started_at=now, expires_at=now + dt.timedelta(days=1)
        )
        Message.objects.create(session=session, role="user", content=f"hello {n}", created_at=now)
    return {c.public_id: (c.owner_id, c.name, c.credits, c.system_prompt) for c in Channel.objects.all()}


def _assert_nothing_lost(apps, before: dict) -> None:
    Channel = apps.get_model("channels_app", "Channel")
    Organisation = apps.get_model("teams", "Organisation")
    Membership = apps.get_model("teams", "Membership")
    after = {c.public_id: (c.owner_id, c.name, c.credits, c.system_prompt) for c in Channel.objects.all()}
    assert after == before
    for channel in Channel.objects.select_related("organisation"):
        assert channel.organisation.personal_for_id == channel.owner_id
        assert channel.api_keys.count() == 1 and channel.sessions.get().messages.count() == 1
    owners = {owner for owner, *_ in before.values()}
    assert set(Organisation.objects.values_list("personal_for_id", flat=True)) == owners
    assert Organisation.objects.count() == len(owners)  # one each, never a second on a re-run
    assert {(m.user_id, m.role) for m in Membership.objects.all()} == {(o, "owner") for o in owners}


@pytest.mark.django_db(transaction=True)
def test_every_owner_gets_one_personal_organisation_holding_all_their_channels_and_nothing_is_lost():
    try:
        before = _populate(_migrate(BEFORE))
        _assert_nothing_lost(_migrate(AFTER), before)
        # Back to before organisations (channels and their data stay) and forward again: the same result.
        _migrate([("channels_app", "0009_channel_organisation")])
        _assert_nothing_lost(_migrate(AFTER), before)
    finally:
        _migrate(_latest())


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
