"""The alerts page: thresholds, the webhook secret shown once and rotatable, the delivery log; owners only."""

import re

import pytest

from alerts.models import AlertSettings
from alerts.services import settings_for


def page(channel) -> str:
    return f"/dashboard/channels/{channel.public_id}/alerts/"


def shown_secret(html: str) -> str | None:
    found = re.search(r'id="webhook-secret-value">(whsec_[^<]+)<', html)
    return found.group(1) if found else None


def test_the_webhook_secret_is_shown_once_and_rotates(owner_web, channel, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    response = owner_web.submit(page(channel), {"daily_limit_pct": 90, "error_rate_pct": 30, "email_enabled": "on",
                                                "webhook_url": "http://127.0.0.1:9/hook"})
    first = shown_secret(response.text)
    assert response.status_code == 200 and first
    prefs = AlertSettings.objects.get(channel=channel)
    assert (prefs.daily_limit_pct, prefs.error_rate_pct, prefs.webhook_url) == (90, 30, "http://127.0.0.1:9/hook")
    assert first.encode() not in bytes(prefs.webhook_secret_ciphertext)  # stored encrypted

    again = owner_web.get(page(channel)).text
    assert shown_secret(again) is None and first not in again and f"…{first[-4:]}" in again

    rotated = owner_web.submit(page(channel) + "webhook-secret/rotate/", {})
    second = shown_secret(rotated.text)
    assert second and second != first


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/internal",
    "http://[::127.0.0.1]/",  # IPv4-compatible IPv6
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of the cloud metadata address
])
def test_a_webhook_on_the_servers_own_network_is_refused(owner_web, channel, url):
    response = owner_web.submit(page(channel), {"daily_limit_pct": 80, "error_rate_pct": 20, "webhook_url": url})
    assert "must be public" in response.text
    assert settings_for(channel).webhook_url == ""


def test_another_owner_gets_404(outsider_web, channel):
    assert outsider_web.get(page(channel)).status_code == 404
    assert outsider_web.submit(page(channel), {"webhook_url": "https://example.com/x"}).status_code == 404
    assert outsider_web.submit(page(channel) + "webhook-secret/rotate/", {}).status_code == 404
    assert not AlertSettings.objects.filter(channel=channel, webhook_secret_hint__gt="").exists()


def test_a_visitor_is_sent_to_log_in(web, channel):
    response = web.get(page(channel), follow_redirects=False)
    assert response.status_code == 302 and "/accounts/login/" in response.headers["location"]


def test_failed_jobs_are_listed_in_admin_for_staff(staff_web):
    from alerts.models import FailedJob

    FailedJob.objects.create(name="alerts.webhook", kwargs={"delivery_id": 1}, error="HTTP 500", attempts=9)
    listing = staff_web.get("/admin/alerts/failedjob/")
    assert listing.status_code == 200 and "alerts.webhook" in listing.text
