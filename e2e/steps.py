"""Steps the browser tests share."""

import re
from importlib import import_module

from playwright.sync_api import expect


def log_in(page, email="owner@example.com", password="pw-owner-123!"):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def age_password_entry(context, seconds):
    """Make the browser's last password entry `seconds` old, as if time had passed."""
    from django.conf import settings

    from accounts import reauth

    cookie = next(c for c in context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    store = import_module(settings.SESSION_ENGINE).SessionStore(cookie["value"])
    store[reauth.SESSION_KEY] = reauth.now() - seconds
    store.save()
