"""LangChain's ChatOpenAI (langchain-openai) against /v1, with only base_url and api_key changed."""

import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from gateway.testing.api import history


def model(gateway_server, key, channel, **kwargs) -> ChatOpenAI:
    return ChatOpenAI(base_url=f"{gateway_server.url}/v1", api_key=key, model=channel.model, max_retries=0, **kwargs)


def test_it_invokes_and_streams(api, gateway_server, llm, key, channel):
    chat = model(gateway_server, key, channel)
    answer = chat.invoke([SystemMessage("Be brief."), HumanMessage("Hi"), AIMessage("Echo: Hi"), HumanMessage("Again")])
    assert answer.content == "Echo: Again"
    assert answer.usage_metadata["total_tokens"] == 18
    assert [m["role"] for m in llm.requests[-1]["json"]["messages"]] == ["system", "user", "assistant", "user"]
    llm.reply = "streamed in words"
    assert "".join(chunk.content for chunk in chat.stream("Go")) == "streamed in words"
    channel.refresh_from_db()
    assert channel.credits == 98


def test_its_session_is_the_user_field(api, gateway_server, llm, key, channel):
    model(gateway_server, key, channel, model_kwargs={"user": "lc-1"}).invoke("Hello")
    assert [m["content"] for m in history(api, key, "lc-1").json()["messages"]] == ["Hello", "Echo: Hello"]


def test_errors_reach_it_as_the_sdks_classes(gateway_server, llm, channel):
    with pytest.raises(openai.AuthenticationError):
        ChatOpenAI(base_url=f"{gateway_server.url}/v1", api_key="wrong", model=channel.model, max_retries=0).invoke("Hi")
