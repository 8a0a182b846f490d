"""The floor: the chat's work with no framework, as a raw ASGI app, for the bench to measure beside the gateway.

    uvicorn bench.floor:app --workers 2     # with the bench's environment (bench.run starts it)

`POST /api/chat` with `X-API-Key` and `{"message", "session_id", "metadata"}`,
the same request the gateway gets from bench/wrk/chat.lua, does per chat only
the work the gateway cannot skip, with the same libraries and the same
statements:

1. read and parse the JSON body;
2. HMAC-SHA256 the key under KEY_DIGEST_SECRET and look the digest up in memory
   (every key's channel is read once at start-up);
3. one Redis call: the gateway's own limit script (conversations/engine/counters/redis_lua.py
   COUNT_ALL) over the channel's minute and day counters;
4. one PostgreSQL statement: the gateway's credit hold and its token plus the
   last 20 messages (conversations/engine/store/postgresql.py HOLD_AND_HISTORY);
5. one aiohttp call to the upstream (system prompt, history, page context, message);
6. one PostgreSQL statement storing both messages under the hold's token (store_statement, the gateway's
   STORE_EXCHANGE);
7. `{"reply", "session_id"}` with X-Gateway-Overhead-Ms, as the gateway answers.

No validation beyond what parsing needs, no errors beyond a bare status, no
logging, metrics, retries or breaker: it is what this stack can do at all, not
a second gateway. Django is set up once at import only to read the settings
and import those statements; no Django code runs per request.
"""

import hashlib
import hmac
import json
import os
import time
from datetime import datetime, timezone
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")
django.setup()

import aiohttp  # noqa: E402
import psycopg  # noqa: E402
import redis.asyncio  # noqa: E402
from django.conf import settings  # noqa: E402
from psycopg_pool import AsyncConnectionPool  # noqa: E402

from channels_app.models import ApiKey, Channel  # noqa: E402
from channels_app.providers.catalog_models import AiModel  # noqa: E402
from channels_app.providers.provider import Completion  # noqa: E402
from conversations.engine.counters.redis_lua import COUNT_ALL  # noqa: E402
from conversations.engine.prompt import page_context  # noqa: E402
from conversations.engine.selectors import HISTORY_LOAD_LIMIT  # noqa: E402
from conversations.engine.store import Exchange  # noqa: E402
from conversations.engine.store.postgresql import HOLD_AND_HISTORY, store_statement  # noqa: E402

KEYS_SQL = f"""
SELECT k.digest, c.id, c.public_id, c.model, c.system_prompt, c.rate_limit_per_minute, c.daily_limit, c.max_reply_tokens
FROM {ApiKey._meta.db_table} k JOIN {Channel._meta.db_table} c ON c.id = k.channel_id
WHERE k.revoked_at IS NULL AND c.is_active
"""
# The model catalog, read once (the gateway keeps it as a per-process snapshot too): id → (provider's id, the
# most a reply may ask for, input and output price per million tokens).
MODELS_SQL = f"""
SELECT slug, coalesce(nullif(upstream_id, ''), slug), least(max_output, context_window / 4), input_price, output_price
FROM {AiModel._meta.db_table}
"""
MILLION = Decimal(1_000_000)
JSON_HEADERS = [(b"content-type", b"application/json")]


