import pytest

from gateway.testing.webhook_receiver import start_receiver


@pytest.fixture(scope="session")
def receiver_server():
    app, server = start_receiver()
    server.app = app
    yield server
    server.stop()


@pytest.fixture
def receiver(receiver_server):
    """A real HTTP receiver on loopback; `receiver.reset(plan=["fail", "hang"])` scripts its next answers."""
    receiver_server.app.reset()
    receiver_server.app.url = receiver_server.url + "/hook"
    return receiver_server.app


@pytest.fixture
def runner(settings, transactional_db):
    """The in-process job runner the gateway uses, with test-only speed-ups: retries in tens of milliseconds,
    a webhook that hangs is given up after half a second. Emptied after the test."""
    from gateway.infra import jobs

    settings.JOB_RETRY_BACKOFF_BASE = 0.02
    settings.JOB_RETRY_BACKOFF_CAP = 0.1
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on loopback
    runner = jobs.backend()
    yield runner
    runner.stop()
