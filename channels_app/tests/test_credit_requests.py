"""Money is never a surprise: a channel's credit state on the dashboard, the owner's warning threshold,
and a top-up request that staff grant in admin, recorded as a CreditGrant."""

from channels_app.models import Channel, CreditGrant, CreditRequest
from gateway.testing.api import chat


def _detail(channel):
    return f"/dashboard/channels/{channel.public_id}/"


def _request_url(channel):
    return f"/dashboard/channels/{channel.public_id}/credits/request/"


def _set_credits(channel, credits, threshold=None):
    fields = {"credits": credits} if threshold is None else {"credits": credits, "credit_alert_threshold": threshold}
    Channel.objects.filter(pk=channel.pk).update(**fields)


def test_a_channel_without_credits_says_so_where_the_api_refuses(owner_web, api, llm, channel_and_key):
    channel, issued = channel_and_key
    _set_credits(channel, 0)
    assert chat(api, issued.plaintext, "Hi").status_code == 403
    page = owner_web.get(_detail(channel)).text
    assert "Out of credits" in page and 'data-credit-banner="empty"' in page
    assert '<span class="badge badge-ok">Active</span>' not in page.split("<nav")[0]
    cards = owner_web.get("/dashboard/").text
    assert "Out of credits" in cards and "top up</a>" in cards
    for tab in ("usage/", "conversations/", "integrate/", "widget/", "edit/"):
        assert 'data-credit-banner="empty"' in owner_web.get(_detail(channel) + tab).text, tab


def test_it_warns_at_the_owners_threshold(owner_web, channel):
    _set_credits(channel, 10, threshold=10)
    page = owner_web.get(_detail(channel)).text
    assert 'data-credit-banner="low"' in page and "Credits are running low: 10 left" in page
    _set_credits(channel, 11)
    assert "data-credit-banner" not in owner_web.get(_detail(channel)).text


def test_the_owner_sets_the_threshold_in_settings(owner_web, channel):
    form = {"name": channel.name, "model": channel.model, "rate_limit_per_minute": "60", "daily_limit": "1000",
            "is_active": "on", "credit_alert_threshold": "150"}
    r = owner_web.submit(_detail(channel) + "edit/", form)
    assert r.status_code == 302
    assert Channel.objects.get(pk=channel.pk).credit_alert_threshold == 150
    assert 'data-credit-banner="low"' in owner_web.get(_detail(channel)).text  # 100 credits <= 150


def test_it_refuses_a_negative_threshold(owner_web, channel):
    form = {"name": channel.name, "model": channel.model, "rate_limit_per_minute": "60", "daily_limit": "1000",
            "credit_alert_threshold": "-1"}
    r = owner_web.submit(_detail(channel) + "edit/", form)
    assert r.status_code == 200 and "greater than or equal to 0" in r.text
    assert Channel.objects.get(pk=channel.pk).credit_alert_threshold == 10


def test_an_owner_requests_a_top_up_and_staff_grant_it_with_an_audit_entry(owner_web, staff_web, staff, owner, channel):
    _set_credits(channel, 0)
    r = owner_web.submit(_request_url(channel), {"amount": "500", "note": "Launch week"})
    assert r.status_code == 302 and r.headers["location"].endswith(f"{_detail(channel)}#credits")
    request = CreditRequest.objects.get()
    assert (request.channel_id, request.requested_by_id, request.amount, request.note, request.status) == (
        channel.pk, owner.pk, 500, "Launch week", "pending")
    assert 'data-credit-request="pending"' in owner_web.get(_detail(channel)).text

    listing = staff_web.get("/admin/channels_app/creditrequest/", params={"status__exact": "pending"})
    assert "Test site" in listing.text
    done = staff_web.submit("/admin/channels_app/creditrequest/", {"action": "grant", "_selected_action": [str(request.pk)]})
    assert done.status_code == 302
    assert Channel.objects.get(pk=channel.pk).credits == 500
    grant = CreditGrant.objects.get()
    assert (grant.channel_id, grant.amount, grant.granted_by_id, grant.request_id, grant.balance_after) == (
        channel.pk, 500, staff.pk, request.pk, 500)
    request.refresh_from_db()
    assert request.status == "granted" and request.decided_by_id == staff.pk

    page = owner_web.get(_detail(channel)).text
    assert 'data-credit-request="granted"' in page and "data-credit-banner" not in page
    assert "Test site" in staff_web.get("/admin/channels_app/creditgrant/").text


def test_granting_twice_adds_the_credits_once(owner_web, staff_web, channel):
    owner_web.submit(_request_url(channel), {"amount": "40"})
    request = CreditRequest.objects.get()
    for _ in range(2):
        staff_web.submit("/admin/channels_app/creditrequest/", {"action": "grant", "_selected_action": [str(request.pk)]})
    assert Channel.objects.get(pk=channel.pk).credits == 140
    assert CreditGrant.objects.count() == 1


def test_staff_can_decline_a_request(owner_web, staff_web, channel):
    owner_web.submit(_request_url(channel), {"amount": "40"})
    request = CreditRequest.objects.get()
    staff_web.submit("/admin/channels_app/creditrequest/", {"action": "decline", "_selected_action": [str(request.pk)]})
    request.refresh_from_db()
    assert request.status == "declined"
    assert Channel.objects.get(pk=channel.pk).credits == 100 and CreditGrant.objects.count() == 0
    assert 'data-credit-request="declined"' in owner_web.get(_detail(channel)).text


def test_one_request_waits_at_a_time(owner_web, channel):
    owner_web.submit(_request_url(channel), {"amount": "40"})
    r = owner_web.submit(_request_url(channel), {"amount": "60"}, follow_redirects=True)
    assert "already waiting for staff" in r.text
    assert CreditRequest.objects.count() == 1


def test_it_refuses_a_bad_amount(owner_web, channel):
    r = owner_web.submit(_request_url(channel), {"amount": "0"}, follow_redirects=True)
    assert "Ask for at least 1 credit." in r.text
    assert CreditRequest.objects.count() == 0


def test_another_owners_channel_is_a_404(outsider_web, channel):
    assert outsider_web.submit(_request_url(channel), {"amount": "40"}).status_code == 404
    assert CreditRequest.objects.count() == 0


def test_the_admin_top_up_is_recorded_too(staff_web, staff, channel):
    form = {"action": "top_up_credits", "_selected_action": [str(channel.pk)], "apply": "1", "amount": "25"}
    assert staff_web.submit("/admin/channels_app/channel/", form).status_code == 302
    grant = CreditGrant.objects.get()
    assert (grant.amount, grant.granted_by_id, grant.request_id, grant.balance_after) == (25, staff.pk, None, 125)
