"""Debian's Chromium under Playwright for the browser tests (e2e/), one launch for each run of browser modules.

Launching takes a second or two (Playwright's driver, then Chromium). A test process keeps its browser from one browser
module to the next, and closes it before the first test that is not a browser test (the root conftest): while it
lives, Playwright's event loop runs in the test thread, where an in-process test (gateway/testing/in_process.py) could
not start its own. A worker's browser modules are not always consecutive: pytest-xdist's `--dist loadfile` hands
out the files with the most tests first, whatever their folder, so each switch back to a browser module launches the
browser again (keeping them consecutive was tried and won nothing: docs/testing.md, "Workers").
"""

import os


class _Held:
    playwright = None
    browser = None


def browser(executable_path: str, args: list[str]):
    """This process's browser, launched on first use."""
    if _Held.browser is None:
        from playwright.sync_api import sync_playwright

        # Playwright's sync API keeps an event loop in this thread while the browser lives; the tests' own ORM calls
        # are plain synchronous code all the same (the server runs in its own thread). Allowed only while the browser
        # is up, so Django's async-safety check still guards every other test.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        playwright = sync_playwright().start()
        try:
            _Held.browser = playwright.chromium.launch(executable_path=executable_path, args=args, headless=True)
        except BaseException:
            playwright.stop()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            raise
        _Held.playwright = playwright
    return _Held.browser


def close() -> None:
    """Close this process's browser, if it has one."""
    if _Held.playwright is None:
        return
    try:
        _Held.browser.close()
        _Held.playwright.stop()
    finally:
        _Held.playwright = _Held.browser = None
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
