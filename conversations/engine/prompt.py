"""Build the provider's message list: system prompt, trimmed history, page context, the new message.

Nothing a visitor sends ever enters the system role: the system message is the
channel's system prompt exactly as its owner wrote it, byte for byte. The page's
URL and title (the visitor's browser, or whatever a backend passes on, controls
them) travel as data: a separate user-role message holding a fixed header and a
JSON object, so quotes, line breaks and "Operator note:"-style text stay inside
a JSON string, with no more authority than the visitor's own message.
"""

import json
import unicodedata

from channels_app.providers.catalog import CatalogModel
from channels_app.providers.page_context import PAGE_CONTEXT_HEADER

MESSAGE_OVERHEAD_TOKENS = 4


# Escaped inside the JSON even where JSON allows them raw, so the block stays one line of visible text
# (json.dumps escapes only U+0000-U+001F; line and paragraph separators, DEL, C1 and format characters pass).
_ESCAPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def estimate_tokens(text: str) -> int:
    """A deliberately high estimate (3 UTF-8 bytes a token) so trimmed prompts always fit."""
    return len(text.encode("utf-8")) // 3 + 1 + MESSAGE_OVERHEAD_TOKENS


def page_context(metadata: dict) -> str | None:
    """The page-context message's content, or None when `metadata` names no page."""
    page = {name: metadata[name] for name in ("url", "title") if metadata.get(name)}
    if not page:
        return None
    data = json.dumps(page, ensure_ascii=False)  # non-ASCII titles stay readable for the model
    # json.dumps of the lone character gives its escape, as a surrogate pair beyond U+FFFF. Every escaped
    # category is non-printable to str.isprintable (categories C* and Z* but the space), so printable text,
    # nearly every page, skips the per-character loop.
    if not data.isprintable():
        data = "".join(json.dumps(c)[1:-1] if unicodedata.category(c) in _ESCAPED_CATEGORIES else c for c in data)
    return f"{PAGE_CONTEXT_HEADER}\n{data}"


def build_messages(
    *,
    model: CatalogModel,
    system_prompt: str,
    metadata: dict,
    history: list[tuple[str, str]],
    message: str,
    knowledge: str | None = None,
) -> list[dict]:
    """History is oldest first; the oldest messages are dropped until the prompt fits the model.

    The page context goes right before the new message: it describes the page
    the user is on now, which may differ from earlier turns'. The channel's
    knowledge for this message (knowledge/grounding.py: quoted passages under a
    fixed header, a user-role message like the page context) goes before both.
    """
    system = system_prompt if system_prompt.strip() else None
    context = page_context(metadata)
    budget = model.prompt_budget - estimate_tokens(message)
    budget -= estimate_tokens(system) if system is not None else 0
    budget -= estimate_tokens(context) if context is not None else 0
    budget -= estimate_tokens(knowledge) if knowledge is not None else 0
    kept: list[tuple[str, str]] = []
    for role, content in reversed(history):
        cost = estimate_tokens(content)
        if cost > budget:
            break
        budget -= cost
        kept.append((role, content))
    kept.reverse()
    # A thread cut mid-exchange should not open with an answer to a question that was cut.
    while kept and kept[0][0] == "assistant":
        kept.pop(0)
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages += [{"role": role, "content": content} for role, content in kept]
    if knowledge is not None:
        messages.append({"role": "user", "content": knowledge})
    if context is not None:
        messages.append({"role": "user", "content": context})
    messages.append({"role": "user", "content": message})
    return messages


def build_conversation(*, model: CatalogModel, system_prompt: str, conversation: tuple[dict, ...]) -> list[dict]:
    """The OpenAI-compatible API's prompt: the owner's system prompt, then the client's own conversation.

    The client sends the whole conversation itself, so no stored history is
    added. Its system messages (only on channels that allow them, checked by
    the view) stay where the client put them, after the owner's prompt, which
    always comes first; the oldest other messages are dropped until the prompt
    fits the model; the last message is always kept. A tool result whose call
    was dropped goes too: providers refuse a result without its call.
    """
    system = system_prompt if system_prompt.strip() else None
    *earlier, last = conversation
    budget = model.prompt_budget - _message_tokens(last) - (estimate_tokens(system) if system is not None else 0)
    budget -= sum(_message_tokens(message) for message in earlier if message["role"] == "system")
    kept: list[dict] = []
    for message in reversed(earlier):
        if message["role"] != "system":
            cost = _message_tokens(message)
            if cost > budget:
                budget = -1  # everything older goes too, so the conversation is never cut in the middle
                continue
            budget -= cost
        kept.append(message)
    kept.reverse()
    called = {call["id"] for message in kept for call in message.get("tool_calls") or ()}
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages += [m for m in kept if m["role"] != "tool" or m.get("tool_call_id") in called]
    messages.append(last)
    return messages


def _message_tokens(message: dict) -> int:
    content = message.get("content")
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False) if content else ""
    if message.get("tool_calls"):
        text += json.dumps(message["tool_calls"], ensure_ascii=False)
    return estimate_tokens(text)
