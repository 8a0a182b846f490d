"""Resolve, then trust: a key is verified in one place, into a value nothing can change.

The attacks on the key boundary go through HTTP in test_api_auth.py,
test_publishable_keys.py, test_session_namespaces.py and test_key_cache.py;
these pin the structure that makes them hold: one module reads keys from the
database or the key cache, and what it returns is frozen and carries the kind
(and so the session namespace) the rest of the code uses.
"""

import ast
import dataclasses
from pathlib import Path

import pytest

from channels_app import credentials
from channels_app.credentials import PresentedKey
from gateway.testing.implementations import run

ROOT = Path(__file__).resolve().parents[2]
# Reading a key (from the database, or the key cache) is verifying it: only the edge does that. Everyone
# else who needs a key verified calls the edge's entry point, `credentials.resolve`.
VERIFYING_CALLS = {"api_key_authenticate", "api_key_lookup", "publishable_key_authenticate", "key_cache.peek", "key_cache.resolve"}
EDGE = {"channels_app/credentials.py", "channels_app/selectors.py", "channels_app/key_cache.py"}


def _calls(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                names.add(f"{func.value.id}.{func.attr}" if isinstance(func.value, ast.Name) else func.attr)
            elif isinstance(func, ast.Name):
                names.add(func.id)
    return names


def test_only_the_edge_reads_keys():
    offenders = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if any(part in ("tests", "migrations", "testing", ".venv", "node_modules") for part in path.relative_to(ROOT).parts):
            continue
        if relative in EDGE or relative.startswith(("bench/", "e2e/", "scripts/")):
            continue
        found = _calls(path) & VERIFYING_CALLS
        if found:
            offenders.append(f"{relative}: {sorted(found)}")
    assert offenders == []


@pytest.mark.django_db(transaction=True)
def test_a_verified_key_is_frozen_and_carries_its_kind_and_namespace(channel, key, widget_key):
    from gateway.testing.api import WIDGET_ORIGIN

    secret = run(credentials.resolve(PresentedKey(key)))
    publishable = run(credentials.resolve(PresentedKey(widget_key, publishable=True, origin=WIDGET_ORIGIN)))
    assert (secret.kind, secret.source, secret.cors_origin) == (credentials.SECRET, "api", None)
    assert (publishable.kind, publishable.source, publishable.cors_origin) == (credentials.PUBLISHABLE, "widget", WIDGET_ORIGIN)
    with pytest.raises(dataclasses.FrozenInstanceError):
        secret.kind = credentials.PUBLISHABLE
    with pytest.raises(dataclasses.FrozenInstanceError):
        publishable.presented.publishable = False
    assert key not in repr(secret)  # the raw key never shows in a repr (logs, error pages)
