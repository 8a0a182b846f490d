"""What the test markers `postgres`, `redis`, `nginx`, `node` and `browser` need, and how to get it.

A test carrying one of these markers is skipped, with the how-to below as its
reason, when this run lacks the service (conftest.py); `processes` and `live`
say what a test does, not what it needs, so they never skip. The markers are
registered in pytest.ini; docs/testing.md has the tiers.
"""

import os
import shutil
from pathlib import Path

from django.conf import settings
from django.db import connection

from gateway.testing.topology import nginx_available

HOW = {
    "postgres": "needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/<database> (docs/testing.md)",
    "redis": "needs Redis: run with REDIS_URL=redis://127.0.0.1:6379/<db number> (docs/testing.md)",
    "nginx": "needs Debian's nginx: apt-get install nginx",
    "node": "needs Node.js and the test packages: apt-get install nodejs npm, then make install-dev",
    "browser": (
        "needs Chromium: apt-get install chromium-headless-shell (or chromium, or set CHROMIUM_PATH), "
        "then make install-dev"
    ),
}

# Debian's two builds of the same Chromium source and version: the headless shell first, the full browser if it is
# the one installed. The shell is the build Playwright itself runs for headless Chromium; the same Blink and V8 render
# and script the pages, without the full browser's UI layers, and it took 66.6 s of CPU against 165.4 s for the same
# browser tests (docs/testing.md, "The headless shell").
CHROMIUM_BUILDS = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")


def chromium_path() -> str:
    """The Chromium the browser tests drive: CHROMIUM_PATH, else the first of CHROMIUM_BUILDS installed."""
    if path := os.environ.get("CHROMIUM_PATH"):
        return path
    return next((build for build in CHROMIUM_BUILDS if Path(build).exists()), CHROMIUM_BUILDS[0])


def available(marker: str) -> bool:
    """Whether this run has what tests marked `marker` need."""
    return {
        "postgres": lambda: connection.vendor == "postgresql",
        "redis": lambda: bool(settings.REDIS_URL),
        "nginx": nginx_available,
        "node": lambda: shutil.which("node") is not None,
        "browser": lambda: Path(chromium_path()).exists(),
    }[marker]()


def missing(markers) -> list[str]:
    """The how-to of each service among `markers` (marker names) this run lacks."""
    return [HOW[name] for name in markers if name in HOW and not available(name)]
