"""One chat, top to bottom: start → prepare → complete → settle. Written once; every chat takes this path.

- start: the Idempotency-Key, when there is one: a repeat gets the stored
  answer (nothing else runs), a first use claims the key (conversations/engine/idempotency.py).
- prepare: the request counted against its limits (conversations/engine/admission.py),
  then a credit held and the thread's history read in one step of the store
  (conversations/engine/store). From here the chat holds a credit and its daily slots.
  Only then is the channel's knowledge searched (knowledge/grounding.py), so a
  refused chat costs no search.
- complete: the channel's model, then its fallback, each through the provider's
  retries and circuit breaker (channels_app/providers/provider.py, resilience.py). A
  streamed chat passes a sink (conversations/edge/streaming.py) that forwards the
  deltas as they come; the fallback never takes over a reply already started.
- settle: the exchange stored, with the Idempotency-Key's answer, in one step
  of the store. Or, when there is no reply (or it cannot be stored), everything
  held given back: the credit, the daily slots and the Idempotency-Key.

So a chat can never overspend (the credit is held before the provider call)
and is never half-stored (message and reply are written together). The view
is thin: it parses, calls `start` and `finish` (or streaming.events), renders.
Whatever the implementation behind the store and the counters (chosen once at
start-up), this module is the same.
"""

import asyncio
import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from django.utils import timezone

from channels_app.credentials import VerifiedKey
from channels_app.providers import catalog, catalog_services, provider
from channels_app.providers.catalog import CatalogModel
from conversations.engine import activity, admission, counters, idempotency, store
from conversations.engine.prompt import build_conversation, build_messages
from gateway.infra.errors import CreditsExhausted, NoAnswerError, ProviderError, ServiceUnavailable, UnsupportedByModel
from gateway.infra.metrics import usage_record
from knowledge import grounding as knowledge

logger = logging.getLogger(__name__)


# How a 400 names what the model cannot do.
CAPABILITY_NAMES = {
    "tools": "tools", "json_object": 'response_format {"type": "json_object"}',
    "json_schema": 'response_format {"type": "json_schema"}', "vision": "images", "reasoning": "reasoning",
    "streaming": "streaming",
}


def capable(model: CatalogModel, capability: str) -> bool:
    """Whether the catalog says the model can do it: "streaming", "tools", "json_object", "json_schema", "reasoning",
    "vision" (CatalogModel's supports_* fields)."""
    return getattr(model, f"supports_{capability}")


@dataclass(frozen=True)
class Sampling:
    """A client's sampling options (the OpenAI-compatible API); None leaves the provider's default."""

    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] | None = None
    max_tokens: int | None = None  # capped by the channel's reply length and the model's (CatalogModel.reply_limit)
    # Further request fields passed on as they are (tools, tool_choice, response_format, seed, penalties ...),
    # checked by the view; the model must have every capability in ChatRequest.needs for them.
    passed: dict = field(default_factory=dict)
    # Fields passed on only to a model with the capability named (e.g. "reasoning": {"reasoning_effort": "low"}),
    # dropped for any other.
    if_capable: dict = field(default_factory=dict)

    def sized(self, model: CatalogModel) -> CatalogModel:
        """The model as its reply is sized: with the client's reasoning effort, when it is passed on, for the room
        to think (catalog.REASONING_ROOM)."""
        effort = self.if_capable.get("reasoning", {}).get("reasoning_effort")
        return dataclasses.replace(model, reasoning_effort=effort) if effort and capable(model, "reasoning") else model

    def options(self, model: CatalogModel) -> dict:
        """What the provider call passes on beside `max_tokens`."""
        chosen = {"temperature": self.temperature, "top_p": self.top_p, "stop": list(self.stop) if self.stop else None}
        options = {name: value for name, value in chosen.items() if value is not None} | self.passed
        for capability, fields in self.if_capable.items():
            if capable(model, capability):
                options |= fields
        return options


@dataclass(frozen=True)
class ChatRequest:
    """What the client asked, validated (conversations/edge/serializers.py ChatInput, conversations/edge/openai_api.py)."""

    session_id: str
    message: str  # what is stored as the user's message
    metadata: dict
    # The OpenAI-compatible API's own conversation, provider messages ({"role", "content", ...: tool calls and
    # results too}) oldest first, ending with what `message` stores: sent instead of the stored history, which
    # is then NOT added (OpenAI clients send the whole conversation).
    conversation: tuple[dict, ...] | None = None
    model: str | None = None  # one the channel may use (the view checks): that model alone; None: model, then fallback
    sampling: Sampling | None = None
    # What the model must be able to do for this request: the catalog's capability ("tools", "json_schema",
    # "vision" ...) → the request field that needs it (the 400's `param` when neither model nor fallback can).
    needs: dict | None = None

    def fingerprint_fields(self) -> dict:
        """Its fields for the Idempotency-Key's fingerprint: the unset ones left out, so an /api/chat request's
        fingerprint holds only the fields /api/chat has, and answers stored under it still match."""
        fields = dataclasses.asdict(self)
        return {name: value for name, value in fields.items() if value is not None or name in ("session_id", "message", "metadata")}


