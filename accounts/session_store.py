"""Database sessions that store only a digest of the session key (SESSION_ENGINE).

Django's database backend keeps the session key itself as the row's primary key, so anyone
who reads `django_session` (a `pg_dump`, a backup, a read-only SQL injection) could send a
value from it as the `sessionid` cookie and be logged in as that user, with a fresh
password entry at that: enough to reveal keys. Here the row's key is SHA-256(session key).
The key is 32 random characters from [a-z0-9] (about 165 bits), so the digest can be neither
reversed nor guessed; it needs no secret, which keeps sessions valid across a SECRET_KEY
rotation (SECRET_KEY_FALLBACKS) and leaves nothing to derive or rotate.

How it overrides Django's `django.contrib.sessions.backends.db.SessionStore`: through its
documented extension points (`get_model_class`, `create_model_instance`, a custom
`AbstractBaseSession` model), plus the public methods that take a session key to the
database — `load`, `exists`, `delete` and their async twins. Everything else (create, save,
cycle_key, flush, clear_expired) goes through those. What this relies on — that no other
method of the base class queries the model by session key — is checked by
`accounts/tests/test_session_store.py::test_django_queries_sessions_only_through_the_overridden_methods`,
which fails if a Django upgrade adds such a query.

Rows of Django's own `django_session` table are never read: after the
migration every dashboard user logs in again (the migration also empties `django_session`,
so old backups are the only place their keys remain).
"""

import hashlib

from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.utils import timezone

from accounts.models import HashedSession


def session_key_digest(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


class SessionStore(DbSessionStore):
    @classmethod
    def get_model_class(cls):
        return HashedSession

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        instance.session_key = session_key_digest(instance.session_key)
        return instance

    async def acreate_model_instance(self, data):
        instance = await super().acreate_model_instance(data)
        instance.session_key = session_key_digest(instance.session_key)
        return instance

    def _live(self):
        return self.model.objects.filter(
            session_key=session_key_digest(self.session_key), expire_date__gt=timezone.now()
        )

    def load(self):
        stored = self._live().first() if self.session_key else None
        if stored is None:
            self._session_key = None  # as the base class does: an unknown key gets a new one on save
            return {}
        return self.decode(stored.session_data)

    async def aload(self):
        stored = await self._live().afirst() if self.session_key else None
        if stored is None:
            self._session_key = None
            return {}
        return self.decode(stored.session_data)

    def exists(self, session_key):
        return super().exists(session_key_digest(session_key))

    async def aexists(self, session_key):
        return await super().aexists(session_key_digest(session_key))

    def delete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key is not None:
            super().delete(session_key_digest(session_key))

    async def adelete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key is not None:
            await super().adelete(session_key_digest(session_key))
