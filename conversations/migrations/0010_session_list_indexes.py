"""The conversations list at scale: keyset indexes, the thread's first message on the session, trigram search.

The trigram indexes (pg_trgm, GIN) exist on PostgreSQL only: SQLite has no such index and scans, which
is fine at its sizes. Creating the extension needs a role allowed to (the database owner on PostgreSQL 13+
for trusted extensions; otherwise run `CREATE EXTENSION pg_trgm` once as a superuser before migrating).
"""

import django.db.models.deletion
from django.db import migrations, models


FIRST_MESSAGE_BACKFILL = """
UPDATE conversations_session SET first_message = coalesce((
    SELECT m.content FROM conversations_message m
    WHERE m.session_id = conversations_session.id AND m.role = 'user' ORDER BY m.id LIMIT 1
), '')
"""

TRIGRAM_INDEXES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # On the expressions Django's `icontains` compares on PostgreSQL: UPPER(column::text) LIKE UPPER(%s).
    "CREATE INDEX IF NOT EXISTS session_id_trgm ON conversations_session"
    " USING gin ((upper(session_id::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS session_first_message_trgm ON conversations_session"
    " USING gin ((upper(first_message::text)) gin_trgm_ops)",
]


def trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in TRIGRAM_INDEXES:
            schema_editor.execute(statement)


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS session_id_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS session_first_message_trgm")


class Migration(migrations.Migration):

    dependencies = [
        ('channels_app', '0008_client_system_messages'),
        ('conversations', '0009_usage_rollups'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='session',
            name='session_channel_recent',
        ),
        migrations.AddField(
            model_name='session',
            name='first_message',
            field=models.TextField(blank=True, db_default='', default=''),
        ),
        migrations.AddIndex(
            model_name='session',
            index=models.Index(fields=['channel', '-started_at', '-id'], name='session_channel_recent_id'),
        ),
        migrations.AddIndex(
            model_name='session',
            index=models.Index(fields=['channel', 'source', '-started_at', '-id'], name='session_channel_source_recent'),
        ),
        migrations.AlterField(
            model_name='session',
            name='channel',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='sessions', to='channels_app.channel'),
        ),
        migrations.RunSQL(FIRST_MESSAGE_BACKFILL, migrations.RunSQL.noop, elidable=True),
        migrations.RunPython(trigram_indexes, drop_trigram_indexes, elidable=True),
    ]
