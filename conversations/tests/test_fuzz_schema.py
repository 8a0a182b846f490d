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
        response = case.call(timeout=30)
        assert response.status_code < 500, response.text
        case.validate_response(response)

    check()


def test_no_generated_request_gets_past_a_missing_key(api_schema):
    @hypothesis_settings(BUDGET, max_examples=30)
    @given(case=api_schema.as_strategy())
    def check(case):
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "x-api-key"}
        case.query = {k: v for k, v in (case.query or {}).items() if k != "key"}  # the widget's publishable key
        response = case.call(timeout=30)
        assert response.status_code == 401, response.text
        assert response.json() == {"error": "Missing API key"}

    check()
