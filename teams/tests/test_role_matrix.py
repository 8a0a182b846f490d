"""Every dashboard URL × every role, in the user's organisation and in another.

The URLs come from the resolver: a dashboard URL without a policy decision (`@teams.policy.requires`)
or without a row in EXPECTED below fails the suite. EXPECTED is written by hand from the issue's
roles, so a change to the policy table (teams/roles.py) that lets a role do more shows up here.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from teams.tests.worlds import join, make_user, make_world

OWNER, ADMIN, DEVELOPER, ANALYST = "owner", "admin", "developer", "analyst"
ALL = {OWNER, ADMIN, DEVELOPER, ANALYST}
READERS = {OWNER, ADMIN, ANALYST}  # conversations and usage
KEY_HOLDERS = {OWNER, ADMIN, DEVELOPER}

# URL name → the roles that may use it. Everyone else in the organisation gets 403, anyone outside 404.
EXPECTED = {
    "dashboard:channel-list": ALL,
    "dashboard:channel-new": {OWNER, ADMIN},
    "dashboard:channel-detail": ALL,
    "dashboard:channel-edit": {OWNER, ADMIN},
    "dashboard:channel-integrate": KEY_HOLDERS,
    "dashboard:channel-widget": KEY_HOLDERS,
    "dashboard:widget-origins": {OWNER, ADMIN},
    "dashboard:widget-settings": {OWNER, ADMIN},
    "dashboard:widget-key-create": {OWNER, ADMIN},
    "dashboard:widget-key-rotate": {OWNER, ADMIN},
    "dashboard:widget-key-revoke": {OWNER, ADMIN},
    "dashboard:credit-request": {OWNER},
    "dashboard:credit-draw": {OWNER, ADMIN},
    "dashboard:channel-delete": {OWNER},
    "dashboard:key-rotate": KEY_HOLDERS,
    "dashboard:key-shown": KEY_HOLDERS,
    "dashboard:key-reveal": KEY_HOLDERS,
    "dashboard:key-revoke": {OWNER, ADMIN},
    "dashboard:key-create": KEY_HOLDERS,
    "dashboard:key-edit": {OWNER, ADMIN},
    "dashboard:session-list": READERS,
    "dashboard:session-export": READERS,
    "dashboard:session-erase": {OWNER, ADMIN},
    "dashboard:transcript-by-query": READERS,
    "dashboard:transcript": READERS,
    "dashboard:usage": READERS,
    "dashboard:activity": READERS,
    "dashboard:activity-export": READERS,
    "dashboard:alerts": {OWNER, ADMIN},
    "dashboard:webhook-secret-rotate": {OWNER, ADMIN},
    "dashboard:knowledge": READERS,
    "dashboard:knowledge-add": {OWNER, ADMIN},
    "dashboard:knowledge-refresh": {OWNER, ADMIN},
    "dashboard:knowledge-remove": {OWNER, ADMIN},
    "dashboard:knowledge-dismiss": {OWNER, ADMIN},
    "teams:org-new": ALL,
    "teams:org-switch": ALL,
    "teams:members": ALL,
    "teams:member-role": {OWNER},
    "teams:member-remove": {OWNER},
    "teams:leave": ALL,
    "teams:invite": {OWNER},
    "teams:invitation-resend": {OWNER},
    "teams:invitation-revoke": {OWNER},
    "teams:audit": {OWNER, ADMIN},
    "teams:audit-export": {OWNER, ADMIN},
    "teams:settings": {OWNER, ADMIN},
    "teams:credits": {OWNER, ADMIN},
    "teams:sso": {OWNER},
    "teams:sso-domain-check": {OWNER},
    "teams:sso-link": ALL,
    "teams:usage": READERS,
    "teams:activity": READERS,
    "teams:activity-export": READERS,
}

# Requests that change things run last, leaving the organisation last of all.
LAST = ["dashboard:key-revoke", "dashboard:widget-key-revoke", "dashboard:session-erase", "teams:invitation-revoke",
        "teams:member-remove", "dashboard:channel-delete", "teams:leave"]


def dashboard_urls() -> dict:
    """Every URL under /dashboard/, by name: (its view, the names of its arguments)."""
    found = {}

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern) and (prefix + str(p.pattern)).startswith("dashboard/"):
                found[f"{namespace}:{p.name}"] = (p.callback, re.findall(r"<(?:\w+:)?(\w+)>", prefix + str(p.pattern)))

    walk(get_resolver().url_patterns, "", None)
    return found


def test_every_dashboard_url_has_a_policy_decision_and_an_expected_row():
    urls = dashboard_urls()
    assert len(urls) > 30
    undecided = sorted(name for name, (view, _args) in urls.items() if not getattr(view, "policy_action", None))
    assert undecided == [], "dashboard views without @teams.policy.requires"
    assert set(urls) == set(EXPECTED), "every dashboard URL needs a row in EXPECTED"


def _url(name: str, args: list[str], world) -> str:
    """The URL `name` with every argument pointing into `world`'s organisation."""
    values = {
        "public_id": world.channel.public_id,
        "key_id": world.widget_key.public_id if name == "dashboard:widget-key-revoke" else world.key.public_id,
        "thread": world.session.thread,
        "session_id": world.session.session_id,
        "fmt": "csv",
        "org_id": world.org.public_id,
        "member_id": world.colleague.public_id,
        "invitation_id": world.invitation.public_id,
        "domain_id": world.org.sso_domains.values_list("pk", flat=True).first(),
    }
    url = reverse(name, kwargs={arg: values[arg] for arg in args})
    return url + f"?session_id={world.session.session_id}" if name == "dashboard:transcript-by-query" else url


