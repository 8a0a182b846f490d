"""Real HTTP servers on loopback for the tests: uvicorn in a background thread."""

import socket
import threading
import time

import uvicorn


class ThreadedUvicorn:
    """Serve an ASGI app with uvicorn on 127.0.0.1 and a free port, in a daemon thread."""

    def __init__(self, app, **config):
        self.app = app  # tests switch a fake upstream's behaviour through it
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config.setdefault("log_level", "warning")
        config.setdefault("lifespan", "off")
        config.setdefault("access_log", False)
        # A request a test left open (a provider told to hang, a stream nobody reads) would hold `stop` for its whole
        # join timeout: uvicorn waits for open requests without a bound unless given one. After it, they are cancelled.
        config.setdefault("timeout_graceful_shutdown", 1)
        self.server = uvicorn.Server(uvicorn.Config(app, **config))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> "ThreadedUvicorn":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait until the server holds no connection and runs no request (a test before it measures the process)."""
        state = self.server.server_state
        deadline = time.monotonic() + timeout
        while (state.connections or state.tasks) and time.monotonic() < deadline:
            time.sleep(0.01)
        return not (state.connections or state.tasks)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