@dataclass(frozen=True)
class ChatReply:
    reply: str
    session_id: str
    replayed: bool = False  # the stored answer to an earlier request with the same Idempotency-Key
    tool_calls: list | None = None  # the functions the model asks the client to call (OpenAI's shape), if any
    # How the provider answered (model, tokens, finish reason), for the OpenAI-compatible answer; not part of
    # the reply itself (equality, the stored Idempotency-Key answer). None when replayed.
    completion: provider.Completion | None = field(default=None, compare=False, repr=False)
    # The channel's knowledge given to the model ({"title", "url"} each), an extension of the contract's answer.
    sources: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        answer = {"reply": self.reply, "session_id": self.session_id, "sources": self.sources}
        if self.tool_calls:  # only the OpenAI-compatible API sends tools, so /api/chat's answer never has this
            answer["tool_calls"] = self.tool_calls
        return answer


@dataclass(frozen=True)
class PreparedChat:
    """A chat that passed every check and holds a credit and its daily slots: ready for the provider."""

    key: VerifiedKey
    request: ChatRequest
    received_at: datetime
    held: tuple[str, ...]  # its daily slots (limits.held_keys)
    history: list[tuple[str, str]]
    idempotency_claim: int | None = None
    # The channel's model, then its fallback, as the catalog serves them (a retired one's replacement).
    models: tuple[CatalogModel, ...] = ()
    # Passages of the channel's knowledge for this message (knowledge/grounding.py); None: the channel has none.
    grounding: knowledge.Grounding | None = None
    held_from: str = "channel"  # where its credit was taken, so a release gives it back there
    key_spent: bool = False  # its key's own credit cap counted it too, so a release gives it back there as well
    hold_token: int | None = None  # its hold's token (store.Held.token): its store and release pass it
    endpoint: str = "chat"  # the API endpoint it came through, for its row in the activity log

    def facts(self) -> activity.Facts:
        """What its row in the activity log says of its key."""
        return activity_facts(self.key, self.endpoint)

    def attempts(self) -> list[tuple[CatalogModel, list[dict]]]:
        """The channel's model, then its fallback, each with a prompt trimmed to fit it."""
        models = list(self.models)
        if self.request.model is not None:
            models = [model for model in models if model.id == self.request.model]
        return [(model, self.prompt_for(model)) for model in models]

    def model(self, model_id: str) -> CatalogModel | None:
        return next((model for model in self.models if model.id == model_id), None)

    def prompt_for(self, model: CatalogModel) -> list[dict]:
        if self.request.conversation is not None:
            return build_conversation(
                model=model, system_prompt=self.key.channel.system_prompt, conversation=self.request.conversation
            )
        return build_messages(
            model=model,
            system_prompt=self.key.channel.system_prompt,
            metadata=self.request.metadata,
            history=self.history,
            message=self.request.message,
            knowledge=self.grounding.message if self.grounding is not None else None,
        )


class Sink(Protocol):
    """Where a streamed chat's deltas go as the provider writes them (conversations/edge/streaming.py)."""

    started: bool  # whether any delta was forwarded: a fallback can no longer take over

    async def stream(self, upstream: provider.CompletionStream) -> provider.Completion:
        """Forward `upstream`'s deltas; the whole reply once it ended (ProviderFailure when it is empty)."""

    def partial(self) -> provider.Completion | None:
        """What reached the client of a stream cut off before its end; None when nothing did."""


def activity_facts(key: VerifiedKey, endpoint: str) -> activity.Facts:
    """A request's key, as the activity log records it: the secret key's id and name, the widget's name."""
    return activity.Facts(
        organisation_id=key.channel.organisation_id, endpoint=endpoint,
        key_id=None if key.publishable else key.key_id, key_name=key.name,
    )


async def start(
    key: VerifiedKey, request: ChatRequest, *, idempotency_key: str | None = None, endpoint: str = "chat"
) -> PreparedChat | ChatReply:
    """Prepare the chat, or with an Idempotency-Key seen before, the stored answer (a ChatReply, replayed).

    Raises the API's errors (limits, credits, a key in use) with nothing held.
    """
    claim = None
    if idempotency_key is not None:
        outcome = await idempotency.begin(
            api_key=key, key=idempotency_key, fingerprint=idempotency.fingerprint(request.fingerprint_fields())
        )
        if outcome.replay is not None:
            return ChatReply(replayed=True, **outcome.replay)
        claim = outcome.claim_id
    try:
        return dataclasses.replace(await prepare(key, request, idempotency_claim=claim), endpoint=endpoint)
    except BaseException:
        if claim is not None:
            await asyncio.shield(idempotency.abandon(claim))
        raise


