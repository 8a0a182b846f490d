"""The one error shape for everything that is not a chat: paths, methods, content types, bodies."""

import threading

import pytest

from conversations.models import Message
from gateway.testing.api import chat


def test_it_answers_unknown_api_paths_with_json_404(api):
    for path in ["/api/", "/api/nope", "/api/chat/extra", "/api"]:
        r = api.get(path)
        assert (r.status_code, r.json()) == (404, {"error": "Not found"}), path


@pytest.mark.live  # the server's own threads are the subject
def test_unknown_api_paths_start_no_thread(api, monkeypatch):
    # The cheapest requests anyone can send stay cheap: a sync catch-all view makes Django's ASGI handler
    # start a thread for each (≈ 0.7 ms of CPU per request; docs/performance.md, "the no-framework floor").
    started = []
    original = threading.Thread.start

    def counting(thread):
        started.append(thread.name)
        return original(thread)

    monkeypatch.setattr(threading.Thread, "start", counting)
    for path in ("/api/nope", "/v1/nope", "/api"):
        for _ in range(3):
            assert api.get(path).status_code == 404
    assert started == []


@pytest.mark.live  # the server's own threads are the subject
def test_refusals_are_logged_on_the_event_loop(api, key):
    # Django logs every answer of 400 or more through a thread; the API's handler logs them where it runs
    # (gateway/overrides/api_handler.py): refusals are what an attacker sends by the thousand.
    import logging

    threads = []

    class Seen(logging.Handler):
        def emit(self, record):
            threads.append((record.getMessage(), record.threadName))

    seen = Seen()
    logger = logging.getLogger("django.request")
    logger.addHandler(seen)
    try:
        assert api.get("/api/nope").status_code == 404
        assert api.post("/api/chat", json={"message": "hi", "session_id": "s"}, headers={"X-API-Key": "nope"}).status_code == 401
        assert api.post("/api/chat", json={"message": ""}, headers={"X-API-Key": key}).status_code == 400
    finally:
        logger.removeHandler(seen)
    messages = [m for m, _ in threads]
    assert messages == ["Not Found: /api/nope", "Unauthorized: /api/chat", "Bad Request: /api/chat"]
    loop_thread = {t for _, t in threads}
    assert len(loop_thread) == 1 and not next(iter(loop_thread)).startswith(("asyncio_", "uvloop_", "ThreadPoolExecutor")), threads


# DELETE /api/history is erasure (conversations/edge/views.py HistoryView): PUT stands in as history's other wrong method.
@pytest.mark.parametrize(
    "method,path",
    [("GET", "/api/chat"), ("PUT", "/api/chat"), ("PUT", "/api/history"), ("POST", "/api/history"),
     ("GET", "/api/feedback"), ("DELETE", "/api/feedback"), ("DELETE", "/api/chat")],
)
def test_it_answers_wrong_methods_with_json_405(api, key, method, path):
    r = api.request(method, path, headers={"X-API-Key": key})
    assert r.status_code == 405
    assert r.json() == {"error": f"Method {method} not allowed"}


def test_it_refuses_a_form_body_with_415(api, key):
    r = api.post("/api/chat", data={"message": "Hi", "session_id": "s"}, headers={"X-API-Key": key})
    assert (r.status_code, r.json()) == (415, {"error": "Content-Type must be application/json"})


def test_it_refuses_a_body_without_content_type_with_415(api, key):
    r = api.post("/api/chat", content=b'{"message": "Hi", "session_id": "s"}', headers={"X-API-Key": key})
    assert r.status_code == 415
    assert r.json()["error"] == "Content-Type must be application/json"


@pytest.mark.parametrize("body", [b"{not json", b'{"message": "Hi",}', b"", b"\xff\xfe", b'{"message": NaN, "session_id": "s"}'])
def test_it_refuses_invalid_json_with_400(api, key, body):
    r = api.post("/api/chat", content=body, headers={"X-API-Key": key, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert isinstance(r.json()["error"], str) and r.json()["error"]


@pytest.mark.parametrize("body", [b"[]", b'"hello"', b"42", b"null", b"true"])
def test_it_refuses_a_body_that_is_not_an_object(api, key, body):
    r = api.post("/api/chat", content=body, headers={"X-API-Key": key, "Content-Type": "application/json"})
    assert (r.status_code, r.json()) == (400, {"error": "Request body must be a JSON object"})


def test_it_refuses_an_oversized_body_with_413(api, llm, key):
    body = b'{"message": "' + b"a" * 70_000 + b'", "session_id": "s"}'
    r = api.post("/api/chat", content=body, headers={"X-API-Key": key, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"].startswith("Request body is too large")
    assert not Message.objects.exists()
    assert llm.requests == []


def test_it_refuses_deeply_nested_json(api, key):
    body = b"[" * 30_000 + b"]" * 30_000
    r = api.post("/api/chat", content=body, headers={"X-API-Key": key, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert "error" in r.json()


def test_errors_are_json_even_before_authentication(api):
    r = api.post("/api/chat", content=b"garbage", headers={"Content-Type": "text/plain"})
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"error": "Missing API key"}


def test_an_error_no_view_handled_is_json_under_api_and_the_500_page_elsewhere(rf):
    from gateway.infra.errors import server_error

    api = server_error(rf.post("/api/chat"))
    assert (api.status_code, api["Content-Type"], api.content) == (
        500, "application/json", b'{"error": "Internal server error"}'
    )
    page = server_error(rf.get("/dashboard/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_a_failure_to_record_a_refusal_leaves_the_refusal_as_it_was(api, llm, channel, key, monkeypatch):
    from channels_app.services import channel_update
    from conversations.engine import services

    async def broken(**kwargs):
        raise RuntimeError("the database went away")

    channel_update(channel=channel, is_active=False)
    monkeypatch.setattr(services, "failed_request_record", broken)
    r = chat(api, key)
    assert (r.status_code, r.json()) == (403, {"error": "Site is inactive"})
