"""Move every stored webhook signing secret from the channel's API-key context to its own (alerts/webhook_secret.py).

Before, a webhook secret was sealed with b"channel:" + the channel's public id, the associated data of that
channel's API keys, so one ciphertext could be swapped for the other and still open. The contexts are spelled
out here, not imported, so this migration keeps doing what it did if the code's context ever changes.

It needs KEY_ENCRYPTION_KEY (and KEY_ENCRYPTION_KEY_OLD for rows still under a retired key); a row no configured
key opens stops the migration, which then changes nothing. Reversible: backwards re-seals in the old context.
"""

from django.db import migrations

from gateway.infra import sealing

OLD = b"channel:"
NEW = b"webhook-secret:"


def _reseal(apps, source: bytes, target: bytes) -> None:
    AlertSettings = apps.get_model("alerts", "AlertSettings")
    rows = AlertSettings.objects.filter(webhook_secret_ciphertext__isnull=False).select_related("channel")
    for prefs in rows.order_by("pk"):
        channel_id = prefs.channel.public_id.bytes
        try:
            secret = sealing.unseal(prefs.webhook_secret_ciphertext, source + channel_id)
        except sealing.UndecryptableKey:
            try:  # moved already (a migration re-run after a partial restore): leave it
                sealing.unseal(prefs.webhook_secret_ciphertext, target + channel_id)
                continue
            except sealing.UndecryptableKey:
                raise RuntimeError(
                    f"the webhook secret of channel {prefs.channel.public_id} opens with no configured "
                    "KEY_ENCRYPTION_KEY / KEY_ENCRYPTION_KEY_OLD; nothing was changed"
                ) from None
        AlertSettings.objects.filter(pk=prefs.pk).update(webhook_secret_ciphertext=sealing.seal(secret, target + channel_id))


def forwards(apps, schema_editor):
    _reseal(apps, OLD, NEW)


def backwards(apps, schema_editor):
    _reseal(apps, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_alerts_webhooks_failed_jobs")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
