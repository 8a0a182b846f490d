"""docs/security.md's isolation table names, for each attack, the test that performs it: those tests must exist
(the rows of later issues, numbered by their issue, too).

A row may name a test as `path.py::name` or, after one, as `::name` in the same file.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _isolation_rows() -> list[str]:
    text = (ROOT / "docs" / "security.md").read_text()
    section = text.split("## Isolation:", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if re.match(r"\| \d+ \|", line)]


def test_every_point_of_the_isolation_issue_has_a_row():
    assert {int(row.split("|")[1]) for row in _isolation_rows()} >= set(range(1, 10))


def test_every_test_the_isolation_table_names_exists():
    named = 0
    for row in _isolation_rows():
        current = None
        for path, name in re.findall(r"`(?:([\w/]+\.py))?::(\w+)`", row.split("|")[5]):
            current = path or current
            assert current, f"a test is named without its file: ::{name}"
            source = (ROOT / current).read_text()
            assert re.search(rf"^(?:async )?def {name}\(", source, re.M), f"{current} has no test {name}"
            named += 1
    assert named >= 20
