"""manage.py seed_demo_data: threads, messages and failures for one channel, with matching roll-ups."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conversations.models import FailedRequest, Message, Session, UsageDay
from dashboard.transcripts import sessions_page

pytestmark = pytest.mark.django_db


def test_it_seeds_threads_messages_failures_and_their_roll_ups(channel, other_channel_and_key):
    out = StringIO()
    call_command("seed_demo_data", "--channel", str(channel.public_id), "--sessions", "50", "--batch", "20",
                 "--days", "5", stdout=out)
    assert "50 threads, 200 messages, 5 failed requests" in out.getvalue()
    assert Session.objects.filter(channel=channel).count() == 50
    assert Message.objects.filter(session__channel=channel, role="assistant").count() == 100
    assert FailedRequest.objects.filter(channel=channel).count() == 5
    days = UsageDay.objects.filter(channel=channel)
    assert sum(d.answered for d in days) == 100 and sum(d.limited + d.refused + d.errors for d in days) == 5
    assert sum(d.cost for d in days) > 0
    assert not Session.objects.filter(channel=other_channel_and_key[0]).exists()
    first = Session.objects.filter(channel=channel).order_by("started_at").first()
    assert first.messages.order_by("id").first().content == first.first_message
    assert len(sessions_page(channel=channel, search="parcel").object_list) > 0


def test_it_refuses_an_unknown_channel():
    with pytest.raises(CommandError):
        call_command("seed_demo_data", "--channel", "not-a-uuid", "--sessions", "1")
