"""Members and the organisation switcher: the last owner stays; a user in several organisations switches between them."""

from accounts.testing import WebClient
from conftest import make_channel
from teams import services
from teams.models import Membership
from teams.tests.worlds import make_user


def test_the_last_owner_can_neither_leave_nor_be_demoted_nor_removed(owner_web, owner, channel):
    org = channel.organisation
    mine = Membership.objects.get(organisation=org, user=owner)
    o = f"/dashboard/org/{org.public_id}"
    r = owner_web.submit(f"{o}/leave/", follow_redirects=True)
    assert "An organisation needs an owner" in r.text
    owner_web.submit(f"{o}/members/{mine.public_id}/role/", {"role": "analyst"})
    owner_web.submit(f"{o}/members/{mine.public_id}/remove/")
    assert Membership.objects.get(pk=mine.pk).role == "owner"


def test_with_a_second_owner_the_first_can_step_down(owner_web, owner, channel):
    org = channel.organisation
    services.membership_add(organisation=org, user=make_user("co@example.com"), role="owner", actor=owner)
    mine = Membership.objects.get(organisation=org, user=owner)
    assert owner_web.submit(f"/dashboard/org/{org.public_id}/members/{mine.public_id}/role/", {"role": "admin"}).status_code == 302
    assert Membership.objects.get(pk=mine.pk).role == "admin"
    # Now an admin: people are the owners' business.
    assert owner_web.submit(f"/dashboard/org/{org.public_id}/members/{mine.public_id}/role/", {"role": "owner"}).status_code == 403


def test_a_member_of_two_organisations_switches_between_their_channel_lists(owner, outsider, gateway_server):
    mine = make_channel(owner, name="Own shop")[0]
    team = services.organisation_create(user=outsider, name="Agency")
    make_channel(outsider, name="Client site", organisation=team)
    services.membership_add(organisation=team, user=owner, role="analyst", actor=outsider)
    with WebClient(base_url=gateway_server.url) as web:
        web.force_login(owner)
        first = web.get("/dashboard/").text
        assert "Own shop" in first and "Client site" not in first and "Switch to Agency" in first
        assert web.submit(f"/dashboard/org/{team.public_id}/switch/").status_code == 302
        second = web.get("/dashboard/").text
        assert "Client site" in second and "Own shop" not in second and f"Switch to {mine.organisation.name}" in second
        assert "Create channel" not in second  # an analyst there


def test_new_organisation_makes_its_creator_owner(owner_web, owner, channel):
    r = owner_web.submit("/dashboard/org/new/", {"name": "Side project"})
    assert r.status_code == 302
    assert Membership.objects.get(organisation__name="Side project").user == owner
    assert owner_web.get("/dashboard/").text.count("Create your first channel") == 1


def test_an_owner_deletes_a_channel_and_its_key_stops_working_at_once(owner_web, channel_and_key, api):
    from channels_app.models import Channel
    from gateway.testing.api import chat
    from teams.models import AuditEntry

    channel, issued = channel_and_key
    url = f"/dashboard/channels/{channel.public_id}/delete/"
    assert owner_web.submit(url, {"confirm_name": "wrong"}).status_code == 302
    assert Channel.objects.filter(pk=channel.pk).exists()
    assert owner_web.submit(url, {"confirm_name": channel.name}).status_code == 302
    assert not Channel.objects.filter(pk=channel.pk).exists()
    assert chat(api, issued.plaintext, "Hi").status_code == 401
    assert AuditEntry.objects.get(action="channel.delete").channel_public_id == channel.public_id
