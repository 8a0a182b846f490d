"""Settings for the test suite: the real settings, fed throwaway secrets and plain-HTTP switches.

pytest-django imports this module before any conftest.py runs, so the
environment the settings read is prepared here.
"""

import os
from pathlib import Path

_DEFAULTS = {
    "SECRET_KEY": "test-secret-key-not-for-production-only-for-the-test-suite-0123456789",
    "KEY_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "KEY_DIGEST_SECRET": "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=",
    # The tests speak plain http on loopback: no HTTPS redirect, no Secure-only cookies.
    "SECURE_SSL_REDIRECT": "False",
    "SESSION_COOKIE_SECURE": "False",
    "CSRF_COOKIE_SECURE": "False",
    # Static files straight from static/ (no collectstatic before tests).
    "STATIC_COLLECTED": "False",
    # The purge and the alert thresholds run when a test calls them, not on a timer in the test server.
    "RETENTION_PURGE_INTERVAL_SECONDS": "0",
    "ALERT_CHECK_INTERVAL_SECONDS": "0",
    "MODEL_RETIREMENT_INTERVAL_SECONDS": "0",
    "MODEL_SYNC_INTERVAL_SECONDS": "0",
    "KNOWLEDGE_REFRESH_INTERVAL_SECONDS": "0",
    "CREDIT_HOLD_SWEEP_INTERVAL_SECONDS": "0",
}
for _name, _value in _DEFAULTS.items():
    os.environ.setdefault(_name, _value)
# Each test process its own cache keys, set, not defaulted: pytest-xdist's workers inherit the environment of the
# process that started them, which imported this module first, so a default would give every worker its prefix.
os.environ["CACHE_KEY_PREFIX"] = f"gwtest{os.getpid()}"
os.environ["ENV_FILE"] = ""  # a developer's .env must not leak into tests
os.environ["LLM_API_KEY"] = ""  # tests choose their provider explicitly
os.environ["LLM_BASE_URL"] = "http://127.0.0.1:9/v1"  # nothing listens there

(Path(__file__).resolve().parent.parent / "var").mkdir(exist_ok=True)  # home of the SQLite test database

from gateway.settings import *  # noqa: E402,F403
