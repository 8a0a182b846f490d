"""Every test folder is collected: an app whose tests/ folder is missing from pytest.ini's testpaths would
have its tests silently skipped by `make test` and CI."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_folder_with_tests_is_in_testpaths():
    config = configparser.ConfigParser()
    config.read(ROOT / "pytest.ini")
    testpaths = {(ROOT / p).resolve() for p in config["pytest"]["testpaths"].split()}
    with_tests = {
        path.parent.resolve() for path in ROOT.glob("*/tests") if path.is_dir() and any(path.rglob("test_*.py"))
    } | {path.resolve() for path in ROOT.glob("*") if path.is_dir() and any(path.glob("test_*.py"))}
    with_tests = {p for p in with_tests if not p.name.startswith(".") and p.name not in ("var", "node_modules")}
    missing = sorted(p.name for p in with_tests if not any(p == t or t in p.parents for t in testpaths))
    assert not missing, f"test folders not in pytest.ini testpaths: {missing}"
    assert len(with_tests) >= 7
