"""Prompt building: system prompt, page context, history trimmed oldest first to the model's budget."""

from channels_app.providers.catalog import CatalogModel, get_model
from conversations.engine.prompt import PAGE_CONTEXT_HEADER, build_messages, estimate_tokens

TINY = CatalogModel("tiny", "Tiny", context_window=400, max_output=100, speed="", best_for="")


def test_it_puts_the_system_prompt_first_and_the_page_context_before_the_message(db):
    messages = build_messages(
        model=get_model("gemma2-9b-it"),
        system_prompt="Be brief.",
        metadata={"url": "https://a.example/x", "title": "Pricing"},
        history=[("user", "hi"), ("assistant", "hello")],
        message="How much?",
    )
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert messages[-2] == {
        "role": "user",
        "content": PAGE_CONTEXT_HEADER + '\n{"url": "https://a.example/x", "title": "Pricing"}',
    }
    assert messages[-1] == {"role": "user", "content": "How much?"}


def test_the_system_message_is_the_owners_prompt_byte_for_byte():
    prompt = "  Be brief.\n\n  Never discuss prices.\n"
    messages = build_messages(model=TINY, system_prompt=prompt, metadata={"title": "x"}, history=[], message="Hi")
    assert messages[0] == {"role": "system", "content": prompt}


def test_trimming_counts_the_page_context():
    history = [m for i in range(10) for m in [("user", f"q{i} " + "x" * 150), ("assistant", f"a{i} " + "y" * 150)]]
    metadata = {"url": "https://a.example/" + "p" * 200, "title": "t" * 200}
    messages = build_messages(model=TINY, system_prompt="", metadata=metadata, history=history, message="now")
    assert messages[-2]["content"].startswith(PAGE_CONTEXT_HEADER)
    assert sum(estimate_tokens(m["content"]) for m in messages) <= TINY.prompt_budget


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


def test_output_reserve_leaves_room_for_the_prompt_on_every_model(db):
    for model_id, reserve in [("llama-3.3-70b-versatile", 8192), ("mixtral-8x7b-32768", 8192), ("gemma2-9b-it", 2048)]:
        model = get_model(model_id)
        assert model.output_reserve == reserve
        assert model.prompt_budget >= 3 * reserve


def test_every_character_page_context_escapes_is_one_isprintable_refuses():
    # page_context and OneLine skip their per-character loops for printable text: that is exact only if
    # no escaped (or refused) character is printable to Python. Checked over all of Unicode.
    import sys
    import unicodedata

    from conversations.engine import prompt

    printable_yet_escaped = [
        hex(code) for code in range(sys.maxunicode + 1)
        if chr(code).isprintable() and unicodedata.category(chr(code)) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
    ]
    assert printable_yet_escaped == []
    # And the loop still runs when it must: a line separator in a title is escaped.
    assert "\\u2028" in prompt.page_context({"title": "a\u2028b"})
