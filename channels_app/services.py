"""Writes to channels, keys and credits."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from channels_app import events, key_cache, keys, origins
from channels_app.models import ApiKey, Channel, CreditHold, KeyReveal, PublishableKey
from channels_app.providers import catalog
from channels_app.starting_credits import lock_owner, starting_credits_grant
from teams.models import Organisation
from teams.services import personal_organisation


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str  # shown once to the owner, never stored or logged


def api_key_issue(
    *, channel: Channel, name: str = ApiKey.DEFAULT_NAME, rate_limit_per_minute: int | None = None,
    credit_cap: int | None = None,
) -> IssuedKey:
    raw = keys.generate()
    api_key = ApiKey(
        channel=channel,
        ciphertext=keys.encrypt(raw, channel.public_id),
        digest=keys.digest(raw),
        hint=keys.hint(raw),
        name=name.strip() or ApiKey.DEFAULT_NAME,
        rate_limit_per_minute=rate_limit_per_minute,
        credit_cap=credit_cap,
    )
    api_key.full_clean(exclude=["ciphertext", "digest"])
    api_key.save()
    return IssuedKey(api_key=api_key, plaintext=raw)


@transaction.atomic
def api_key_create(
    *, channel: Channel, name: str, rate_limit_per_minute: int | None = None, credit_cap: int | None = None,
    revealed_to=None, ip_address: str = "",
) -> IssuedKey:
    """Another named key for the channel, beside the ones it has; shown once to `revealed_to` (recorded)."""
    issued = api_key_issue(
        channel=channel, name=name, rate_limit_per_minute=rate_limit_per_minute, credit_cap=credit_cap
    )
    if revealed_to is not None:
        KeyReveal.objects.create(
            api_key=issued.api_key, user=revealed_to, action=KeyReveal.Action.CREATE, ip_address=ip_address[:64]
        )
    events.emit(channel, "key.created", {"key": keys.mask(issued.api_key.hint), "name": issued.api_key.name})
    return issued


def api_key_revoke(*, api_key: ApiKey, at=None) -> None:
    """Stop the key working at `at` (now by default; a later time is a grace period). The channel's other keys
    keep working."""
    api_key.revoked_at = at or timezone.now()
    api_key.save(update_fields=["revoked_at"])
    events.emit(api_key.channel, "key.revoked", {"key": keys.mask(api_key.hint), "stops_at": api_key.revoked_at.isoformat()})


def owner_get_or_create(*, email: str):
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).order_by("id").first()
    if user is None:
        user = User.objects.create_user(username=email.lower(), email=email.lower())
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


class ChannelCapReached(Exception):
    """The owner has MAX_CHANNELS_PER_OWNER channels already."""

    message = "You have reached the limit of {cap} channels. Delete or reuse one, or ask us for more."

    def __init__(self, cap: int):
        self.cap = cap
        super().__init__(self.message.format(cap=cap))


@transaction.atomic
def channel_create(
    *,
    owner,
    name: str,
    organisation=None,
    model: str | None = None,
    fallback_model: str = "",
    max_reply_tokens: int | None = None,
    system_prompt: str = "",
    client_system_messages: str = Channel.ClientSystemMessages.PREPEND,
    credits: int | None = None,
    rate_limit_per_minute: int = 60,
    daily_limit: int = 1000,
    is_active: bool = True,
    retention_days: int | None = None,
    ignore_cap: bool = False,
) -> tuple[Channel, IssuedKey]:
    """Create a channel and issue its first key.

    Without explicit `credits` it starts with none, and the owner's one starting grant
    goes to their oldest channel if it is due (channels_app/starting_credits.py). At most
    MAX_CHANNELS_PER_OWNER per owner unless `ignore_cap` (operators: the CLI commands).
    """
    model = model or catalog.default_model_id()
    for chosen in (model, fallback_model):
        if chosen and not catalog.is_pickable(chosen):
            raise ValidationError({"model": f"{chosen} is not an active model of the catalog."})
    # The owner's row lock makes "count, then insert" one step per owner, so parallel
    # creations cannot pass the cap together.
    lock_owner(owner)
    if not ignore_cap and Channel.objects.filter(owner_id=owner.pk).count() >= settings.MAX_CHANNELS_PER_OWNER:
        raise ChannelCapReached(settings.MAX_CHANNELS_PER_OWNER)
    channel = Channel(
        owner=owner,
        # Without one named, the owner's personal organisation (teams/services.py) holds it.
        organisation=organisation or personal_organisation(owner),
        name=name,
        model=model,
        fallback_model=fallback_model,
        system_prompt=system_prompt,
        client_system_messages=client_system_messages,
        rate_limit_per_minute=rate_limit_per_minute,
        daily_limit=daily_limit,
        is_active=is_active,
    )
    if retention_days is not None:
        channel.retention_days = retention_days
    if max_reply_tokens is not None:
        channel.max_reply_tokens = max_reply_tokens
    channel.credits = credits if credits is not None else 0
    channel.full_clean()
    channel.save()
    issued = api_key_issue(channel=channel)
    if credits is None:
        starting_credits_grant(owner=owner)
        channel.refresh_from_db(fields=["credits"])
    return channel, issued


# The credit hold rule, its one home: a chat takes one credit only while there is one, in one conditional UPDATE,
# so concurrent chats can never overspend: from the channel's own credits, or, for a channel that draws from its
# organisation, from the organisation's. A key with a credit cap of its own (ApiKey.credit_cap) must also have room
# under it: its `credits_spent` goes up by one in the same statement, conditionally, and the credit is held only
# when it did. credit_hold runs it through the ORM; CREDIT_HOLD_CTES are the same UPDATEs for
# conversations/engine/store/postgresql.py, whose PostgreSQL phase holds the credit and reads the history in one round trip
# (they take %(channel)s, %(key)s and %(capped)s; `held` has a row, its `organisation` flag saying where, when a
# credit was taken; `key_spent` a row when the key's cap counted it). A capped key counted while the channel had
# no credit left is given back at once (KEY_CREDIT_RELEASE_SQL; only then is there a second statement).
# CREDIT_HOLD_SQL runs them alone. test_rule_homes.py pins both forms to one behaviour.
CREDIT_HOLD_CTES = f"""key_spent AS (
    UPDATE {ApiKey._meta.db_table} SET credits_spent = credits_spent + 1
    WHERE %(capped)s AND id = %(key)s AND credit_cap IS NOT NULL AND credits_spent < credit_cap RETURNING id
), held_channel AS (
    UPDATE {Channel._meta.db_table} SET credits = credits - 1
    WHERE id = %(channel)s AND credits > 0 AND NOT draws_from_organisation
      AND (NOT %(capped)s OR EXISTS (SELECT 1 FROM key_spent))
    RETURNING false AS organisation
), held_organisation AS (
    UPDATE {Organisation._meta.db_table} SET credits = credits - 1
    WHERE id = (SELECT organisation_id FROM {Channel._meta.db_table} WHERE id = %(channel)s AND draws_from_organisation)
      AND credits > 0 AND (NOT %(capped)s OR EXISTS (SELECT 1 FROM key_spent))
    RETURNING true AS organisation
), held AS (
    SELECT organisation FROM held_channel UNION ALL SELECT organisation FROM held_organisation
)"""
CREDIT_HOLD_SQL = f"WITH {CREDIT_HOLD_CTES} SELECT organisation, (SELECT count(*) FROM key_spent) FROM held"


def credit_hold_params(*, channel_id: int, key_id: int | None = None, capped: bool = False) -> dict:
    """CREDIT_HOLD_CTES's parameters."""
    return {"channel": channel_id, "key": key_id, "capped": bool(capped and key_id is not None)}


