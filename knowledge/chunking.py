"""Cut extracted text into passages that follow its headings.

Extraction gives Markdown-like text (`#` headings, blank lines between
paragraphs). Each heading opens a section; a section longer than CHUNK_CHARS is
cut at paragraph ends (a paragraph longer than that, at a sentence or word end).
Each passage keeps the heading it sits under, which retrieval searches too.
"""

import re
from dataclasses import dataclass

CHUNK_CHARS = 1200
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Passage:
    heading: str
    text: str


def sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) in order; text before the first heading has the heading ""."""
    found: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            found.append((match.group(2).strip(), []))
        else:
            found[-1][1].append(line)
    return [(heading, "\n".join(lines).strip()) for heading, lines in found if "\n".join(lines).strip() or heading]


def _pieces(paragraph: str) -> list[str]:
    """A paragraph cut to at most CHUNK_CHARS, at sentence ends where it can, else at spaces, else anywhere."""
    if len(paragraph) <= CHUNK_CHARS:
        return [paragraph]
    pieces, rest = [], paragraph
    while len(rest) > CHUNK_CHARS:
        window = rest[:CHUNK_CHARS]
        cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "))
        cut = cut + 1 if cut > CHUNK_CHARS // 3 else window.rfind(" ")
        if cut <= CHUNK_CHARS // 3:
            cut = CHUNK_CHARS
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return pieces + ([rest] if rest else [])


def passages(text: str) -> list[Passage]:
    out: list[Passage] = []
    for heading, body in sections(text):
        current = ""
        for paragraph in re.split(r"\n\s*\n", body):
            for piece in _pieces(paragraph.strip()):
                if not piece:
                    continue
                if current and len(current) + 2 + len(piece) > CHUNK_CHARS:
                    out.append(Passage(heading, current))
                    current = piece
                else:
                    current = f"{current}\n\n{piece}" if current else piece
        if current:
            out.append(Passage(heading, current))
        elif heading and not body:
            continue
    return out
