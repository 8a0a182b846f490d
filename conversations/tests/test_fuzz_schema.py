"""Schemathesis against /api/schema/: generated requests, valid and invalid, through real HTTP.

Holds: no 5xx (the provider is healthy here, so not even its documented 500),
every response matches the schema (status, content type, body), and requests
without the key never get past authentication. The budget is bounded so CI
stays quick. (Schemathesis drives Hypothesis directly here: its pytest plugin
does not run under pytest 9.)
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

# /v1/chat/completions' and /v1/responses' rules OpenAPI 3.0 cannot state (nothing says "the last item of an array" or
# "this field only with that one", as OpenAI's own API requires of stream_options; nor what the catalog says the model
# can do): a schema-valid body may break only these, and gets 400 with one of these messages (or, for a capability,
# `code` model_not_capable); anything else it must accept.
V1_RULES_BEYOND_THE_SCHEMA = {
    "The last message must be from the user",
    "The last message must be at most 2000 characters",
    "stream_options is only allowed with stream: true",
}

BUDGET = hypothesis_settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture
def api_schema(gateway_server, api, llm, channel):
    channel.rate_limit_per_minute = channel.daily_limit = channel.credits = 1_000_000
    channel.save()
    return schemathesis.openapi.from_url(f"{gateway_server.url}/api/schema/?format=json")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_schema_under_generated_requests(api_schema, key, mode):
    @BUDGET
    @given(case=api_schema.as_strategy(generation_mode=mode))
    def check(case):
        # The generated key is replaced by a real one; a case that drops the header keeps it dropped.
        if case.headers and "X-API-Key" in case.headers:
            case.headers["X-API-Key"] = key
        if case.headers and "Authorization" in case.headers:  # /v1/: the OpenAI-compatible API's Bearer key
            case.headers["Authorization"] = f"Bearer {key}"
        response = case.call(timeout=30)
        assert response.status_code < 500, response.text
        v1_chat = case.path in ("/v1/chat/completions", "/v1/responses")
        if v1_chat and mode == GenerationMode.POSITIVE and response.status_code == 400:
            error = response.json()["error"]
            assert error["message"] in V1_RULES_BEYOND_THE_SCHEMA or error["code"] == "model_not_capable", response.text
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
            return
        case.validate_response(response)

    check()


def test_no_generated_request_gets_past_a_missing_key(api_schema):
    @hypothesis_settings(BUDGET, max_examples=30)
    @given(case=api_schema.as_strategy())
    def check(case):
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("x-api-key", "authorization")}
        case.query = {k: v for k, v in (case.query or {}).items() if k != "key"}  # the widget's publishable key
        response = case.call(timeout=30)
        assert response.status_code == 401, response.text
        if case.path.startswith("/v1/"):  # the OpenAI-compatible API: the same error in OpenAI's shape
            assert response.json()["error"]["message"] == "Missing API key"
        else:
            assert response.json() == {"error": "Missing API key"}

    check()