def credit_hold(*, channel_id: int, key_id: int | None = None, capped: bool = False) -> str | None:
    """Take one credit for a chat about to go upstream: from the channel's own credits, or from its organisation's
    when the channel draws from it, and, for a `capped` key, from the room under its cap (CREDIT_HOLD_SQL's rule).
    Where it was taken (HELD_FROM_CHANNEL or HELD_FROM_ORGANISATION), or None when none is left there."""
    capped = capped and key_id is not None
    with transaction.atomic():
        if capped and not ApiKey.objects.filter(
            pk=key_id, credit_cap__isnull=False, credits_spent__lt=F("credit_cap")
        ).update(credits_spent=F("credits_spent") + 1):
            return None
        if Channel.objects.filter(pk=channel_id, credits__gt=0, draws_from_organisation=False).update(
            credits=F("credits") - 1
        ) == 1:
            return HELD_FROM_CHANNEL
        drawing = Channel.objects.filter(pk=channel_id, draws_from_organisation=True).values("organisation_id")
        if Organisation.objects.filter(pk__in=drawing, credits__gt=0).update(credits=F("credits") - 1) == 1:
            return HELD_FROM_ORGANISATION
        if capped:
            key_credit_release(key_id=key_id)
        return None


def credit_release(*, channel_id: int, held_from: str = "channel", key_id: int | None = None) -> None:
    """Give back a held credit where it was taken: the chat it was held for failed (CREDIT_RELEASE_SQL's rule);
    `key_id` names a capped key whose cap counted it (KEY_CREDIT_RELEASE_SQL)."""
    if held_from == HELD_FROM_ORGANISATION:
        owner = Channel.objects.filter(pk=channel_id).values("organisation_id")
        Organisation.objects.filter(pk__in=owner).update(credits=F("credits") + 1)
    else:
        Channel.objects.filter(pk=channel_id).update(credits=F("credits") + 1)
    if key_id is not None:
        key_credit_release(key_id=key_id)


