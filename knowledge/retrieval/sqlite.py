"""FTS5 retrieval (SQLite): one MATCH on knowledge_chunk_fts, the channel named inside it, ranked by bm25."""

from django.db import connection

from gateway.infra.db import in_db_phase
from knowledge.retrieval import Hit, Retrieval, terms

# bm25 weights per FTS column: channel_id (a filter only), title, heading, text.
SQL = """
SELECT c.id, c.url, c.title, c.heading, c.text, c.embedding
FROM knowledge_chunk_fts f JOIN knowledge_chunk c ON c.id = f.rowid
WHERE knowledge_chunk_fts MATCH %s
ORDER BY (c.url = %s) DESC, bm25(knowledge_chunk_fts, 0.0, 4.0, 2.0, 1.0)
LIMIT %s
"""


def match_expression(channel_id: int, words: list[str]) -> str:
    """`channel_id : N AND ("w1" OR "w2" …)`; each word quoted, so nothing in it is FTS5 syntax."""
    alternatives = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
    return f'channel_id : "{int(channel_id)}" AND ({alternatives})'


def _search(channel_id: int, words: list[str], page_url: str, limit: int) -> list[Hit]:
    with connection.cursor() as cursor:
        cursor.execute(SQL, [match_expression(channel_id, words), page_url, limit])
        return [Hit(*row) for row in cursor.fetchall()]


class SqliteRetrieval(Retrieval):
    async def search(self, *, channel_id: int, question: str, page_url: str, limit: int) -> list[Hit]:
        words = terms(question)
        if not words:
            return []
        return await in_db_phase(_search, channel_id, words, page_url, limit)
