"""Organisation credits: owners and admins move credits between the organisation and its channels themselves
(never below zero, atomic, audited), staff grant credits to an organisation (admin and `manage.py credits grant`),
and a channel's own `403 Insufficient credits` stays as it was. Through real HTTP and the real database."""

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.testing import WebClient
from channels_app.models import Channel
from conftest import make_channel
from gateway.testing import loopback
from gateway.testing.api import chat, credits
from teams import services
from teams.models import AuditEntry, Organisation
from teams.tests.worlds import make_user


def _url(org) -> str:
    return f"/dashboard/org/{org.public_id}/credits/"


def _move(web, org, source, destination, amount):
    key = lambda place: "organisation" if isinstance(place, Organisation) else str(place.public_id)  # noqa: E731
    return web.submit(_url(org), {"source": key(source), "destination": key(destination), "amount": str(amount)})


def test_a_new_owner_moves_credits_to_a_second_channel_without_staff(owner_web, owner):
    first, _ = make_channel(owner, name="Shop", credits=100)
    second, _ = make_channel(owner, name="Blog", credits=0)
    org = first.organisation
    page = owner_web.get(_url(org))
    assert page.status_code == 200 and "Move credits" in page.text

    assert _move(owner_web, org, first, second, 30).status_code == 302
    assert (credits(first), credits(second), credits(org)) == (70, 30, 0)
    assert _move(owner_web, org, first, org, 50).status_code == 302
    assert _move(owner_web, org, org, second, 20).status_code == 302
    assert (credits(first), credits(second), credits(org)) == (20, 50, 30)

    entries = list(AuditEntry.objects.filter(organisation=org, action="credits.move").order_by("id"))
    assert [e.changes for e in entries] == [
        {"channel Shop": [100, 70], "channel Blog": [0, 30]},
        {"channel Shop": [70, 20], "organisation": [0, 50]},
        {"organisation": [50, 30], "channel Blog": [30, 50]},
    ]
    assert all(e.actor == owner for e in entries)
    assert "30 credits from channel Shop to channel Blog" == entries[0].target


@pytest.mark.parametrize(
    "form",
    [
        {"amount": "0"}, {"amount": "-5"}, {"amount": "ten"}, {"amount": "1.5"}, {"amount": "10000001"},
        {"amount": "101"},  # more than the source has
        {"destination": "source"},  # the same place twice
        {"destination": "elsewhere"},  # a channel of another organisation
        {"source": "nonsense"},
    ],
)
def test_a_bad_move_is_refused_with_a_clear_error_and_changes_nothing(owner_web, owner, outsider, form):
    first, _ = make_channel(owner, name="Shop", credits=100)
    second, _ = make_channel(owner, name="Blog", credits=5)
    elsewhere, _ = make_channel(outsider, name="Elsewhere", credits=7)
    org = first.organisation
    data = {"source": str(first.public_id), "destination": str(second.public_id), "amount": "10", **form}
    data["destination"] = {"source": data["source"], "elsewhere": str(elsewhere.public_id)}.get(data["destination"], data["destination"])
    r = owner_web.submit(_url(org), data)
    assert r.status_code == 400
    assert 'class="alert alert-error"' in r.text or 'class="error"' in r.text
    assert (credits(first), credits(second), credits(elsewhere), credits(org)) == (100, 5, 7, 0)
    assert not AuditEntry.objects.filter(action="credits.move").exists()


def test_more_than_the_source_has_names_what_it_has(owner_web, owner):
    first, _ = make_channel(owner, name="Shop", credits=3)
    org = first.organisation
    r = _move(owner_web, org, first, org, 4)
    assert r.status_code == 400 and "“Shop” has 3 credits: it cannot give 4." in r.text


def test_admins_may_move_developers_and_analysts_get_403_and_strangers_404(owner, gateway_server, outsider):
    channel, _ = make_channel(owner, name="Shop", credits=100)
    org = channel.organisation
    users = {role: make_user(f"{role}@example.com") for role in ("admin", "developer", "analyst")}
    for role, user in users.items():
        services.membership_add(organisation=org, user=user, role=role, actor=owner)
    expected = {"admin": 302, "developer": 403, "analyst": 403}
    for role, status in expected.items():
        with WebClient(base_url=gateway_server.url) as web:
            web.force_login(users[role])
            assert web.get(_url(org)).status_code == (200 if status == 302 else 403)
            assert _move(web, org, channel, org, 10).status_code == status, role
    with WebClient(base_url=gateway_server.url) as web:
        web.force_login(outsider)
        assert web.get(_url(org)).status_code == 404
        assert _move(web, org, channel, org, 10).status_code == 404
    assert (credits(channel), credits(org)) == (90, 10)
    assert AuditEntry.objects.get(action="credits.move").actor == users["admin"]