async def prepare(key: VerifiedKey, request: ChatRequest, *, idempotency_claim: int | None = None) -> PreparedChat:
    """The request's limits, then a held credit and the history. Raises the API's errors; holds nothing when it does."""
    received_at = timezone.now()
    models = _able(await _models_of(key), request)
    admitted = await admission.admit(key, "chat", request.session_id)
    stale, key = admitted.key is not key, admitted.key
    try:
        if stale:  # the channel changed since its key was cached, so its models may have too
            models = _able(await _models_of(key), request)
        found = await store.backend().hold_and_history(
            channel_id=key.channel.pk, source=key.source, session_id=request.session_id, now=received_at,
            key_id=key.key_id, capped=key.capped,
        )
    except BaseException:  # e.g. the database dropped the connection: nothing was held there
        await asyncio.shield(counters.backend().give_back(admitted.held))
        raise
    if not found.held:
        await counters.backend().give_back(admitted.held)
        raise CreditsExhausted()
    chat = PreparedChat(key, request, received_at, admitted.held, found.history, idempotency_claim, models,
                        held_from=found.held_from, key_spent=found.key_spent, hold_token=found.token)
    # The search comes after the credit is held, so a chat refused for its limits or credits costs no search.
    try:
        grounding = await _grounding(key, request)
    except BaseException:  # cancelled while searching: what was held goes back (start abandons the claim)
        await asyncio.shield(_give_back(chat))
        raise
    return dataclasses.replace(chat, grounding=grounding)


async def _grounding(key: VerifiedKey, request: ChatRequest) -> knowledge.Grounding | None:
    """The channel's knowledge for an /api/chat message (an OpenAI-compatible client brings its own context).

    A failing search costs the chat its knowledge, not its answer.
    """
    if request.conversation is not None:
        return None
    try:
        return await knowledge.for_chat(channel_id=key.channel.pk, message=request.message, metadata=request.metadata)
    except Exception:
        logger.exception("Knowledge search failed for channel %s; answering without it", key.channel.public_id)
        return None


async def _models_of(key: VerifiedKey) -> tuple[CatalogModel, ...]:
    """The channel's model and fallback as the catalog serves them now (a snapshot: no query while it is fresh)."""
    served = await catalog.current(key.generation)
    names = [key.channel.model] + ([key.channel.fallback_model] if key.channel.fallback_model else [])
    models: list[CatalogModel] = []
    for name in names:
        model = served.serving(name)
        if model is not None and model not in models:
            models.append(model)
    return tuple(models)


def _able(models: tuple[CatalogModel, ...], request: ChatRequest) -> tuple[CatalogModel, ...]:
    """The models that can do what the request needs (the catalog's capabilities); none: a 400 naming what is missing."""
    if request.model is not None:
        models = tuple(model for model in models if model.id == request.model)
    if not request.needs or not models:
        return models
    able = tuple(model for model in models if all(capable(model, need) for need in request.needs))
    if not able:
        missing = next(need for need in request.needs if not capable(models[0], need))
        raise UnsupportedByModel(
            f"The model {models[0].id} does not support {CAPABILITY_NAMES[missing]}", param=request.needs[missing]
        )
    return able


async def finish(started: PreparedChat | ChatReply, sink: Sink | None = None) -> ChatReply:
    """Complete and settle a prepared chat (a replayed answer is returned as it is).

    The provider failing is the API's ProviderError, with everything given
    back. Once the reply exists it is stored and paid for even if the client
    has gone (it can read it from /api/history).
    """
    if isinstance(started, ChatReply):
        return started
    chat = started
    try:
        completion = await complete(chat, sink)
    except asyncio.CancelledError:  # the client went away
        await asyncio.shield(_cut_off(chat, sink))
        raise
    except provider.ProviderFailure as exc:
        logger.warning("Provider call failed for channel %s: %s", chat.key.channel.public_id, exc)
        await asyncio.shield(release(chat))
        raise (NoAnswerError() if isinstance(exc, provider.NoAnswer) else ProviderError()) from None
    except BaseException:
        await asyncio.shield(release(chat))
        raise
    sources = chat.grounding.sources_list() if chat.grounding is not None else []
    reply = ChatReply(reply=completion.text, session_id=chat.request.session_id, completion=completion, sources=sources,
                      tool_calls=list(completion.tool_calls) or None)
    await asyncio.shield(settle(chat, completion, answer=reply))
    return reply


