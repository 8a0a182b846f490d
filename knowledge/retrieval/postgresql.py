"""PostgreSQL retrieval: the chunk's generated tsvector (GIN-indexed), a bounded set of candidates, ranked by ts_rank.

One statement from the event loop (gateway/infra/adb.py), like the chat store's. Each of the question's
words (knowledge/retrieval `terms`, each made a tsquery by plainto_tsquery, so nothing a visitor types is
query syntax) brings at most KNOWLEDGE_CANDIDATES_PER_WORD chunks of the channel, and only those (with the
visitor's page's matching chunks) are ranked, which bounds the work however common the words are:

- a word the channel's chunks rarely hold: one GIN scan, which reads the channel's and the word's postings
  together (the channel is a lexeme of the tsvector, '#<id>', knowledge/migrations/0002), so the word's
  postings in other channels cost nothing. It brings every chunk it is in, up to the cap.
- a common word (a `CommonWord` of the channel: in more than the cap and more than COMMON_SHARE of its
  chunks): a GIN scan would list nearly all the channel's chunks first, so the channel's chunks are read in
  the order of the (channel, url) index instead and the first ones holding it taken: a sample, found after a
  few hundred rows at most. The ORDER BY keeps the planner on that index scan, which stops at the cap
  (without it, it chose a bitmap of all the channel's rows once the table had been through many deletes).

The rank is the sum over the words of ts_rank(chunk, word) times the word's weight ln(1 + cap / found), where
found is how many chunks the word brought (the cap for a common word): ts_rank alone knows nothing of how rare
a word is, so a chunk naming a rare word once would lose to one repeating common words.
"""

from django.conf import settings
from django.db import connection

from gateway.infra import adb
from gateway.infra.db import phase_gate
from knowledge.retrieval import Hit, Retrieval, terms

# A word in more than this share of a channel's chunks (and in more than the cap) is a common word.
COMMON_SHARE = 0.1

SQL = """
WITH words AS (
    SELECT w.ord, plainto_tsquery('english', w.word) AS q, tsvector_to_array(to_tsvector('english', w.word)) AS lexemes
    FROM unnest(%(words)s::text[]) WITH ORDINALITY AS w (word, ord)
), usable AS (
    SELECT ord, q, EXISTS (
        SELECT 1 FROM knowledge_commonword cw WHERE cw.channel_id = %(channel)s AND cw.lexeme = ANY (lexemes)
    ) AS common
    FROM words WHERE numnode(q) > 0
), hits AS (
    SELECT u.ord, h.id
    FROM usable u CROSS JOIN LATERAL (
        SELECT c.id FROM knowledge_chunk c
        WHERE c.search @@ (%(channel_lexeme)s::tsquery && u.q)
        LIMIT %(per_word)s
    ) h
    WHERE NOT u.common
    UNION ALL
    SELECT u.ord, h.id
    FROM usable u CROSS JOIN LATERAL (
        SELECT c.id FROM knowledge_chunk c
        WHERE c.channel_id = %(channel)s AND ts_match_vq(c.search, u.q)
        ORDER BY c.url
        LIMIT %(per_word)s
    ) h
    WHERE u.common
), weights AS (
    SELECT u.q, ln(1 + %(per_word)s::float8 / count(*)) AS weight
    FROM hits JOIN usable u USING (ord) GROUP BY u.ord, u.q
), candidates AS (
    SELECT id FROM hits
    UNION
    (SELECT c.id FROM knowledge_chunk c
     WHERE c.channel_id = %(channel)s AND c.url = %(page)s AND %(page)s <> ''
       AND ts_match_vq(c.search, (SELECT string_agg(q::text, ' | ')::tsquery FROM weights))
     LIMIT %(limit)s)
)
SELECT c.id, c.url, c.title, c.heading, c.text, c.embedding
FROM knowledge_chunk c JOIN candidates USING (id)
ORDER BY (c.url = %(page)s) DESC, (SELECT sum(ts_rank(c.search, w.q) * w.weight) FROM weights w) DESC, c.id
LIMIT %(limit)s
"""

# The channel's common words, counted again from its chunks (ts_stat reads each chunk's tsvector once).
COMMON_WORDS = """
WITH counted AS (
    SELECT word, ndoc FROM ts_stat(format('SELECT search FROM knowledge_chunk WHERE channel_id = %%s', %(channel)s::bigint))
), removed AS (
    DELETE FROM knowledge_commonword WHERE channel_id = %(channel)s
)
INSERT INTO knowledge_commonword (channel_id, lexeme, chunks)
SELECT %(channel)s, left(word, 200), ndoc FROM counted
WHERE word NOT LIKE '#%%'
  AND ndoc > greatest(%(per_word)s, %(share)s * (SELECT count(*) FROM knowledge_chunk WHERE channel_id = %(channel)s))
"""


def channel_lexeme(channel_id: int) -> str:
    """The tsquery of the channel's own lexeme, '#<id>' (quoted, so the '#' is kept)."""
    return f"'#{int(channel_id)}'"


class PostgreSQLRetrieval(Retrieval):
    async def search(self, *, channel_id: int, question: str, page_url: str, limit: int) -> list[Hit]:
        words = terms(question)
        if not words:
            return []
        params = {"words": words, "channel": channel_id, "channel_lexeme": channel_lexeme(channel_id),
                  "page": page_url, "limit": limit, "per_word": settings.KNOWLEDGE_CANDIDATES_PER_WORD}
        async with phase_gate():
            rows = await adb.fetchall(SQL, params)
        return [Hit(*row[:5], bytes(row[5]) if row[5] is not None else None) for row in rows]

    def chunks_changed(self, channel_id: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(COMMON_WORDS, {"channel": channel_id, "per_word": settings.KNOWLEDGE_CANDIDATES_PER_WORD,
                                          "share": COMMON_SHARE})
