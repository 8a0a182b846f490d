"""Which Chromium the browser tests drive (gateway/testing/needs.py)."""

from gateway.testing import needs


def builds(tmp_path, *present):
    paths = tuple(str(tmp_path / name) for name in ("chromium-headless-shell", "chromium"))
    for name in present:
        (tmp_path / name).touch()
    return paths


def test_the_headless_shell_is_chosen_when_both_builds_are_installed(tmp_path, monkeypatch):
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setattr(needs, "CHROMIUM_BUILDS", builds(tmp_path, "chromium-headless-shell", "chromium"))
    assert needs.chromium_path() == str(tmp_path / "chromium-headless-shell")
    assert needs.available("browser")


def test_the_full_browser_is_chosen_when_it_is_the_one_installed(tmp_path, monkeypatch):
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setattr(needs, "CHROMIUM_BUILDS", builds(tmp_path, "chromium"))
    assert needs.chromium_path() == str(tmp_path / "chromium")
    assert needs.available("browser")


def test_without_either_build_the_browser_tests_say_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setattr(needs, "CHROMIUM_BUILDS", builds(tmp_path))
    assert not needs.available("browser")
    assert needs.missing(["browser"]) == [needs.HOW["browser"]]
    assert "apt-get install chromium-headless-shell" in needs.HOW["browser"]


def test_the_chromium_path_setting_wins_over_the_installed_builds(tmp_path, monkeypatch):
    monkeypatch.setattr(needs, "CHROMIUM_BUILDS", builds(tmp_path, "chromium-headless-shell"))
    monkeypatch.setenv("CHROMIUM_PATH", "/opt/chrome/chrome")
    assert needs.chromium_path() == "/opt/chrome/chrome"
