"""uvicorn's CLI with its multi-worker listener fixed to IPPROTO_TCP, so accepted sockets get TCP_NODELAY.

For measuring the fix (`python -m bench.run --nodelay-fix`), not for production.
uvicorn 0.38's Config.bind_socket() leaves the listener's proto at 0; accepted
sockets inherit it and asyncio then skips TCP_NODELAY, so every keep-alive
request after the first waits ~40 ms for the client's delayed ACK
(github.com/Kludex/uvicorn/issues/3149). Single-process uvicorn is not affected.

    python -m bench.uvicorn_nodelay gateway.asgi:application --workers 2 ...
"""

import socket

import uvicorn.config
from uvicorn.main import main

_bind_socket = uvicorn.config.Config.bind_socket


def _bind_tcp_socket(self) -> socket.socket:
    sock = _bind_socket(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock


uvicorn.config.Config.bind_socket = _bind_tcp_socket

if __name__ == "__main__":
    main()
