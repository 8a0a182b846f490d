"""PostgreSQL: the chunk's tsvector also holds its channel, as the lexeme '#<channel id>' (no position, no weight).

A search then asks for `'#<id>' & word` in one GIN scan, which reads the channel's postings and the word's
together, skipping through the longer list: finding a word in one channel no longer reads that word's postings in
every channel (the cost of a common word in a table of many channels). No text can make that lexeme: the parser
never keeps a '#'. Ranking (ts_rank with the question's words alone) does not see it. SQLite's FTS5 table already
names the channel in its own column. The column is generated, so it is dropped and added again (PostgreSQL
cannot change a generation expression), which recomputes it and rebuilds its GIN index.
"""

from django.db import migrations

SEARCH = (
    "ALTER TABLE knowledge_chunk ADD COLUMN search tsvector GENERATED ALWAYS AS ({channel}"
    "setweight(to_tsvector('english', coalesce(title, '') || ' ' || coalesce(heading, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(text, '')), 'B')) STORED"
)
FORWARD = [
    "ALTER TABLE knowledge_chunk DROP COLUMN search",
    SEARCH.format(channel="array_to_tsvector(ARRAY['#' || channel_id::text]) || "),
    "CREATE INDEX knowledge_chunk_search ON knowledge_chunk USING GIN (search)",
]
BACKWARD = [
    "ALTER TABLE knowledge_chunk DROP COLUMN search",
    SEARCH.format(channel=""),
    "CREATE INDEX knowledge_chunk_search ON knowledge_chunk USING GIN (search)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_sources_pages_chunks")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
