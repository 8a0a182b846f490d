"""The edge's endpoint table (gateway/infra/endpoints.py) decides key kinds and path families, over real HTTP."""

import ast
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.urls import get_resolver, include, path

from conversations.edge.views import ApiKeyView
from conversations.models import FailedRequest
from gateway.infra import endpoints
from gateway.infra.endpoints import API, ENDPOINTS, PUBLISHABLE, SECRET, V1, family_of, label_of
from gateway.infra.errors import server_error
from gateway.overrides.api_view import LoopAPIView
from gateway.testing import loopback
from gateway.testing.api import WIDGET_ORIGIN

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "alerts", "channels_app", "conversations", "gateway", "knowledge", "teams")


def _sources():
    """The apps' modules, without tests and test helpers."""
    for app in APPS:
        for source in (ROOT / app).rglob("*.py"):
            rel = source.relative_to(ROOT).as_posix()
            if "/tests/" not in rel and "/testing/" not in rel and "/migrations/" not in rel:
                yield rel, source


# --- A view that raises, under each family and under a page, to reach handler500 -----------------------------

async def raising_view(request, *args, **kwargs):
    raise RuntimeError("a bug no view handled")


class RaisingApiView(LoopAPIView):
    authentication_classes: list = []

    async def get(self, request):
        raise RuntimeError("a bug inside a DRF view")


async def fine(request):
    return HttpResponse(b"ok")


urlpatterns = [
    path("v1/boom", raising_view),
    path("v1/drf-boom", RaisingApiView.as_view()),
    path("api/boom", raising_view),
    path("api/drf-boom", RaisingApiView.as_view()),
    path("boom", raising_view),
    path("", include("gateway.urls")),
]
handler500 = server_error


@pytest.fixture
def raising_urls(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False


def test_a_500_on_v1_answers_in_openai_s_error_shape(api, raising_urls):
    r = api.get("/v1/boom")
    assert (r.status_code, r.headers["content-type"]) == (500, "application/json")
    assert r.json() == {"error": {"message": "Internal server error", "type": "server_error", "code": None, "param": None}}


def test_a_500_inside_a_drf_view_on_v1_answers_in_openai_s_error_shape(api, raising_urls):
    r = api.get("/v1/drf-boom")
    assert r.status_code == 500
    assert r.json() == {"error": {"message": "Internal server error", "type": "server_error", "code": None, "param": None}}


def test_a_500_on_api_keeps_the_api_s_error_shape(api, raising_urls):
    for where in ("/api/boom", "/api/drf-boom"):
        r = api.get(where)
        assert (r.status_code, r.json()) == (500, {"error": "Internal server error"}), where


def test_a_500_on_a_page_is_the_500_page(api, raising_urls):
    r = api.get("/boom")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")


def test_the_api_middleware_answers_v1_in_openai_s_shape(api):
    r = api.get("/v1/models", headers={"Host": "unknown.example"})
    assert r.status_code == 400
    assert r.json() == {"error": {
        "message": "Bad request: unknown host", "type": "invalid_request_error", "code": None, "param": None,
    }}
    r = api.get("/api/history", headers={"Host": "unknown.example"})
    assert (r.status_code, r.json()) == (400, {"error": "Bad request: unknown host"})


def test_an_unknown_path_answers_in_its_family_s_shape(api):
    assert api.get("/api/nowhere").json() == {"error": "Not found"}
    assert api.get("/v1/nowhere").json()["error"]["message"] == "Not found"


# --- A wrong key kind, on every endpoint and method the table lists -------------------------------------------

def _cases(wrong: bool) -> list:
    found = []
    for endpoint in ENDPOINTS.values():
        for method, kinds in endpoint.keys.items():
            for kind in (SECRET, PUBLISHABLE):
                if (kind not in kinds) == wrong:
                    found.append(pytest.param(endpoint, method, kind, id=f"{method} {endpoint.paths[0]} {kind}"))
    return found


def _send(api, endpoint, method, kind, key, widget_key):
    raw = key if kind == SECRET else widget_key
    if endpoint.family == V1:
        headers = {"Authorization": f"Bearer {raw}"}
    else:
        headers = {"X-API-Key": raw, "Origin": WIDGET_ORIGIN}
    return api.request(method, endpoint.paths[0], params={"session_id": "s-1"}, headers=headers, json={})


@pytest.mark.parametrize("endpoint, method, kind", _cases(wrong=True))
def test_a_wrong_key_kind_is_refused_by_the_table_in_its_family_s_shape(api, llm, key, widget_key, endpoint, method, kind):
    r = _send(api, endpoint, method, kind, key, widget_key)
    message = "This endpoint takes a secret key" if kind == PUBLISHABLE else "This endpoint takes a publishable key"
    assert r.status_code == 403
    if endpoint.family == V1:
        assert r.json() == {"error": {
            "message": message, "type": "permission_error", "code": "secret_key_required", "param": None,
        }}
    else:
        assert r.json() == {"error": message}
    assert llm.requests == []
    # Refused by the key's form, before it was looked up: no channel is named, so nothing is recorded for one.
    assert not FailedRequest.objects.exists()


@pytest.mark.parametrize("endpoint, method, kind", _cases(wrong=False))
def test_a_key_of_a_kind_the_table_lists_is_not_refused_for_its_kind(api, llm, key, widget_key, endpoint, method, kind):
    r = _send(api, endpoint, method, kind, key, widget_key)
    assert "takes a" not in r.text, r.text


def test_head_is_held_to_get_s_key_kinds(api, key):
    r = api.head("/api/widget-config", headers={"X-API-Key": key})
    assert r.status_code == 403


def test_a_publishable_key_as_a_bearer_token_is_refused_by_its_kind(api, widget_key):
    r = api.post("/v1/chat/completions", headers={"Authorization": f"Bearer {widget_key}"},
                 json={"model": "x", "messages": [{"role": "user", "content": "hi"}]})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "secret_key_required")


