"""The OpenAI-compatible API (/v1/): the API's views, with a Bearer key and OpenAI's shapes.

The same ApiKeyView (key resolved once into a VerifiedKey, failed requests
recorded), the same pipeline (limits, credits, Idempotency-Key, retries,
fallback, disconnects, history) as /api/chat; only the edge differs: the key
from `Authorization: Bearer`, the body and answers in conversations/edge/openai_api.py,
errors in OpenAI's shape (the /v1 family of gateway/infra/endpoints.py, worded by gateway/infra/errors.py).
"""

from rest_framework.response import Response

from channels_app.authentication import BearerKeyAuthentication
from channels_app.providers import catalog
from conversations.edge import openai_api, responses_api, streaming
from conversations.edge.openapi import v1_chat_schema, v1_model_schema, v1_models_schema, v1_responses_schema
from conversations.edge.serializers import SESSION_ID_MAX
from conversations.edge.views import REPLAYED, ApiKeyView, event_stream, idempotency_key_of, refuse_untyped_body
from conversations.engine import admission, pipeline
from gateway.infra import header_values
from gateway.infra.errors import InvalidInput, ModelNotFound
from gateway.infra.json_answer import json_answer

SESSION_HEADER = "X-Session-Id"


class OpenAIView(ApiKeyView):
    authentication_classes = [BearerKeyAuthentication]

    @staticmethod
    def error_message(response) -> str:
        error = response.data.get("error") if isinstance(response.data, dict) else None
        return error.get("message", "") if isinstance(error, dict) else ""


class ChatCompletionsView(OpenAIView):
    endpoint = "v1-chat"

    @v1_chat_schema
    async def post(self, request):
        refuse_untyped_body(request)
        once = idempotency_key_of(request)
        served = await catalog.current(request.auth.generation)  # in memory while fresh: no query
        asked = openai_api.read(request.data, channel=request.auth.channel, session_header=session_of(request),
                                once=retry_of(request, once), served=served)
        started = await pipeline.start(request.auth, asked.chat, idempotency_key=once, endpoint=self.endpoint)
        headers = answer_headers(asked, started)
        if asked.stream:
            encoder = openai_api.CompletionChunks(model=asked.model, include_usage=asked.include_usage)
            return streamed(streaming.events(started, encoder, endpoint=self.endpoint), headers)
        reply = await pipeline.finish(started)
        return json_answer(openai_api.completion_body(reply, model=asked.model), headers=headers)


class ResponsesView(OpenAIView):
    """OpenAI's Responses API, rewritten into the same chat (conversations/edge/responses_api.py)."""

    endpoint = "v1-responses"

    @v1_responses_schema
    async def post(self, request):
        refuse_untyped_body(request)
        channel = request.auth.channel
        once = idempotency_key_of(request)
        served = await catalog.current(request.auth.generation)
        asked = responses_api.read(request.data, channel=channel, session_header=session_of(request),
                                   once=retry_of(request, once), served=served)
        started = await pipeline.start(request.auth, asked.chat, idempotency_key=once, endpoint=self.endpoint)
        headers = answer_headers(asked, started)
        shape = responses_api.ResponseShape(request.data, asked)
        if asked.stream:
            encoder = responses_api.ResponseEvents(shape)

            async def events():
                async for event in streaming.events(started, encoder, endpoint=self.endpoint):
                    yield event
                if encoder.body is not None:
                    await responses_api.keep_items(channel.pk, encoder.body)

            return streamed(events(), headers)
        body = responses_api.response_body(await pipeline.finish(started), shape)
        await responses_api.keep_items(channel.pk, body)
        return json_answer(body, headers=headers)


def session_of(request) -> str | None:
    session = request.headers.get(SESSION_HEADER)
    if session is not None and not header_values.is_token(session, SESSION_ID_MAX):
        raise InvalidInput(f"X-Session-Id must be 1 to {SESSION_ID_MAX} printable ASCII characters")
    return session


def retry_of(request, once: str | None) -> str | None:
    """What names a request's retries for a session of its own: its key and Idempotency-Key (None without one)."""
    return f"{request.auth.key_id}:{once}" if once is not None else None


def answer_headers(asked: openai_api.CompletionRequest, started) -> dict:
    session = asked.chat.session_id
    # Named back only where a header carries the name as it is. A `user` may hold any text; a control character in a
    # header is refused by the server (the answer was lost), and Django would MIME-encode the rest into a name the
    # client never sent. Generated names (`v1-<hex>`) always qualify.
    named = {SESSION_HEADER: session} if header_values.is_token(session, SESSION_ID_MAX) else {}
    return {**named, **(REPLAYED if isinstance(started, pipeline.ChatReply) else {})}


def streamed(events, headers: dict):
    response = event_stream(events)
    for name, value in headers.items():
        response[name] = value
    return response


class ModelsView(OpenAIView):
    endpoint = "v1-models"

    @v1_models_schema
    async def get(self, request):
        await admission.admit(request.auth, "models")  # counts nothing: checks the key is still current
        return Response(openai_api.models_body(request.auth.channel))


class ModelView(OpenAIView):
    endpoint = "v1-models"

    @v1_model_schema
    async def get(self, request, model: str):
        await admission.admit(request.auth, "models")  # counts nothing: checks the key is still current
        found = openai_api.model_body(request.auth.channel, model)
        if found is None:
            raise ModelNotFound()
        return Response(found)
