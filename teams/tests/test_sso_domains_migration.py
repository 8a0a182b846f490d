"""The migration to claimed SSO domains: each organisation's allowed_domains become unverified claims (so they sign
nobody in until verified), and accounts its SSO made earlier keep a subject-less identity their first sign-in
completes. Run on a populated database at the schema before it: back, fill, forward."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("teams", "0001_organisations_members_invitations_sso_audit")]
AFTER = [("teams", "0002_sso_domains_identities")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_allowed_domains_become_unverified_claims_and_sso_made_accounts_keep_a_pending_identity():
    try:
        apps = _migrate(BEFORE)
        User = apps.get_model("auth", "User")
        Organisation = apps.get_model("teams", "Organisation")
        Membership = apps.get_model("teams", "Membership")
        SsoConfig = apps.get_model("teams", "SsoConfig")
        AuditEntry = apps.get_model("teams", "AuditEntry")
        org = Organisation.objects.create(name="Acme")
        SsoConfig.objects.create(organisation=org, issuer="https://login.acme.example/", client_id="gw",
                                 client_secret_ciphertext=b"x", allowed_domains=["acme.example", "Bücher.example"])
        made_by_sso = User.objects.create(username="ana@acme.example", email="ana@acme.example", password="!unusable")
        with_password = User.objects.create(username="bo@acme.example", email="bo@acme.example", password="pbkdf2$x")
        for user in (made_by_sso, with_password):
            Membership.objects.create(organisation=org, user=user, role="analyst")
            AuditEntry.objects.create(organisation=org, action="member.add", target=f"member {user.email}",
                                      changes={"role": [None, "analyst"], "via": [None, "sso"]}, created_at=timezone.now())

        apps = _migrate(AFTER)
        SsoDomain = apps.get_model("teams", "SsoDomain")
        SsoIdentity = apps.get_model("teams", "SsoIdentity")
        domains = {d.domain: d for d in SsoDomain.objects.filter(organisation_id=org.pk)}
        assert set(domains) == {"acme.example", "xn--bcher-kva.example"}
        assert all(d.verified_at is None and len(d.verification_token) == 32 for d in domains.values())
        [identity] = SsoIdentity.objects.all()
        assert (identity.user_id, identity.subject, identity.issuer) == (made_by_sso.pk, "", "https://login.acme.example/")

        apps = _migrate(BEFORE)  # and back: the claims return to allowed_domains
        config = apps.get_model("teams", "SsoConfig").objects.get(organisation_id=org.pk)
        assert sorted(config.allowed_domains) == ["acme.example", "xn--bcher-kva.example"]
    finally:
        _migrate(_latest())


def test_the_first_sign_in_completes_a_pending_identity(provider, owner, channel, gateway_server):
    from django.contrib.auth import get_user_model

    from accounts.testing import WebClient
    from teams.models import SsoIdentity
    from teams.tests.sso_flow import sso_login, sso_setup

    org = sso_setup(channel.organisation, owner, provider, domains=["acme.example"], verified=["acme.example"])
    ana = get_user_model().objects.create_user("ana@acme.example", "ana@acme.example")
    ana.set_unusable_password()
    ana.save()
    SsoIdentity.objects.create(organisation=org, issuer=provider.issuer, subject="", user=ana, origin="created")
    provider.assert_claims("ana-idp", sub="ana-subject", email="ana@acme.example", email_verified=True)
    with WebClient(base_url=gateway_server.url) as browser:
        r = sso_login(browser, org, "ana-idp")
        assert r.status_code == 302 and r.headers["location"] == "/dashboard/"
    assert SsoIdentity.objects.get(user=ana).subject == "ana-subject"
    assert get_user_model().objects.filter(email="ana@acme.example").count() == 1
