"""The API's HTTP edge: every /api and /v1 endpoint, thin.

A view's request arrives with its key already resolved (channels_app/authentication.py, from the endpoint table in
gateway/infra/endpoints.py); the view validates the body (`serializers.py`, `openai_fields.py`), calls the engine
(`conversations.engine`: `pipeline.start`/`finish` for a chat, `services` for the rest), and answers in JSON or as
a stream (`streaming.py`, `sse.py`). `views.py` holds /api (chat, history and erasure, the widget's endpoints) and
the activity log's record of each request; `openai_views.py` with `openai_api.py` and `responses_api.py` the
OpenAI-compatible /v1; `api_extensions.py` /api/feedback; `openapi.py` the published schema.

May import: conversations.engine, conversations.models and every room the engine may. Nothing below imports it;
only gateway/urls.py routes to it.
"""
