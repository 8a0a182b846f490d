"""The dashboard's login sessions, stored by digest (accounts/session_store.py)."""

from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class HashedSession(AbstractBaseSession):
    """A session row whose primary key is the SHA-256 of the session key, never the key itself.

    The cookie holds the key; the database only its digest, so a dump or a backup holds no
    value that opens a session.
    """

    # AbstractBaseSession's 40 characters fit a key, not a 64-character hex digest.
    session_key = models.CharField("session key digest", max_length=64, primary_key=True)

    @classmethod
    def get_session_store_class(cls):
        from accounts.session_store import SessionStore

        return SessionStore

    class Meta(AbstractBaseSession.Meta):
        db_table = "accounts_hashed_session"
