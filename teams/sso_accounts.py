"""Who an identity provider's checked answer signs in (docs/teams.md, "Single sign-on"). Only:

(a) the account this organisation's SSO made for that subject,
(b) a member who linked their account to that subject themselves (`identity_link`, after a fresh password),
(c) a new account, when the address is on one of the organisation's verified domains and no account has it.

Accounts are found through SsoIdentity (organisation, issuer, `sub`), never by e-mail address alone. Staff and
superusers are never signed in by SSO. An unconfirmed sign-up holding the address (someone registered it before its
owner's first SSO sign-in), and not a member of this organisation, is retired: its password stops working, its sessions end, its memberships are removed,
and the audit log says so; then the address's owner gets a fresh account. Any other existing account with the
address is refused: its owner signs in with their password and links SSO from the organisation's SSO page.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts import selectors as account_selectors, services as account_services
from teams import audit, sso_domains
from teams.models import Membership, SsoConfig, SsoIdentity

STAFF = "Staff accounts cannot sign in with single sign-on."
DOMAIN = "Your e-mail domain may not sign in to this organisation."
EXISTS = ("An account with this e-mail address exists already. Sign in with your password, then link single "
          "sign-on on the organisation's SSO page.")
TAKEN = "This identity is linked to another account."
LINKED_ALREADY = "Your account is linked to another identity at this provider."


class Refused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _signable(user) -> None:
    if user.is_staff or user.is_superuser:
        raise Refused(STAFF)
    if not user.is_active:
        raise Refused("This account is disabled.")


@transaction.atomic
def account_for(*, config: SsoConfig, issuer: str, subject: str, email: str, request=None):
    """The user the provider's answer signs in to `config`'s organisation (made if new); Refused otherwise.
    `email` is the checked claim, its domain in IDNA form."""
    org = config.organisation
    identity = SsoIdentity.objects.select_related("user").filter(organisation=org, issuer=issuer, subject=subject).first()
    if identity is not None:
        _signable(identity.user)
        return identity.user
    if email.rpartition("@")[2] not in sso_domains.verified_domains(org):
        raise Refused(DOMAIN)
    earlier = SsoIdentity.objects.select_related("user").filter(
        organisation=org, issuer=issuer, subject="", user__email__iexact=email).first()
    if earlier is not None:  # made by this organisation's SSO before identities were stored
        _signable(earlier.user)
        SsoIdentity.objects.filter(pk=earlier.pk).update(subject=subject)
        return earlier.user
    User = get_user_model()
    for user in User.objects.select_for_update().filter(Q(email__iexact=email) | Q(username__iexact=email)):
        if user.is_staff or user.is_superuser:
            raise Refused(STAFF)
        # A member here came in through an invitation mailed to the address: theirs, so they link it themselves.
        if account_selectors.owner_is_confirmed(user) or Membership.objects.filter(organisation=org, user=user).exists():
            raise Refused(EXISTS)
        _retire_squatter(user, config=config, request=request)
    user = User.objects.create_user(username=email, email=email)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    SsoIdentity.objects.create(organisation=org, issuer=issuer, subject=subject, user=user,
                               origin=SsoIdentity.Origin.CREATED)
    return user


def _retire_squatter(user, *, config: SsoConfig, request) -> None:
    """An unconfirmed sign-up on a verified domain loses the address to the provider's verified answer."""
    memberships = list(Membership.objects.select_related("organisation").filter(user=user))
    Membership.objects.filter(user=user).delete()
    address = account_services.account_retire(user=user)
    for membership in memberships:
        audit.record(organisation=membership.organisation, actor=None, action="member.remove", request=request,
                     target=f"member {address}", changes={"role": [membership.role, None],
                                                          "reason": [None, "unconfirmed account retired by SSO"]})
    audit.record(organisation=config.organisation, actor=None, action="sso.account.retire", request=request,
                 target=f"account {address}",
                 changes={"password": ["…", "changed"], "sessions": [None, "ended"],
                          "memberships": [len(memberships), 0]})


def identity_link(*, config: SsoConfig, issuer: str, subject: str, user, request=None) -> SsoIdentity:
    """Link a member's own account (they just entered their password and went through the provider) to the
    provider's subject; Refused for staff, a subject linked to someone else, or an account linked to another."""
    _signable(user)
    org = config.organisation
    if not Membership.objects.filter(organisation=org, user=user).exists():
        raise Refused("Only members of this organisation can link single sign-on.")
    existing = SsoIdentity.objects.filter(organisation=org, issuer=issuer, subject=subject).first()
    if existing is not None:
        if existing.user_id != user.pk:
            raise Refused(TAKEN)
        return existing
    try:
        with transaction.atomic():
            identity = SsoIdentity.objects.create(organisation=org, issuer=issuer, subject=subject, user=user,
                                                  origin=SsoIdentity.Origin.LINKED)
    except IntegrityError:
        raise Refused(LINKED_ALREADY) from None
    audit.record(organisation=org, actor=user, action="sso.link", request=request, target=f"member {user.email}")
    return identity
