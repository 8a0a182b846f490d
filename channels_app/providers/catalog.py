"""The models a channel can use, as chats read them: a frozen snapshot of the catalog tables, kept per process.

The tables (channels_app/providers/catalog_models.py: Provider, AiModel) are what staff
edit; a chat must not query them row by row. So each process keeps one
`Snapshot` of both, read in one database phase and replaced whole:

- when this process changes the catalog (signals below), at once;
- when another process changed it: every catalog change also moves the key
  cache's generation on (key_cache.invalidate), which every chat checks while
  it is counted (conversations/engine/admission.py), so a chat that carries a newer
  generation than the snapshot's loads a new one;
- after CATALOG_CACHE_SECONDS in any case (a backstop for changes made behind
  the application's back).

A retired model serves no chat: a channel still naming one (the retirement
moved it already, unless it was changed behind our back) is served by its
replacement (`serving`).
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings

logger = logging.getLogger(__name__)

K = 1024
MILLION = Decimal(1_000_000)
DEFAULT_MODEL_ID = "openai/gpt-oss-120b"  # catalog_seed.DEFAULT_MODEL: the seed's first live model
ACTIVE, DEPRECATED, RETIRED = "active", "deprecated", "retired"
# Tokens a reasoning model may think in, beside the answer's length, by effort. No provider publishes a figure: these
# are this gateway's choice, generous for a chat question at each effort and far below gpt-oss's 65,536 max output;
# only what the model uses is billed. An answer still cut to nothing is the NoAnswer error, never an empty reply.
REASONING_ROOM = {"low": 2048, "medium": 8192, "high": 16384}
# What a model can do, by the same names on AiModel and CatalogModel.
CAPABILITIES = (
    "supports_streaming", "supports_tools", "supports_json_object", "supports_json_schema", "supports_reasoning",
    "supports_vision",
)


@dataclass(frozen=True)
class Upstream:
    """Where a model's chats go: an OpenAI-compatible base URL and its key; timeouts in seconds."""

    name: str = "environment"
    from_environment: bool = True  # LLM_BASE_URL / LLM_API_KEY, read when used (so tests and settings can change them)
    url: str = ""
    key: str = field(default="", repr=False)
    connect_timeout: float | None = None
    read_timeout: float | None = None
    total_timeout: float | None = None
    enabled: bool = True

    @property
    def base_url(self) -> str:
        return (settings.LLM_BASE_URL if self.from_environment else self.url).rstrip("/")

    @property
    def api_key(self) -> str:
        return settings.LLM_API_KEY if self.from_environment else self.key

    @property
    def demo(self) -> bool:
        """The environment provider with no LLM_API_KEY: the built-in offline demo answers instead."""
        return self.from_environment and not settings.LLM_API_KEY

    def timeouts(self) -> tuple[float, float, float]:
        """(connect, read, total), each the provider's own or the LLM_* setting."""
        return (
            self.connect_timeout or settings.LLM_CONNECT_TIMEOUT,
            self.read_timeout or settings.LLM_READ_TIMEOUT,
            self.total_timeout or settings.LLM_TOTAL_TIMEOUT,
        )


ENVIRONMENT = Upstream()


def is_demo() -> bool:
    """The environment provider (LLM_BASE_URL) has no key: its models answer from the offline demo."""
    return ENVIRONMENT.demo


def scrub(text: str, secret: str = "") -> str:
    """Take the upstream keys (the environment's and `secret`) out of text bound for a log line (providers may echo them)."""
    for key in (settings.LLM_API_KEY, secret):
        if key:
            text = text.replace(key, "[upstream key]")
    return text


