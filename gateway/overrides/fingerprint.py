"""A fingerprint of a framework function's code, so a test notices when an upgrade changes it.

The SHA-256 of the function's syntax tree with docstrings left out: comments, blank lines and
docstrings may change freely; any change to what the code does changes the fingerprint. Each
override module records the fingerprints of the framework code it copies or relies on
(`RELIES_ON`), and gateway/tests/test_overrides.py compares them with the installed versions.
"""

import ast
import hashlib
import inspect
import textwrap


def fingerprint(function) -> str:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()[:16]
