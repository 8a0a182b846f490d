"""E-mail domains an organisation claims for single sign-on, and their verification.

A claimed domain lets nobody in. It counts once verified: by a TXT record at `_ai-gateway-sso.<domain>` whose value
the SSO page shows (looked up with dnspython, through the resolver chosen at start-up: teams/dns_txt.py), by staff
in the admin, or with `manage.py sso_domains verify`. Only one organisation can hold a domain verified (a partial
unique constraint), and a domain verified by one cannot be claimed by another.
"""

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from teams import audit, dns_txt
from teams.models import Organisation, SsoDomain

RECORD_PREFIX = "_ai-gateway-sso"
VALUE_PREFIX = "ai-gateway-sso-verification="


class DomainTaken(Exception):
    """Another organisation has verified this domain."""

    def __init__(self, domain: str):
        super().__init__(f"“{domain}” is verified by another organisation.")


def normalise(text: str) -> str:
    """A domain as stored and compared: lower case, IDNA (xn--…) form, no trailing dot; ValueError if not a domain."""
    domain = text.strip().lstrip("@").rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"“{text.strip()}” is not a domain.") from None
    labels = domain.split(".")
    if len(labels) < 2 or len(domain) > 253 or not all(_label_ok(label) for label in labels):
        raise ValueError(f"“{text.strip()}” is not a domain.")
    return domain


def _label_ok(label: str) -> bool:
    return 0 < len(label) <= 63 and label[0] != "-" and label[-1] != "-" and all(c.isalnum() or c == "-" for c in label) \
        and label.isascii()


def record_name(domain: SsoDomain) -> str:
    return f"{RECORD_PREFIX}.{domain.domain}"


def record_value(domain: SsoDomain) -> str:
    return VALUE_PREFIX + domain.verification_token


def verified_elsewhere(domain: str, organisation: Organisation) -> bool:
    return SsoDomain.objects.filter(domain=domain, verified_at__isnull=False).exclude(organisation=organisation).exists()


def verified_domains(organisation: Organisation) -> set[str]:
    return set(SsoDomain.objects.filter(organisation=organisation, verified_at__isnull=False).values_list("domain", flat=True))


def domains_set(*, organisation: Organisation, domains: list[str], actor, request=None) -> None:
    """Make the organisation's claimed domains exactly `domains` (normalised here; ValueError for one that is not a
    domain): new ones claimed unverified, dropped
    ones deleted, kept ones unchanged. DomainTaken, and nothing changed, if one is verified by another organisation."""
    domains = sorted({normalise(name) for name in domains})
    with transaction.atomic():
        for name in domains:
            if verified_elsewhere(name, organisation):
                raise DomainTaken(name)
        current = {d.domain: d for d in SsoDomain.objects.select_for_update().filter(organisation=organisation)}
        for name in sorted(set(domains) - set(current)):
            SsoDomain.objects.create(organisation=organisation, domain=name, verification_token=secrets.token_hex(16))
            audit.record(organisation=organisation, actor=actor, action="sso.domain.claim", request=request,
                         target=f"domain {name}")
        for name in sorted(set(current) - set(domains)):
            current[name].delete()
            audit.record(organisation=organisation, actor=actor, action="sso.domain.remove", request=request,
                         target=f"domain {name}")


def domain_verify(*, domain: SsoDomain, method: str, actor=None, request=None) -> SsoDomain:
    """Mark the domain verified; DomainTaken if another organisation holds it verified."""
    if domain.verified_at is not None:
        return domain
    if verified_elsewhere(domain.domain, domain.organisation):
        raise DomainTaken(domain.domain)
    try:
        with transaction.atomic():
            SsoDomain.objects.filter(pk=domain.pk).update(verified_at=timezone.now(), verified_by=method)
            audit.record(organisation=domain.organisation, actor=actor, action="sso.domain.verify", request=request,
                         target=f"domain {domain.domain}", changes={"verified_by": [None, method]})
    except IntegrityError:  # verified by another organisation at the same moment
        raise DomainTaken(domain.domain) from None
    domain.refresh_from_db()
    return domain


def domain_unverify(*, domain: SsoDomain, actor=None, request=None) -> None:
    if SsoDomain.objects.filter(pk=domain.pk, verified_at__isnull=False).update(verified_at=None, verified_by=""):
        audit.record(organisation=domain.organisation, actor=actor, action="sso.domain.unverify", request=request,
                     target=f"domain {domain.domain}")
    domain.refresh_from_db()


def domain_check_dns(*, domain: SsoDomain, actor=None, request=None) -> bool:
    """Look the TXT record up now; verify the domain if it carries this claim's value. DomainTaken as domain_verify."""
    if domain.verified_at is not None:
        return True
    if record_value(domain) not in dns_txt.lookup(record_name(domain)):
        return False
    domain_verify(domain=domain, method=SsoDomain.Method.DNS, actor=actor, request=request)
    return True
