"""`manage.py credits grant --organisation <public id or exact name> --amount N [--by staff@example.com]`:
staff add credits to an organisation's own balance, as the admin's "Grant credits" action does."""

import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from teams.credits import MOVE_MAX, CreditMoveRefused, organisation_credits_grant
from teams.models import Organisation


def _organisation(value: str) -> Organisation:
    try:
        found = Organisation.objects.filter(public_id=uuid.UUID(value))
    except ValueError:
        found = Organisation.objects.filter(name=value)
    matches = list(found[:2])
    if not matches:
        raise CommandError(f"No organisation {value!r}: give its public id (admin) or its exact name.")
    if len(matches) > 1:
        raise CommandError(f"Several organisations are called {value!r}: give the public id instead.")
    return matches[0]


class Command(BaseCommand):
    help = "Grant credits to an organisation's own balance; its owners and admins then move them to channels."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        grant = sub.add_parser("grant", help="add credits to an organisation")
        grant.add_argument("--organisation", required=True, help="its public id, or its exact name")
        grant.add_argument("--amount", required=True, type=int, help=f"1 to {MOVE_MAX:,}")
        grant.add_argument("--by", default="", help="the staff member's e-mail, for the audit log (default: none)")

    def handle(self, *args, **opts):
        organisation = _organisation(opts["organisation"])
        staff = None
        if opts["by"]:
            staff = get_user_model().objects.filter(email__iexact=opts["by"], is_staff=True).first()
            if staff is None:
                raise CommandError(f"No staff user {opts['by']!r}.")
        try:
            balance = organisation_credits_grant(organisation=organisation, amount=opts["amount"], staff=staff)
        except CreditMoveRefused as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Granted {opts['amount']:,} credits to {organisation.name}: it holds {balance:,} now.")
