"""Browser tests: Debian's Chromium driven by Playwright for Python, against the real gateway over HTTP.

Needs `apt-get install chromium-headless-shell` (or `chromium`; CI's .ci/run installs the shell): the build is
chosen by gateway/testing/needs.py. Never `playwright install`: the browser comes from Debian, through `executable_path`.
"""

import os
from pathlib import Path

import pytest

from gateway.testing.needs import HOW, chromium_path

CHROMIUM = chromium_path()
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _fast_hashing(fast_password_hashing):
    pass


# One for each run of browser modules in this process (gateway/testing/browser.py): the root conftest closes it before
# a test that is not a browser test, and at the end of the session.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"no browser at {CHROMIUM}: {HOW['browser']}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from gateway.testing import browser

    return browser.browser(CHROMIUM, CHROMIUM_ARGS)


class Watch:
    """What a page did that a test may forbid: console errors (CSP violations among them),
    script errors, alert/prompt dialogs (a script that ran), and requests to other origins."""

    def __init__(self, origin: str):
        self.origin = origin
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []
        self.foreign_requests: list[str] = []

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        page.on("dialog", self._dialog)
        page.on("request", self._request)

    def _console(self, message) -> None:
        # A 4xx answer the page expects (the reveal's "confirm your password first") is not a fault.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text)

    def _dialog(self, dialog) -> None:
        # The app asks confirm() before revoking a key; anything else (an alert() from a
        # reply, say) is a script that should never have run.
        if dialog.type == "confirm":
            dialog.accept()
            return
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _request(self, request) -> None:
        if not request.url.startswith((self.origin, "data:", "blob:", "about:")):
            self.foreign_requests.append(request.url)


@pytest.fixture
def browser_context(browser, gateway_server, transactional_db):
    from accounts.testing import reset_account_throttles

    reset_account_throttles()
    context = browser.new_context(base_url=gateway_server.url, viewport={"width": 1280, "height": 900})
    context.gateway_url = gateway_server.url  # where e2e.steps.log_in puts its session cookie
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=gateway_server.url)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context, gateway_server):
    page = browser_context.new_page()
    page.watch = Watch(gateway_server.url)
    page.watch.attach(page)
    return page
