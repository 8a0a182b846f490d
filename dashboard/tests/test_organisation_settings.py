"""Renaming an organisation (/dashboard/org/<id>/settings/): owners and admins only, audited; a bad name changes
nothing; a member refused gets the site's 403 page naming their role; the top bar shows the organisation menu."""

import pytest

from accounts.testing import WebClient
from teams import services
from teams.models import AuditEntry, Organisation
from teams.tests.worlds import make_user


def _url(org) -> str:
    return f"/dashboard/org/{org.public_id}/settings/"


@pytest.fixture
def member_web(gateway_server):
    clients = []

    def login_as(user):
        client = WebClient(base_url=gateway_server.url)
        client.force_login(user)
        clients.append(client)
        return client

    yield login_as
    for client in clients:
        client.close()


def test_an_owner_renames_and_the_change_is_audited(owner_web, owner, channel):
    org = channel.organisation
    assert owner_web.get(_url(org)).status_code == 200
    r = owner_web.submit(_url(org), {"name": "  Mugs & Co  "})
    assert r.status_code == 302
    assert Organisation.objects.get(pk=org.pk).name == "Mugs & Co"
    entry = AuditEntry.objects.get(organisation=org, action="organisation.rename")
    assert entry.actor == owner and entry.changes == {"name": [org.name, "Mugs & Co"]}
    page = owner_web.get("/dashboard/").text
    assert 'data-org-current>Mugs &amp; Co<' in page


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_bad_name_is_refused_and_changes_nothing(owner_web, channel, name):
    org = channel.organisation
    r = owner_web.submit(_url(org), {"name": name})
    assert r.status_code == 400
    assert Organisation.objects.get(pk=org.pk).name == org.name
    assert not AuditEntry.objects.filter(action="organisation.rename").exists()


def test_an_admin_may_rename_a_developer_gets_the_403_page_and_a_stranger_404(owner, channel, member_web, outsider):
    org = channel.organisation
    admin, developer = make_user("admin@example.com"), make_user("dev@example.com")
    services.membership_add(organisation=org, user=admin, role="admin", actor=owner)
    services.membership_add(organisation=org, user=developer, role="developer", actor=owner)

    assert member_web(admin).submit(_url(org), {"name": "By the admin"}).status_code == 302
    assert Organisation.objects.get(pk=org.pk).name == "By the admin"

    refused = member_web(developer).submit(_url(org), {"name": "By the developer"})
    assert refused.status_code == 403
    assert "You are <strong>developer</strong> in “By the admin”" in refused.text
    assert '<header class="topbar">' in refused.text and "data-org-menu" in refused.text  # the site's layout
    assert member_web(outsider).submit(_url(org), {"name": "By a stranger"}).status_code == 404
    assert Organisation.objects.get(pk=org.pk).name == "By the admin"


def test_the_organisation_menu_is_on_every_dashboard_page_and_the_account_pages(owner_web, owner, channel):
    team = services.organisation_create(user=owner, name="Agency")
    for path in ("/dashboard/", f"/dashboard/channels/{channel.public_id}/usage/", f"/dashboard/org/{team.public_id}/members/",
                 "/accounts/password/change/"):
        page = owner_web.get(path).text
        assert "data-org-menu" in page and "Switch to" in page, path
    page = owner_web.get("/dashboard/").text
    bar = page.split('<header class="topbar">')[1].split("</header>")[0]
    # The address once, inside the closed account menu; the personal organisation's name is the same text.
    assert "<summary>Account</summary>" in bar and bar.count("Signed in as owner@example.com") == 1
