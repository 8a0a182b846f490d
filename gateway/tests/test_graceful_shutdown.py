"""A uvicorn server told to stop answers the requests already sent to it (gateway/overrides/graceful_shutdown.py).

A real uvicorn server on loopback, in a thread, serving a small ASGI app: the override is about the
server, not the app (gateway/tests/test_topology.py sends a chat on a connection a stopping gateway
process had accepted, through the whole stack). To hold connections in the listening socket's queue,
the test blocks the server's event loop while its clients connect and write; the shutdown is the next
thing that loop runs, before it could accept them.
"""

import asyncio
import socket
import threading

import pytest
import uvicorn

from gateway.overrides import graceful_shutdown
from gateway.testing.processes import free_port
from gateway.testing.waiting import refuses_connections, wait_until

REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


async def answering(scope, receive, send):
    assert scope["type"] == "http"
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"8")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"answered"})


class ThreadServer:
    """uvicorn's `Server`, started (not `serve`d: no signal handlers, no main loop) on an event loop of its own."""

    def __init__(self):
        self.port = free_port()
        config = uvicorn.Config(answering, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.finished = None  # set by shut_down_with: {"task": the shutdown's task} once it has ended
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), self.loop).result(10)

    async def start(self):
        config = self.server.config
        config.load()  # what `Server.serve` does before `startup`
        self.server.lifespan = config.lifespan_class(config)
        await self.server.startup()

    def shut_down_with(self, shutdown, *, before):
        """Block the loop, run `before()` (the clients connect and write meanwhile), then run `shutdown` next."""
        blocked, done = threading.Event(), threading.Event()
        finished = self.finished = {}

        def block_then_shut_down():
            blocked.set()
            done.wait(10)
            task = self.loop.create_task(shutdown(self.server))
            task.add_done_callback(lambda t: finished.setdefault("task", t))

        self.loop.call_soon_threadsafe(block_then_shut_down)
        assert blocked.wait(10)
        try:
            before()
        finally:
            done.set()
        return finished

    def close(self):
        # A shutdown under way ends first (its last step waits out uvicorn's 0.1 s ticks), then the loop stops.
        wait_until(lambda: self.finished is None or "task" in self.finished, timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def connect(port: int, request: bytes = REQUEST) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    if request:
        client.sendall(request)
    return client


def answer(client: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := client.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        chunks.append(b"<reset>")
    finally:
        client.close()
    return b"".join(chunks)


@pytest.fixture
def server():
    graceful_shutdown.install()
    server = ThreadServer()
    yield server
    server.close()


def test_requests_waiting_in_the_listening_queue_are_answered(server):
    clients = []

    def connect_five():
        clients.extend(connect(server.port) for _ in range(5))

    server.shut_down_with(graceful_shutdown.shutdown, before=connect_five)
    answers = [answer(client) for client in clients]
    assert all(a.startswith(b"HTTP/1.1 200") and a.endswith(b"answered") for a in answers), answers
    assert refuses_connections(server.port)  # and it no longer accepts


def test_uvicorn_alone_still_resets_them(server):
    """What the override exists for; when this fails, uvicorn answers them itself and the override can go."""
    clients = []
    uvicorns = graceful_shutdown.shutdown.__wrapped__
    server.shut_down_with(uvicorns, before=lambda: clients.extend(connect(server.port) for _ in range(5)))
    answers = [answer(client) for client in clients]
    assert not any(a.startswith(b"HTTP/1.1 200") for a in answers), answers


def test_a_connection_whose_request_comes_after_the_stop_began_is_answered(server):
    client = connect(server.port, request=b"")
    finished = server.shut_down_with(graceful_shutdown.shutdown, before=lambda: None)
    # The listening socket closes at once; the connection it had taken waits for its request.
    assert wait_until(lambda: refuses_connections(server.port), timeout=10)
    client.sendall(REQUEST)
    reply = answer(client)
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"answered"), reply
    assert wait_until(lambda: "task" in finished, timeout=10)


def test_a_connection_that_never_sends_is_closed_after_the_grace(server, monkeypatch):
    monkeypatch.setattr(graceful_shutdown, "FRESH_CONNECTION_GRACE", 0.3)
    client = connect(server.port, request=b"")
    finished = server.shut_down_with(graceful_shutdown.shutdown, before=lambda: None)
    assert answer(client) == b""  # closed, with nothing sent
    assert wait_until(lambda: "task" in finished, timeout=10)  # and the shutdown did not wait for it any longer
