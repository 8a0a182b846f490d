"""Named secret keys: several per channel, each with a name, its own per-minute limit and credit cap, created,
revealed, edited, rotated and revoked alone, over HTTP against the running gateway."""

import re

import pytest

from accounts.testing import WebClient
from channels_app.models import ApiKey, KeyReveal
from gateway.testing.api import chat, history
from teams import services
from teams.tests.worlds import make_user

INVALID = {"error": "Invalid API key"}
RATE_LIMITED = {"error": "Rate limit exceeded"}
NO_CREDITS = {"error": "This channel has no credits left. Ask the channel owner to top up its credits."}


def _create(web, channel, **fields) -> tuple[ApiKey, str]:
    """Create a key on the dashboard; the key and its plaintext, as the page after the redirect shows it once."""
    page = web.submit(f"/dashboard/channels/{channel.public_id}/keys/new/", fields, follow_redirects=True)
    assert page.status_code == 200, page.text
    plaintext = re.search(r"data-key-text>(amgai_[^<]+)<", page.text).group(1)
    return ApiKey.objects.get(channel=channel, name=fields["name"]), plaintext


def _member_web(gateway_server, owner, channel, role):
    user = make_user(f"{role}@example.com")
    services.membership_add(organisation=channel.organisation, user=user, role=role, actor=owner)
    web = WebClient(base_url=gateway_server.url)
    web.force_login(user)
    return web


def test_existing_keys_are_named_default_and_keep_working(api, channel_and_key):
    _channel, issued = channel_and_key
    assert ApiKey.objects.get(pk=issued.api_key.pk).name == "Default"
    assert history(api, issued.plaintext).status_code == 200


def test_a_channel_has_two_named_keys_and_one_revoked_while_the_other_keeps_working(api, llm, owner_web, channel_and_key):
    channel, issued = channel_and_key
    staging, staging_plain = _create(owner_web, channel, name="Staging")
    assert staging.name == "Staging" and staging_plain != issued.plaintext
    assert KeyReveal.objects.filter(api_key=staging, action="create").count() == 1
    assert chat(api, issued.plaintext).status_code == 200
    assert chat(api, staging_plain).status_code == 200

    page = owner_web.submit(f"/dashboard/channels/{channel.public_id}/keys/{issued.api_key.public_id}/revoke/",
                            follow_redirects=True)
    assert "“Default”" in page.text and "is revoked" in page.text
    refused = chat(api, issued.plaintext)
    assert (refused.status_code, refused.json()) == (401, INVALID)
    assert chat(api, staging_plain).status_code == 200
    detail = owner_web.get(f"/dashboard/channels/{channel.public_id}/").text
    assert "Staging" in detail and staging_plain not in detail and issued.plaintext not in detail


def test_a_keys_own_rate_limit_answers_the_contracts_429_while_the_channels_other_key_goes_on(
    api, owner_web, channel_and_key
):
    channel, issued = channel_and_key
    _limited, plaintext = _create(owner_web, channel, name="Batch job", rate_limit_per_minute="2")
    assert [history(api, plaintext).status_code for _ in range(2)] == [200, 200]
    refused = history(api, plaintext)
    assert (refused.status_code, refused.json()) == (429, RATE_LIMITED)
    assert int(refused.headers["Retry-After"]) >= 1
    assert history(api, issued.plaintext).status_code == 200  # the channel's 60 a minute are not used up


def test_a_keys_credit_cap_answers_the_contracts_insufficient_credits_while_the_channel_has_more(
    api, llm, owner_web, channel_and_key
):
    channel, issued = channel_and_key
    capped, plaintext = _create(owner_web, channel, name="Trial", credit_cap="1")
    assert chat(api, plaintext).status_code == 200
    refused = chat(api, plaintext, session_id="s-2")
    assert (refused.status_code, refused.json()) == (403, NO_CREDITS)
    capped.refresh_from_db()
    channel.refresh_from_db()
    assert (capped.credits_spent, channel.credits) == (1, 99)
    assert chat(api, issued.plaintext).status_code == 200

    # The owner raises the cap: the key works again at once (the key cache reads it again).
    owner_web.submit(f"/dashboard/channels/{channel.public_id}/keys/{capped.public_id}/edit/",
                     {"name": "Trial", "credit_cap": "2"})
    assert chat(api, plaintext, session_id="s-3").status_code == 200


def test_a_failed_chat_gives_its_credit_back_to_the_keys_cap(api, llm, owner_web, channel_and_key):
    channel, _issued = channel_and_key
    capped, plaintext = _create(owner_web, channel, name="Trial", credit_cap="1")
    llm.mode, llm.status = "status", 400
    assert chat(api, plaintext).status_code == 500
    capped.refresh_from_db()
    assert capped.credits_spent == 0
    llm.mode = "ok"
    assert chat(api, plaintext).status_code == 200


