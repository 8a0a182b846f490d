"""Writes: an organisation's credits moved between it and its channels by its owners and admins, and whether a
channel's chats draw on the organisation's balance. Chats spend only a channel's own credits (or, for a channel
that draws, its organisation's: channels_app/services.py's credit hold); this file moves credits, it never
creates or spends any (staff grants are teams/credits.py's).

Every move is one transaction: the organisation's row is locked first (so moves in opposite directions
take turns instead of deadlocking), the source is debited by a conditional UPDATE that takes nothing
unless enough is there (a chat's hold on the same channel row waits for it or goes first, so a balance
never goes below zero), then the destination credited. A move that cannot be made changes nothing.
Each move is written to the organisation's audit log with the balances before and after.

It writes both an organisation's row and its channels', so it lives in channels_app, which may import teams
(the organisation, the audit log, the amount rule), never the other way round.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from channels_app import key_cache
from channels_app.models import Channel
from teams import audit
from teams.credits import CreditMoveRefused, check_amount
from teams.models import Organisation


@dataclass(frozen=True)
class Moved:
    amount: int
    source_after: int
    destination_after: int


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
    check_amount(amount)
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


def _key(place) -> tuple[str, int]:
    return (type(place).__name__, place.pk)


def _label(place) -> str:
    return "organisation" if isinstance(place, Organisation) else f"channel {place.name}"