def key_credit_release(*, key_id: int) -> None:
    """Give back one credit a capped key's cap counted (KEY_CREDIT_RELEASE_SQL's rule)."""
    ApiKey.objects.filter(pk=key_id, credits_spent__gt=0).update(credits_spent=F("credits_spent") - 1)


HELD_FROM_CHANNEL, HELD_FROM_ORGANISATION = "channel", "organisation"
_CHANNELS, _ORGANISATIONS = Channel._meta.db_table, Organisation._meta.db_table
CREDIT_RELEASE_SQL = f"UPDATE {_CHANNELS} SET credits = credits + 1 WHERE id = %(channel)s"
CREDIT_RELEASE_ORGANISATION_SQL = (
    f"UPDATE {_ORGANISATIONS} SET credits = credits + 1 WHERE id = (SELECT organisation_id FROM {_CHANNELS} "
    "WHERE id = %(channel)s)"
)
KEY_CREDIT_RELEASE_SQL = (
    f"UPDATE {ApiKey._meta.db_table} SET credits_spent = credits_spent - 1 WHERE id = %(key)s AND credits_spent > 0"
)


# The hold's token (CreditHold), for the PostgreSQL chat store, whose hold commits without waiting for its WAL
# flush: the channel's (or organisation's) credit row stays locked by a hold from its UPDATE to its commit, so a
# busy channel's chats would otherwise queue behind each other's flushes. A crash-restart of PostgreSQL can then
# lose a committed hold. The token makes that safe: it is inserted in the hold's own transaction (CREDIT_HOLD_TOKEN,
# after CREDIT_HOLD_CTES), so the same crash loses both or neither, and the chat's store (synchronous) and its
# release each act only when they delete the token. A lost hold is thus never stored (the chat fails) nor given
# back; a kept one is stored or given back once. The store's synchronous commit flushes WAL up to itself, which
# includes the hold and its token, so a stored chat's hold is durable with it. synchronous_commit is set with
# is_local: for this transaction only, and only when a credit was taken (`unsynced` reads `held`), so a capped key
# counted with no credit left, whose count KEY_CREDIT_RELEASE_SQL takes back at once, stays synchronous.
_HOLDS = CreditHold._meta.db_table
CREDIT_HOLD_TOKEN = f""", token AS (
    INSERT INTO {_HOLDS} (channel_id, held_from, key_id, created_at)
    SELECT %(channel)s, CASE WHEN held.organisation THEN 'organisation' ELSE 'channel' END,
           CASE WHEN EXISTS (SELECT 1 FROM key_spent) THEN %(key)s::bigint END, now()
    FROM held
    RETURNING id
), unsynced AS (
    SELECT set_config('synchronous_commit', 'off', true) AS setting FROM held
)"""
# Read both in the statement's SELECT: a CTE that is only a SELECT runs only when read.
CREDIT_HOLD_TOKEN_COLUMNS = "(SELECT id FROM token), (SELECT setting FROM unsynced)"

