"""Prompt building: system prompt, page context, history trimmed oldest first to the model's budget."""

from channels_app.catalog import CatalogModel, get_model
from conversations.prompt import build_messages, estimate_tokens

TINY = CatalogModel("tiny", "Tiny", context_window=400, max_output=100, speed="", best_for="")


def test_it_puts_system_prompt_and_page_context_first():
    messages = build_messages(
        model=get_model("gemma2-9b-it"),
        system_prompt="Be brief.",
        metadata={"url": "https://a.example/x", "title": "Pricing"},
        history=[],
        message="How much?",
    )
    assert messages[0]["role"] == "system"
    assert messages[0]["content"] == 'Be brief.\n\nThe user is viewing the page titled "Pricing" at https://a.example/x.'
    assert messages[-1] == {"role": "user", "content": "How much?"}


def test_it_sends_no_system_message_when_there_is_nothing_to_say():
    messages = build_messages(model=TINY, system_prompt="  ", metadata={}, history=[], message="Hi")
    assert messages == [{"role": "user", "content": "Hi"}]


def test_it_drops_the_oldest_history_first_to_fit():
    history = [m for i in range(10) for m in [("user", f"q{i} " + "x" * 150), ("assistant", f"a{i} " + "y" * 150)]]
    messages = build_messages(model=TINY, system_prompt="", metadata={}, history=history, message="now")
    total = sum(estimate_tokens(m["content"]) for m in messages)
    assert total <= TINY.prompt_budget
    kept = [m["content"][:2] for m in messages[:-1]]
    assert kept and kept[-1] == "a9"  # the newest history survives
    assert "q0" not in kept  # the oldest goes first
    assert messages[0]["role"] == "user"  # never opens with an orphaned answer


def test_output_reserve_leaves_room_for_the_prompt_on_every_model():
    for model_id, reserve in [("llama-3.3-70b-versatile", 8192), ("mixtral-8x7b-32768", 8192), ("gemma2-9b-it", 2048)]:
        model = get_model(model_id)
        assert model.output_reserve == reserve
        assert model.prompt_budget >= 3 * reserve
