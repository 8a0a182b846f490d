"""/v1 clients that hang up: the pipeline settles exactly as for /api/chat."""


import openai

from conversations.engine import limits
from conversations.models import Message
from gateway.testing.waiting import wait_until


def test_a_client_that_leaves_before_the_reply_is_charged_nothing(gateway_server, api, llm, channel, key):
    llm.latency = 1.5
    with openai.OpenAI(base_url=f"{gateway_server.url}/v1", api_key=key, max_retries=0, timeout=0.3) as impatient:
        try:
            impatient.chat.completions.create(model=channel.model, messages=[{"role": "user", "content": "Hi"}], user="gone")
        except openai.APITimeoutError:
            pass
    assert wait_until(lambda: len(llm.requests) == 1)

    def settled():
        channel.refresh_from_db()
        return channel.credits == 100 and limits.daily_used(channel) == 0

    assert wait_until(settled)
    assert wait_until(lambda: llm.finished == 1)  # the provider's call is over: nothing can arrive late
    assert settled() and not Message.objects.exists()


def test_a_stream_cut_off_mid_way_stores_and_charges_what_the_client_received(gateway_server, api, llm, channel, key):
    llm.reply = "one two three four five six seven eight"
    llm.token_delay = 0.3
    with openai.OpenAI(base_url=f"{gateway_server.url}/v1", api_key=key, max_retries=0) as client:
        stream = client.chat.completions.create(
            model=channel.model, messages=[{"role": "user", "content": "Count"}], stream=True, user="cut"
        )
        received = ""
        for chunk in stream:
            received += chunk.choices[0].delta.content or ""
            if received.count(" ") >= 1:
                break
        stream.close()
    assert wait_until(lambda: Message.objects.filter(role="assistant").exists())
    stored = Message.objects.get(role="assistant").content
    assert stored.startswith("one two") and stored != llm.reply
    channel.refresh_from_db()
    assert channel.credits == 99
    assert wait_until(lambda: llm.cancelled == 1)  # the provider call was cancelled too
