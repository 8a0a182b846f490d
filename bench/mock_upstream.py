"""The benchmark's upstream: gateway.testing.fake_llm.FakeLLM served by uvicorn in its own process.

    python -m bench.mock_upstream --port 9100 --latency-ms 0

`POST /_bench/latency?ms=2000` changes the reply latency between load phases.
"""

import argparse
import collections
from urllib.parse import parse_qs

import uvicorn

from gateway.testing.fake_llm import FakeLLM


class BenchLLM(FakeLLM):
    """FakeLLM that keeps only the last few requests, so a long run does not grow without bound."""

    def reset(self) -> None:
        super().reset()
        self.requests = collections.deque(maxlen=16)


class App:
    def __init__(self, latency: float):
        self.llm = BenchLLM(latency=latency)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/_bench/latency":
            ms = float(parse_qs(scope["query_string"].decode()).get("ms", ["0"])[0])
            self.llm.latency = ms / 1000
            body = f'{{"latency_ms": {ms}}}'.encode()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.llm(scope, receive, send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--loop", default="auto")
    parser.add_argument("--http", default="auto")
    args = parser.parse_args()
    uvicorn.run(
        App(args.latency_ms / 1000),
        host=args.host,
        port=args.port,
        loop=args.loop,
        http=args.http,
        log_level="warning",
        access_log=False,
        lifespan="off",
        backlog=4096,
    )


if __name__ == "__main__":
    main()