# A release by token: gives back what the token says was taken, only when it deleted the token (a release, a store
# or a crash got there first: nothing). The key is given back before the channel's or organisation's row is locked
# (their updates read `key_back`), the order a hold takes them in, so a release and a hold never deadlock.
CREDIT_RELEASE_TOKEN_SQL = f"""
WITH token AS (
    DELETE FROM {_HOLDS} WHERE id = %(token)s RETURNING channel_id, held_from, key_id
), key_back AS (
    UPDATE {ApiKey._meta.db_table} SET credits_spent = credits_spent - 1
    WHERE id = (SELECT key_id FROM token) AND credits_spent > 0 RETURNING id
), channel_back AS (
    UPDATE {_CHANNELS} SET credits = credits + 1
    WHERE id = (SELECT channel_id FROM token WHERE held_from = '{HELD_FROM_CHANNEL}')
      AND (SELECT count(*) FROM key_back) >= 0
    RETURNING id
)
UPDATE {_ORGANISATIONS} SET credits = credits + 1
WHERE id = (SELECT organisation_id FROM {_CHANNELS}
            WHERE id = (SELECT channel_id FROM token WHERE held_from = '{HELD_FROM_ORGANISATION}'))
  AND (SELECT count(*) FROM key_back) >= 0
"""


def credit_holds_give_back_stale(*, older_than: timedelta, limit: int = 1000) -> int:
    """Give back the credits of hold tokens older than `older_than`, each by CREDIT_RELEASE_TOKEN_SQL: their chats'
    processes died between the hold and the store or release. How many were given back (at most `limit`).

    Safe for the books whatever the bound: a token is deleted once, by this, a store or a release, and only the
    one that deleted it acts, so a chat still running past the bound is refused unstored (its credit given back
    here) rather than stored for free. The bound (CREDIT_HOLD_STALE_SECONDS) is far above a chat's longest life so
    that does not happen. Only the PostgreSQL store writes tokens."""
    stale = CreditHold.objects.filter(created_at__lt=timezone.now() - older_than).order_by("pk")
    given_back = 0
    for token in stale.values_list("pk", flat=True)[:limit]:
        with connection.cursor() as cursor:
            cursor.execute(CREDIT_RELEASE_TOKEN_SQL, {"token": token})
        given_back += 1
    return given_back


def credits_add(*, channel: Channel, amount: int) -> None:
    if amount <= 0:
        raise ValueError("amount must be positive")
    Channel.objects.filter(pk=channel.pk).update(credits=F("credits") + amount)
    # The widget's share of the credits is of what a chat read with its key (conversations/engine/limits.py): a cached
    # channel would keep the widget at its old share for up to KEY_CACHE_SECONDS.
    key_cache.invalidate()


# --- Dashboard writes: editing channels, rotating and revealing keys. ---

ROTATION_GRACE_CHOICES = {
    "none": timedelta(0),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
}


WIDGET_FIELDS = (
    "allowed_origins", "visitor_rate_limit_per_minute", "visitor_daily_limit", "visitor_ip_daily_limit",
    "widget_title", "widget_greeting", "widget_color",
    "visitor_ip_rate_limit_per_minute", "widget_share_percent", "widget_pow_required",
)


def channel_update(*, channel: Channel, **fields) -> Channel:
    """Change a channel's editable settings (name, model, prompt, limits, active switch, widget)."""
    editable = {
        "name", "model", "fallback_model", "max_reply_tokens", "system_prompt", "client_system_messages",
        "rate_limit_per_minute", "daily_limit", "is_active", "credit_alert_threshold", "retention_days", *WIDGET_FIELDS,
    }
    unknown = set(fields) - editable
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    current = (channel.model, channel.fallback_model)
    for name in ("model", "fallback_model"):
        if fields.get(name) and not catalog.is_pickable(fields[name], current):
            raise ValidationError({name: f"{fields[name]} is not an active model of the catalog."})
    deactivated = channel.is_active and fields.get("is_active") is False
    for name, value in fields.items():
        setattr(channel, name, value)
    channel.full_clean()
    channel.save(update_fields=[*fields, "updated_at"])
    if deactivated:
        events.emit(channel, "channel.deactivated", {})
    return channel


