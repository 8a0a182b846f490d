"""`manage.py sso_domains list [<organisation>]`, `verify <organisation> <domain>`, `unverify <organisation> <domain>`:
an operator's way to verify a domain they have checked belongs to the organisation. <organisation> is its public
id (as in dashboard URLs) or its number in the admin."""

import uuid

from django.core.management.base import BaseCommand, CommandError

from teams import sso_domains
from teams.models import Organisation, SsoDomain


def _organisation(ref: str) -> Organisation:
    try:
        lookup = {"public_id": uuid.UUID(ref)} if not ref.isdigit() else {"pk": int(ref)}
    except ValueError:
        raise CommandError(f"No organisation {ref}.") from None
    org = Organisation.objects.filter(**lookup).first()
    if org is None:
        raise CommandError(f"No organisation {ref}.")
    return org


class Command(BaseCommand):
    help = "List, verify or unverify the e-mail domains organisations claim for single sign-on."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list")
        listing.add_argument("organisation", nargs="?")
        for name in ("verify", "unverify"):
            action = sub.add_parser(name)
            action.add_argument("organisation")
            action.add_argument("domain")

    def handle(self, *args, action, organisation=None, domain=None, **options):
        if action == "list":
            rows = SsoDomain.objects.select_related("organisation")
            if organisation:
                rows = rows.filter(organisation=_organisation(organisation))
            for row in rows:
                state = f"verified ({row.verified_by}, {row.verified_at:%Y-%m-%d})" if row.verified_at else "claimed"
                self.stdout.write(f"{row.organisation.public_id}  {row.domain}  {state}  {row.organisation.name}")
            return
        org = _organisation(organisation)
        try:
            name = sso_domains.normalise(domain)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        row = SsoDomain.objects.filter(organisation=org, domain=name).first()
        if row is None:
            raise CommandError(f"{org.name} has not claimed {name}; an owner adds it on the SSO page first.")
        if action == "verify":
            try:
                sso_domains.domain_verify(domain=row, method=SsoDomain.Method.COMMAND)
            except sso_domains.DomainTaken as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{name} verified for {org.name}.")
        else:
            sso_domains.domain_unverify(domain=row)
            self.stdout.write(f"{name} no longer verified for {org.name}.")
