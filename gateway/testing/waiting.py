"""Waiting in a test for something another thread or process does (a settled chat, a cancelled upstream call)."""

import socket
import time


def wait_until(predicate, timeout: float = 5.0) -> bool:
    """Poll `predicate` every 50 ms until it is true or `timeout` seconds passed; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.05)
    return predicate()


def refuses_connections(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port` any more (a server that began to stop has closed its socket)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:  # the socket was closing as this connection reached it: no answer yet, ask again
        return False
