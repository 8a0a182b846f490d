"""Knowledge retrieval's time per search at N chunks per channel: `N=10000 python -m bench.knowledge_retrieval`.

Uses the database DATABASE_URL names (a throwaway one: it migrates it and adds two channels of
generated chunks), through the configured backend (FTS5 on SQLite, tsvector on PostgreSQL).
WORDS=common (default) asks three words of a 32-word vocabulary that every chunk contains (the worst
case: every chunk matches and is ranked); WORDS=rare asks two words found in one chunk each.
"""

import os
import random
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings_test")
import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
from channels_app.services import channel_create, owner_get_or_create  # noqa: E402
from gateway.testing.implementations import run  # noqa: E402
from knowledge import retrieval  # noqa: E402
from knowledge.models import Chunk, Page, Source  # noqa: E402

N = int(os.environ.get("N", "10000"))
VOCABULARY = (
    "tea kettle return refund delivery shipping order parcel mug cup green black leaf water boil price card gift "
    "box warranty descale filter brew steep cold hot aroma flavour origin farm harvest season blend"
).split()
rng = random.Random(1)
owner = owner_get_or_create(email=f"bench-{time.time_ns()}@example.com")
channels = [channel_create(owner=owner, name=f"bench {i}", credits=1)[0] for i in range(2)]
for channel in channels:
    source = Source.objects.create(channel=channel, kind="text", title="bench", status="ready", chunks=N)
    page = Page.objects.create(source=source, url="", title="bench", text="-")
    Chunk.objects.bulk_create(
        [Chunk(channel=channel, source=source, page=page, url=f"https://shop.example/{i % 500}", title=f"Page {i % 500}",
               heading=rng.choice(VOCABULARY), text=" ".join(rng.choice(VOCABULARY) for _ in range(150)) + f" unique{i}")
         for i in range(N)],
        batch_size=1000,
    )
backend = retrieval.backend()
rare = os.environ.get("WORDS") == "rare"


async def searches() -> list[float]:
    times = []
    for _ in range(300):
        if rare:
            question = f"unique{rng.randrange(N)} unique{rng.randrange(N)}"
        else:
            question = f"How long does {rng.choice(VOCABULARY)} {rng.choice(VOCABULARY)} take for my {rng.choice(VOCABULARY)}?"
        started = time.perf_counter()
        await backend.search(channel_id=channels[0].pk, question=question, page_url="https://shop.example/7", limit=4)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


times = run(searches())
print(f"{type(backend).__name__}, {N} chunks in each of 2 channels, {'rare' if rare else 'common'} words: "
      f"p50 {statistics.median(times):.2f} ms, p95 {times[int(len(times) * 0.95)]:.2f} ms")