def test_an_empty_channel_keeps_its_403_whatever_the_organisation_holds(api, llm, owner, staff):
    channel, issued = make_channel(owner, name="Shop", credits=0)
    org = channel.organisation
    call_command("credits", "grant", "--organisation", str(org.public_id), "--amount", "500", stdout=StringIO())
    r = chat(api, issued.plaintext, "Hi")
    assert r.status_code == 403
    assert r.json() == {"error": "This channel has no credits left. Ask the channel owner to top up its credits."}
    assert llm.requests == [] and credits(org) == 500


def test_moves_and_chats_on_one_channel_never_overspend(api, llm, owner, gateway_server):
    """Chats holding the channel's credits while its owner moves them away, all at once: every credit ends up
    spent by exactly one answered chat or moved exactly once, and no balance goes below zero."""
    channel, issued = make_channel(owner, name="Shop", credits=12)
    org = channel.organisation
    results = {"moved": 0, "move_refused": 0, "answered": 0, "chat_refused": 0}
    lock = threading.Lock()
    start = threading.Barrier(16)

    def mover():
        from django.db import connection

        with WebClient(base_url=gateway_server.url) as web:
            web.force_login(owner)  # its session row, written from this thread
            connection.close()  # so the test database has no thread's connection left at its end
            start.wait()
            status = _move(web, org, channel, org, 2).status_code
        with lock:
            results["moved" if status == 302 else "move_refused"] += 1
            assert status in (302, 400)

    def chatter(i):
        with loopback.Client(base_url=gateway_server.url, timeout=30) as client:
            start.wait()
            status = chat(client, issued.plaintext, "Hi", session_id=f"s{i}").status_code
        with lock:
            results["answered" if status == 200 else "chat_refused"] += 1
            assert status in (200, 403)

    threads = [threading.Thread(target=mover) for _ in range(8)] + [threading.Thread(target=chatter, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert sum(results.values()) == 16, results
    assert credits(channel) >= 0
    assert 2 * results["moved"] + results["answered"] + credits(channel) == 12, results
    assert credits(org) == 2 * results["moved"]
    assert AuditEntry.objects.filter(action="credits.move").count() == results["moved"]


def test_staff_grant_from_the_command_line(owner, staff):
    channel, _ = make_channel(owner, name="Shop", credits=1)
    org = channel.organisation
    out = StringIO()
    call_command("credits", "grant", "--organisation", org.name, "--amount", "1000", "--by", "staff@example.com", stdout=out)
    assert "Granted 1,000 credits" in out.getvalue() and credits(org) == 1000
    entry = AuditEntry.objects.get(action="credits.grant")
    assert entry.actor == staff and entry.changes == {"organisation": [0, 1000]}
    for args, message in (
        (["--organisation", "No such org", "--amount", "5"], "No organisation"),
        (["--organisation", org.name, "--amount", "0"], "whole number of credits from 1"),
        (["--organisation", org.name, "--amount", "5", "--by", "owner@example.com"], "No staff user"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("credits", "grant", *args, stdout=StringIO())
    assert credits(org) == 1000 and AuditEntry.objects.filter(action="credits.grant").count() == 1


def test_staff_grant_from_the_admin(staff_web, staff, owner):
    channel, _ = make_channel(owner, name="Shop", credits=1)
    org = channel.organisation
    other = services.organisation_create(user=owner, name="Side project")
    form = {"action": "grant_credits", "_selected_action": [str(org.pk), str(other.pk)]}
    page = staff_web.submit("/admin/teams/organisation/", form)
    assert page.status_code == 200 and "Grant credits" in page.text
    bad = staff_web.submit("/admin/teams/organisation/", {**form, "apply": "1", "amount": "0"})
    assert bad.status_code == 200 and credits(org) == 0
    assert staff_web.submit("/admin/teams/organisation/", {**form, "apply": "1", "amount": "250"}).status_code == 302
    assert (credits(org), credits(other)) == (250, 250)
    assert AuditEntry.objects.filter(action="credits.grant", actor=staff).count() == 2
    assert Channel.objects.get(pk=channel.pk).credits == 1


def test_a_channel_deleted_meanwhile_is_refused_and_nothing_moves(owner):
    from channels_app.organisation_credits import credits_move
    from teams.credits import CreditMoveRefused

    first, _ = make_channel(owner, name="Shop", credits=10)
    gone, _ = make_channel(owner, name="Gone", credits=10)
    org = first.organisation
    Channel.objects.filter(pk=gone.pk).delete()
    for source, destination in ((gone, first), (first, gone), (org, gone)):
        with pytest.raises(CreditMoveRefused, match="no longer exists"):
            credits_move(organisation=org, source=source, destination=destination, amount=1, actor=owner)
    assert (credits(first), credits(org)) == (10, 0)
    assert not AuditEntry.objects.filter(action="credits.move").exists()


# --- A channel that spends the organisation's credits directly ---

def _draw(web, channel, on: bool):
    return web.submit(f"/dashboard/channels/{channel.public_id}/credits/draw/", {"draws": "on" if on else "off"})


NO_CREDITS = {"error": "This channel has no credits left. Ask the channel owner to top up its credits."}


def test_a_channel_drawing_from_the_organisation_spends_its_credits_and_gets_back_a_failed_chats(
    api, llm, owner_web, owner, staff
):
    from teams.credits import organisation_credits_grant

    channel, issued = make_channel(owner, name="Shop", credits=5)
    org = channel.organisation
    organisation_credits_grant(organisation=org, amount=3, staff=staff)
    assert _draw(owner_web, channel, True).status_code == 302
    entry = AuditEntry.objects.get(action="credits.draw")
    assert entry.actor == owner and entry.changes == {"draws_from_organisation": [False, True]}
    assert "the organisation&#x27;s credits" in owner_web.get(_url(org)).text or "the organisation's credits" in owner_web.get(_url(org)).text

    for i in range(3):
        assert chat(api, issued.plaintext, "Hi", session_id=f"s{i}").status_code == 200
    assert (credits(org), credits(channel)) == (0, 5)
    r = chat(api, issued.plaintext, "Hi")
    assert (r.status_code, r.json()) == (403, NO_CREDITS)  # the contract's answer, whichever balance is empty
    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/").text
    assert 'data-credit-banner="organisation-empty"' in page

    organisation_credits_grant(organisation=org, amount=1, staff=staff)
    llm.mode, llm.status = "status", 500
    assert chat(api, issued.plaintext, "Hi").status_code >= 500
    assert (credits(org), credits(channel)) == (1, 5)  # the failed chat's credit went back where it came from

    llm.mode, llm.status = "ok", 200
    assert _draw(owner_web, channel, False).status_code == 302
    assert chat(api, issued.plaintext, "Hi").status_code == 200
    assert (credits(org), credits(channel)) == (1, 4)


def test_only_owners_and_admins_switch_a_channel_to_the_organisations_credits(owner, gateway_server, outsider):
    channel, _ = make_channel(owner, name="Shop", credits=5)
    org = channel.organisation
    developer = make_user("developer@example.com")
    services.membership_add(organisation=org, user=developer, role="developer", actor=owner)
    for user, status in ((developer, 403), (outsider, 404)):
        with WebClient(base_url=gateway_server.url) as web:
            web.force_login(user)
            assert _draw(web, channel, True).status_code == status
    assert not Channel.objects.get(pk=channel.pk).draws_from_organisation
    assert not AuditEntry.objects.filter(action="credits.draw").exists()


def test_a_widget_chat_on_a_drawing_channel_spends_the_organisations_credits(api, llm, owner_web, channel, widget_key, staff):
    from gateway.testing.api import widget_chat
    from teams.credits import organisation_credits_grant

    Channel.objects.filter(pk=channel.pk).update(credits=0)
    org = channel.organisation
    organisation_credits_grant(organisation=org, amount=2, staff=staff)
    assert _draw(owner_web, channel, True).status_code == 302
    assert widget_chat(api, widget_key, "Hi", session_id="v-1").status_code == 200
    assert (credits(org), credits(channel)) == (1, 0)


def test_concurrent_chats_never_overspend_the_organisations_credits(api, llm, owner, gateway_server, staff):
    """Twelve chats at once on two channels drawing from an organisation that holds five credits: five answered."""

    from channels_app.organisation_credits import channel_set_draws
    from teams.credits import organisation_credits_grant

    first, first_key = make_channel(owner, name="Shop", credits=0)
    second, second_key = make_channel(owner, name="Blog", credits=0)
    org = first.organisation
    organisation_credits_grant(organisation=org, amount=5, staff=staff)
    for channel in (first, second):
        channel_set_draws(organisation=org, channel=channel, draws=True, actor=owner)
    statuses, lock, start = [], threading.Lock(), threading.Barrier(12)

    def chatter(i):
        key = (first_key if i % 2 else second_key).plaintext
        with loopback.Client(base_url=gateway_server.url, timeout=30) as client:
            start.wait()
            status = chat(client, key, "Hi", session_id=f"s{i}").status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=chatter, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [200] * 5 + [403] * 7
    assert (credits(org), credits(first), credits(second)) == (0, 0, 0)


def test_the_low_credits_alert_of_a_drawing_channel_watches_the_organisations_balance(owner, staff):
    from alerts.models import AlertState
    from alerts.services import settings_for
    from alerts.thresholds import measure
    from channels_app.organisation_credits import channel_set_draws
    from teams.credits import organisation_credits_grant

    channel, _ = make_channel(owner, name="Shop", credits=0)
    org = channel.organisation
    organisation_credits_grant(organisation=org, amount=500, staff=staff)
    channel_set_draws(organisation=org, channel=channel, draws=True, actor=owner)
    channel = Channel.objects.select_related("organisation").get(pk=channel.pk)
    over, data = measure(channel, settings_for(channel))[AlertState.Kind.CREDITS_LOW]
    assert (over, data["credits_left"]) == (False, 500)
    Organisation.objects.filter(pk=org.pk).update(credits=0)
    channel = Channel.objects.select_related("organisation").get(pk=channel.pk)
    assert measure(channel, settings_for(channel))[AlertState.Kind.CREDITS_LOW][0] is True
