"""Webhook deliveries against a real receiver on loopback that fails, hangs and recovers; the dead state."""

from alerts import services
from alerts.models import FailedJob, WebhookDelivery
from alerts.services import webhook_set
from channels_app import events
from gateway.infra import jobs
from gateway.testing.waiting import wait_until


def delivery():
    return WebhookDelivery.objects.get()


def test_a_receiver_that_fails_and_hangs_is_retried_until_it_recovers(runner, receiver, channel):
    receiver.reset(plan=["fail", "hang", "fail"], then="ok")
    webhook_set(channel=channel, url=receiver.url)
    events.emit(channel, "channel.deactivated", {})

    requests = receiver.wait_for(4)
    assert [r["answered"] for r in requests] == ["fail", "hang", "fail", "ok"]
    assert len({r["headers"]["x-gateway-delivery"] for r in requests}) == 1  # one delivery, retried
    assert wait_until(lambda: delivery().status == "delivered")
    assert (delivery().attempts, delivery().response_code, delivery().error) == (4, 204, "")
    assert not FailedJob.objects.exists()


def test_a_receiver_that_never_recovers_ends_dead_and_visible(runner, receiver, channel, owner_web, settings):
    settings.WEBHOOK_MAX_RETRIES = 2
    receiver.reset(then="fail")
    webhook_set(channel=channel, url=receiver.url)
    events.emit(channel, "key.revoked", {})

    assert wait_until(lambda: delivery().status == "dead")
    assert (delivery().attempts, delivery().response_code, delivery().error) == (3, 500, "HTTP 500")
    assert len(receiver.received) == 3
    [dead] = FailedJob.objects.all()
    assert (dead.name, dead.kwargs, dead.attempts) == ("alerts.webhook", {"delivery_id": delivery().pk}, 3)
    assert "HTTP 500" in dead.error

    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/alerts/").text
    assert "dead" in page and "500" in page and "key.revoked" in page


def test_a_delivered_webhook_or_sent_email_is_not_sent_again_when_its_job_runs_twice(runner, receiver, mailbox, channel):
    webhook_set(channel=channel, url=receiver.url)
    events.emit(channel, "channel.deactivated", {})
    assert wait_until(lambda: delivery().status == "delivered")
    mailbox.wait_for("owner@example.com")

    services.webhook_deliver(delivery_id=delivery().pk)  # as a job redelivered after a crash would
    services.event_send_email(event_id=delivery().event_id)
    assert len(receiver.received) == 1
    assert len(mailbox.to("owner@example.com")) == 1


def test_a_job_whose_rows_are_gone_does_nothing(runner):
    assert jobs.run_attempt("alerts.webhook", {"delivery_id": 999999}, 0) is None
    assert jobs.run_attempt("alerts.email", {"event_id": 999999}, 0) is None
    assert not FailedJob.objects.exists()


def test_retries_back_off_exponentially_up_to_a_cap(settings):
    settings.JOB_RETRY_BACKOFF_BASE, settings.JOB_RETRY_BACKOFF_CAP = 30, 3600
    assert [jobs.backoff(a) for a in range(9)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_redirect_from_the_receiver_is_not_followed(runner, receiver, channel, settings):
    settings.WEBHOOK_MAX_RETRIES = 0
    receiver.reset(then="redirect")
    webhook_set(channel=channel, url=receiver.url)
    events.emit(channel, "key.revoked", {})

    assert wait_until(lambda: delivery().status == "dead")
    assert (delivery().response_code, delivery().error) == (302, "HTTP 302")
    assert [r["path"] for r in receiver.received] == ["/hook"]  # /followed was never asked for


def test_a_saved_url_is_checked_again_at_delivery_and_a_private_address_is_never_connected_to(runner, receiver, channel,
                                                                                                settings):
    webhook_set(channel=channel, url=receiver.url)  # saved while allowed (as if its DNS pointed elsewhere then)
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_MAX_RETRIES = 0
    events.emit(channel, "key.revoked", {})

    assert wait_until(lambda: delivery().status == "dead")
    assert delivery().response_code is None and "must be public" in delivery().error
    assert receiver.received == []
