from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from channels_app import keys
from channels_app.models import ApiKey, Provider


class _Abort(Exception):
    """Roll the transaction back (a dry run, or a key that failed)."""


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored API key under the current KEY_ENCRYPTION_KEY (reading old ones with "
        "KEY_ENCRYPTION_KEY_OLD); with --digest, also recompute every lookup digest under the current "
        "KEY_DIGEST_SECRET. All or nothing, in one transaction; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--digest",
            action="store_true",
            help="also recompute each key's lookup digest under the current KEY_DIGEST_SECRET",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    def handle(self, *args, **opts):
        counts = {"keys": 0, "reencrypted": 0, "current": 0, "digests": 0, "providers": 0}
        failures: list[str] = []
        try:
            with transaction.atomic():
                self._rotate(counts, failures, digest=opts["digest"])
                self._rotate_provider_keys(counts, failures)
                if failures or opts["dry_run"]:
                    raise _Abort()
        except _Abort:
            pass
        if failures:
            raise CommandError(
                f"{len(failures)} of {counts['keys']} keys could not be rotated; nothing was changed.\n"
                + "\n".join(failures)
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
        if counts["providers"]:
            self.stdout.write(f"{counts['providers']} provider key(s) re-encrypted.")

    def _rotate_provider_keys(self, counts: dict, failures: list[str]) -> None:
        """The upstream keys staff gave providers (channels_app/catalog_models.py), sealed under the same key."""
        for provider in Provider.objects.select_for_update().filter(key_ciphertext__isnull=False).order_by("pk"):
            try:
                plain = keys.decrypt_provider_key(provider.key_ciphertext, provider.public_id)
            except keys.UndecryptableKey:
                failures.append(f"provider {provider.name}: no configured encryption key opens its key")
                continue
            sealed = keys.encrypt_provider_key(plain, provider.public_id)
            if keys.decrypt_provider_key(sealed, provider.public_id) != plain:
                failures.append(f"provider {provider.name}: re-encryption did not verify")
                continue
            Provider.objects.filter(pk=provider.pk).update(key_ciphertext=sealed)
            counts["providers"] += 1

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
            except keys.UndecryptableKey:
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
