"""A reasoning model's thinking, kept out of the reply: what the visitor reads and what is stored is the answer only.

Providers hand reasoning over in three ways: a field of its own beside the
content (Groq's gpt-oss: `message.reasoning` / `delta.reasoning`; DeepSeek,
vLLM, llama.cpp: `reasoning_content`), which the provider client simply does
not read as text; or inline in the content as `<think>…</think>` (Qwen, R1
distills with a raw reasoning format), which `ThinkFilter` removes, also when
a tag is split across streamed deltas.
"""

OPEN, CLOSE = "<think>", "</think>"
REASONING_FIELDS = ("reasoning", "reasoning_content")


def reasoning_of(message: dict) -> str:
    """The reasoning a message or delta carries in a field of its own ("" when none)."""
    for name in REASONING_FIELDS:
        value = message.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def _partial_tag(text: str, tag: str) -> int:
    """How many characters at the end of `text` could begin `tag` (kept back until the next delta decides)."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkFilter:
    """Feed it the content deltas in order; it returns what may be shown, holding back `<think>` blocks.

    What a block held is collected in `thought` (for counting tokens, never
    shown). An unclosed block at the end is all reasoning. The whitespace a
    model puts between its reasoning and its answer is dropped.
    """

    def __init__(self):
        self.inside = False
        self.pending = ""
        self.thought: list[str] = []
        self._after_block = False

    def feed(self, delta: str) -> str:
        self.pending += delta
        shown = []
        while self.pending:
            if self.inside:
                end = self.pending.find(CLOSE)
                if end < 0:
                    keep = _partial_tag(self.pending, CLOSE)
                    self.thought.append(self.pending[:len(self.pending) - keep])
                    self.pending = self.pending[len(self.pending) - keep:]
                    break
                self.thought.append(self.pending[:end])
                self.pending = self.pending[end + len(CLOSE):]
                self.inside, self._after_block = False, True
            else:
                start = self.pending.find(OPEN)
                if start < 0:
                    keep = _partial_tag(self.pending, OPEN)
                    shown.append(self._visible(self.pending[:len(self.pending) - keep]))
                    self.pending = self.pending[len(self.pending) - keep:]
                    break
                shown.append(self._visible(self.pending[:start]))
                self.pending = self.pending[start + len(OPEN):]
                self.inside = True
        return "".join(shown)

    def finish(self) -> str:
        """The rest, once the content ended: a held-back half tag was text after all; an open block was reasoning."""
        rest, self.pending = self.pending, ""
        if self.inside:
            self.thought.append(rest)
            return ""
        return self._visible(rest)

    def _visible(self, text: str) -> str:
        if self._after_block:
            text = text.lstrip()
            if text:
                self._after_block = False
        return text


def split(content: str) -> tuple[str, str]:
    """(answer, inline reasoning) of a whole reply's content."""
    think = ThinkFilter()
    answer = think.feed(content) + think.finish()
    return answer, "".join(think.thought)
