"""Reads about owner accounts."""

from accounts.models import EmailConfirmation


def owner_is_confirmed(user) -> bool:
    """Whether the owner may get starting credits: no pending sign-up confirmation.

    Accounts without an EmailConfirmation row (staff, the CLI, accounts older than
    the check) count as confirmed.
    """
    return not EmailConfirmation.objects.filter(user_id=user.pk, confirmed_at__isnull=True).exists()


def confirmation_pending(user) -> bool:
    return user.is_authenticated and not owner_is_confirmed(user)
