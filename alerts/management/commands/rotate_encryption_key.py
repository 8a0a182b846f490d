"""`manage.py rotate_encryption_key`: every secret sealed under KEY_ENCRYPTION_KEY, re-sealed in one transaction.

It lives in alerts, the highest app that stores a sealed secret (webhook signing secrets), so it may import
every module that seals one: channels_app's keys and provider keys, teams' SSO client secrets, and alerts' own.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from alerts import webhook_secret
from alerts.models import AlertSettings
from channels_app import keys
from channels_app.models import ApiKey, Provider
from gateway.infra import sealing
from teams import sso_secret
from teams.models import SsoConfig


class _Abort(Exception):
    """Roll the transaction back (a dry run, or a key that failed)."""


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored API key, provider key, webhook signing secret and SSO client secret under the "
        "current KEY_ENCRYPTION_KEY (reading old ones with KEY_ENCRYPTION_KEY_OLD); with --digest, also recompute "
        "every lookup digest under the current KEY_DIGEST_SECRET. All or nothing, in one transaction; safe to run "
        "again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--digest",
            action="store_true",
            help="also recompute each key's lookup digest under the current KEY_DIGEST_SECRET",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    def handle(self, *args, **opts):
        counts = {"keys": 0, "reencrypted": 0, "current": 0, "digests": 0, "providers": 0, "webhooks": 0, "sso": 0}
        failures: list[str] = []
        other_failures: list[str] = []
        try:
            with transaction.atomic():
                self._rotate(counts, failures, digest=opts["digest"])
                self._reseal_secrets(counts, other_failures)
                if failures or other_failures or opts["dry_run"]:
                    raise _Abort()
        except _Abort:
            pass
        if failures or other_failures:
            others = f" and {len(other_failures)} other secret(s)" if other_failures else ""
            raise CommandError(
                f"{len(failures)} of {counts['keys']} keys{others} could not be rotated; nothing was changed.\n"
                + "\n".join(failures + other_failures)
            )
        summary = (
            f"{counts['keys']} keys: {counts['reencrypted']} re-encrypted, "
            f"{counts['current']} already under the current key"
        )
        if opts["digest"]:
            summary += f", {counts['digests']} digests recomputed"
        if opts["dry_run"]:
            summary += " (dry run: nothing written)"
        self.stdout.write(summary + ".")
        for count, what in [("providers", "provider key(s)"), ("webhooks", "webhook secret(s)"), ("sso", "SSO client secret(s)")]:
            if counts[count]:
                self.stdout.write(f"{counts[count]} {what} re-encrypted.")

    def _reseal_secrets(self, counts: dict, failures: list[str]) -> None:
        """The other secrets sealed under KEY_ENCRYPTION_KEY (gateway/infra/sealing.py), each re-sealed by its own module."""
        self._reseal(
            counts, failures, "providers", Provider.objects.filter(key_ciphertext__isnull=False),
            field="key_ciphertext", bound_to=lambda p: p.public_id, reseal=keys.reseal_provider_key,
            name=lambda p: f"provider {p.name}",
        )
        self._reseal(
            counts, failures, "webhooks",
            AlertSettings.objects.filter(webhook_secret_ciphertext__isnull=False).select_related("channel"),
            field="webhook_secret_ciphertext", bound_to=lambda s: s.channel.public_id, reseal=webhook_secret.reseal,
            name=lambda s: f"webhook secret of channel {s.channel.public_id}",
        )
        self._reseal(
            counts, failures, "sso", SsoConfig.objects.select_related("organisation"),
            field="client_secret_ciphertext", bound_to=lambda c: c.organisation.public_id, reseal=sso_secret.reseal,
            name=lambda c: f"SSO client secret of organisation {c.organisation.public_id}",
        )

    @staticmethod
    def _reseal(counts, failures, count: str, rows, *, field, bound_to, reseal, name) -> None:
        # Locked like the API keys, so a concurrent save waits for the rotation instead of being overwritten.
        for row in rows.select_for_update(of=("self",)).order_by("pk"):
            try:
                sealed = reseal(getattr(row, field), bound_to(row))
            except sealing.UndecryptableKey:
                failures.append(f"{name(row)}: no configured encryption key opens it")
                continue
            type(row).objects.filter(pk=row.pk).update(**{field: sealed})
            counts[count] += 1

    def _rotate(self, counts: dict, failures: list[str], *, digest: bool) -> None:
        # Lock the keys so a concurrent revocation or rotation waits for us, not the other way round.
        rows = ApiKey.objects.select_for_update(of=("self",)).select_related("channel").order_by("pk")
        for api_key in rows:
            counts["keys"] += 1
            channel_id = api_key.channel.public_id
            try:
                if keys.is_current(api_key.ciphertext, channel_id):
                    ciphertext, plain = None, keys.decrypt(api_key.ciphertext, channel_id)
                    counts["current"] += 1
                else:
                    ciphertext, plain = keys.reencrypt(api_key.ciphertext, channel_id)
                    counts["reencrypted"] += 1
            except sealing.UndecryptableKey:
                failures.append(f"key {api_key.public_id} (channel {channel_id}): no configured encryption key opens it")
                continue
            changes = {"ciphertext": ciphertext} if ciphertext is not None else {}
            if digest:
                if api_key.digest != keys.digest(plain):
                    changes["digest"] = keys.digest(plain)
                    counts["digests"] += 1
            elif api_key.digest not in keys.lookup_digests(plain):
                failures.append(
                    f"key {api_key.public_id} (channel {channel_id}): its digest matches no configured "
                    "KEY_DIGEST_SECRET (rotating that secret? run with --digest)"
                )
                continue
            if changes:
                ApiKey.objects.filter(pk=api_key.pk).update(**changes)
