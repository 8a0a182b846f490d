"""`make bench-pages`: server time of every owner dashboard and admin page on a channel of N messages.

Seeds one channel with `manage.py seed_demo_data` (threads of four messages over 30 days, one failed
request per ten threads) in its own PostgreSQL database, plus, optionally, other channels' data, then
requests every page as the channel's owner (admin pages as staff) through Django's full stack in this
process (the test Client: every middleware, the view, the template; no network), PostgreSQL and Redis
as in production. Each page is asked `--repeat` times after one warm-up; the table gives the median
and the slowest. Optionally times the retention purge of the oldest day (`--purge-day`, destructive).

    python -m bench.pages --messages 1000000
    python -m bench.pages --messages 2000000 --database-url postgres://postgres@127.0.0.1:5432/bench_pages
    python -m bench.pages --messages 1000000 --reuse      # the database seeded by the last run, as it is

Writes bench/results/pages-<time>.json.
"""

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
OWNER, STAFF, CHANNEL = "pages-owner@example.com", "pages-staff@example.com", "Busy site"
# `--half`: a second channel of another owner with half the messages, measured the same way in the same database,
# so one run shows what doubling a channel's data does to each page.
HALF_OWNER, HALF_CHANNEL = "pages-half@example.com", "Half site"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=1_000_000, help="messages in the measured channel")
    p.add_argument("--other-messages", type=int, default=0, help="messages of other channels in the same database")
    p.add_argument("--database-url", default=os.environ.get("BENCH_PAGES_DATABASE_URL",
                                                            "postgres://postgres@127.0.0.1:5432/bench_pages"))
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"))
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--half", action="store_true",
                   help="also seed and measure a channel of half the messages (of another owner): the doubling ratio")
    p.add_argument("--reuse", action="store_true", help="keep the database and its data (no seeding)")
    p.add_argument("--seed-only", action="store_true", help="seed, then stop (measure later with --reuse)")
    p.add_argument("--purge-day", action="store_true", help="then time the retention purge of the oldest day")
    p.add_argument("--activity", type=int, default=0,
                   help="rows of the measured channel's activity log (seeded in SQL: 30 days, 3 named keys)")
    p.add_argument("--label", default="")
    return p.parse_args(argv)


