"""pydantic-ai (PyPI `pydantic-ai-slim[openai]`) against /v1, changed only in base URL and key.

An agent with a tool and a typed output, run plain and streamed, on its Chat Completions model and its Responses
model; and a typed output through `response_format` (NativeOutput). The upstream is the loopback fake, scripted
to call the tool, then pydantic-ai's own output tool (`final_result`), as a tool-using model does.
"""

import asyncio

import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider

from conversations.models import Message
from conversations.tests.test_openai_tools import able, credits


class Weather(BaseModel):
    city: str
    degrees: int


def agent(gateway_server, key, model_id, kind, output_type=Weather) -> Agent:
    provider = OpenAIProvider(base_url=f"{gateway_server.url}/v1", api_key=key)
    model = (OpenAIResponsesModel if kind == "responses" else OpenAIChatModel)(model_id, provider=provider)
    weather = Agent(model, output_type=output_type, instructions="Answer with the weather.")

    @weather.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"22 degrees in {city}"

    return weather


@pytest.mark.parametrize("kind", ["chat", "responses"])
@pytest.mark.parametrize("stream", [False, True])
def test_an_agent_calls_its_tool_and_returns_its_typed_output(gateway_server, llm, key, channel, kind, stream):
    able(channel.model, tools=True)
    llm.tool_turns = [[("get_weather", '{"city": "Paris"}')], [("final_result", '{"city": "Paris", "degrees": 22}')]]
    weather = agent(gateway_server, key, channel.model, kind)

    async def run():
        if not stream:
            return (await weather.run("Weather in Paris?")).output
        async with weather.run_stream("Weather in Paris?") as result:
            return await result.get_output()

    assert asyncio.run(run()) == Weather(city="Paris", degrees=22)
    tool_results = [r["json"]["messages"][-1] for r in llm.requests[1:]]
    assert tool_results[0]["role"] == "tool" and tool_results[0]["content"] == "22 degrees in Paris"
    assert {t["function"]["name"] for t in llm.requests[0]["json"]["tools"]} == {"get_weather", "final_result"}
    assert credits(channel) == 98  # two model calls, each charged
    stored = Message.objects.filter(session__channel=channel, role="assistant").order_by("id")
    assert [m.content.split("(")[0] for m in stored] == ["[tool call get_weather", "[tool call final_result"]


def test_a_native_typed_output_goes_as_response_format(gateway_server, llm, key, channel):
    able(channel.model, json_schema=True, tools=True)
    llm.json_reply = '{"city": "Oslo", "degrees": 3}'
    weather = agent(gateway_server, key, channel.model, "chat", output_type=NativeOutput(Weather))
    assert asyncio.run(weather.run("Weather in Oslo?")).output == Weather(city="Oslo", degrees=3)
    assert llm.requests[-1]["json"]["response_format"]["type"] == "json_schema"
    assert credits(channel) == 99


def test_a_model_without_tools_is_refused_with_the_reason(gateway_server, llm, key, channel):
    from pydantic_ai.exceptions import ModelHTTPError

    able(channel.model, tools=False)
    weather = agent(gateway_server, key, channel.model, "chat")
    with pytest.raises(ModelHTTPError) as caught:
        asyncio.run(weather.run("Weather in Paris?"))
    assert caught.value.status_code == 400
    assert f"The model {channel.model} does not support tools" in str(caught.value.body)
    assert llm.requests == [] and credits(channel) == 100