class Floor:
    def __init__(self):
        self.secret = settings.KEY_DIGEST_SECRET
        self.prefix = os.environ.get("CACHE_KEY_PREFIX", "floor")  # the bench deletes its keys after the run
        self.channels: dict[str, tuple] = {}

    async def start(self) -> None:
        url = os.environ["DATABASE_URL"]
        async with await psycopg.AsyncConnection.connect(url) as conn:
            rows = await (await conn.execute(KEYS_SQL)).fetchall()
            models = await (await conn.execute(MODELS_SQL)).fetchall()
        self.channels = {row[0]: row[1:] for row in rows}
        self.models = {row[0]: row[1:] for row in models}
        self.pool = AsyncConnectionPool(url, min_size=2, max_size=settings.DB_PHASE_CONCURRENCY,
                                        kwargs={"autocommit": True}, open=False)
        await self.pool.open()
        self.redis = redis.asyncio.Redis(connection_pool=redis.asyncio.BlockingConnectionPool.from_url(
            os.environ["REDIS_URL"], max_connections=settings.DB_PHASE_CONCURRENCY, timeout=30))
        self.count_all = self.redis.register_script(COUNT_ALL)
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=settings.LLM_MAX_CONNECTIONS),
            timeout=aiohttp.ClientTimeout(total=60),
        )
        self.upstream = settings.LLM_BASE_URL.rstrip("/") + "/chat/completions"
        self.upstream_headers = {"Authorization": f"Bearer {settings.LLM_API_KEY}"}

    async def stop(self) -> None:
        await self.http.close()
        await self.redis.aclose()
        await self.pool.close()

    async def chat(self, key: bytes, body: bytes) -> tuple[int, bytes, float]:
        """(status, body, seconds spent upstream) for one chat."""
        started = time.monotonic()
        data = json.loads(body)
        message, session_id, metadata = data["message"], data["session_id"], data.get("metadata") or {}
        channel = self.channels.get(hmac.new(self.secret, key, hashlib.sha256).hexdigest())
        if channel is None:
            return 401, b'{"error": "Invalid API key"}', 0.0
        channel_id, public_id, model_id, system_prompt, per_minute, per_day, reply_tokens = channel
        now = time.time()
        minute, day = int(now // 60), int(now // 86400)
        over = await self.count_all(
            keys=[f"{self.prefix}:floor:guard", f"{self.prefix}:floor:m:{public_id}:{minute}",
                  f"{self.prefix}:floor:d:{public_id}:{day}"],
            args=["", 120, per_minute, 0, 0, 90000, per_day, 0, 1],
        )
        if over:
            return 429, b'{"error": "Rate limit exceeded"}', 0.0
        received = datetime.now(timezone.utc)
        params = {"channel": channel_id, "source": "api", "session": session_id, "now": received,
                  "limit": HISTORY_LOAD_LIMIT, "key": None, "capped": False}
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(HOLD_AND_HISTORY, params)).fetchall()
        if rows[0][0] != 1:
            return 402, b'{"error": "Out of credits"}', 0.0
        upstream_model, reserve, input_price, output_price = self.models[model_id]
        messages = [{"role": "system", "content": system_prompt}]
        messages += [{"role": role, "content": content} for *_, role, content in reversed(rows) if role is not None]
        context = page_context(metadata)
        if context:
            messages.append({"role": "user", "content": context})
        messages.append({"role": "user", "content": message})
        upstream_started = time.monotonic()
        async with self.http.post(self.upstream, headers=self.upstream_headers, json={
            "model": upstream_model, "messages": messages, "max_tokens": min(reply_tokens, reserve), "stream": False,
        }) as response:
            if response.status != 200:
                return 502, b'{"error": "Provider error"}', 0.0
            answer = await response.json()
        upstream = time.monotonic() - upstream_started
        usage = answer.get("usage") or {}
        completion = Completion(
            text=answer["choices"][0]["message"]["content"], model=model_id,
            prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"),
            latency_ms=int(upstream * 1000),
        )
        exchange = Exchange(
            channel_id=channel_id, source="api", session_id=session_id, message=message, received_at=received,
            completion=completion, replied_at=datetime.now(timezone.utc),
            page_url=metadata.get("url") or "", page_title=metadata.get("title") or "", hold_token=rows[0][3],
            cost=((completion.prompt_tokens or 0) * input_price + (completion.completion_tokens or 0) * output_price)
            / MILLION,
        )
        async with self.pool.connection() as conn:
            await conn.execute(*store_statement(exchange))
        reply = json.dumps({"reply": completion.text, "session_id": session_id}).encode()
        return 200, reply, time.monotonic() - started - upstream


floor = Floor()


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await floor.start()
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await floor.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    body = b""
    while True:
        event = await receive()
        body += event.get("body", b"")
        if not event.get("more_body"):
            break
    key = next((value for name, value in scope["headers"] if name == b"x-api-key"), None)
    if key is None:
        status, reply, overhead = 401, b'{"error": "Missing API key"}', 0.0
    elif scope["method"] != "POST" or scope["path"] != "/api/chat":
        status, reply, overhead = 404, b'{"error": "Not found"}', 0.0
    else:
        status, reply, overhead = await floor.chat(key, body)
    await send({"type": "http.response.start", "status": status,
                "headers": [*JSON_HEADERS, (b"x-gateway-overhead-ms", f"{overhead * 1000:.2f}".encode())]})
    await send({"type": "http.response.body", "body": reply})