def setup_django(args) -> None:
    import base64

    def b64key() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    os.environ.update(
        ENV_FILE="", DJANGO_SETTINGS_MODULE="gateway.settings", SECRET_KEY=secrets.token_urlsafe(50),
        KEY_ENCRYPTION_KEY=b64key(), KEY_DIGEST_SECRET=b64key(), DEBUG="False", SECURE_SSL_REDIRECT="False",
        SESSION_COOKIE_SECURE="False", CSRF_COOKIE_SECURE="False", ALLOWED_HOSTS="testserver,127.0.0.1",
        LOG_LEVEL="WARNING", DATABASE_URL=args.database_url, REDIS_URL=args.redis_url, LLM_API_KEY="",
        CACHE_KEY_PREFIX=f"pages{os.getpid()}", RETENTION_PURGE_INTERVAL_SECONDS="0", STATIC_COLLECTED="False",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(args) -> None:
    from django.core.management import call_command

    from channels_app.services import channel_create, owner_get_or_create

    call_command("migrate", verbosity=0)
    owner = owner_get_or_create(email=OWNER)
    channel, _ = channel_create(owner=owner, name=CHANNEL, system_prompt="x", credits=10**9, ignore_cap=True)
    began = time.monotonic()
    call_command("seed_demo_data", "--channel", str(channel.public_id), "--sessions", str(args.messages // 4))
    if args.half:
        half_owner = owner_get_or_create(email=HALF_OWNER)
        half, _ = channel_create(owner=half_owner, name=HALF_CHANNEL, system_prompt="x", credits=10**9, ignore_cap=True)
        call_command("seed_demo_data", "--channel", str(half.public_id), "--sessions", str(args.messages // 8))
    if args.other_messages:
        other_owner = owner_get_or_create(email="pages-others@example.com")
        per_channel = 1_000_000
        for i in range(0, args.other_messages, per_channel):
            other, _ = channel_create(owner=other_owner, name=f"Other {i // per_channel}", system_prompt="x",
                                      credits=1, ignore_cap=True)
            n = min(per_channel, args.other_messages - i)
            call_command("seed_demo_data", "--channel", str(other.public_id), "--sessions", str(n // 4))
    if args.activity:
        seed_activity(channel, args.activity)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded in {time.monotonic() - began:.0f} s")


# One request in fifty failed, one in twelve refused; the rest answered.
ACTIVITY_SQL = """
INSERT INTO conversations_activity
    (channel_id, organisation_id, created_at, api_key_id, key_name, source, endpoint, session_id, model,
     prompt_tokens, completion_tokens, cost, latency_ms, status, outcome, error)
SELECT %(channel)s, %(organisation)s, now() - (n::bigint * %(spacing)s) * interval '1 millisecond',
       (%(keys)s::bigint[])[1 + n %% 3], (ARRAY['Default', 'Staging', 'Batch job'])[1 + n %% 3], 'api', 'chat',
       'session-' || (n / 4), CASE WHEN n %% 7 = 0 THEN 'openai/gpt-oss-20b' ELSE 'openai/gpt-oss-120b' END,
       CASE WHEN n %% 50 = 0 OR n %% 12 = 0 THEN NULL ELSE 300 + n %% 500 END,
       CASE WHEN n %% 50 = 0 OR n %% 12 = 0 THEN NULL ELSE 50 + n %% 300 END,
       CASE WHEN n %% 50 = 0 OR n %% 12 = 0 THEN NULL ELSE 0.0001 END,
       200 + n %% 900,
       CASE WHEN n %% 50 = 0 THEN 500 WHEN n %% 12 = 0 THEN 429 ELSE 200 END,
       CASE WHEN n %% 50 = 0 THEN 'failed' WHEN n %% 12 = 0 THEN 'refused' ELSE 'answered' END,
       CASE WHEN n %% 50 = 0 THEN 'AI service error. Please try again.' WHEN n %% 12 = 0 THEN 'Rate limit exceeded'
            ELSE '' END
FROM generate_series(%(start)s, %(stop)s) AS n
"""


def seed_activity(channel, rows: int) -> None:
    """`rows` requests over 30 days in the channel's activity log, newest first, through three named keys."""
    from django.db import connection

    from channels_app.services import api_key_issue

    keys = [channel.api_keys.first().pk] + [api_key_issue(channel=channel, name=n).api_key.pk
                                            for n in ("Staging", "Batch job")]
    spacing = 30 * 86_400_000 // max(rows, 1)
    began = time.monotonic()
    for start in range(0, rows, 1_000_000):
        with connection.cursor() as cursor:
            cursor.execute(ACTIVITY_SQL, {"channel": channel.pk, "organisation": channel.organisation_id,
                                          "keys": keys, "spacing": spacing, "start": start,
                                          "stop": min(rows, start + 1_000_000) - 1})
    print(f"seeded {rows:,} activity rows in {time.monotonic() - began:.0f} s")


def activity_pages(client, channel) -> list[tuple[str, str]]:
    """The activity log's pages: its first page, an older one, each filter, the organisation's log."""
    from channels_app.models import ApiKey

    base = f"/dashboard/channels/{channel.public_id}/activity/"
    org = f"/dashboard/org/{channel.organisation.public_id}/activity/"
    first = client.get(base).content.decode()
    older = re.search(r"before=([0-9_]+)", first).group(1)
    key = ApiKey.objects.filter(channel=channel, name="Batch job").first() or channel.api_keys.first()
    return [
        ("activity", base),
        ("activity, older page", f"{base}?before={older}"),
        ("activity, failed", f"{base}?outcome=failed"),
        ("activity, failed in the last hour", f"{base}?outcome=failed&period=1h"),
        ("activity, one key", f"{base}?key={key.public_id}"),
        ("activity, code 429", f"{base}?status=429"),
        ("activity, one model", f"{base}?model=openai/gpt-oss-20b"),
        ("activity, a model never used", f"{base}?model=gemma2-9b-it"),
        ("activity, a code never answered (418)", f"{base}?status=418"),
        ("activity, answered", f"{base}?outcome=answered"),
        ("activity, last 24 hours", f"{base}?period=24h"),
        ("organisation activity", org),
        ("organisation activity, failed", f"{org}?outcome=failed"),
        ("organisation activity, code 429", f"{org}?status=429"),
        ("organisation activity, one model", f"{org}?model=openai/gpt-oss-20b"),
        ("organisation activity, one channel", f"{org}?channel={channel.public_id}"),
    ]


def pages(client, channel) -> list[tuple[str, str]]:
    """(name, url) of every page to time; some URLs come from the list page, as a person would follow them."""
    base = f"/dashboard/channels/{channel.public_id}"
    listing = client.get(f"{base}/conversations/").content.decode()
    older = re.search(r"before=([0-9_]+)", listing).group(1)
    transcript = re.search(r'href="(/dashboard/channels/[^"]+/conversations/\d+/[^"]+)"', listing).group(1)
    middle = middle_session(channel)
    day = middle.started_at.date()
    return [
        ("cards `/dashboard/`", "/dashboard/"),
        ("channel overview", f"{base}/"),
        ("conversations list", f"{base}/conversations/"),
        ("conversations, older page", f"{base}/conversations/?before={older}"),
        ("conversations, source filter", f"{base}/conversations/?source=widget"),
        ("conversations, one day", f"{base}/conversations/?since={day}&until={day}"),
        ("search by session id", f"{base}/conversations/?q={middle.session_id}"),
        ("search by first message", f"{base}/conversations/?q={middle.first_message.replace(' ', '+')}"),
        ("search, a common word", f"{base}/conversations/?q=refund"),
        # Substrings, as an owner types them: no exact match, so the trigram indexes answer.
        ("search, part of a session id", f"{base}/conversations/?q={middle.session_id[-7:]}"),
        ("search, part of a first message",
         f"{base}/conversations/?q={middle.first_message.split(' about')[0].split(' ')[-1]}+about+my"),
        ("transcript", transcript),
        ("usage (30 days)", f"{base}/usage/"),
        ("usage (90 days)", f"{base}/usage/?days=90"),
    ] + (activity_pages(client, channel) if channel.activity.exists() else [])


def admin_pages(channel) -> list[tuple[str, str]]:
    middle = middle_session(channel)
    return [
        ("admin: messages", "/admin/conversations/message/"),
        ("admin: messages of the channel", f"/admin/conversations/message/?session__channel__id__exact={channel.pk}"),
        ("admin: messages by model", "/admin/conversations/message/?model=gemma2-9b-it"),
        ("admin: sessions", "/admin/conversations/session/"),
        ("admin: sessions, search", f"/admin/conversations/session/?q={middle.session_id}"),
        ("admin: live sessions", "/admin/conversations/session/?state=live"),
        ("admin: failed requests", "/admin/conversations/failedrequest/"),
        ("admin: a session", f"/admin/conversations/session/{middle.pk}/change/"),
        ("admin: channels (cost)", "/admin/channels_app/channel/"),
    ]


def middle_session(channel):
    """A session some way into the channel's history (the 1,001st, or the last of a smaller channel)."""
    from conversations.models import Session

    return list(Session.objects.filter(channel=channel).order_by("started_at")[:1001])[-1]


def signed_in(client, user):
    """`client` with a session of `user`, made directly (force_login's log-in signal wants a client address)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def purge_oldest_day(channel) -> dict:
    from django.utils import timezone as dj_timezone

    from conversations.engine import retention

    channel.retention_days = 29  # the seeded 30 days: the oldest one is past retention
    channel.save(update_fields=["retention_days"])
    began = time.perf_counter()
    counts = retention.channel_purge(channel=channel, now=dj_timezone.now())
    seconds = time.perf_counter() - began
    print(f"  purge of the oldest day: {counts} in {seconds:.1f} s")
    return {"counts": counts, "seconds": round(seconds, 2)}


def measure(channel, staff, repeat: int) -> list[dict]:
    return measure_pairs([channel], staff, repeat)[0]


def measure_pairs(channels: list, staff, repeat: int) -> list[list[dict]]:
    """Each page of each channel, the channels' requests interleaved page by page (a, b, a, b, ...), so a drift
    of the machine between two passes cannot pass for a difference between the channels."""
    from django.test import Client

    lists = []
    for channel in channels:
        owner_client, staff_client = signed_in(Client(), channel.owner), signed_in(Client(), staff)
        lists.append([(owner_client, n, u) for n, u in pages(owner_client, channel)] +
                     [(staff_client, n, u) for n, u in admin_pages(channel)])
    results: list[list[dict]] = [[] for _ in channels]
    for row in zip(*lists):
        times: list[list[float]] = [[] for _ in channels]
        for (client, name, url) in row:
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{name}: {url} answered {response.status_code}")
        for _ in range(repeat):
            for i, (client, _name, url) in enumerate(row):
                began = time.perf_counter()
                client.get(url)
                times[i].append((time.perf_counter() - began) * 1000)
        for i, (_client, name, url) in enumerate(row):
            results[i].append({"page": name, "url": url, "p50_ms": round(statistics.median(times[i]), 1),
                               "max_ms": round(max(times[i]), 1)})
        print("  " + "   ".join(f"{name:<34} {r[-1]['p50_ms']:>8.1f} ms" for r in results), flush=True)
    return results


def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.reuse:
        from bench.procs import recreate_database

        recreate_database(args.database_url)
    setup_django(args)
    if not args.reuse:
        seed(args)
    if args.seed_only:
        return
    from django.contrib.auth import get_user_model

    from channels_app.models import Channel
    from conversations.models import Message

    channel = Channel.objects.get(name=CHANNEL, owner__email=OWNER)
    half = Channel.objects.filter(name=HALF_CHANNEL, owner__email=HALF_OWNER).first() if args.half else None
    total = Message.objects.count()
    print(f"measuring with {total:,} messages in the database")
    staff, _ = get_user_model().objects.get_or_create(
        username=STAFF, defaults={"email": STAFF, "is_staff": True, "is_superuser": True})
    if half is not None:
        rows, half_rows = measure_pairs([channel, half], staff, args.repeat)
    else:
        rows, half_rows = measure(channel, staff, args.repeat), []
    result = {"messages_in_channel": args.messages, "messages_in_database": total, "repeat": args.repeat,
              "label": args.label, "pages": rows, "half_pages": half_rows,
              "at": datetime.now(timezone.utc).isoformat()}
    if args.purge_day:
        result["purge_oldest_day"] = purge_oldest_day(channel)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"pages-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2))
    if half_rows:
        print("\n| page | half: p50 (max) ms | whole: p50 (max) ms | whole / half |\n|---|---|---|---|")
        for h, r in zip(half_rows, rows):
            print(f"| {r['page']} | {h['p50_ms']} ({h['max_ms']}) | {r['p50_ms']} ({r['max_ms']}) | "
                  f"{r['p50_ms'] / h['p50_ms']:.2f} |")
    else:
        print("\n| page | p50 ms | max ms |\n|---|---|---|")
        for r in rows:
            print(f"| {r['page']} | {r['p50_ms']} | {r['max_ms']} |")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
