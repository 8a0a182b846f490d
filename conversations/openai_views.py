"""The OpenAI-compatible API (/v1/): the API's views, with a Bearer key and OpenAI's shapes.

The same ApiKeyView (key resolved once into a VerifiedKey, failed requests
recorded), the same pipeline (limits, credits, Idempotency-Key, retries,
fallback, disconnects, history) as /api/chat; only the edge differs: the key
from `Authorization: Bearer`, the body and answers in conversations/openai_api.py,
errors in OpenAI's shape (gateway/infra/errors.py openai_exception_handler).
"""

from rest_framework.response import Response

from channels_app import catalog
from channels_app.authentication import BearerKeyAuthentication
from conversations import admission, openai_api, pipeline, streaming
from conversations.openapi import v1_chat_schema, v1_models_schema
from conversations.serializers import SESSION_ID_MAX
from conversations.views import REPLAYED, ApiKeyView, event_stream, idempotency_key_of, refuse_untyped_body
from gateway.infra.errors import InvalidInput, openai_exception_handler
from gateway.infra.json_answer import json_answer

SESSION_HEADER = "X-Session-Id"


class OpenAIView(ApiKeyView):
    authentication_classes = [BearerKeyAuthentication]

    def get_exception_handler(self):
        return openai_exception_handler

    @staticmethod
    def error_message(response) -> str:
        error = response.data.get("error") if isinstance(response.data, dict) else None
        return error.get("message", "") if isinstance(error, dict) else ""


class ChatCompletionsView(OpenAIView):
    endpoint = "v1-chat"

    @v1_chat_schema
    async def post(self, request):
        refuse_untyped_body(request)
        session = request.headers.get(SESSION_HEADER)
        if session is not None and not (0 < len(session) <= SESSION_ID_MAX and session.strip()):
            raise InvalidInput(f"X-Session-Id must be 1 to {SESSION_ID_MAX} characters")
        served = await catalog.current(request.auth.generation)  # in memory while fresh: no query
        asked = openai_api.read(request.data, channel=request.auth.channel, session_header=session, served=served)
        once = idempotency_key_of(request)
        started = await pipeline.start(request.auth, asked.chat, idempotency_key=once)
        headers = {SESSION_HEADER: asked.chat.session_id, **(REPLAYED if isinstance(started, pipeline.ChatReply) else {})}
        if asked.stream:
            encoder = openai_api.CompletionChunks(model=asked.model, include_usage=asked.include_usage)
            response = event_stream(streaming.events(started, encoder, endpoint=self.endpoint))
            for name, value in headers.items():
                response[name] = value
            return response
        reply = await pipeline.finish(started)
        return json_answer(openai_api.completion_body(reply, model=asked.model), headers=headers)


class ModelsView(OpenAIView):
    endpoint = "v1-models"

    @v1_models_schema
    async def get(self, request):
        await admission.admit(request.auth, "models")  # counts nothing: checks the key is still current
        return Response(openai_api.models_body(request.auth.channel))