@transaction.atomic
def api_key_rotate(
    *, channel: Channel, grace: timedelta, revealed_to=None, ip_address: str = "", api_key: ApiKey | None = None
) -> IssuedKey:
    """Issue a new key; the channel's current keys (or only `api_key`, one of them) stop working after `grace`.

    The new key takes the name and limits of the one it replaces (of the newest open key, when all are
    rotated). Keys already inside an earlier grace period keep their (sooner) end. When the new plaintext is
    shown to someone (`revealed_to`), that is recorded as a reveal.
    """
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    Channel.objects.select_for_update().filter(pk=channel.pk).first()  # one rotation at a time per channel
    ends = timezone.now() + grace
    open_keys = channel.api_keys.filter(revoked_at__isnull=True)
    if api_key is not None:
        open_keys = open_keys.filter(pk=api_key.pk)
    replaced = api_key or open_keys.order_by("-created_at", "-id").first()
    open_keys.update(revoked_at=ends)
    key_cache.invalidate()
    issued = api_key_issue(channel=channel, **_named_as(replaced))
    if revealed_to is not None:
        KeyReveal.objects.create(
            api_key=issued.api_key, user=revealed_to, action=KeyReveal.Action.ROTATE, ip_address=ip_address[:64]
        )
    events.emit(channel, "key.rotated", {"new_key": keys.mask(issued.api_key.hint), "old_keys_stop_at": ends.isoformat()})
    return issued


def _named_as(api_key: ApiKey | None) -> dict:
    if api_key is None:
        return {}
    return {"name": api_key.name, "rate_limit_per_minute": api_key.rate_limit_per_minute, "credit_cap": api_key.credit_cap}


def api_key_reveal(*, api_key: ApiKey, user, ip_address: str = "") -> str:
    """The key's plaintext for its owner, with an audit record. Never log the result."""
    plaintext = api_key.reveal()
    KeyReveal.objects.create(api_key=api_key, user=user, action=KeyReveal.Action.REVEAL, ip_address=ip_address[:64])
    return plaintext


# --- The embeddable widget: allowed origins and publishable keys (docs/widget.md). ---


def channel_set_allowed_origins(*, channel: Channel, allowed_origins: list[str]) -> Channel:
    """Replace the channel's allowed origins, normalised; raises ValidationError naming a bad one."""
    channel.allowed_origins = origins.normalise_list(allowed_origins)
    channel.save(update_fields=["allowed_origins", "updated_at"])
    return channel


class PublishableKeyExists(Exception):
    """The channel already has an open publishable key: rotate it instead."""


@transaction.atomic
def publishable_key_issue(*, channel: Channel) -> PublishableKey:
    """Give the channel its publishable key; refuses when it already has an open one."""
    Channel.objects.select_for_update().filter(pk=channel.pk).first()
    if channel.publishable_keys.filter(revoked_at__isnull=True).exists():
        raise PublishableKeyExists()
    return PublishableKey.objects.create(channel=channel, key=keys.generate_publishable())


@transaction.atomic
def publishable_key_rotate(*, channel: Channel, grace: timedelta) -> PublishableKey:
    """A new publishable key; the channel's open one stops working after `grace` (pages still embed it)."""
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    Channel.objects.select_for_update().filter(pk=channel.pk).first()  # one rotation at a time per channel
    channel.publishable_keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now() + grace)
    key_cache.invalidate()
    return PublishableKey.objects.create(channel=channel, key=keys.generate_publishable())


def publishable_key_revoke(*, publishable_key: PublishableKey, at=None) -> None:
    """Stop the key working at `at` (now by default); an earlier end is never pushed back."""
    at = at or timezone.now()
    if publishable_key.revoked_at is not None and publishable_key.revoked_at <= at:
        return
    publishable_key.revoked_at = at
    publishable_key.save(update_fields=["revoked_at"])
