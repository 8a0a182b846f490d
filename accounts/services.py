"""Writes to owner accounts."""

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser


class EmailTaken(Exception):
    """An account with this email exists already."""


def user_signup(*, email: str, password: str) -> AbstractBaseUser:
    """Create an owner account; the email, lower-cased, is also the username."""
    User = get_user_model()
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists() or User.objects.filter(username__iexact=email).exists():
        raise EmailTaken()
    return User.objects.create_user(username=email, email=email, password=password)
