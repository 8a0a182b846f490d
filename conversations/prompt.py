"""Build the provider's message list: system prompt, page context, trimmed history, the new message."""

from channels_app.catalog import CatalogModel

MESSAGE_OVERHEAD_TOKENS = 4


def estimate_tokens(text: str) -> int:
    """A deliberately high estimate (3 UTF-8 bytes a token) so trimmed prompts always fit."""
    return len(text.encode("utf-8")) // 3 + 1 + MESSAGE_OVERHEAD_TOKENS


def system_content(system_prompt: str, metadata: dict) -> str:
    parts = [system_prompt.strip()] if system_prompt.strip() else []
    url, title = metadata.get("url"), metadata.get("title")
    if url or title:
        page = " ".join(p for p in (f'titled "{title}"' if title else "", f"at {url}" if url else "") if p)
        parts.append(f"The user is viewing the page {page}.")
    return "\n\n".join(parts)


def build_messages(
    *,
    model: CatalogModel,
    system_prompt: str,
    metadata: dict,
    history: list[tuple[str, str]],
    message: str,
) -> list[dict]:
    """History is oldest first; the oldest messages are dropped until the prompt fits the model."""
    system = system_content(system_prompt, metadata)
    budget = model.prompt_budget - estimate_tokens(message) - (estimate_tokens(system) if system else 0)
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
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": role, "content": content} for role, content in kept]
    messages.append({"role": "user", "content": message})
    return messages
