"""Invitations: by e-mail, single-use, expiring, bound to the invited address, revocable, resendable.

The token is in the e-mail only; the database keeps its SHA-256 (the token is 256 random bits, so a
plain digest cannot be reversed or guessed). Resending makes a new token, so an older mail stops working.
"""

import datetime as dt
import hashlib
import logging
import secrets
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from teams import audit, services
from teams.models import Invitation, Organisation

log = logging.getLogger(__name__)


class InvitationInvalid(Exception):
    """Unknown, used, revoked or expired."""

    message = "This invitation is no longer valid. Ask for a new one."


class WrongAddress(Exception):
    message = "This invitation is for another e-mail address. Log in (or sign up) with the invited address."


class AlreadyInvited(Exception):
    message = "That address has an open invitation already: resend or revoke it."


def _now() -> dt.datetime:
    return timezone.now()


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def _send(invitation: Invitation, token: str, link_for) -> bool:
    context = {
        "invitation": invitation,
        "link": link_for(token),
        "days": settings.INVITATION_MAX_AGE_DAYS,
    }
    subject = render_to_string("teams/invitation_subject.txt", context).strip()
    body = render_to_string("teams/invitation_email.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email], fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("invitation %s not sent: %s", invitation.public_id, type(exc).__name__)  # never the link
        return False
    return True


def invitation_create(*, organisation: Organisation, email: str, role: str, actor, link_for, request=None) -> tuple[Invitation, bool]:
    """Invite `email` as `role` and mail the link; returns (invitation, whether the mail went out)."""
    token, token_digest = _new_token()
    now = _now()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                organisation=organisation, email=email.strip().lower(), role=role, token_digest=token_digest,
                invited_by=actor, created_at=now, expires_at=now + dt.timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
            )
    except IntegrityError:
        raise AlreadyInvited() from None
    audit.record(
        organisation=organisation, actor=actor, action="invitation.create", request=request,
        target=f"invitation {invitation.email}", changes={"role": [None, role]},
    )
    return invitation, _send(invitation, token, link_for)


def invitation_resend(*, invitation: Invitation, actor, link_for, request=None) -> bool:
    """A new token and expiry, mailed again; the old link stops working."""
    token, token_digest = _new_token()
    now = _now()
    updated = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        token_digest=token_digest, expires_at=now + dt.timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    )
    if not updated:
        raise InvitationInvalid()
    invitation.refresh_from_db()
    audit.record(
        organisation=invitation.organisation, actor=actor, action="invitation.resend", request=request,
        target=f"invitation {invitation.email}",
    )
    return _send(invitation, token, link_for)


def invitation_revoke(*, invitation: Invitation, actor, request=None) -> None:
    if not Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=_now()
    ):
        raise InvitationInvalid()
    audit.record(
        organisation=invitation.organisation, actor=actor, action="invitation.revoke", request=request,
        target=f"invitation {invitation.email}",
    )


def invitation_for_token(token: str) -> Invitation:
    """The open, unexpired invitation this token belongs to; InvitationInvalid otherwise."""
    invitation = (
        Invitation.objects.select_related("organisation")
        .filter(token_digest=digest(token), accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=_now())
        .first()
    )
    if invitation is None:
        raise InvitationInvalid()
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user, request=None) -> Invitation:
    """Join the organisation with the invited role; once only, and only as the invited address."""
    invitation = invitation_for_token(token)
    if (user.email or "").lower() != invitation.email:
        raise WrongAddress()
    # The conditional UPDATE makes the invitation single-use even when two requests race.
    if not Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(accepted_at=_now()):
        raise InvitationInvalid()
    services.membership_add(
        organisation=invitation.organisation, user=user, role=invitation.role, actor=user, request=request,
        via="invitation",
    )
    return invitation
