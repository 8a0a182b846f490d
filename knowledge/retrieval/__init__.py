"""Finding a channel's passages for a question: one interface, two implementations, chosen once at start-up.

`backend()` is the process's `Retrieval`, the class KNOWLEDGE_RETRIEVAL names
(gateway/settings.py, from the database engine, like conversations/engine/store):
`sqlite.SqliteRetrieval` (FTS5, bm25) by default, `postgresql.PostgreSQLRetrieval`
(a tsvector column, GIN, websearch_to_tsquery, ts_rank) in production. Both
take the question's words as alternatives (any may match; the ranking weighs
how many and how rare), and put the chunks of the visitor's current page
(`metadata.url`) first. No call site asks which one it has.
"""

import functools
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

MAX_TERMS = 24

# Words that say nothing about what is asked: left out so they match nothing (PostgreSQL's 'english'
# configuration drops its own; FTS5 has no stop-word list).
STOP_WORDS = frozenset(
    """a about an and any are as at be been but by can could did do does for from had has have how i if in
    into is it its me my no not of on or our please so tell that the their them then there these they this to
    us was we were what when where which who whom why will with would you your""".split()
)


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    url: str
    title: str
    heading: str
    text: str
    embedding: bytes | None = None  # knowledge/embeddings.py, when embeddings are on


def terms(question: str) -> list[str]:
    """The question's searchable words, lower case, each once, in order (at most MAX_TERMS)."""
    words = [word for word in re.findall(r"\w+", question.lower()) if len(word) > 1 and word not in STOP_WORDS]
    return list(dict.fromkeys(words))[:MAX_TERMS]


class Retrieval:
    async def search(self, *, channel_id: int, question: str, page_url: str, limit: int) -> list[Hit]:
        """The channel's best `limit` chunks for `question`, those of `page_url` first; [] when none matches."""
        raise NotImplementedError

    def chunks_changed(self, channel_id: int) -> None:
        """The channel's chunks were added, replaced or removed: refresh what the search keeps about them (sync; in
        the ingestion job or the service that removed them, never on a chat's path)."""


@functools.cache
def backend() -> Retrieval:
    return import_string(settings.KNOWLEDGE_RETRIEVAL)()


@receiver(setting_changed)
def _forget_backend(*, setting, **kwargs):
    if setting == "KNOWLEDGE_RETRIEVAL":
        backend.cache_clear()
