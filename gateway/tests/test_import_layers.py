"""The layer contract (.importlinter) holds: import-linter's `lint-imports` passes, so CI fails on a backward import."""

import configparser
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_layer_contract_is_kept():
    # An ignored import the code no longer makes fails too (import-linter's default), so the list stays true.
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_the_contract_lists_no_exception_but_the_tests():
    """Every backward import was removed by moving code to the room that owns it, not by listing it."""
    contract = configparser.ConfigParser()
    contract.read(ROOT / ".importlinter")
    ignored = [line.strip() for line in contract["importlinter:contract:layers"]["ignore_imports"].splitlines()]
    assert [line for line in ignored if line and not line.startswith("#")] == ["*.tests.** -> **", "*.testing.** -> **"]
    others = [name for name in contract.sections() if name != "importlinter:contract:layers"]
    assert len(others) == 4  # the root section and three contracts more: cycles, conversations' rooms, providers
    assert not [name for name in others if contract.has_option(name, "ignore_imports")]


def lint_changed(tmp_path, old: str, new: str) -> subprocess.CompletedProcess:
    """lint-imports with the contract file changed: `old` (which must be in it) replaced by `new`."""
    contract = (ROOT / ".importlinter").read_text()
    assert old in contract
    changed = tmp_path / "contract.ini"
    changed.write_text(contract.replace(old, new))
    return lint_imports(str(changed))


def test_the_contract_refuses_a_backward_import(tmp_path):
    """The same contract with two layers swapped is broken by the imports that follow the true order: the check bites."""
    result = lint_changed(tmp_path, "    conversations\n    knowledge\n    channels_app\n",
                          "    channels_app\n    knowledge\n    conversations\n")
    assert result.returncode != 0
    assert "conversations is not allowed to import channels_app" in result.stdout


def test_the_edge_stays_above_the_engine(tmp_path):
    """Inside conversations, the same contract with the edge and the engine swapped is broken: the check bites."""
    result = lint_changed(tmp_path, "    edge\n    engine\n", "    engine\n    edge\n")
    assert result.returncode != 0
    assert "conversations.edge is not allowed to import conversations.engine" in result.stdout


def test_the_catalog_knows_no_channel(tmp_path):
    """The providers' contract reads real imports: forbidding what the providers do import (the keys) breaks it."""
    result = lint_changed(tmp_path, "forbidden_modules =\n    channels_app.models\n",
                          "forbidden_modules =\n    channels_app.keys\n    channels_app.models\n")
    assert result.returncode != 0
    assert "channels_app.providers" in result.stdout and "channels_app.keys" in result.stdout
