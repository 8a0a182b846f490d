"""Counting tokens locally, for a reply whose provider sent no usage: marked as estimated, never left empty.

A real tokenizer, tiktoken's cl100k_base, from the file shipped beside this
module (channels_app/providers/tokenizer/: nothing is downloaded at run time). Models
tokenize differently (Llama 3's vocabulary is not cl100k's), so a count made
here is an estimate and the stored message says so (Message.tokens_estimated);
it is within a few per cent for English prose.

Per message, the prompt count adds what OpenAI's chat format adds around each
message (4 tokens, and 3 to prime the reply), as OpenAI's cookbook counts it.
"""

import base64
import functools
import hashlib
from pathlib import Path

import tiktoken

ENCODING_FILE = Path(__file__).parent / "tokenizer" / "cl100k_base.tiktoken"
ENCODING_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
# tiktoken's own split pattern for cl100k_base (tiktoken_ext/openai_public.py).
PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
PER_MESSAGE, REPLY_PRIMER = 4, 3


@functools.cache
def encoding() -> tiktoken.Encoding:
    raw = ENCODING_FILE.read_bytes()
    if hashlib.sha256(raw).hexdigest() != ENCODING_SHA256:
        raise RuntimeError(f"{ENCODING_FILE} is not the cl100k_base file tiktoken publishes")
    ranks = {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in raw.splitlines() if line)}
    return tiktoken.Encoding(name="cl100k_base", pat_str=PATTERN, mergeable_ranks=ranks, special_tokens={})


def count(text: str) -> int:
    """Tokens in `text` (special-token look-alikes in it are ordinary text)."""
    return len(encoding().encode_ordinary(text))


def count_messages(messages: list[dict]) -> int:
    """Tokens of a chat prompt as sent: every message's content plus the chat format's own tokens."""
    return sum(PER_MESSAGE + count(str(m.get("content") or "")) for m in messages) + REPLY_PRIMER
