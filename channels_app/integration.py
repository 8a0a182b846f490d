"""Client examples for a channel's integration page.

The examples are real files in `channels_app/examples/` (so an editor checks their
syntax), with `__HOST__` for this server's origin and `__KEY__` for the channel's key.
The key is a separate part, so the page can show the masked key until the owner
reveals the real one (the page's script then fills every slot).
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
HOST_MARK = "__HOST__"
KEY_MARK = "__KEY__"
PLACEHOLDER_KEY = "amgai_your-channel-key-here"


@dataclass(frozen=True)
class Example:
    slug: str
    title: str
    language: str
    filename: str
    note: str
    parts: tuple[tuple[str, bool], ...]  # (text, is_key): the key's slots are separate parts

    def text(self, key: str) -> str:
        """The example as a client would run it, with `key` in every slot."""
        return "".join(key if is_key else text for text, is_key in self.parts)


# slug, title, language, file, note
CATALOG = (
    ("curl", "cURL", "shell", "curl.sh", "From a terminal."),
    (
        "javascript",
        "JavaScript",
        "javascript",
        "fetch.mjs",
        "Node 18+ (save as chat.mjs), Deno or Bun: your backend, never a public page.",
    ),
    (
        "javascript-stream",
        "JavaScript, streaming",
        "javascript",
        "fetch_stream.mjs",
        'With "stream": true the reply arrives as server-sent events: token events with a "delta", '
        'then done with the whole "reply" (or error).',
    ),
    ("python", "Python", "python", "requests_chat.py", "With requests (pip install requests)."),
    (
        "python-stream",
        "Python, streaming",
        "python",
        "requests_stream.py",
        "The same events with requests' stream=True: each piece is printed as it arrives.",
    ),
    ("php", "PHP", "php", "file_get_contents.php", "Plain PHP, no extension needed beyond allow_url_fopen."),
)


# The OpenAI-compatible API (/v1/) through the official SDKs, only base URL and key changed: a section of their own.
OPENAI_CATALOG = (
    ("openai-python", "Python, OpenAI SDK", "python", "openai_sdk.py", "The official openai package (pip install openai)."),
    (
        "openai-node",
        "Node, OpenAI SDK, streaming",
        "javascript",
        "openai_sdk.mjs",
        "The official openai package (npm install openai), streamed; save as chat.mjs.",
    ),
)


@cache
def _source(filename: str) -> str:
    return (EXAMPLES_DIR / filename).read_text()


def _parts(source: str, origin: str) -> tuple[tuple[str, bool], ...]:
    pieces = source.replace(HOST_MARK, origin).rstrip("\n").split(KEY_MARK)
    parts: list[tuple[str, bool]] = []
    for i, piece in enumerate(pieces):
        if i:
            parts.append(("", True))
        parts.append((piece, False))
    return tuple(parts)


def channel_examples(*, origin: str) -> list[Example]:
    """Every example, calling the gateway at `origin` (scheme://host[:port], no trailing slash)."""
    return [
        Example(slug, title, language, filename, note, parts=_parts(_source(filename), origin))
        for slug, title, language, filename, note in CATALOG
    ]


def openai_examples(*, origin: str) -> list[Example]:
    """The OpenAI SDK examples, calling the gateway's /v1/ at `origin`."""
    return [
        Example(slug, title, language, filename, note, parts=_parts(_source(filename), origin))
        for slug, title, language, filename, note in OPENAI_CATALOG
    ]
