"""Sign-up cannot mint credits: everything through real HTTP against the running
gateway, with the confirmation e-mails sent over SMTP to a real server on loopback (`mailbox`)."""

import threading
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum

from accounts.testing import WebClient
from channels_app.models import Channel

PASSWORD = "a-long-secret-42"
CHANNEL = {"name": "Shop", "model": "openai/gpt-oss-20b", "rate_limit_per_minute": "30", "daily_limit": "500", "is_active": "on"}


def sign_up(client, email):
    return client.submit("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})


def credits_of(email) -> int:
    return Channel.objects.filter(owner__email=email).aggregate(total=Sum("credits"))["total"] or 0


def confirm(client, link):
    """Open the link from the e-mail, then press Confirm, as a person would."""
    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200 and "Confirm your e-mail" in page.text
    return client.submit(path)


@pytest.fixture
def second_web(gateway_server):
    with WebClient(base_url=gateway_server.url) as client:
        yield client


def test_two_sign_ups_with_ten_channels_each_get_credits_once_each_and_only_after_confirming(
    web, second_web, mailbox, settings
):
    settings.MAX_CHANNELS_PER_OWNER = 10
    settings.NEW_OWNER_CREDITS = 100
    owners = {"first@mail.example.com": web, "second@mail.example.com": second_web}
    for email, client in owners.items():
        assert sign_up(client, email).status_code == 302
        for n in range(10):
            assert client.submit("/dashboard/channels/new/", {**CHANNEL, "name": f"Site {n}"}).status_code == 302
    assert Channel.objects.aggregate(total=Sum("credits"))["total"] == 0  # c96551d: 2,000 free credits

    for email, client in owners.items():
        # Channel 11 is refused, with the reason, and nothing is created.
        r = client.submit("/dashboard/channels/new/", {**CHANNEL, "name": "One too many"})
        assert r.status_code == 200 and "You have reached the limit of 10 channels." in r.text
        assert Channel.objects.filter(owner__email=email).count() == 10
    page = web.get("/dashboard/").text
    assert "Confirm your e-mail to get your starting credits" in page

    for email, client in owners.items():
        link = mailbox.confirmation_link(email)
        r = confirm(client, link)
        assert r.status_code == 302 and r.headers["location"] == "/dashboard/"
        assert credits_of(email) == 100
        oldest = Channel.objects.filter(owner__email=email).order_by("created_at", "pk").first()
        assert oldest.credits == 100 and oldest.name == "Site 0"
        # The link again, and more channels' worth of attempts: nothing more.
        assert client.submit(urlsplit(link).path).status_code == 302
        assert credits_of(email) == 100
    assert "Confirm your e-mail to get your starting credits" not in web.get("/dashboard/").text
    assert Channel.objects.aggregate(total=Sum("credits"))["total"] == 200
    from accounts.models import StartingCreditGrant

    assert StartingCreditGrant.objects.count() == 2


def test_the_sixth_sign_up_from_one_address_within_the_window_is_a_429(web, mailbox, settings):
    settings.SIGNUP_RATE = "5/h"
    for n in range(5):
        web.cookies.clear()  # a fresh visitor each time: signed-in users are sent to the dashboard
        assert sign_up(web, f"bulk{n}@mail.example.com").status_code == 302
    web.cookies.clear()
    r = sign_up(web, "bulk5@mail.example.com")
    assert r.status_code == 429 and "Too many sign-ups from here" in r.text
    assert not get_user_model().objects.filter(email="bulk5@mail.example.com").exists()
    assert mailbox.to("bulk5@mail.example.com") == []
    assert get_user_model().objects.count() == 5


@pytest.mark.parametrize(
    "address", ["owner@shop.invalid", "owner@shop.test", "owner@shop.example", "owner@localhost", "owner@shop.localhost"]
)
def test_it_refuses_addresses_that_cannot_receive_mail(web, mailbox, address):
    r = sign_up(web, address)
    assert r.status_code == 200
    assert "This address cannot receive e-mail (its domain is reserved). Use an address you can read." in r.text
    assert not get_user_model().objects.exists()
    assert mailbox.messages == []


def test_a_forged_expired_or_replayed_link_confirms_nothing(web, mailbox, settings):
    sign_up(web, "victim@mail.example.com")
    web.submit("/dashboard/channels/new/", CHANNEL)
    link = urlsplit(mailbox.confirmation_link("victim@mail.example.com")).path
    token = link.rstrip("/").rsplit("/", 1)[1]

    forged = link.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    r = web.submit(forged)
    assert r.status_code == 400 and "This confirmation link is not valid" in r.text
    settings.EMAIL_CONFIRMATION_MAX_AGE_HOURS = 0  # every link is too old now
    r = web.submit(link)
    assert r.status_code == 400 and "This confirmation link is not valid" in r.text
    assert credits_of("victim@mail.example.com") == 0

    settings.EMAIL_CONFIRMATION_MAX_AGE_HOURS = 72
    assert web.submit(link).status_code == 302
    assert credits_of("victim@mail.example.com") == settings.NEW_OWNER_CREDITS


def test_a_link_confirms_only_the_account_it_was_sent_to(web, second_web, mailbox):
    sign_up(web, "alice@mail.example.com")
    sign_up(second_web, "mallory@mail.example.com")
    second_web.submit("/dashboard/channels/new/", CHANNEL)
    # Mallory confirms with Alice's link (say she saw it): Alice is confirmed, Mallory is not.
    second_web.submit(urlsplit(mailbox.confirmation_link("alice@mail.example.com")).path)
    assert credits_of("mallory@mail.example.com") == 0
    assert "Confirm your e-mail to get your starting credits" in second_web.get("/dashboard/").text


@pytest.mark.live  # concurrent clients on a real server
def test_concurrent_confirmations_grant_once(web, mailbox, settings):
    sign_up(web, "racer@mail.example.com")
    for n in range(3):
        web.submit("/dashboard/channels/new/", {**CHANNEL, "name": f"Site {n}"})
    path = urlsplit(mailbox.confirmation_link("racer@mail.example.com")).path
    token = web.csrf_token
    statuses, barrier = [], threading.Barrier(8)

    def press():
        with WebClient(base_url=str(web.base_url), cookies=dict(web.cookies)) as client:
            barrier.wait()
            statuses.append(client.post(path, data={"csrfmiddlewaretoken": token}).status_code)

    threads = [threading.Thread(target=press) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302] * 8
    assert credits_of("racer@mail.example.com") == settings.NEW_OWNER_CREDITS


@pytest.mark.live  # concurrent clients on a real server
def test_concurrent_channel_creations_of_a_confirmed_owner_grant_once_and_respect_the_cap(owner_web, owner, settings):
    settings.MAX_CHANNELS_PER_OWNER = 3
    token = owner_web.csrf_token
    statuses, barrier = [], threading.Barrier(8)

    def create(n):
        with WebClient(base_url=str(owner_web.base_url), cookies=dict(owner_web.cookies)) as client:
            barrier.wait()
            data = {**CHANNEL, "name": f"Site {n}", "csrfmiddlewaretoken": token}
            statuses.append(client.post("/dashboard/channels/new/", data=data).status_code)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 5 + [302] * 3
    assert Channel.objects.filter(owner=owner).count() == 3
    assert credits_of(owner.email) == settings.NEW_OWNER_CREDITS  # c96551d: 100 per channel


def test_resending_the_link_is_throttled(web, mailbox, settings):
    from accounts import throttle

    settings.CONFIRMATION_RESEND_RATE = "2/h"
    throttle.reset("resend-user", "resend@mail.example.com")
    sign_up(web, "resend@mail.example.com")
    mailbox.wait_for("resend@mail.example.com")
    for _ in range(2):
        r = web.submit("/accounts/confirm-email/resend/")
        assert r.status_code == 302
    mailbox.wait_for("resend@mail.example.com", count=3)
    r = web.submit("/accounts/confirm-email/resend/")
    assert r.status_code == 429 and "Too many confirmation e-mails from here" in r.text
    assert len(mailbox.to("resend@mail.example.com")) == 3
    # Every link sent works (the newest here).
    assert web.submit(urlsplit(mailbox.confirmation_link("resend@mail.example.com")).path).status_code == 302


def test_an_owner_who_confirms_before_creating_a_channel_gets_the_credits_on_the_first_one(web, mailbox, settings):
    sign_up(web, "early@mail.example.com")
    web.submit(urlsplit(mailbox.confirmation_link("early@mail.example.com")).path)
    for n in range(2):
        web.submit("/dashboard/channels/new/", {**CHANNEL, "name": f"Site {n}"})
    first, second = Channel.objects.filter(owner__email="early@mail.example.com").order_by("created_at", "pk")
    assert (first.credits, second.credits) == (settings.NEW_OWNER_CREDITS, 0)


def test_an_unconfirmed_owners_channels_cannot_chat_until_the_e_mail_is_confirmed(web, mailbox, api, llm):
    from gateway.testing.api import chat

    sign_up(web, "spender@mail.example.com")
    for n in range(3):
        web.submit("/dashboard/channels/new/", {**CHANNEL, "name": f"Site {n}"})
    keys = [c.api_keys.get().reveal() for c in Channel.objects.filter(owner__email="spender@mail.example.com")]
    for key in keys:
        r = chat(api, key)
        assert r.status_code == 403  # c96551d: 200, paid by 100 free credits per channel
        assert r.json() == {"error": "This channel has no credits left. Ask the channel owner to top up its credits."}
    assert llm.requests == []

    web.submit(urlsplit(mailbox.confirmation_link("spender@mail.example.com")).path)
    answered = [chat(api, key).status_code for key in keys]
    assert sorted(answered) == [200, 403, 403]  # only the oldest channel got the starting credits


def test_a_mail_server_that_is_down_does_not_fail_the_sign_up_and_the_link_can_be_sent_again(web, mailbox, settings):
    settings.EMAIL_PORT = 9  # nothing listens there
    r = sign_up(web, "later@mail.example.com")
    assert r.status_code == 302
    assert "We could not send the confirmation e-mail just now." in web.get("/dashboard/").text
    settings.EMAIL_PORT = mailbox.port
    assert web.submit("/accounts/confirm-email/resend/").status_code == 302
    web.submit("/dashboard/channels/new/", CHANNEL)
    web.submit(urlsplit(mailbox.confirmation_link("later@mail.example.com")).path)
    assert credits_of("later@mail.example.com") == settings.NEW_OWNER_CREDITS
