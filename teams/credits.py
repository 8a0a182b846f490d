"""Writes: an organisation's credits, moved between it and its channels by its owners and admins, and granted
by staff. Chats spend only a channel's own credits (channels_app/services.py's credit hold); this file moves
credits, it never creates or spends any, except the staff grant.

Every move is one transaction: the organisation's row is locked first (so moves in opposite directions
take turns instead of deadlocking), the source is debited by a conditional UPDATE that takes nothing
unless enough is there (a chat's hold on the same channel row waits for it or goes first, so a balance
never goes below zero), then the destination credited. A move that cannot be made changes nothing.
Each move and grant is written to the organisation's audit log with the balances before and after.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from channels_app import key_cache
from channels_app.models import Channel
from teams import audit
from teams.models import Organisation

MOVE_MAX = 10_000_000  # one move or grant; a typo of extra zeros is refused rather than made


class CreditMoveRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Moved:
    amount: int
    source_after: int
    destination_after: int


def _check_amount(amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MOVE_MAX:
        raise CreditMoveRefused(f"Give a whole number of credits from 1 to {MOVE_MAX:,}.")


def place_name(place, *, first: bool = False) -> str:
    """How a message names a place credits move between: “Shop”, or the organisation (capital `first` in a sentence)."""
    if isinstance(place, Organisation):
        return "The organisation" if first else "the organisation"
    return f"“{place.name}”"


def _debit(place, organisation: Organisation, amount: int) -> bool:
    if isinstance(place, Organisation):
        rows = Organisation.objects.filter(pk=organisation.pk, credits__gte=amount)
    else:
        rows = Channel.objects.filter(pk=place.pk, organisation_id=organisation.pk, credits__gte=amount)
    return rows.update(credits=F("credits") - amount) == 1


def _credit(place, organisation: Organisation, amount: int) -> bool:
    if isinstance(place, Organisation):
        rows = Organisation.objects.filter(pk=organisation.pk)
    else:
        rows = Channel.objects.filter(pk=place.pk, organisation_id=organisation.pk)
    return rows.update(credits=F("credits") + amount) == 1


def _balance(place) -> int | None:
    """The place's credits now; None when it is gone (a channel deleted meanwhile)."""
    return type(place).objects.filter(pk=place.pk).values_list("credits", flat=True).first()


def credits_move(*, organisation: Organisation, source, destination, amount: int, actor, request=None) -> Moved:
    """Move `amount` credits from `source` to `destination`: the organisation or one of its channels each.

    Raises CreditMoveRefused (nothing changed) for a bad amount, the same place twice, a channel of
    another organisation, or a source without `amount` credits.
    """
    _check_amount(amount)
    for place in (source, destination):
        if isinstance(place, Channel) and place.organisation_id != organisation.pk:
            raise CreditMoveRefused("That channel is not in this organisation.")
        if not isinstance(place, (Channel, Organisation)) or (isinstance(place, Organisation) and place.pk != organisation.pk):
            raise CreditMoveRefused("Credits move between this organisation and its channels only.")
    if type(source) is type(destination) and source.pk == destination.pk:
        raise CreditMoveRefused("Choose two different places to move credits between.")
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).values_list("pk", flat=True).get()
        before = {_key(p): _balance(p) for p in (source, destination)}
        if None in before.values():
            raise CreditMoveRefused("That channel no longer exists.")
        if not _debit(source, organisation, amount):
            have = _balance(source)
            raise CreditMoveRefused(f"{place_name(source, first=True)} has {have:,} credits: it cannot give {amount:,}.")
        if not _credit(destination, organisation, amount):
            raise CreditMoveRefused("That channel no longer exists.")  # rolled back with the debit
        after = {_key(p): _balance(p) for p in (source, destination)}
        channel = next((p for p in (destination, source) if isinstance(p, Channel)), None)
        audit.record(
            organisation=organisation, actor=actor, action="credits.move", request=request,
            target=f"{amount:,} credits from {_label(source)} to {_label(destination)}", channel=channel,
            changes={_label(p): [before[_key(p)], after[_key(p)]] for p in (source, destination)},
        )
    key_cache.invalidate()  # a cached channel would keep the widget's share of its old credits
    return Moved(amount, after[_key(source)], after[_key(destination)])


def channel_set_draws(*, organisation: Organisation, channel: Channel, draws: bool, actor, request=None) -> bool:
    """Let the channel's chats take their credits from the organisation's balance (or stop); audited.
    False when it was so already. Its own credits stay where they are, to move or to use again later."""
    with transaction.atomic():
        rows = Channel.objects.filter(pk=channel.pk, organisation_id=organisation.pk)
        before = rows.select_for_update().values_list("draws_from_organisation", flat=True).first()
        if before is None:
            raise CreditMoveRefused("That channel no longer exists.")
        if before == draws:
            return False
        rows.update(draws_from_organisation=draws)
        audit.record(
            organisation=organisation, actor=actor, action="credits.draw", request=request,
            target=f"channel {channel.name}", channel=channel, changes={"draws_from_organisation": [before, draws]},
        )
    channel.draws_from_organisation = draws
    key_cache.invalidate()  # a cached channel would apply the widget's credit share by the old switch
    return True


def organisation_credits_grant(*, organisation: Organisation, amount: int, staff, request=None) -> int:
    """Staff add `amount` credits to the organisation's own balance (audited, staff as the actor); the balance after."""
    _check_amount(amount)
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


def _key(place) -> tuple[str, int]:
    return (type(place).__name__, place.pk)


def _label(place) -> str:
    return "organisation" if isinstance(place, Organisation) else f"channel {place.name}"