@dataclass(frozen=True)
class CatalogModel:
    id: str
    name: str
    context_window: int  # tokens
    max_output: int  # tokens
    speed: str = ""
    best_for: str = ""
    upstream_id: str = ""  # the provider's own id for it; "" means `id`
    provider: Upstream = ENVIRONMENT
    input_price: Decimal = Decimal(0)  # US dollars per million tokens
    output_price: Decimal = Decimal(0)
    status: str = ACTIVE
    retires_on: date | None = None
    replacement: str | None = None  # its replacement's id
    supports_streaming: bool = True
    supports_tools: bool = False
    supports_json_object: bool = False
    supports_json_schema: bool = False
    supports_reasoning: bool = False
    supports_vision: bool = False
    reasoning_effort: str = "low"  # sent only when supports_reasoning

    @property
    def upstream_model(self) -> str:
        return self.upstream_id or self.id

    @property
    def output_reserve(self) -> int:
        """Tokens kept free of prompt: the most a reply may ask for (`max_tokens` is at most this).

        Capped at a quarter of the context: Mixtral's max output equals its
        whole window, which would otherwise leave no room for the prompt.
        """
        return min(self.max_output, self.context_window // 4)

    @property
    def prompt_budget(self) -> int:
        return self.context_window - self.output_reserve

    def reply_limit(self, channel_cap: int | None, asked: int | None = None) -> int:
        """The `max_tokens` sent: what the client asked, within the channel's cap, within the model's reserve.

        A reasoning model's `max_tokens` covers its reasoning too, so it gets
        REASONING_ROOM for its effort on top: the cap is for the answer, and a
        reply is not cut to nothing while the model is still thinking.
        """
        limit = min(channel_cap or self.output_reserve, self.output_reserve)
        answer = min(asked, limit) if asked else limit
        if self.supports_reasoning:
            return min(answer + REASONING_ROOM.get(self.reasoning_effort, REASONING_ROOM["low"]), self.output_reserve)
        return answer

    def cost(self, prompt_tokens: int | None, completion_tokens: int | None) -> Decimal:
        """US dollars for one reply at the catalog's prices."""
        spent = (prompt_tokens or 0) * self.input_price + (completion_tokens or 0) * self.output_price
        return (spent / MILLION).quantize(Decimal("1e-10"))


@dataclass(frozen=True)
class Snapshot:
    models: dict[str, CatalogModel]  # every model by id, retired ones too
    generation: int | None  # the key cache's generation it was read under (None: no shared cache)
    loaded_at: float

    def serving(self, model_id: str) -> CatalogModel | None:
        """The model that serves a channel naming `model_id`: itself, or for a retired one its replacement."""
        model = self.models.get(model_id)
        for _ in range(8):  # a replacement may have been retired in turn
            if model is None or model.status != RETIRED:
                return model
            model = self.models.get(model.replacement or "")
        return None


_snapshot: Snapshot | None = None
_lock = threading.Lock()


def _fresh(snap: Snapshot | None, generation: int | None) -> bool:
    if snap is None or time.monotonic() - snap.loaded_at >= settings.CATALOG_CACHE_SECONDS:
        return False
    return generation is None or snap.generation == generation


def _load(generation: int | None) -> Snapshot:
    """Both tables in one phase (sync: the caller is on a database thread or in sync code)."""
    global _snapshot
    from channels_app.providers.catalog_models import AiModel

    models = {}
    for row in AiModel.objects.select_related("provider", "replacement"):
        models[row.slug] = _frozen(row)
    snap = Snapshot(models, generation, time.monotonic())
    with _lock:
        _snapshot = snap
    return snap


def _frozen(row) -> CatalogModel:
    p = row.provider
    upstream = ENVIRONMENT if p.from_environment and p.enabled else Upstream(
        name=p.name,
        from_environment=p.from_environment,
        url=p.base_url,
        key=_key_of(p),
        connect_timeout=p.connect_timeout,
        read_timeout=p.read_timeout,
        total_timeout=p.total_timeout,
        enabled=p.enabled,
    )
    return CatalogModel(
        id=row.slug,
        name=row.name,
        context_window=row.context_window,
        max_output=row.max_output,
        speed=row.speed,
        best_for=row.best_for,
        upstream_id=row.upstream_id,
        provider=upstream,
        input_price=row.input_price,
        output_price=row.output_price,
        status=row.status,
        retires_on=row.retires_on,
        replacement=row.replacement.slug if row.replacement_id else None,
        reasoning_effort=row.reasoning_effort,
        **{name: getattr(row, name) for name in CAPABILITIES},
    )


def _key_of(provider) -> str:
    from gateway.infra.sealing import UndecryptableKey

    try:
        return provider.api_key()
    except UndecryptableKey:  # a rotated KEY_ENCRYPTION_KEY without the old one: its calls fail, the rest work
        logger.error("The key of provider %s does not decrypt with the configured encryption keys", provider.name)
        return ""


def snapshot(generation: int | None = None) -> Snapshot:
    """The catalog, from memory while fresh (sync code: views, forms, services, admin)."""
    snap = _snapshot
    return snap if _fresh(snap, generation) else _load(generation)


async def current(generation: int | None = None) -> Snapshot:
    """The catalog for a chat: from memory while fresh, else read in one database phase."""
    snap = _snapshot
    if _fresh(snap, generation):
        return snap
    from gateway.infra.db import in_db_phase

    return await in_db_phase(_load, generation)


def forget() -> None:
    """Drop this process's snapshot: the next use reads the tables again."""
    global _snapshot
    with _lock:
        _snapshot = None


def find(model_id: str) -> CatalogModel | None:
    return snapshot().models.get(model_id)


def get_model(model_id: str) -> CatalogModel:
    """The catalog entry for `model_id`; KeyError when the id is not in the catalog."""
    return snapshot().models[model_id]


def pickable(current_ids: tuple[str, ...] = ()) -> list[CatalogModel]:
    """What an owner may choose: the active models, plus (so a form stays valid) a deprecated one already chosen."""
    return [m for m in snapshot().models.values() if m.status == ACTIVE or (m.status == DEPRECATED and m.id in current_ids)]


def is_pickable(model_id: str, current_ids: tuple[str, ...] = ()) -> bool:
    return any(m.id == model_id for m in pickable(current_ids))


def default_model_id() -> str:
    active = [m.id for m in snapshot().models.values() if m.status == ACTIVE]
    return DEFAULT_MODEL_ID if DEFAULT_MODEL_ID in active or not active else active[0]
