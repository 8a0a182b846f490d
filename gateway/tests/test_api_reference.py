"""docs/api.md is the repository's own API reference: it must keep up with the contract and the code.

A clean clone has no ../shared, so the reference the README points to lives in docs/. These tests
fail when an error the code can answer, an API route, or (where the contract is beside the
repository, as in CI) a line of the contract's tables and examples is missing from it.
"""

import ast
import re
from pathlib import Path

import pytest
from django.urls import get_resolver

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs" / "api.md").read_text()
CONTRACT = ROOT.parent / "shared" / "spec" / "api-reference.md"
SOURCE_DIRS = ("gateway", "channels_app", "conversations", "accounts")


def _api_error_names() -> set[str]:
    from gateway.infra.errors import ApiError

    found, todo = set(), [ApiError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def _raised_messages() -> set[str]:
    """Every literal message an ApiError is raised with, and each subclass's own message."""
    import django.apps

    django.apps.apps.get_app_configs()  # every app's modules loaded, so every subclass is known
    from gateway.infra.errors import ApiError

    names = _api_error_names()
    messages = set()
    todo = [ApiError]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__dict__.get("message"):
            messages.add(cls.__dict__["message"])
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts or "testing" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in names
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    messages.add(node.args[0].value)
    messages.discard("Bad request")  # ApiError's own placeholder: never answered as such
    return messages


def test_every_error_the_code_answers_is_in_the_reference():
    missing = sorted(m for m in _raised_messages() if m not in REFERENCE.replace("\n", " "))
    assert not missing, f"docs/api.md does not document these error strings: {missing}"


def test_every_api_route_is_in_the_reference():
    routes = set()
    for pattern in get_resolver().url_patterns:
        route = str(pattern.pattern)
        if route.startswith(("api/", "v1/")) and not route.endswith("/") and "(" not in route:
            routes.add("/" + route)
    assert routes, "no API routes found: the URL configuration changed shape"
    missing = sorted(r for r in routes if r not in REFERENCE and r not in ("/api/schema", "/api/docs"))
    assert not missing, f"docs/api.md does not document these endpoints: {missing}"


@pytest.mark.skipif(not CONTRACT.exists(), reason="the contract (../shared/spec) is not beside this clone")
def test_the_contract_is_reproduced_word_for_word():
    """Every table row and example line of the contract stands in docs/api.md."""
    lines = [line.rstrip() for line in CONTRACT.read_text().splitlines()]
    wanted = [line for line in lines if line.startswith("|") or line.startswith("    ")]
    wanted += [line for line in lines if line.startswith("## ")]
    missing = [line for line in wanted if line not in REFERENCE]
    assert not missing, "docs/api.md lost lines of the contract:\n" + "\n".join(missing)


def test_readme_points_at_the_repositorys_own_reference():
    readme = (ROOT / "README.md").read_text()
    assert "docs/api.md" in readme
    assert not re.search(r"\.\./shared", readme), "the README links outside the repository"
    for doc in (ROOT / "docs").glob("*.md"):
        assert "../shared" not in doc.read_text(), f"{doc.name} links outside the repository"