def _post_data(name: str, world) -> dict:
    return {
        "dashboard:key-rotate": {"grace": "1h"},
        "dashboard:key-create": {"name": "Another backend"},
        "dashboard:key-edit": {"name": "Renamed"},
        "dashboard:session-erase": {"session_id": world.session.session_id, "source": world.session.source},
        "dashboard:credit-request": {"amount": "100"},
        "dashboard:credit-draw": {"draws": "on"},
        "dashboard:channel-delete": {"confirm_name": world.channel.name},
        "teams:member-role": {"role": world.colleague.role},
        "teams:invite": {"email": "someone.new@example.com", "role": "analyst"},
        "teams:org-new": {"name": "Another team"},
    }.get(name, {})


def _call(web, name: str, url: str, world):
    """GET the URL; a view that only takes POST answers 405 after its policy decision, then gets its form POST."""
    r = web.get(url)
    if r.status_code == 405:
        r = web.submit(url, _post_data(name, world))
    return r.status_code


def _ordered(urls: dict) -> list[str]:
    return sorted(urls, key=lambda n: LAST.index(n) if n in LAST else -1)


@pytest.fixture
def worlds(owner):
    return make_world(owner, "Home"), make_world(make_user("boss@other.example"), "Other")


@pytest.mark.parametrize("role", [OWNER, ADMIN, DEVELOPER, ANALYST])
def test_each_role_gets_what_the_matrix_says_in_its_organisation_and_404_in_another(role, worlds, owner, gateway_server):
    from accounts.testing import WebClient

    home, other = worlds
    user = owner if role == OWNER else make_user(f"{role}@home.example")
    if role != OWNER:
        join(home, user, role)
    urls = dashboard_urls()
    wrong = []
    with WebClient(base_url=gateway_server.url) as web:
        web.force_login(user)
        for name in _ordered(urls):
            args = urls[name][1]
            if args:  # another organisation's objects: not even their existence is revealed
                status = _call(web, name, _url(name, args, other), other)
                if status != 404:
                    wrong.append((name, "other org", status, 404))
            status = _call(web, name, _url(name, args, home), home)
            allowed = role in EXPECTED[name]
            if (allowed and status not in (200, 302)) or (not allowed and status != 403):
                wrong.append((name, "own org", status, "200/302" if allowed else 403))
    assert wrong == []


def test_a_visitor_is_sent_to_log_in_from_every_dashboard_url(worlds, web):
    home, _other = worlds
    for name, (_view, args) in dashboard_urls().items():
        r = web.get(_url(name, args, home))
        assert r.status_code == 302 and r.headers["location"].startswith("/accounts/login/"), name
