"""The chat's database steps: one interface, two implementations, chosen once at start-up from settings.

`backend()` is the one `ChatStore` of the process: `CHAT_STORE` names its
class (as Django's AUTHENTICATION_BACKENDS name theirs); by default
`postgresql.PostgreSQLStore` (one statement per step, sent from the event loop)
on PostgreSQL, else `orm.OrmStore` (the ORM in a transaction, on the database
phase threads: SQLite, or any database Django supports).

Every step is scoped to one channel and one namespace (`source`: "api" for
secret keys, "widget" for publishable keys). The rules they carry out live
elsewhere, once: the credit hold (channels_app/services.py), the thread rule
and session expiry (conversations/engine/threads.py), the history's length
(conversations/engine/selectors.py).
"""

import functools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from channels_app.providers.provider import Completion
from conversations.engine.activity import Facts


@dataclass(frozen=True)
class Held:
    """What `hold_and_history` found: whether a credit was taken, and the live thread's last messages."""

    held: bool
    history: list[tuple[str, str]]  # (role, content), oldest first
    held_from: str = "channel"  # where the credit was taken: "channel" or "organisation" (channels_app/services.py)
    key_spent: bool = False  # the key's own credit cap counted it too: a release gives it back there as well
    # The hold's token (channels_app CreditHold), when the store keeps one: the store and the release of the chat
    # pass it, and act only if it is still there. None: the ORM store, whose hold commits synchronously.
    token: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Exchange:
    """One answered chat, to store: the user's message and the reply, with the Idempotency-Key's answer."""

    channel_id: int
    source: str
    session_id: str
    message: str
    received_at: datetime
    completion: Completion
    replied_at: datetime
    idempotency_claim: int | None = None
    answer: dict | None = None  # stored as the claim's answer in the same transaction
    # The page the message was sent from (metadata url/title): a thread shows the latest one named.
    page_url: str = ""
    page_title: str = ""
    cost: Decimal | None = None  # US dollars, from the catalog's prices (None: the model has no price)
    # Its row in the channel's activity log, written with it (None: none, e.g. a store's own tests).
    activity: Facts | None = None
    activity_error: str = ""  # e.g. a stream its client left: answered, but not all of it was received
    hold_token: int | None = None  # Held.token: stored only if it is still there (None: unguarded)


class ChatStore:
    async def hold_and_history(
        self, *, channel_id: int, source: str, session_id: str, now: datetime, key_id: int | None = None,
        capped: bool = False,
    ) -> Held:
        """Take one credit (never below zero, whatever runs concurrently) and read the live thread's history.

        A `capped` key (its own credit cap, VerifiedKey.credit_cap) must have room under its cap too, and the
        credit counts against it. No credit left: Held(False, []) and nothing taken.
        """
        raise NotImplementedError

    async def store_exchange(self, exchange: Exchange) -> bool:
        """Store the message and its reply in the session's current thread (or the next one), both or neither.

        False: nothing was stored, because the chat's hold (its `hold_token`) was lost (a database crash-restart
        since the hold); no credit was spent for it.

        Concurrent exchanges on one session are stored one after the other,
        each user message next to its reply. A page URL or title, when given,
        becomes the thread's (the page its latest message named).
        """
        raise NotImplementedError

    async def release(
        self, *, channel_id: int, held_from: str = "channel", key_id: int | None = None, token: int | None = None
    ) -> None:
        """Give back the credit a chat held, where it was taken: it got no reply, or its reply could not be stored.
        `key_id`: a capped key whose cap counted it (Held.key_spent). `token` (Held.token): only if it is still
        there, and then where it says."""
        raise NotImplementedError


@functools.cache
def backend() -> ChatStore:
    """The process's store, as CHAT_STORE names it."""
    return import_string(settings.CHAT_STORE)()


@receiver(setting_changed)
def _forget_backend(*, setting, **kwargs):
    if setting in ("CHAT_STORE", "DATABASES"):
        backend.cache_clear()
