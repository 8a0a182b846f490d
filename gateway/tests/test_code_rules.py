"""Code rules that keep each rule in one home, checked by parsing the source with `ast`.

Outside tests, no module uses a private (`_name`) name of another module or of a
library: not imported (`from x import _y`, `import x._y`), not read as a module's
attribute (`module._y`), not read off another object (`obj._y`, `getattr(obj, "_y")`).
A module's own privates (`_y`, `self._y`) are its business; so are a framework
subclass's `self._...` hooks, which the framework-overrides package documents (gateway/overrides/).
Migrations are generated and left as makemigrations wrote them. What a private
name shares goes public, with a docstring, in its one home.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Underscore names that are public APIs by their library's documentation.
PUBLIC_BY_DOCUMENTATION = {
    "_meta",  # Django's Model _meta API (docs: ref/models/meta)
    "_replace", "_asdict", "_fields", "_make",  # namedtuple's API (the underscore only avoids field names)
}

# (path, name): a library private still read, each in a framework override of gateway/overrides/, the one
# documented package allowed to rely on framework internals. Remove the entry when the override stops reading it.
KNOWN_OVERRIDES = {
    ("gateway/overrides/api_view.py", "_auth"),  # DRF Request's credential, read without re-authenticating
    ("gateway/overrides/api_handler.py", "_resource_closers"),  # copied get_response_async: the request closes with its answer
    ("gateway/overrides/flush_keeps_post_migrate_rows.py", "_fixture_teardown"),  # the test case's flush, replaced in tests
}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in PUBLIC_BY_DOCUMENTATION


def _source_files(root: Path):
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        # migrations are generated and frozen: they name a model's default callable wherever it was defined
        if any(p.startswith(".") or p in ("tests", "migrations", "node_modules") for p in parts):
            continue
        if path.name.startswith("test_") or path.name == "conftest.py":
            continue
        yield path


def violations(root: Path = ROOT) -> list[str]:
    """Every use of another module's or a library's private name outside tests, as 'path:line: what'."""
    found = []
    for path in _source_files(root):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)

        def report(node, what, name):
            if (rel, name) not in KNOWN_OVERRIDES:
                found.append(f"{rel}:{node.lineno}: {what}")

        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if any(_is_private(part) for part in module.split(".")):
                    report(node, f"from {module} import ...", module)
                for alias in node.names:
                    if _is_private(alias.name):
                        report(node, f"from {module} import {alias.name}", alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if any(_is_private(part) for part in alias.name.split(".")):
                        report(node, f"import {alias.name}", alias.name)
            elif isinstance(node, ast.Attribute) and _is_private(node.attr):
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    report(node, ast.unparse(node), node.attr)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and _is_private(node.args[1].value)
            ):
                report(node, ast.unparse(node), node.args[1].value)
    return found


def test_no_module_uses_another_modules_or_a_librarys_private_names():
    assert violations() == []


# Error bodies that are not ours: the fake provider answers in the provider's own shape ({"error": {"message"}}).
# The fake provider's own answers; OpenAI's `response` object, whose `error` field is null when it succeeded.
NOT_OUR_ERROR_BODY = {"gateway/testing/fake_llm.py", "conversations/edge/responses_api.py"}


def hand_built_error_bodies(root: Path = ROOT) -> list[str]:
    """Every dict literal with an "error" key outside gateway/infra/errors.py, the error body's one home."""
    found = []
    for path in _source_files(root):
        rel = path.relative_to(root).as_posix()
        if rel == "gateway/infra/errors.py" or rel in NOT_OUR_ERROR_BODY:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=rel)):
            if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "error" for k in node.keys):
                found.append(f"{rel}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_the_error_body_is_built_in_gateway_errors_only():
    assert hand_built_error_bodies() == []


def test_the_check_sees_every_form(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "mod.py").write_text(
        "import lib._impl\n"
        "from lib import _helper, public\n"
        "from lib._inner import thing\n"
        "from lib import (\n    a,\n    _b,\n)\n"
        "import lib\n"
        "lib._state\n"
        "obj.attr._hidden\n"
        "getattr(request, '_auth', None)\n"
        "self._own, cls._own, _local, __name__, obj.__dict__, Model._meta, row._replace(a=1)\n"
    )
    (tmp_path / "app" / "tests").mkdir()
    (tmp_path / "app" / "tests" / "test_x.py").write_text("from lib import _allowed_in_tests\n")
    assert [v.split(": ", 1)[1] for v in violations(tmp_path)] == [
        "import lib._impl",
        "from lib import _helper",
        "from lib._inner import ...",
        "from lib import _b",
        "lib._state",
        "obj.attr._hidden",
        "getattr(request, '_auth', None)",
    ]


def test_gateway_holds_configuration_infrastructure_and_test_helpers_apart():
    """Project configuration in gateway/ itself, shared infrastructure in gateway/infra/, test helpers in gateway/testing/."""
    configuration = {p.name for p in (ROOT / "gateway").glob("*.py")}
    assert configuration == {"__init__.py", "settings.py", "settings_test.py", "urls.py", "asgi.py", "wsgi.py", "routing.py"}
    assert {p.name for p in (ROOT / "gateway").iterdir() if p.is_dir() and not p.name.startswith("__")} == {
        "infra", "overrides", "testing", "tests"
    }


# History belongs to git: a comment or docstring says why, never which issue or when.
TRACKER_REFERENCE = re.compile(r"\b[Ii]ssue \d+|\b[Pp]oint \d+\b")
NOT_CODE = {".venv", "node_modules", "docs", "var", ".git"}


def tracker_references(root: Path = ROOT) -> list[str]:
    """Every issue or point of one named by its number in the code, tests, templates and static files."""
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(p in NOT_CODE or p.startswith(".") for p in rel.parts) or path.suffix not in (".py", ".html", ".js", ".css", ".mjs"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if TRACKER_REFERENCE.search(line):
                found.append(f"{rel.as_posix()}:{number}: {line.strip()[:80]}")
    return found


def test_no_comment_names_an_issue_or_its_points():
    assert tracker_references() == []


def test_the_tracker_check_sees_comments_docstrings_and_templates(tmp_path):
    (tmp_path / "app").mkdir()
    issue, point = "Issue", "point"  # spelled apart, so this file passes its own check
    (tmp_path / "app" / "mod.py").write_text(f'"""Done for {issue.lower()} 12."""\nx = 1  # {point} 5 of it\n')
    (tmp_path / "app" / "page.html").write_text(f"{{# {issue} 15's page #}}\n")
    (tmp_path / "app" / "fine.py").write_text("# encode/uvicorn#3149: an upstream bug, by its tracker's id\n")
    assert [f.split(":")[0] + ":" + f.split(":")[1] for f in tracker_references(tmp_path)] == [
        "app/mod.py:1", "app/mod.py:2", "app/page.html:1",
    ]
