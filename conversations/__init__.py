"""Conversations: the API's HTTP edge and the chat engine, over the sessions and messages they keep.

- `edge/`: the /api and /v1 endpoints (views, their input, the OpenAI-compatible adapters, streaming as SSE).
- `engine/`: one chat's orchestration (`pipeline.py`: prepare → complete → settle) and what it calls (admission
  and limits, the counters and the store interfaces, prompt, idempotency), the other endpoints' services, the
  activity log, the usage roll-ups, retention and erasure.
- `models.py`, `admin.py`, `migrations/`, `management/`, `seeding.py` (demo data): the records both share.

Inside, the edge imports the engine and the engine never the edge (.importlinter). The provider client and the
model catalog it calls are `channels_app/providers/`; the owner pages that show these records are `dashboard/`.

May import: knowledge, channels_app, teams, accounts, gateway.infra and gateway.overrides. Above it are only
alerts, the dashboard app and the entry points.
"""
