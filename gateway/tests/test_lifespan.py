"""The ASGI lifespan protocol: uvicorn's start-up and shutdown, where the provider's connections are closed."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from channels_app.providers import provider
from gateway.asgi import application


def test_startup_completes_and_shutdown_closes_the_provider_session(settings):
    async def run():
        session = provider._session()  # what the first chat of this event loop would open
        inbox: asyncio.Queue = asyncio.Queue()
        sent = []

        async def send(message):
            sent.append(message["type"])

        for message in ({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}):
            inbox.put_nowait(message)
        await application({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send)
        return session, sent

    # A thread of its own: earlier tests (the browser's) may have left an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        session, sent = thread.submit(asyncio.run, run()).result()
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert session.closed
