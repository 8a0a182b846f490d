import openai
import pytest


@pytest.fixture
def sdk(gateway_server, key):
    """The official OpenAI Python client on the live gateway's /v1, with the channel's secret key; no retries, so a
    test sees each answer the gateway gave."""
    with openai.OpenAI(base_url=f"{gateway_server.url}/v1", api_key=key, max_retries=0) as client:
        yield client
