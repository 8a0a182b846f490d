"""A Hypothesis state machine over chat, history, failures and credits, through real HTTP.

Invariants after every step: credits never go negative; the credits a channel
was given equal what is left plus one per successful chat; and each session's
history is exactly its successful exchanges, in order.
"""

from collections import defaultdict

import hypothesis.strategies as st
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from channels_app.models import Channel
from channels_app.services import channel_create, credits_add
from gateway.testing.api import chat, chat_stream, history

SESSIONS = st.sampled_from(["alpha", "beta", "gamma"])
MESSAGES = st.text(min_size=1, max_size=30).filter(lambda s: s.strip() and "\x00" not in s)


BUDGET = hypothesis_settings(
    max_examples=12, stateful_step_count=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


class ChatMachine(RuleBasedStateMachine):
    def __init__(self, api, llm, owner):
        super().__init__()
        self.api, self.llm = api, llm
        # One channel per example, all for `owner`: more than MAX_CHANNELS_PER_OWNER in one run.
        self.channel, issued = channel_create(
            owner=owner, name="Machine", credits=3, rate_limit_per_minute=10_000, daily_limit=10_000, ignore_cap=True
        )
        self.key = issued.plaintext
        self.given = 3
        self.successes = 0
        self.exchanges: dict[str, list[tuple[str, str]]] = defaultdict(list)

    def _credits(self) -> int:
        return Channel.objects.get(pk=self.channel.pk).credits

    @rule(session=SESSIONS, message=MESSAGES, streamed=st.booleans(), provider_fails=st.booleans())
    def send(self, session, message, streamed, provider_fails):
        self.llm.mode, self.llm.status = ("status", 503) if provider_fails else ("ok", 200)
        had_credit = self._credits() > 0
        if streamed:
            response, events = chat_stream(self.api, self.key, message, session_id=session)
            answered = events is not None and events[-1][0] == "done"
        else:
            response = chat(self.api, self.key, message, session_id=session)
            answered = response.status_code == 200
        if not had_credit:
            assert response.status_code == 403
        elif provider_fails:
            assert not answered
        else:
            assert answered
        if answered:
            self.successes += 1
            self.exchanges[session].append(("user", message))
            self.exchanges[session].append(("assistant", f"Echo: {message}"))

    @rule(amount=st.integers(min_value=1, max_value=3))
    def top_up(self, amount):
        credits_add(channel=self.channel, amount=amount)
        self.given += amount

    @precondition(lambda self: self.exchanges)
    @rule(session=SESSIONS)
    def read_history(self, session):
        messages = history(self.api, self.key, session).json()["messages"]
        assert [(m["role"], m["content"]) for m in messages] == self.exchanges[session]

    @invariant()
    def credits_add_up(self):
        credits = self._credits()
        assert credits >= 0
        assert self.given == credits + self.successes


def test_credits_and_history_stay_consistent(api, llm, owner, settings):
    settings.LLM_MAX_RETRIES = 0
    settings.LLM_BREAKER_THRESHOLD = 10**9  # failures here are chosen per step; the breaker would blur them
    run_state_machine_as_test(
        lambda: ChatMachine(api, llm, owner),
        settings=BUDGET,
    )
