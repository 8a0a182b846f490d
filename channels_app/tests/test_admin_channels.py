"""/admin/ for channels and keys: search, filters, credit top-up, rotate and revoke; never secrets."""

from channels_app.models import ApiKey, Channel
from gateway.testing.api import history


def test_it_is_for_staff_only(owner_web):
    r = owner_web.get("/admin/channels_app/channel/")
    assert r.status_code == 302 and "/admin/login/" in r.headers["location"]


def test_it_lists_searches_and_filters_channels(staff_web, channel, other_channel_and_key):
    assert "Other site" in staff_web.get("/admin/channels_app/channel/").text
    found = staff_web.get("/admin/channels_app/channel/", params={"q": "outsider@example.com"}).text
    assert "Other site" in found and "Test site" not in found
    inactive = staff_web.get("/admin/channels_app/channel/", params={"is_active__exact": "0"}).text
    assert "0 channels" in inactive or "Test site" not in inactive


def test_it_tops_up_credits(staff_web, channel, other_channel_and_key):
    other = other_channel_and_key[0]
    form = {"action": "top_up_credits", "_selected_action": [str(channel.pk), str(other.pk)]}
    ask = staff_web.submit("/admin/channels_app/channel/", form)
    assert ask.status_code == 200 and "Credits to add to each channel" in ask.text
    done = staff_web.submit("/admin/channels_app/channel/", {**form, "apply": "1", "amount": "250"})
    assert done.status_code == 302
    assert Channel.objects.get(pk=channel.pk).credits == 350
    assert Channel.objects.get(pk=other.pk).credits == 350


def test_it_refuses_a_non_positive_top_up(staff_web, channel):
    form = {"action": "top_up_credits", "_selected_action": [str(channel.pk)], "apply": "1", "amount": "0"}
    r = staff_web.submit("/admin/channels_app/channel/", form)
    assert r.status_code == 200 and "greater than or equal to 1" in r.text
    assert Channel.objects.get(pk=channel.pk).credits == 100


def test_key_pages_never_show_plaintext_ciphertext_or_digest(staff_web, channel_and_key):
    channel, issued = channel_and_key
    key = issued.api_key
    pages = [
        staff_web.get("/admin/channels_app/apikey/").text,
        staff_web.get(f"/admin/channels_app/apikey/{key.pk}/change/").text,
        staff_web.get(f"/admin/channels_app/channel/{channel.pk}/change/").text,
    ]
    for page in pages:
        assert key.masked in page
        assert issued.plaintext not in page
        assert key.digest not in page
        assert bytes(key.ciphertext).hex() not in page
        assert 'name="ciphertext"' not in page and 'name="digest"' not in page


def test_it_refuses_lookups_on_the_digest(staff_web, channel_and_key):
    key = channel_and_key[1].api_key
    r = staff_web.get("/admin/channels_app/apikey/", params={"digest": key.digest})
    assert r.status_code == 400


def test_it_revokes_keys(staff_web, api, channel_and_key):
    channel, issued = channel_and_key
    form = {"action": "revoke_keys", "_selected_action": [str(issued.api_key.pk)]}
    assert staff_web.submit("/admin/channels_app/apikey/", form).status_code == 302
    assert history(api, issued.plaintext).status_code == 401


def test_it_rotates_keys_without_showing_the_new_plaintext(staff_web, api, channel_and_key):
    channel, issued = channel_and_key
    form = {"action": "rotate_keys", "_selected_action": [str(issued.api_key.pk)]}
    r = staff_web.submit("/admin/channels_app/apikey/", form, follow_redirects=True)
    new = ApiKey.objects.filter(channel=channel).exclude(pk=issued.api_key.pk).get()
    assert new.masked in r.text and new.reveal() not in r.text
    assert history(api, issued.plaintext).status_code == 401
    assert history(api, new.reveal()).status_code == 200


def test_it_has_no_add_form_for_keys(staff_web):
    assert staff_web.get("/admin/channels_app/apikey/add/").status_code == 403


def test_it_shows_each_channels_and_owners_cost_of_the_last_30_days_from_the_roll_up(
    staff_web, owner, channel, other_channel_and_key
):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from conftest import make_channel
    from conversations.models import UsageDay

    today = timezone.now().date()
    second, _ = make_channel(owner, name="Second site")
    UsageDay.objects.create(channel=channel, day=today, answered=2, cost=Decimal("1"))
    UsageDay.objects.create(channel=channel, day=today, shard=5, answered=1, cost=Decimal("0.25"))  # a day's shards add up
    UsageDay.objects.create(channel=channel, day=today - timedelta(days=29), answered=1, cost=Decimal("2"))
    UsageDay.objects.create(channel=channel, day=today - timedelta(days=30), answered=1, cost=Decimal("100"))  # too old
    UsageDay.objects.create(channel=second, day=today, answered=1, cost=Decimal("0.5"))
    UsageDay.objects.create(channel=other_channel_and_key[0], day=today, answered=1, cost=Decimal("7"))
    page = staff_web.get("/admin/channels_app/channel/").text
    rows = {name: page.split(name, 1)[1].split("</tr>", 1)[0] for name in ("Test site", "Second site", "Other site")}
    assert "$3.25" in rows["Test site"] and "$3.75" in rows["Test site"]  # the channel's, then its owner's
    assert "$0.50" in rows["Second site"] and "$3.75" in rows["Second site"]
    assert "$7.00" in rows["Other site"] and "$3.75" not in rows["Other site"]
