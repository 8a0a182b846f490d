"""The chat engine: one chat's orchestration and everything it calls, with no HTTP in it.

`pipeline.py` is a chat top to bottom (start → prepare → complete → settle, or release); admission and limits
(`admission.py`, `limits.py`, `visitor_limits.py`, `widget_sessions.py`, `proof_of_work.py`), the counters and the
store (`counters/`, `store/`: interfaces with their implementations, chosen once at start-up), `prompt.py`,
`idempotency.py`, the activity log (`activity.py`), the usage roll-ups (`rollups.py`), the other endpoints'
services (`services.py`: history, erasure, the widget's session), retention and erasure jobs.

May import: conversations.models, channels_app (keys, credits, the providers and catalog), knowledge (grounding,
erasure of its records), teams (the audit log), accounts and gateway.infra. Never conversations.edge: the edge
calls the engine, not the other way round (.importlinter).
"""