def test_rotating_one_named_key_keeps_its_name_and_limits_and_leaves_the_others_working(api, owner_web, channel_and_key):
    channel, issued = channel_and_key
    staging, staging_plain = _create(owner_web, channel, name="Staging", rate_limit_per_minute="5", credit_cap="9")
    page = owner_web.submit(f"/dashboard/channels/{channel.public_id}/keys/rotate/",
                            {"grace": "none", "key": str(staging.public_id)}, follow_redirects=True)
    new_plain = re.search(r"data-key-text>(amgai_[^<]+)<", page.text).group(1)
    new = ApiKey.objects.get(channel=channel, name="Staging", revoked_at__isnull=True)
    assert (new.rate_limit_per_minute, new.credit_cap) == (5, 9)
    assert history(api, staging_plain).status_code == 401
    assert history(api, new_plain).status_code == 200
    assert history(api, issued.plaintext).status_code == 200


def test_a_new_key_needs_a_name_and_a_recent_password(owner_web, channel_and_key):
    channel, _issued = channel_and_key
    owner_web.submit(f"/dashboard/channels/{channel.public_id}/keys/new/", {"name": "  "})
    assert ApiKey.objects.filter(channel=channel).count() == 1
    owner_web.age_password_entry(16 * 60)
    r = owner_web.submit(f"/dashboard/channels/{channel.public_id}/keys/new/", {"name": "Later"})
    assert r.status_code == 302 and r.headers["location"].startswith("/accounts/confirm-password/")
    assert ApiKey.objects.filter(channel=channel).count() == 1


def test_an_owner_of_another_organisation_cannot_see_reveal_create_edit_rotate_or_revoke(
    api, outsider_web, owner_web, channel_and_key
):
    channel, issued = channel_and_key
    staging, staging_plain = _create(owner_web, channel, name="Staging")
    base = f"/dashboard/channels/{channel.public_id}"
    assert outsider_web.get(f"{base}/").status_code == 404
    assert outsider_web.get(f"{base}/keys/{staging.public_id}/").status_code == 404
    for path, data in (
        (f"{base}/keys/{staging.public_id}/reveal/", {}),
        (f"{base}/keys/{staging.public_id}/revoke/", {}),
        (f"{base}/keys/{staging.public_id}/edit/", {"name": "Mine now", "credit_cap": "0"}),
        (f"{base}/keys/rotate/", {"grace": "none", "key": str(staging.public_id)}),
        (f"{base}/keys/new/", {"name": "Backdoor"}),
    ):
        r = outsider_web.submit(path, data, headers={"Accept": "application/json"})
        assert r.status_code == 404, path
        assert staging_plain not in r.text and issued.plaintext not in r.text
    staging.refresh_from_db()
    assert (staging.name, staging.credit_cap, staging.revoked_at) == ("Staging", None, None)
    assert ApiKey.objects.filter(channel=channel).count() == 2
    assert not KeyReveal.objects.filter(action="reveal").exists()
    assert history(api, staging_plain).status_code == 200


@pytest.mark.parametrize("role", ["analyst"])
def test_an_analyst_cannot_create_reveal_edit_or_revoke_a_key(api, gateway_server, owner, channel_and_key, role):
    channel, issued = channel_and_key
    base = f"/dashboard/channels/{channel.public_id}"
    with _member_web(gateway_server, owner, channel, role) as web:
        page = web.get(f"{base}/")
        assert page.status_code == 200 and issued.api_key.masked not in page.text and "Create key" not in page.text
        for path, data in (
            (f"{base}/keys/new/", {"name": "Mine"}),
            (f"{base}/keys/{issued.api_key.public_id}/reveal/", {}),
            (f"{base}/keys/{issued.api_key.public_id}/edit/", {"name": "Renamed"}),
            (f"{base}/keys/{issued.api_key.public_id}/revoke/", {}),
        ):
            r = web.submit(path, data, headers={"Accept": "application/json"})
            assert r.status_code == 403, path
            assert issued.plaintext not in r.text
    api_key = ApiKey.objects.get(channel=channel)
    assert (api_key.name, api_key.revoked_at) == ("Default", None)
    assert not KeyReveal.objects.exists()
    assert history(api, issued.plaintext).status_code == 200


def test_a_developer_creates_a_key_but_cannot_edit_or_revoke_one(gateway_server, owner, channel_and_key):
    channel, issued = channel_and_key
    base = f"/dashboard/channels/{channel.public_id}"
    with _member_web(gateway_server, owner, channel, "developer") as web:
        _key, plaintext = _create(web, channel, name="Developer's")
        assert plaintext.startswith("amgai_")
        assert web.submit(f"{base}/keys/{issued.api_key.public_id}/revoke/").status_code == 403
        assert web.submit(f"{base}/keys/{issued.api_key.public_id}/edit/", {"name": "x"}).status_code == 403
