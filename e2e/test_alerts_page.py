"""The alerts page in a real browser: the form, the secret shown once, the delivery log; 390 px and axe-core."""

from conftest import make_channel
from e2e.checks import assert_page_ok
from e2e.steps import log_in


def test_the_alerts_page_fits_and_passes_axe_with_a_secret_and_a_delivery_log(page, owner, settings):
    from alerts.models import Event, WebhookDelivery

    settings.WEBHOOK_ALLOW_PRIVATE = True
    channel, _ = make_channel(owner, name="Mug shop", credits=50)
    event = Event.objects.create(channel=channel, type="credits.low", data={"credits_left": 3})
    WebhookDelivery.objects.create(event=event, url="https://hooks.example/very/long/path/to/a/receiver", status="dead",
                                   attempts=9, response_code=500, error="HTTP 500")
    log_in(page, land=False)
    page.goto(f"/dashboard/channels/{channel.public_id}/alerts/")
    assert_page_ok(page)

    page.fill("#id_webhook_url", "http://127.0.0.1:9/hook")
    page.click("text=Save")
    page.wait_for_selector("[data-new-secret]")
    assert page.inner_text("#webhook-secret-value").startswith("whsec_")
    assert_page_ok(page)
