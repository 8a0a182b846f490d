"""The organisation pages in Chromium at 1280 px and 390 px: no sideways scroll, no serious or
critical axe-core violation. Owner, then an analyst of a second organisation, then a visitor with an invitation."""

from conftest import make_channel
from e2e.steps import log_in
from e2e.test_every_page import _audit
from gateway.testing.api import chat
from teams import audit, services
from teams.invitations import invitation_create
from teams.sso_services import sso_save
from teams.tests.worlds import make_user


def test_the_organisation_pages_fit_and_pass_axe(page, api, llm, owner):
    channel, issued = make_channel(owner, name="Mug shop", credits=50)
    assert chat(api, issued.plaintext, "Which mugs?", session_id="visitor-1").status_code == 200
    org = channel.organisation
    colleague = make_user("a.very.long.colleague.address@subsidiary.example.com")
    services.membership_add(organisation=org, user=colleague, role="developer", actor=owner)
    invitation_create(organisation=org, email="invited.person@example.com", role="analyst", actor=owner, link_for=str)
    sso_save(organisation=org, actor=owner, client_secret="s3cret", issuer="https://login.example.com/",
             client_id="gateway", domains=["example.com"], default_role="analyst", sso_required=False)
    audit.record(organisation=org, actor=owner, action="channel.settings", target="channel Mug shop",
                 changes={"system_prompt": ["You sell mugs and nothing else, politely and briefly.", "You sell mugs."]})
    agency = services.organisation_create(user=colleague, name="Agency with a rather long name")
    services.membership_add(organisation=agency, user=owner, role="analyst", actor=colleague)
    log_in(page, land=False)
    o = f"/dashboard/org/{org.public_id}"
    paths = ["/dashboard/", f"{o}/members/", f"{o}/audit/", f"{o}/sso/", f"{o}/sso/link/", f"{o}/usage/", "/dashboard/org/new/",
             f"/dashboard/org/{agency.public_id}/members/"]
    problems = _audit(page, paths)
    assert problems == [], "\n".join(problems)


def test_an_analysts_channel_page_fits_and_passes_axe(page, owner, outsider):
    channel, _ = make_channel(owner, name="Mug shop", credits=50)
    services.membership_add(organisation=channel.organisation, user=outsider, role="analyst", actor=owner)
    log_in(page, email="outsider@example.com", password="pw-outsider-123!", land=False)
    problems = _audit(page, [f"/dashboard/channels/{channel.public_id}/"])
    assert problems == [], "\n".join(problems)


def test_the_invitation_and_sso_refusal_pages_fit_and_pass_axe(page, owner):
    channel, _ = make_channel(owner, name="Mug shop", credits=50)
    tokens = []
    invitation_create(organisation=channel.organisation, email="new@example.com", role="analyst", actor=owner,
                      link_for=lambda token: tokens.append(token) or token)
    problems = _audit(page, [f"/invitations/{tokens[0]}/", "/invitations/not-a-token/", "/sso/callback/"])
    assert problems == [], "\n".join(problems)
