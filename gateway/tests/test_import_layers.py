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
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_the_contract_lists_no_exception_but_the_tests():
    """Every backward import was removed by moving code to the room that owns it, not by listing it."""
    contract = configparser.ConfigParser()
    contract.read(ROOT / ".importlinter")
    ignored = [line.strip() for line in contract["importlinter:contract:layers"]["ignore_imports"].splitlines()]
    assert [line for line in ignored if line and not line.startswith("#")] == ["*.tests.** -> **", "*.testing.** -> **"]


def test_the_contract_refuses_a_backward_import(tmp_path):
    """The same contract with two layers swapped is broken by the imports that follow the true order: the check bites."""
    contract = (ROOT / ".importlinter").read_text()
    layers = "    conversations\n    knowledge\n    channels_app\n"
    assert layers in contract
    swapped = tmp_path / "contract.ini"
    swapped.write_text(contract.replace(layers, "    channels_app\n    knowledge\n    conversations\n"))
    result = lint_imports(str(swapped))
    assert result.returncode != 0
    assert "conversations is not allowed to import channels_app" in result.stdout
