"""The edge's one table of API endpoints: per endpoint, its family, the key kinds it takes, its counters, its label.

Every cross-cutting piece reads it instead of deciding for itself: the ASGI router, the body limit,
the API middleware, the exception handlers and handler500 ask `family_of(path)` which error shape a
path answers in, and the JSON parser and the body limit `max_body_bytes(family)` how large a body it takes;
the request metrics take `label_of(path)`; the key edge refuses a key of the wrong kind, once and before any
query, with `Endpoint.refusal` (channels_app/authentication.py).

Two families: `/api/` answers `{"error": "..."}` (docs/api.md), `/v1/` answers in OpenAI's shape
(gateway/infra/errors.py). A path in neither family is a page of the web stack.

`counters` names the set of limits `conversations/engine/admission.py` counts the endpoint's requests
against (`admit(key, counters)`): "chat" (the minute, daily and widget counters), "history" and
"feedback" (a read's minute counters), "widget-session" (per client address), or a name that counts
nothing but still checks the key is current.
"""

from dataclasses import dataclass, field

from django.conf import settings

API, V1 = "/api", "/v1"
FAMILIES = (API, V1)

SECRET, PUBLISHABLE = "secret", "publishable"
ANY_KEY = frozenset({SECRET, PUBLISHABLE})
SECRET_ONLY = frozenset({SECRET})
PUBLISHABLE_ONLY = frozenset({PUBLISHABLE})

OTHER_API_LABEL = "api_other"  # a path under a family that no endpoint claims (a 404)


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint as the edge sees it. `name` is also what failed requests are recorded under."""

    name: str
    family: str
    paths: tuple[str, ...]  # exact paths; `prefix` claims the paths below one (GET /v1/models/{id})
    keys: dict[str, frozenset[str]]  # HTTP method → the key kinds it takes
    counters: dict[str, str]  # HTTP method → admission's counter set
    prefix: str | None = None
    label: str = field(default="")  # the metrics label; the name unless given

    def takes(self, method: str, kind: str) -> bool:
        """Whether a key of `kind` may call the endpoint with `method`. HEAD is GET (Django answers it with
        the GET handler); a method the table does not list has no handler, so it reaches the 405 with any key."""
        return kind in self.keys.get("GET" if method == "HEAD" else method, ANY_KEY)

    def refusal(self, method: str, kind: str) -> str | None:
        """None when a key of `kind` may call it with `method`, else the key kind it takes instead."""
        if self.takes(method, kind):
            return None
        return SECRET if kind == PUBLISHABLE else PUBLISHABLE

    @property
    def metrics_label(self) -> str:
        return self.label or self.name


ENDPOINTS = {
    e.name: e
    for e in (
        Endpoint("chat", API, ("/api/chat", "/api/chat/"), {"POST": ANY_KEY}, {"POST": "chat"}),
        Endpoint(
            "history", API, ("/api/history", "/api/history/"),
            {"GET": ANY_KEY, "DELETE": SECRET_ONLY}, {"GET": "history", "DELETE": "erase"},
        ),
        Endpoint("feedback", API, ("/api/feedback",), {"POST": ANY_KEY}, {"POST": "feedback"}),
        Endpoint("widget-config", API, ("/api/widget-config",), {"GET": PUBLISHABLE_ONLY}, {"GET": "widget-config"}),
        Endpoint(
            "widget-challenge", API, ("/api/widget-challenge",), {"GET": PUBLISHABLE_ONLY}, {"GET": "widget-challenge"}
        ),
        Endpoint("widget-session", API, ("/api/widget-session",), {"POST": PUBLISHABLE_ONLY}, {"POST": "widget-session"}),
        Endpoint("v1-chat", V1, ("/v1/chat/completions",), {"POST": SECRET_ONLY}, {"POST": "chat"}),
        Endpoint("v1-responses", V1, ("/v1/responses",), {"POST": SECRET_ONLY}, {"POST": "chat"}),
        Endpoint("v1-models", V1, ("/v1/models",), {"GET": SECRET_ONLY}, {"GET": "models"}, prefix="/v1/models/"),
    )
}

_BY_PATH = {path: e for e in ENDPOINTS.values() for path in e.paths}
_BY_PREFIX = tuple((e.prefix, e) for e in ENDPOINTS.values() if e.prefix)


def family_of(path: str) -> str | None:
    """`API` for /api and below, `V1` for /v1 and below, None for every other path (the web stack's pages)."""
    for family in FAMILIES:
        if path.startswith(family) and (len(path) == len(family) or path[len(family)] == "/"):
            return family
    return None


def max_body_bytes(family: str) -> int:
    """The largest body a family's endpoints take: /api's messages are short (API_MAX_BODY_BYTES, 64 KiB); a /v1
    client sends its whole conversation, tool results included, each time (V1_MAX_BODY_BYTES, 1 MiB)."""
    return settings.V1_MAX_BODY_BYTES if family == V1 else settings.API_MAX_BODY_BYTES


def endpoint_at(path: str) -> Endpoint | None:
    """The endpoint serving `path`, if one does."""
    found = _BY_PATH.get(path)
    if found is None:
        for prefix, endpoint in _BY_PREFIX:
            if path.startswith(prefix):
                return endpoint
    return found


def label_of(path: str) -> str:
    """The metrics label of a path: a small fixed set (never the raw path, which callers control)."""
    endpoint = endpoint_at(path)
    if endpoint is not None:
        return endpoint.metrics_label
    if path == "/metrics":
        return "metrics"
    return OTHER_API_LABEL if family_of(path) else "other"
