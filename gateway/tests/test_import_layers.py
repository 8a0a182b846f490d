"""The layer contract (.importlinter) holds: import-linter's `lint-imports` passes, so CI fails on a backward import."""

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


def test_the_contract_refuses_a_backward_import(tmp_path):
    """The same contract, without its list of remaining backward imports, is broken by them: the check bites."""
    contract = (ROOT / ".importlinter").read_text()
    start = contract.index("    # Backward arrows that remain")
    end = contract.index("\n\n", start)
    stripped = tmp_path / "contract.ini"
    stripped.write_text(contract[:start] + contract[end:])
    result = lint_imports(str(stripped))
    assert result.returncode != 0
    assert "channels_app is not allowed to import conversations" in result.stdout
