"""Shared infrastructure: what every app uses (database phases, the event loop's connections, the cache,
the API's error shape, the seal of stored secrets, CORS, metrics, log redaction, the API's middleware). Project configuration is
`gateway/` itself (settings, URLs, ASGI/WSGI, routing); test helpers are `gateway/testing/`."""
