"""Empty `django_session`: its rows hold session keys in plaintext, usable as cookies by whoever reads them.

Sessions now live in accounts_hashed_session under a digest (accounts/session_store.py); the old
rows are never read again, so every dashboard user logs in once more after this migration.
"""

from django.db import migrations


def forget_plain_sessions(apps, schema_editor):
    apps.get_model("sessions", "Session").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_hashed_session"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forget_plain_sessions, migrations.RunPython.noop)]
