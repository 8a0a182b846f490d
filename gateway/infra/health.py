"""`GET /healthz`: can this process serve? It checks the database and the cache, nothing else.

No authentication and nothing secret in the answer, so a load balancer can
probe it (over plain HTTP too: it is exempt from the HTTPS redirect). Each check
runs on its own thread with a deadline, so a hung database or cache makes the
probe fail within HEALTHZ_TIMEOUT seconds instead of hanging it.
"""

import asyncio
import logging
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)


def _database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # back to the pool: this thread is not a request's


def _cache() -> None:
    # A key of its own each time, so concurrent probes cannot read each other's value.
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, 1, timeout=10)
    try:
        if cache.get(key) != 1:
            raise RuntimeError("the cache did not return what was just written")
    finally:
        cache.delete(key)


async def _status(name: str, check) -> str:
    try:
        await asyncio.wait_for(sync_to_async(check, thread_sensitive=False)(), timeout=settings.HEALTHZ_TIMEOUT)
    except Exception as exc:
        logger.warning("Health check: %s is failing (%s: %s)", name, type(exc).__name__, exc)
        return "error"
    return "ok"


@csrf_exempt  # it changes nothing; a probe's POST gets a plain 405
async def healthz(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    database, cache_status = await asyncio.gather(_status("database", _database), _status("cache", _cache))
    ok = database == cache_status == "ok"
    body = {"status": "ok" if ok else "error", "database": database, "cache": cache_status}
    response = JsonResponse(body, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response
