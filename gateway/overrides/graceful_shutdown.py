"""Override: uvicorn's `Server.shutdown`, so a request that reached a gateway told to stop is answered, not reset.

What it replaces (uvicorn 0.38.0, `uvicorn.server.Server.shutdown`, copied and changed in two places):

- **The listening socket's queue.** uvicorn closes its listening sockets first. The kernel has already
  completed the handshake of every connection still in the socket's queue, and nginx has already sent
  its request on it; closing the socket resets them ("recv() failed (104: Connection reset by peer)
  while reading response header from upstream"). nginx never resends a POST that was sent
  (deploy/nginx/ai-gateway.conf: no `non_idempotent`, so no chat is stored twice), so the client got
  a 502. Closing the asyncio server also drops a connection accepted a moment before, whose
  transport was still to be made (asyncio's `Server._attach` refuses a closed server; the socket
  is left to the garbage collector). Here the listening sockets stop being read first, the loop
  turns once so those transports are made, the queue is emptied into connections of this server,
  and only then are the sockets closed, with no `await` between the last `accept` and the `close`:
  what is left is the few microseconds between two system calls, not one turn of a busy loop.
- **Connections that had not sent their request yet.** uvicorn closes every connection whose first
  request has not been read (the protocols' `shutdown`: `cycle is None`). Behind nginx (no upstream
  keepalive) every such connection is a request on its way, already in the kernel's buffer or a
  moment from it. Here those connections get `FRESH_CONNECTION_GRACE` seconds for their request; as
  soon as it is read they are told to shut down (uvicorn then closes them after the answer), and a
  connection that sent nothing in that time is closed as uvicorn would have.

Why (docs/operations.md, "Rolling restarts and upgrades"): a rolling restart must lose no request. Without
this module, about one run in six of
gateway/tests/test_topology.py::test_a_rolling_restart_under_load_loses_no_request_and_stores_no_chat_twice
(4 clients, chats of 0.3 s) gets a 502 from nginx while a gateway restarts.
A fix at the proxy instead would resend POSTs (a chat stored and paid twice when a gateway dies
mid-chat); systemd socket activation would keep the queue across a restart, but uvicorn's `--fd`
wraps a TCP socket as AF_UNIX and asyncio then leaves TCP_NODELAY off on every connection.

Guarded by gateway/tests/test_graceful_shutdown.py (a request sent after the gateway began to stop, on
a connection it had accepted and on one still in the listening queue, is answered; without this module
both are reset) and gateway/tests/test_overrides.py (the fingerprints below).
"""

import asyncio
import logging
import os
import socket

import uvicorn.server

# The framework code this module copies or relies on, by fingerprint (gateway/overrides/fingerprint.py).
RELIES_ON = {
    "uvicorn.server.Server.shutdown": "cf9657c7239df890",
    "uvicorn.server.Server.startup": "3e1647194ac52801",  # how it builds a connection's protocol
    "uvicorn.server.Server._wait_tasks_to_complete": "9a79b14b28332a51",  # waits for every connection
    "uvicorn.protocols.http.httptools_impl.HttpToolsProtocol.shutdown": "4d0db214607619d6",
    "uvicorn.protocols.http.h11_impl.H11Protocol.shutdown": "d248e0a50fcf1398",
}

# nginx writes its request as soon as the connection is made; this covers a loaded event loop's delay.
FRESH_CONNECTION_GRACE = 2.0

logger = logging.getLogger("uvicorn.error")


def accept_waiting(listener) -> list[socket.socket]:
    """Every connection in `listener`'s queue, accepted now (the listener is non-blocking)."""
    own = socket.socket(fileno=os.dup(listener.fileno()))
    own.setblocking(False)
    accepted = []
    try:
        while True:
            try:
                connection, _ = own.accept()
            except (BlockingIOError, InterruptedError):
                return accepted
            connection.setblocking(False)
            accepted.append(connection)
    finally:
        own.close()


async def shut_down_connections(server_state, grace: float) -> None:
    """Until cancelled, tell each connection to shut down once it has a request, or after `grace` seconds without one.

    Every connection, also those that join after the stop began: the queue taken above, and any whose
    transport asyncio was still making when the loop last accepted.
    """
    loop = asyncio.get_running_loop()
    first_seen, told = {}, set()
    while True:
        now = loop.time()
        for connection in list(server_state.connections):
            if connection in told:
                continue
            if connection.cycle is not None or now - first_seen.setdefault(connection, now) >= grace:
                told.add(connection)
                connection.shutdown()  # between requests: closed now; serving one: closed after its answer
        await asyncio.sleep(0.01)


async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
    logger.info("Shutting down")
    loop = asyncio.get_running_loop()

    # Stop accepting, without closing yet: a connection asyncio accepted a moment ago gets its transport
    # on the next turn of the loop, and only while its server is open (closed, asyncio drops the socket).
    listeners = [listener for server in self.servers for listener in (server.sockets or ())]
    for listener in listeners:
        loop.remove_reader(listener.fileno())
    await asyncio.sleep(0)
    # Take every connection still queued, then close.
    waiting = [conn for listener in listeners for conn in accept_waiting(listener)]
    for server in self.servers:
        server.close()
    for sock in sockets or []:
        sock.close()

    def protocol() -> asyncio.Protocol:
        return self.config.http_protocol_class(
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state, _loop=loop
        )

    for conn in waiting:
        await loop.connect_accepted_socket(protocol, conn, ssl=self.config.ssl)

    closer = asyncio.ensure_future(shut_down_connections(self.server_state, FRESH_CONNECTION_GRACE))
    await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(self._wait_tasks_to_complete(), timeout=self.config.timeout_graceful_shutdown)
    except asyncio.TimeoutError:
        logger.error("Cancel %s running task(s), timeout graceful shutdown exceeded", len(self.server_state.tasks))
        for t in self.server_state.tasks:
            t.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
    closer.cancel()
    await asyncio.gather(closer, return_exceptions=True)  # its cancellation runs before the loop may stop

    if not self.force_exit:
        await self.lifespan.shutdown()


def install() -> None:
    """Every uvicorn server in this process shuts down as above (gateway/asgi.py calls it at import)."""
    if uvicorn.server.Server.shutdown is not shutdown:
        # What `inspect` (and so the fingerprint test) finds behind the replacement: uvicorn's own.
        shutdown.__wrapped__ = uvicorn.server.Server.shutdown
        uvicorn.server.Server.shutdown = shutdown