# --- One family_of, one label, one table that matches the routes ---------------------------------------------

def test_family_of_claims_the_families_and_nothing_that_only_starts_like_them():
    assert [family_of(p) for p in ("/api", "/api/", "/api/chat", "/v1", "/v1/models/a/b")] == [API, API, API, V1, V1]
    assert [family_of(p) for p in ("/apiary", "/v1x", "/", "/dashboard/", "/metrics", "/ap")] == [None] * 6


def test_paths_that_only_start_like_a_family_get_the_page_s_413(gateway_server, transactional_db):
    from django.conf import settings

    big = b" " * (settings.REQUEST_MAX_BODY_BYTES + 10)
    r = loopback.post(gateway_server.url + "/v1x", content=big, timeout=30)
    assert (r.status_code, r.text) == (413, "413 Payload too large")
    r = loopback.post(gateway_server.url + "/v1/chat/completions", content=big, timeout=30)
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"


def test_metrics_labels_have_one_spelling_the_table_s():
    assert label_of("/v1/chat/completions") == "v1-chat" == ENDPOINTS["v1-chat"].name
    assert label_of("/api/chat/") == "chat"
    assert label_of("/v1/models/openai/gpt-oss-120b") == "v1-models"
    assert (label_of("/api/nowhere"), label_of("/v1/nowhere"), label_of("/metrics"), label_of("/")) == (
        "api_other", "api_other", "metrics", "other",
    )


def test_a_v1_chat_is_counted_under_the_table_s_label(api, llm, key, settings):
    settings.METRICS_TOKEN = "metrics-test-token-0123456789"
    api.post("/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
             json={"model": "x", "messages": [{"role": "user", "content": "hi"}]})
    text = api.get("/metrics", headers={"Authorization": "Bearer metrics-test-token-0123456789"}).text
    assert 'gateway_requests_total{endpoint="v1-chat",' in text
    assert "v1_chat" not in text


def _api_routes():
    """(path, view class) of every route served by an ApiKeyView."""
    found = []
    for pattern in get_resolver("gateway.urls").url_patterns:
        view = getattr(getattr(pattern, "callback", None), "view_class", None)
        if view is not None and issubclass(view, ApiKeyView):
            found.append(("/" + str(pattern.pattern).lstrip("^").rstrip("$"), view))
    return found


def test_every_api_view_is_in_the_table_with_the_methods_it_handles():
    routes = _api_routes()
    assert routes
    for route, view in routes:
        endpoint = ENDPOINTS[view.endpoint]
        handled = {m.upper() for m in ("get", "post", "delete", "put", "patch") if hasattr(view, m)}
        assert handled == set(endpoint.keys) == set(endpoint.counters), (route, view)
        assert family_of(route) == endpoint.family, route


def test_every_path_in_the_table_is_served_by_its_endpoint_s_view():
    from django.urls import resolve

    for endpoint in ENDPOINTS.values():
        for where in endpoint.paths + ((endpoint.prefix + "some/model",) if endpoint.prefix else ()):
            assert resolve(where, urlconf="gateway.urls").func.view_class.endpoint == endpoint.name, where


def test_the_table_s_counters_are_the_ones_the_services_admit_requests_under():
    """Every `admission.admit(key, "<counters>")` names a counter set of the table, and every set is admitted."""
    admitted = set()
    for _, source in _sources():
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "admit", "_widget_admit"
            ) and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                admitted.add(node.args[1].value)
    declared = {name for e in ENDPOINTS.values() for name in e.counters.values()}
    assert admitted == declared


def test_the_table_is_the_one_place_that_names_the_families():
    """No module outside the table tests a path against "/api" or "/v1" for itself."""
    offenders = []
    for rel, source in _sources():
        if rel == "gateway/infra/endpoints.py":
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "startswith":
                text = ast.unparse(node.args[0]) if node.args else ""
                if '"/api' in text or '"/v1' in text or "'/api" in text or "'/v1" in text:
                    offenders.append(f"{rel}:{node.lineno}")
            if isinstance(node, ast.Compare) and any(
                isinstance(c, ast.Constant) and c.value in ("/api", "/v1") for c in node.comparators
            ):
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []
    assert endpoints.FAMILIES == (API, V1)
