"""Thresholds crossed → one e-mail (real SMTP) and one signed webhook (real HTTP) per crossing, via the job runner."""

import json

import pytest

from alerts import signing, thresholds
from alerts.models import AlertState, Event, WebhookDelivery
from alerts.services import settings_for, webhook_set
from channels_app import events
from channels_app.models import Channel
from channels_app.services import api_key_revoke, api_key_rotate, channel_update
from conversations.models import FailedRequest
from gateway.testing.api import chat
from gateway.testing.waiting import wait_until


def low_on_credits(channel, credits: int) -> None:
    Channel.objects.filter(pk=channel.pk).update(credits=credits)
    channel.refresh_from_db()


def subjects(mailbox, address="owner@example.com") -> list[str]:
    return [m["Subject"] for m in mailbox.to(address)]


def test_it_alerts_once_per_crossing_by_email_and_signed_webhook(runner, mailbox, receiver, channel):
    secret = webhook_set(channel=channel, url=receiver.url)
    channel.credit_alert_threshold = 10
    channel.save()
    low_on_credits(channel, 5)

    thresholds.check_all()
    thresholds.check_all()  # still below: no second alert

    [mail] = mailbox.wait_for("owner@example.com")
    assert "credits are running low" in mail["Subject"]
    assert "credits left: 5" in mail.get_body(preferencelist=("plain",)).get_content()
    [request] = receiver.wait_for(1)
    headers = request["headers"]
    assert signing.verify(secret, headers["x-gateway-timestamp"], request["body"], headers["x-gateway-signature"])
    assert not signing.verify(secret + "x", headers["x-gateway-timestamp"], request["body"], headers["x-gateway-signature"])
    body = json.loads(request["body"])
    assert body["type"] == "credits.low" and body["channel"] == str(channel.public_id)
    assert body["data"] == {"credits_left": 5, "threshold": 10}
    assert wait_until(lambda: WebhookDelivery.objects.filter(status="delivered", response_code=204).count() == 1)

    low_on_credits(channel, 50)  # topped up: re-armed, nothing sent
    thresholds.check_all()
    low_on_credits(channel, 3)  # crossed again: a second alert
    thresholds.check_all()
    assert len(mailbox.wait_for("owner@example.com", count=2)) == 2
    assert len(receiver.wait_for(2)) == 2
    assert Event.objects.filter(type="credits.low").count() == 2
    assert not wait_until(lambda: len(mailbox.to("owner@example.com")) > 2, timeout=0.5)


def test_two_checks_at_once_claim_the_crossing_once(runner, channel):
    from alerts.services import threshold_crossing

    results = [threshold_crossing(channel=channel, kind=AlertState.Kind.CREDITS_LOW, over=True) for _ in range(3)]
    assert results == [True, False, False]


def test_it_alerts_on_the_daily_limit_used(runner, mailbox, api, llm, channel, key):
    channel_update(channel=channel, daily_limit=5)
    settings_for(channel)  # defaults: 80 %
    for i in range(3):
        chat(api, key, session_id=f"s{i}")
    assert thresholds.check_channel(channel) == []
    chat(api, key, session_id="s4")  # 4 of 5: 80 %
    assert thresholds.check_channel(channel) == [AlertState.Kind.DAILY_LIMIT]
    [mail] = mailbox.wait_for("owner@example.com")
    assert "near the daily limit" in mail["Subject"]


def test_it_alerts_on_the_error_rate(runner, mailbox, api, llm, channel, key):
    for i in range(8):
        chat(api, key, session_id=f"s{i}")
    FailedRequest.objects.bulk_create([FailedRequest(channel=channel, endpoint="chat", status=502, error="upstream")] * 1)
    assert AlertState.Kind.ERROR_RATE not in thresholds.check_channel(channel)  # 1 of 9, and under 10 chats
    FailedRequest.objects.bulk_create([FailedRequest(channel=channel, endpoint="chat", status=502, error="upstream")] * 2)
    assert AlertState.Kind.ERROR_RATE in thresholds.check_channel(channel)  # 3 of 11: 27 % ≥ 20 %
    assert any("failing" in s for s in (m["Subject"] for m in mailbox.wait_for("owner@example.com")))


def test_key_rotation_revocation_deactivation_and_retirement_alert_the_owner(runner, mailbox, channel):
    from datetime import timedelta

    api_key_rotate(channel=channel, grace=timedelta(hours=1))
    api_key_revoke(api_key=channel.api_keys.order_by("-id").first())
    channel_update(channel=channel, is_active=False)
    channel_update(channel=channel, name="Renamed")  # not an event
    events.emit(channel, "model.retired", {"model": "old-model", "replacement": "new-model"})

    mailbox.wait_for("owner@example.com", count=4)
    found = " | ".join(subjects(mailbox))
    for what in ("key was rotated", "key was revoked", "channel was deactivated", "model the channel uses was retired"):
        assert what in found
    assert not wait_until(lambda: len(mailbox.to("owner@example.com")) > 4, timeout=0.5)


def test_nothing_is_sent_when_the_emitting_transaction_rolls_back(runner, mailbox, channel):
    from django.db import transaction

    try:
        with transaction.atomic():
            events.emit(channel, "channel.deactivated", {})
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert not wait_until(lambda: mailbox.to("owner@example.com"), timeout=0.5)
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)  # a manage.py process reads the channel
def test_a_short_lived_process_sends_what_it_queued_before_it_exits(mailbox, channel):
    """`manage.py` on the in-process runner: the job thread is a daemon, so the process waits for it at exit."""
    from django.db import connection

    from gateway.testing.processes import PostgresDatabase, gateway_env, manage

    db = connection.settings_dict
    url = (f"sqlite:///{db['NAME']}" if connection.vendor == "sqlite"
           else PostgresDatabase.beside(db, db["NAME"]).url)
    env = gateway_env(DATABASE_URL=url, JOBS="in-process", EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                      EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(mailbox.port))
    manage(env, "shell", "-c", "from channels_app import events; from channels_app.models import Channel; "
                               f"events.emit(Channel.objects.get(pk={channel.pk}), 'channel.deactivated', {{}})")
    [mail] = mailbox.to("owner@example.com")  # already there: the command returned after sending it
    assert "deactivated" in mail["Subject"]
