"""Optional embeddings: the provider's OpenAI-compatible `POST /embeddings`, when KNOWLEDGE_EMBEDDING_MODEL names a model.

`backend()` is chosen once from settings (KNOWLEDGE_EMBEDDINGS, set from whether a model is named): `Off`
(the default) or `OpenAICompatible`, which posts to LLM_BASE_URL + "/embeddings" with LLM_API_KEY (the
environment provider's). No call site asks which it has: `Off` embeds nothing.

Vectors are stored per chunk as little-endian float32 bytes, scaled to unit length, so a cosine is a dot
product (`pack`, `cosine`): portable to any database, no vector extension needed. Ingestion embeds chunks
in the background job (sync); a chat embeds its question (async) and knowledge/grounding.py fuses the two
rankings. Tokens are the provider's `usage` (total_tokens, else prompt_tokens), or a quarter of the
characters when it reports none.
"""

import array
import asyncio
import functools
import math
import operator
import sys
import weakref
from dataclasses import dataclass
from decimal import Decimal

import httpx
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from gateway.infra.outbound import tls_context


class EmbeddingError(Exception):
    """The provider gave no usable vectors; the message names why (never its key)."""


@dataclass(frozen=True)
class Embedded:
    vectors: list[bytes]  # one per input, packed (`pack`)
    tokens: int

    @property
    def cost(self) -> Decimal:
        """US dollars at KNOWLEDGE_EMBEDDING_PRICE (per million tokens)."""
        return Decimal(str(settings.KNOWLEDGE_EMBEDDING_PRICE)) * self.tokens / 1_000_000


def pack(vector: list[float]) -> bytes:
    """`vector` at unit length, as little-endian float32 bytes."""
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    packed = array.array("f", (x / norm for x in vector))
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def unpack(data: bytes) -> array.array:
    vector = array.array("f")
    vector.frombytes(bytes(data))
    if sys.byteorder != "little":
        vector.byteswap()
    return vector


def cosine(a: array.array, b: array.array) -> float:
    """The cosine of two unit vectors (0 when their sizes differ: another model made one)."""
    if len(a) != len(b):
        return 0.0
    return sum(map(operator.mul, a, b))


class Embeddings:
    def candidates(self, limit: int) -> int:
        """How many full-text candidates a chat asks for to give `limit` passages (more when they are re-ranked)."""
        return limit

    def embed(self, texts: list[str]) -> Embedded | None:
        """Vectors of `texts` (sync, for ingestion); None when embeddings are off."""
        return None

    async def embed_query(self, text: str) -> Embedded | None:
        """The vector of a chat's question; None when embeddings are off."""
        return None


class Off(Embeddings):
    pass


class OpenAICompatible(Embeddings):
    def candidates(self, limit: int) -> int:
        return max(limit, settings.KNOWLEDGE_EMBEDDING_CANDIDATES)

    def _request(self, texts: list[str]) -> tuple[str, dict, dict]:
        headers = {"Content-Type": "application/json"}
        if settings.LLM_API_KEY:
            headers["Authorization"] = f"Bearer {settings.LLM_API_KEY}"
        url = settings.LLM_BASE_URL.rstrip("/") + "/embeddings"
        return url, headers, {"model": settings.KNOWLEDGE_EMBEDDING_MODEL, "input": texts}

    def embed(self, texts: list[str]) -> Embedded | None:
        vectors, tokens = [], 0
        batch = max(settings.KNOWLEDGE_EMBEDDING_BATCH, 1)
        with httpx.Client(timeout=settings.KNOWLEDGE_EMBEDDING_TIMEOUT_SECONDS, trust_env=False,
                          verify=tls_context()) as client:
            for start in range(0, len(texts), batch):
                part = texts[start:start + batch]
                url, headers, body = self._request(part)
                try:
                    response = client.post(url, headers=headers, json=body)
                except httpx.HTTPError as exc:
                    raise EmbeddingError(f"the provider could not be reached ({type(exc).__name__})") from None
                found = _parse(response, part)
                vectors += found.vectors
                tokens += found.tokens
        return Embedded(vectors, tokens)

    async def embed_query(self, text: str) -> Embedded | None:
        url, headers, body = self._request([text])
        try:
            response = await _client().post(url, headers=headers, json=body)
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"the provider could not be reached ({type(exc).__name__})") from None
        return _parse(response, [text])


def _parse(response: httpx.Response, texts: list[str]) -> Embedded:
    if response.status_code != 200:
        raise EmbeddingError(f"the provider answered {response.status_code}")
    try:
        body = response.json()
        rows = sorted(body["data"], key=lambda row: row.get("index", 0))
        vectors = [pack([float(x) for x in row["embedding"]]) for row in rows]
    except (ValueError, KeyError, TypeError):
        raise EmbeddingError("the provider's answer held no embeddings") from None
    if len(vectors) != len(texts):
        raise EmbeddingError(f"the provider returned {len(vectors)} embeddings for {len(texts)} texts")
    usage = body.get("usage") or {}
    tokens = usage.get("total_tokens") or usage.get("prompt_tokens")
    if not isinstance(tokens, int) or tokens < 0:
        tokens = sum(math.ceil(len(text) / 4) for text in texts)
    return Embedded(vectors, tokens)


_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]" = weakref.WeakKeyDictionary()


def _client() -> httpx.AsyncClient:
    """One client per event loop (its keep-alive connections belong to that loop)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(timeout=settings.KNOWLEDGE_EMBEDDING_TIMEOUT_SECONDS, trust_env=False,
                                   verify=tls_context())
        _clients[loop] = client
    return client


@functools.cache
def backend() -> Embeddings:
    return import_string(settings.KNOWLEDGE_EMBEDDINGS)()


@receiver(setting_changed)
def _forget_backend(*, setting, **kwargs):
    if setting in ("KNOWLEDGE_EMBEDDINGS", "KNOWLEDGE_EMBEDDING_MODEL"):
        backend.cache_clear()
