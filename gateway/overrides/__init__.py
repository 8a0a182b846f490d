"""Every place the gateway replaces framework behaviour, and why: one package, so a framework upgrade is checked in one place.

Each override is one module here. Its docstring says what it replaces, the measurement that
justified it (docs/performance.md) and the test that guards it; its `RELIES_ON` maps the
framework code it copies or relies on to a fingerprint of that code (fingerprint.py).
gateway/tests/test_overrides.py fails, naming the module to re-check, when an upgrade changes
any of it, and when an installed framework version differs from requirements.txt.

Written against Django 5.2.19, djangorestframework 3.16.1, adrf 0.1.14, mozilla-django-oidc 5.0.2,
uvicorn 0.38.0 (requirements.txt).

| module | replaces | measurement (docs/performance.md), or the threat it closes |
|---|---|---|
| `api_handler.py` `ApiHandler` | Django's `ASGIHandler.handle` (copied, without the `request_started` and `response.close` thread hops), `BaseHandler.get_response_async` (copied, logging refusals on the loop, not through a thread) and the `settings.MIDDLEWARE` that `BaseHandler.load_middleware` reads (the API's own list) | own middleware: c=1 p50 21.1 → 16.8 ms (`39c58b0`); signal hops part of 13.7 → 9.3 ms (`ce2d63c`) |
| `api_view.py` `LoopAPIView` | adrf's `APIView.async_dispatch` (copied, DRF's `initial()` on the loop, not in a thread) | the auth thread was 9 % of a chat; 119.8 → 139.1 req/s (`8e4f17c`) |
| `response_rendering.py` `rendered` | Django's rendering of template responses in `BaseHandler._get_response_async` through a new thread | `Thread.start` 12 % of samples; c=1 p50 9.3 → 8.4 ms (`c0896c5`) |
| `light_serializer.py` `LightSerializer` | DRF's `Serializer.get_fields` (a deep copy of every field per serializer; ours a `shallow_copy` equal to `copy.copy`'s) | 10 % of samples; −0.4 ms CPU per chat, 505 req/s (`ceb0371`); with the copy made without `copy.copy`'s generic path, validation 143–167 → 104–125 µs |
| `redis_clients.py` `SharedClientsRedisCache` | Django's `RedisCache._cache` and `RedisCacheClient.get_client` (a client, a pool and a connection per request), and `RedisCache.incr` (`EXISTS` then `INCRBY`; here one Lua call) | ≈ 15 % + 3 % of a chat's CPU (`5f03382`); incr one round trip instead of two (`78e6174`) |
| `flush_by_delete.py` `sql_flush` | Django's PostgreSQL `DatabaseOperations.sql_flush` (one `TRUNCATE` of every table) in test runs only: a `DELETE FROM` per table after each transactional test | the flush took 150–360 ms per transactional test (0.6–1.7 s on a loaded machine), 8–12 ms locked and deleted (docs/testing.md) |
| `flush_keeps_post_migrate_rows.py` `_fixture_teardown` | Django's `TransactionTestCase._fixture_teardown` (the `flush` command: every table emptied, then `post_migrate` makes the content types and permissions again) in test runs only: the other tables emptied, the unchanged content types and permissions kept, no signal | a flush 14.6–17.7 ms → 0.8–1.7 ms on SQLite, 40–95 ms → 4–6 ms on PostgreSQL, loaded (docs/testing.md) |
| `graceful_shutdown.py` `shutdown` | uvicorn's `Server.shutdown` (copied): the listening queue is accepted before the socket closes, and a connection whose first request is still on its way gets `FRESH_CONNECTION_GRACE` (2 s) instead of being closed | correctness, not speed: a gateway restarted under load reset requests nginx had sent it, a 502 for the client (1 run in 6 of the rolling-restart test; docs/operations.md) |
| `oidc_backend.py` `ProviderOIDCBackend` | mozilla-django-oidc's `OIDCAuthenticationBackend.__init__` (one provider from settings; here one per organisation, given) and its `get_token`, `get_userinfo`, `retrieve_matching_jwk` (each calls `requests`; here through the subclass's `provider_json`, under the outbound address rule) | security, not speed: the library follows redirects and connects to private addresses (docs/security.md, row 25, server-side request forgery) |

Not overrides, and why they stay where they are:

- `gateway/routing.py` `Router`: plain ASGI in front of Django's handlers; it answers the
  lifespan protocol, which Django's `ASGIHandler` does not speak (it refuses anything but
  "http": test_overrides.py::test_django_still_refuses_the_lifespan_protocol).
- `gateway/infra/api_middleware.py` `ApiSecurityMiddleware`: a middleware of its own (a public
  extension point) that repeats, natively async, what the API needs of Django's
  `SecurityMiddleware` (host check, HTTPS redirect, HSTS, nosniff, Referrer-Policy). Django's
  `SecurityMiddleware` hooks are fingerprinted below so a change to them is noticed.
- `accounts/session_store.py` `SessionStore`: a security override (sessions stored by digest),
  not a speed one, built on the session backend's documented extension points plus the public
  methods that take a key to the database. It stays beside the `HashedSession` model and the
  accounts tests that guard it
  (accounts/tests/test_session_store.py::test_django_queries_sessions_only_through_the_overridden_methods).
- `gateway/infra/web_middleware.py` `StaticFilesMiddleware`: WhiteNoise's `serve`, answering a static
  file as one body under ASGI (Django would drain a sync iterator on a thread, with a warning),
  for the web pages, not for speed; fingerprinted below.
- `ApiKeyView.perform_content_negotiation` (conversations/edge/views.py): a DRF policy method that
  DRF documents for overriding ("API policy implementation methods"): always JSON.
- `gateway/infra/adb.py` `check_idle_connection`: psycopg_pool's documented `check`
  callback, polling the idle connection's socket instead of a round trip per checkout;
  gateway/tests/test_pool_check.py holds psycopg_pool to calling it on every checkout.
- `conversations/edge/serializers.py` `Text`: sets its own `validators` (public field API)
  without DRF's surrogate validator, which its `to_internal_value` makes unreachable.
"""

# Framework code that overrides outside this package rely on (see above), by fingerprint.
RELIES_ON = {
    "django.middleware.security.SecurityMiddleware.process_request": "d9025b0567c5c298",
    "django.middleware.security.SecurityMiddleware.process_response": "079bfe671816a637",
    "whitenoise.middleware.WhiteNoiseMiddleware.serve": "bf74d49977e58db9",
}
