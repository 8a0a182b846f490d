"""Invitations through a real SMTP server on loopback: single-use, expiring, bound to the
invited address, revocable, resent with a new token; accepted by signing up or by logging in."""

import datetime as dt
import re

import pytest

from accounts.testing import WebClient
from teams.models import Invitation, Membership
from teams.tests.worlds import make_user


def _link(mailbox, address: str, index: int = -1) -> str:
    body = mailbox.wait_for(address, count=abs(index) if index < 0 else index + 1)[index].get_body(
        preferencelist=("plain",)
    ).get_content()
    return re.search(r"https?://\S+/invitations/\S+/", body).group(0)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def _invite(owner_web, org, email: str, role: str = "analyst"):
    r = owner_web.submit(f"/dashboard/org/{org.public_id}/invitations/", {"email": email, "role": role})
    assert r.status_code == 302


@pytest.fixture
def stranger_web(gateway_server):
    with WebClient(base_url=gateway_server.url) as client:
        yield client


def test_an_invited_analyst_signs_up_reads_transcripts_and_usage_and_gets_403_on_every_key_page(
    owner_web, channel_and_key, mailbox, stranger_web, api, llm
):
    from gateway.testing.api import chat

    channel, issued = channel_and_key
    chat(api, issued.plaintext, "Where is my parcel?", session_id="visitor-7")
    _invite(owner_web, channel.organisation, "ana@example.com")
    mail = mailbox.wait_for("ana@example.com")[0]
    assert channel.organisation.name in mail["Subject"]
    link = _path(_link(mailbox, "ana@example.com"))

    page = stranger_web.get(link)
    assert page.status_code == 200 and "Sign up and join" in page.text
    r = stranger_web.submit(link, {"email": "ana@example.com", "password1": "pw-analyst-123!", "password2": "pw-analyst-123!"})
    assert r.status_code == 302
    assert Membership.objects.get(user__email="ana@example.com").role == "analyst"

    base = f"/dashboard/channels/{channel.public_id}"
    assert stranger_web.get(f"{base}/conversations/").status_code == 200
    transcript = stranger_web.get(f"{base}/conversations/1/visitor-7")
    assert transcript.status_code == 200 and "Where is my parcel?" in transcript.text
    assert stranger_web.get(f"{base}/usage/").status_code == 200
    detail = stranger_web.get(f"{base}/")
    assert detail.status_code == 200 and issued.api_key.masked not in detail.text
    key = issued.api_key.public_id
    for url in (f"{base}/integrate/", f"{base}/widget/", f"{base}/keys/{key}/"):
        assert stranger_web.get(url).status_code == 403, url
    for url in (f"{base}/keys/{key}/reveal/", f"{base}/keys/rotate/", f"{base}/keys/{key}/revoke/", f"{base}/widget/key/create/"):
        r = stranger_web.submit(url, {"grace": "none"}, headers={"Accept": "application/json"})
        assert r.status_code == 403 and issued.plaintext not in r.text, url
    assert channel.api_keys.get().is_usable()

    assert stranger_web.get(link).status_code == 410  # single-use


def test_an_existing_user_accepts_after_logging_in_and_another_address_cannot(owner_web, channel, mailbox, gateway_server):
    bob = make_user("bob@example.com")
    eve = make_user("eve@example.com")
    _invite(owner_web, channel.organisation, "bob@example.com", role="developer")
    link = _path(_link(mailbox, "bob@example.com"))
    with WebClient(base_url=gateway_server.url) as eve_web:
        eve_web.force_login(eve)
        assert "This invitation is for bob@example.com" in eve_web.get(link).text
        assert eve_web.submit(link).status_code == 403
    assert not Membership.objects.filter(user=eve, organisation=channel.organisation).exists()
    with WebClient(base_url=gateway_server.url) as bob_web:
        assert "Log in to accept" in bob_web.get(link).text
        bob_web.force_login(bob)
        assert bob_web.submit(link).status_code == 302
        assert bob_web.get(f"/dashboard/channels/{channel.public_id}/integrate/").status_code == 200
    assert Membership.objects.get(user=bob, organisation=channel.organisation).role == "developer"


def test_an_expired_or_revoked_invitation_is_refused(owner_web, channel, mailbox, stranger_web):
    org = channel.organisation
    _invite(owner_web, org, "late@example.com")
    _invite(owner_web, org, "revoked@example.com")
    late_link, revoked_link = _path(_link(mailbox, "late@example.com")), _path(_link(mailbox, "revoked@example.com"))
    Invitation.objects.filter(email="late@example.com").update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    revoked = Invitation.objects.get(email="revoked@example.com")
    assert owner_web.submit(f"/dashboard/org/{org.public_id}/invitations/{revoked.public_id}/revoke/").status_code == 302
    for link in (late_link, revoked_link):
        assert stranger_web.get(link).status_code == 410
        r = stranger_web.submit(link, {"email": "x@example.com", "password1": "pw-x-123456!", "password2": "pw-x-123456!"})
        assert r.status_code == 410
    assert not Membership.objects.filter(organisation=org, role="analyst").exists()


def test_resending_mails_a_new_token_and_the_old_link_stops_working(owner_web, channel, mailbox, stranger_web):
    org = channel.organisation
    _invite(owner_web, org, "again@example.com")
    old = _path(_link(mailbox, "again@example.com"))
    invitation = Invitation.objects.get()
    assert owner_web.submit(f"/dashboard/org/{org.public_id}/invitations/{invitation.public_id}/resend/").status_code == 302
    new = _path(_link(mailbox, "again@example.com", index=1))
    assert new != old
    assert stranger_web.get(old).status_code == 410
    assert stranger_web.get(new).status_code == 200


def test_the_token_is_not_stored(owner_web, channel, mailbox):
    from django.db import connection

    _invite(owner_web, channel.organisation, "quiet@example.com")
    token = _link(mailbox, "quiet@example.com").rstrip("/").rsplit("/", 1)[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM teams_invitation")
        assert token not in repr(cursor.fetchall())


def test_an_invitee_who_signed_up_by_the_mailed_link_is_confirmed_and_not_told_to_confirm(
    owner_web, channel, mailbox, stranger_web
):
    from accounts.models import EmailConfirmation, StartingCreditGrant
    from accounts.selectors import owner_is_confirmed

    _invite(owner_web, channel.organisation, "ana@example.com")
    link = _path(_link(mailbox, "ana@example.com"))
    r = stranger_web.submit(link, {"email": "ana@example.com", "password1": "pw-analyst-123!", "password2": "pw-analyst-123!"})
    assert r.status_code == 302
    ana = Membership.objects.get(user__email="ana@example.com").user
    assert owner_is_confirmed(ana) and EmailConfirmation.objects.get(user=ana).confirmed_at is not None
    page = stranger_web.get("/dashboard/")
    assert page.status_code == 200
    assert "data-confirmation-pending" not in page.text and "starting credits" not in page.text
    assert not StartingCreditGrant.objects.filter(owner=ana).exists()  # nothing of theirs to grant to yet
    assert len(mailbox.wait_for("ana@example.com")) == 1  # no confirmation mail: the invitation was the proof
