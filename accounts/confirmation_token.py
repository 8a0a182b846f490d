"""The link in the confirmation e-mail: signed (SECRET_KEY), expiring, naming one user and address.

Single use comes from the state it changes: once the account is confirmed the same
link confirms nothing more (accounts/services.py, email_confirm).
"""

from django.conf import settings
from django.core import signing

SALT = "accounts.email-confirmation"


class BadToken(Exception):
    """Forged, garbled, expired, or for an address the account no longer has."""


def make(user) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=SALT, compress=True)


def read(token: str) -> tuple[int, str]:
    """(user id, e-mail) the token was made for; raises BadToken."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.EMAIL_CONFIRMATION_MAX_AGE_HOURS * 3600)
        return int(data["u"]), str(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadToken() from None
