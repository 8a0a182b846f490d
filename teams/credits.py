"""Writes: an organisation's own credits, granted by staff, and the rule every amount of credits moved or granted
keeps (`check_amount`, MOVE_MAX). Moving credits between an organisation and its channels writes channels' rows
too, so it lives in channels_app (channels_app/organisation_credits.py), above teams in the layers.
Each grant is written to the organisation's audit log with the balance before and after.
"""

from django.db import transaction
from django.db.models import F

from teams import audit
from teams.models import Organisation

MOVE_MAX = 10_000_000  # one move or grant; a typo of extra zeros is refused rather than made


class CreditMoveRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_amount(amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MOVE_MAX:
        raise CreditMoveRefused(f"Give a whole number of credits from 1 to {MOVE_MAX:,}.")


def organisation_credits_grant(*, organisation: Organisation, amount: int, staff, request=None) -> int:
    """Staff add `amount` credits to the organisation's own balance (audited, staff as the actor); the balance after."""
    check_amount(amount)
    with transaction.atomic():
        before = Organisation.objects.select_for_update().values_list("credits", flat=True).get(pk=organisation.pk)
        Organisation.objects.filter(pk=organisation.pk).update(credits=F("credits") + amount)
        after = before + amount
        audit.record(  # actor None: granted from the command line without --by
            organisation=organisation, actor=staff, action="credits.grant", request=request,
            target=f"{amount:,} credits from staff", changes={"organisation": [before, after]},
        )
    organisation.credits = after
    return after