async def complete(chat: PreparedChat, sink: Sink | None = None) -> provider.Completion:
    """The reply from the channel's model, or from its fallback when that fails before any delta was forwarded."""
    attempts = chat.attempts()
    if not attempts:
        raise provider.ProviderFailure(f"No model in the catalog serves {chat.key.channel.model!r}")
    sampling = chat.request.sampling or Sampling()
    for number, (model, prompt) in enumerate(attempts, start=1):
        max_tokens = sampling.sized(model).reply_limit(chat.key.channel.max_reply_tokens, sampling.max_tokens)
        call = {"model": model, "messages": prompt, "max_tokens": max_tokens, "options": sampling.options(model)}
        try:
            if sink is None:
                return await provider.complete(**call)
            return await sink.stream(provider.CompletionStream(**call))
        except provider.ProviderFailure as exc:
            if exc.model_gone:
                await asyncio.shield(catalog_services.model_gone(model.id, str(exc)))
            if number == len(attempts) or (sink is not None and sink.started):
                raise
            logger.warning(
                "Model %s failed for channel %s (%s); trying its fallback %s",
                model.id, chat.key.channel.public_id, exc, chat.key.channel.fallback_model,
            )
    raise AssertionError("unreachable")


async def settle(chat: PreparedChat, completion: provider.Completion, *, answer: ChatReply | None) -> None:
    """Store the exchange, with `answer` as its Idempotency-Key's answer; on failure give everything back and raise."""
    model = chat.model(completion.model)
    cost = model.cost(completion.prompt_tokens, completion.completion_tokens) if model is not None else Decimal(0)
    if chat.grounding is not None and chat.grounding.embedding_tokens:
        # The question's embedding is input this chat caused: counted with its prompt tokens, priced into its cost.
        completion = dataclasses.replace(
            completion, prompt_tokens=(completion.prompt_tokens or 0) + chat.grounding.embedding_tokens
        )
        cost = (cost or Decimal(0)) + chat.grounding.embedding_cost
    exchange = store.Exchange(
        channel_id=chat.key.channel.pk,
        source=chat.key.source,
        session_id=chat.request.session_id,
        message=chat.request.message,
        received_at=chat.received_at,
        completion=completion,
        replied_at=timezone.now(),
        idempotency_claim=chat.idempotency_claim if answer is not None else None,
        answer=answer.to_dict() if answer is not None else None,
        page_url=chat.request.metadata.get("url") or "",
        page_title=chat.request.metadata.get("title") or "",
        cost=cost,
        activity=chat.facts(),
        activity_error="" if answer is not None else CUT_OFF,
        hold_token=chat.hold_token,
    )
    try:
        if not await store.backend().store_exchange(exchange):
            # Its hold was lost with a database crash-restart: not stored, and no credit spent (the release finds
            # no token and gives nothing back). The client may try again.
            raise ServiceUnavailable()
    except BaseException:
        logger.exception("Could not store a chat for channel %s; what it held is given back", chat.key.channel.public_id)
        await release(chat)
        raise
    usage_record(completion.model, completion.prompt_tokens, completion.completion_tokens, cost)
    if chat.grounding is not None:
        try:
            await knowledge.record(
                channel_id=chat.key.channel.pk, session_id=chat.request.session_id, question=chat.request.message,
                asked_at=chat.received_at, grounding=chat.grounding,
            )
        except Exception:  # the reply is stored and paid for; only the record of its sources is lost
            logger.exception("Could not record the knowledge sources of a chat for channel %s", chat.key.channel.public_id)


CUT_OFF = "The client left before the end; what it received was stored"


async def release(chat: PreparedChat) -> None:
    """Give back what a chat holds: its credit, its daily slots and its Idempotency-Key (an answered one stays)."""
    await _give_back(chat)
    if chat.idempotency_claim is not None:
        await idempotency.abandon(chat.idempotency_claim)


async def _give_back(chat: PreparedChat) -> None:
    """The chat's credit, where it was taken (and from its key's cap when that counted it), and its daily slots."""
    await store.backend().release(
        channel_id=chat.key.channel.pk, held_from=chat.held_from, key_id=chat.key.key_id if chat.key_spent else None,
        token=chat.hold_token,
    )
    await counters.backend().give_back(chat.held)


async def _cut_off(chat: PreparedChat, sink: Sink | None) -> None:
    """Settle a chat whose client left before its end.

    What a streamed client was sent is stored and paid for (else hanging up
    just before the end would get replies for free); but never as the
    Idempotency-Key's answer: the key is given back, so the client's retry
    runs again and gets a whole reply, not a replay of the cut-off one.
    """
    partial = sink.partial() if sink is not None else None
    if partial is None:
        await release(chat)
        return
    try:
        await settle(chat, partial, answer=None)
    finally:
        if chat.idempotency_claim is not None:
            await idempotency.abandon(chat.idempotency_claim)
