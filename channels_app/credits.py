"""Credits an owner can see coming: top-up requests from the dashboard, granted or declined by
staff in admin, every grant recorded (CreditGrant) with who gave how many and the balance after."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from channels_app.models import Channel, CreditGrant, CreditRequest
from channels_app.services import credits_add


class CreditRequestPending(Exception):
    """The channel already has a request waiting for staff."""


class CreditRequestDecided(Exception):
    """The request was granted or declined already (by another staff member, say)."""


def credit_request_create(*, channel: Channel, user, amount: int, note: str = "") -> CreditRequest:
    """Ask staff for `amount` more credits; one waiting request per channel."""
    try:
        with transaction.atomic():
            return CreditRequest.objects.create(channel=channel, requested_by=user, amount=amount, note=note.strip())
    except IntegrityError:  # creditrequest_one_pending_per_channel
        raise CreditRequestPending from None


def credit_grant(*, channel: Channel, amount: int, staff, request: CreditRequest | None = None) -> CreditGrant:
    """Add credits and record who did it, in one transaction."""
    with transaction.atomic():
        credits_add(channel=channel, amount=amount)  # raises ValueError unless positive
        balance = Channel.objects.values_list("credits", flat=True).get(pk=channel.pk)
        return CreditGrant.objects.create(
            channel=channel, amount=amount, granted_by=staff, request=request, balance_after=balance
        )


def credit_request_grant(*, credit_request: CreditRequest, staff, amount: int | None = None) -> CreditGrant:
    """Grant a waiting request (its own amount unless staff give another); claimed with a conditional UPDATE."""
    amount = amount or credit_request.amount
    with transaction.atomic():
        claimed = CreditRequest.objects.filter(pk=credit_request.pk, status=CreditRequest.Status.PENDING).update(
            status=CreditRequest.Status.GRANTED, decided_at=timezone.now(), decided_by=staff, amount=amount
        )
        if claimed != 1:
            raise CreditRequestDecided
        return credit_grant(channel=credit_request.channel, amount=amount, staff=staff, request=credit_request)


def credit_request_decline(*, credit_request: CreditRequest, staff) -> None:
    declined = CreditRequest.objects.filter(pk=credit_request.pk, status=CreditRequest.Status.PENDING).update(
        status=CreditRequest.Status.DECLINED, decided_at=timezone.now(), decided_by=staff
    )
    if declined != 1:
        raise CreditRequestDecided


def pending_request(channel: Channel) -> CreditRequest | None:
    return channel.credit_requests.filter(status=CreditRequest.Status.PENDING).first()


def latest_decision(channel: Channel) -> CreditRequest | None:
    return channel.credit_requests.exclude(status=CreditRequest.Status.PENDING).first()
