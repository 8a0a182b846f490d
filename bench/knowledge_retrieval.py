"""What knowledge adds to a chat, at N chunks per channel: `make bench-knowledge` (or `python -m bench.knowledge_retrieval`).

Times `knowledge.grounding.for_chat` (the readiness check, the search and the message the model is given: all a
chat with knowledge does beyond a chat without it) through the configured retrieval, on the database DATABASE_URL
names (a throwaway one: the bench migrates it and fills it). Prints p50/p99 for:

- none: a channel without knowledge (what every chat pays: a set lookup);
- common: three words of a 32-word vocabulary that every chunk contains (the worst case: every chunk matches);
- rare: two words found in one chunk each;
- mixed: one rare word among two common ones, from no page (counts how often the chunk that word names is
  not among the passages).

BENCH_CHUNKS (default 10000) chunks in each of BENCH_CHANNELS (default 2) channels; the first channel is asked.
On PostgreSQL the chunks are made by one INSERT … SELECT over generate_series per channel (the GIN index is built
after the rows, like a restore); a database that already holds the same layout is reused, so a 1,000,000-chunk run
(BENCH_CHANNELS=100) is built once. On SQLite they are bulk-created through the ORM.
"""

import os
import random
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings_test")
import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from channels_app.services import channel_create, owner_get_or_create  # noqa: E402
from gateway.testing.implementations import run  # noqa: E402
from knowledge import grounding, readiness, retrieval  # noqa: E402
from knowledge.models import Chunk, Page, Source  # noqa: E402

N = int(os.environ.get("BENCH_CHUNKS", os.environ.get("N", "10000")))
CHANNELS = int(os.environ.get("BENCH_CHANNELS", "2"))
SEARCHES = int(os.environ.get("BENCH_SEARCHES", "300"))
VOCABULARY = (
    "tea kettle return refund delivery shipping order parcel mug cup green black leaf water boil price card gift "
    "box warranty descale filter brew steep cold hot aroma flavour origin farm harvest season blend"
).split()
OWNER = "bench-knowledge@example.com"
WORDS_PER_CHUNK = 150

FILL_POSTGRESQL = """
INSERT INTO knowledge_chunk (channel_id, source_id, page_id, url, title, heading, text)
SELECT %(channel)s, %(source)s, %(page)s, 'https://shop.example/' || (i %% 500), 'Page ' || (i %% 500),
       (%(vocabulary)s::text[])[1 + (i * 7) %% 32],
       (SELECT string_agg((%(vocabulary)s::text[])[1 + floor(random() * 32)::int], ' ')
        FROM generate_series(1, %(words)s + 0 * i)) || ' unique' || i
FROM generate_series(0, %(n)s - 1) AS i
"""


def layout_channels() -> list:
    """The bench's channels, made and filled unless the database already holds this layout."""
    from django.conf import settings

    settings.MAX_CHANNELS_PER_OWNER = max(settings.MAX_CHANNELS_PER_OWNER, CHANNELS)  # one owner holds them all
    owner = owner_get_or_create(email=OWNER)
    from channels_app.models import Channel

    existing = list(Channel.objects.filter(owner=owner).order_by("id"))
    if len(existing) == CHANNELS and all(
        Source.objects.filter(channel=channel, chunks=N).exists() for channel in existing
    ) and Chunk.objects.filter(channel__in=existing).count() == N * CHANNELS:
        return existing
    Chunk.objects.filter(channel__in=existing).delete()
    for channel in existing:
        channel.delete()
    channels = [channel_create(owner=owner, name=f"bench {i}", credits=1)[0] for i in range(CHANNELS)]
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        fill_postgresql(channels)
    else:
        fill_orm(channels)
    print(f"built {N * CHANNELS} chunks in {time.perf_counter() - started:.1f} s")
    return channels


def fill_postgresql(channels) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'knowledge_chunk' AND indexdef ILIKE '%gin%'")
        gin = [row[0] for row in cursor.fetchall()]
        for definition in gin:  # built once after the rows: far quicker than kept up row by row
            cursor.execute(f"DROP INDEX {definition.split()[2]}")
        for channel in channels:
            source, page = source_and_page(channel)
            cursor.execute(FILL_POSTGRESQL, {"channel": channel.pk, "source": source.pk, "page": page.pk,
                                             "vocabulary": VOCABULARY, "words": WORDS_PER_CHUNK, "n": N})
        for definition in gin:
            cursor.execute(definition)
        cursor.execute("VACUUM ANALYZE knowledge_chunk")  # an earlier layout's rows are gone for good
    for channel in channels:
        retrieval.backend().chunks_changed(channel.pk)


def fill_orm(channels) -> None:
    rng = random.Random(1)
    for channel in channels:
        source, page = source_and_page(channel)
        Chunk.objects.bulk_create(
            [Chunk(channel=channel, source=source, page=page, url=f"https://shop.example/{i % 500}",
                   title=f"Page {i % 500}", heading=VOCABULARY[(i * 7) % 32],
                   text=" ".join(rng.choice(VOCABULARY) for _ in range(WORDS_PER_CHUNK)) + f" unique{i}")
             for i in range(N)],
            batch_size=1000,
        )
        retrieval.backend().chunks_changed(channel.pk)


def source_and_page(channel):
    source = Source.objects.create(channel=channel, kind="text", title="bench", status="ready", chunks=N)
    return source, Page.objects.create(source=source, url="", title="bench", text="-")


def questions(kind: str, rng: random.Random) -> str:
    common = [rng.choice(VOCABULARY) for _ in range(3)]
    if kind == "common":
        return f"How long does {common[0]} {common[1]} take for my {common[2]}?"
    if kind == "rare":
        return f"unique{rng.randrange(N)} unique{rng.randrange(N)}"
    return f"What about {common[0]} unique{rng.randrange(N)} {common[1]}?"


async def timed(channel_id: int, kind: str) -> list[float]:
    rng = random.Random(kind)
    times, missed = [], 0
    for _ in range(SEARCHES):
        question = questions(kind, rng)
        started = time.perf_counter()
        # The visitor's page comes first whatever it holds, so the rare word's chunk is looked for without one.
        page = {} if kind == "mixed" else {"url": "https://shop.example/7"}
        found = await grounding.for_chat(channel_id=channel_id, message=question, metadata=page)
        times.append((time.perf_counter() - started) * 1000)
        if kind == "mixed" and found is not None:
            wanted = question.split()[3]
            missed += f" {wanted}\"" not in found.message
    return sorted(times), missed


def main() -> None:
    call_command("migrate", verbosity=0)
    channels = layout_channels()
    readiness.forget()
    backend = retrieval.backend()
    print(f"{type(backend).__name__}, {N} chunks in each of {CHANNELS} channels ({N * CHANNELS} in all), "
          f"{SEARCHES} searches each:")
    for kind in ("none", "common", "rare", "mixed"):
        times, missed = run(timed(0 if kind == "none" else channels[0].pk, kind))
        recall = f"   the rare word's chunk missed {missed} times" if kind == "mixed" else ""
        label = "no knowledge" if kind == "none" else f"{kind} words"
        print(f"  {label:12}: p50 {statistics.median(times):6.2f} ms   p99 {times[int(len(times) * 0.99)]:6.2f} ms{recall}")


if __name__ == "__main__":
    main()
