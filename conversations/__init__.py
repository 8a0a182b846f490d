"""The chat engine and the API's HTTP edge: the /api and /v1 views, the pipeline and what it calls (admission,
limits, counters, the store, prompt, the provider client with its retries and breaker, streaming, idempotency),
sessions and messages, the usage roll-ups and the activity log, and the owner pages that read only those (a
channel's conversations, usage and activity; the organisation's activity).

May import: knowledge, channels_app, teams, accounts, gateway.infra and gateway.overrides. Above it are only
alerts, the dashboard app and the entry points; the provider client reads its upstream (base URL, key, the
demo flag, the key scrub) from the catalog in channels_app.
"""
