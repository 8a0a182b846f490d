"""Writes to owner accounts."""

import logging
import smtplib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import confirmation_token
from accounts.models import EmailConfirmation
from accounts.signals import email_confirmed

log = logging.getLogger(__name__)


class EmailTaken(Exception):
    """An account with this email exists already."""


@transaction.atomic
def user_signup(*, email: str, password: str, address_proven: bool = False) -> AbstractBaseUser:
    """Create an owner account, unconfirmed; the email, lower-cased, is also the username.

    `address_proven`: the person came through a link mailed to this address (an invitation), which proves
    the address as the confirmation link would; the account starts confirmed. Starting credits still
    follow channels_app/starting_credits.py: once per confirmed owner, to their own oldest channel.
    """
    User = get_user_model()
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists() or User.objects.filter(username__iexact=email).exists():
        raise EmailTaken()
    user = User.objects.create_user(username=email, email=email, password=password)
    EmailConfirmation.objects.create(user=user, confirmed_at=timezone.now() if address_proven else None)
    return user


def confirmation_send(*, user, link_for) -> bool:
    """Mail the owner a confirmation link (`link_for(token)` makes it absolute); False if the mail server refused.

    The failure is logged without the link (it is a credential for the account's credits).
    """
    link = link_for(confirmation_token.make(user))
    context = {"user": user, "link": link, "hours": settings.EMAIL_CONFIRMATION_MAX_AGE_HOURS}
    subject = render_to_string("registration/confirmation_subject.txt", context).strip()
    body = render_to_string("registration/confirmation_email.txt", context)
    try:
        send_mail(subject, body, None, [user.email], fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("confirmation e-mail to user %s not sent: %s", user.pk, type(exc).__name__)
        return False
    EmailConfirmation.objects.filter(user_id=user.pk).update(last_sent_at=timezone.now())
    return True


class ConfirmationInvalid(Exception):
    """The link is forged, expired, or for an account or address that no longer matches."""


def email_confirm(*, token: str):
    """Mark the account's e-mail confirmed (once; again is a no-op) and grant the starting credits if due.

    Returns the user.
    """
    try:
        user_id, email = confirmation_token.read(token)
    except confirmation_token.BadToken:
        raise ConfirmationInvalid() from None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.email.lower() != email.lower():
        raise ConfirmationInvalid()
    with transaction.atomic():
        EmailConfirmation.objects.filter(user_id=user.pk, confirmed_at__isnull=True).update(confirmed_at=timezone.now())
        email_confirmed.send(sender=get_user_model(), user=user)  # the starting credits, if due
    return user


def sessions_end(*, user) -> int:
    """Delete every session signed in as `user`; returns how many."""
    from django.contrib.auth import SESSION_KEY

    from accounts.models import HashedSession

    store = HashedSession.get_session_store_class()()
    ended = [row.pk for row in HashedSession.objects.all().iterator()
             if str(store.decode(row.session_data).get(SESSION_KEY)) == str(user.pk)]
    HashedSession.objects.filter(pk__in=ended).delete()
    return len(ended)


@transaction.atomic
def account_retire(*, user) -> str:
    """End an account for good: no password, inactive, signed out everywhere, and its address freed (renamed to
    `retired-<id>@invalid`) so its rightful owner can have it. Returns the address it had."""
    address = user.email
    user.set_unusable_password()
    user.is_active = False
    user.email = f"retired-{user.pk}@invalid"
    user.username = f"retired-{user.pk}@invalid"
    user.save(update_fields=["password", "is_active", "email", "username"])
    sessions_end(user=user)
    return address
