"""Steps the browser tests share."""

import re
from importlib import import_module
from urllib.parse import urlsplit

from playwright.sync_api import expect


OWNER_EMAIL, OWNER_PASSWORD = "owner@example.com", "pw-owner-123!"


def log_in_through_the_form(page, email=OWNER_EMAIL, password=OWNER_PASSWORD):
    """Log in as a person does: the login page's form, then the dashboard it leads to."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def log_in(page, email=OWNER_EMAIL, password=OWNER_PASSWORD, *, land=True):
    """Log in without driving the form (for tests about something else): the session a password login makes,
    handed to the browser as its session cookie. Then, unless `land` is false, the dashboard the form leads to.

    The session is made by Django's own authenticate() and login(), on a request like the form's POST, so it is
    the one a login through the form leaves: the same backend and password checks (a wrong password fails here
    too), the same keys, and the same `user_logged_in` receivers ran: the password entry stamped now
    (accounts/reauth.py), the last login, django-axes' access log. It is saved by the SESSION_ENGINE
    (accounts/session_store.py), which the running gateway reads. `log_in_through_the_form` drives the page.
    """
    from django.conf import settings
    from django.contrib.auth import authenticate, login
    from django.shortcuts import resolve_url
    from django.test import RequestFactory

    request = RequestFactory().post(resolve_url(settings.LOGIN_URL))
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    user = authenticate(request, username=email, password=password)
    assert user is not None, f"{email} cannot log in with that password"
    login(request, user)
    request.session.save()
    cookie = {
        "name": settings.SESSION_COOKIE_NAME,
        "value": request.session.session_key,
        "domain": urlsplit(page.context.gateway_url).hostname,
        "path": settings.SESSION_COOKIE_PATH,
        "httpOnly": settings.SESSION_COOKIE_HTTPONLY,
        "secure": settings.SESSION_COOKIE_SECURE,
    }
    if settings.SESSION_COOKIE_SAMESITE:
        cookie["sameSite"] = settings.SESSION_COOKIE_SAMESITE
    if not request.session.get_expire_at_browser_close():
        cookie["expires"] = request.session.get_expiry_date().timestamp()
    page.context.add_cookies([cookie])
    if land:
        page.goto(resolve_url(settings.LOGIN_REDIRECT_URL))
        expect(page).to_have_url(re.compile(r"/dashboard/$"))


def age_password_entry(context, seconds):
    """Make the browser's last password entry `seconds` old, as if time had passed."""
    from django.conf import settings

    from accounts import reauth

    cookie = next(c for c in context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    store = import_module(settings.SESSION_ENGINE).SessionStore(cookie["value"])
    store[reauth.SESSION_KEY] = reauth.now() - seconds
    store.save()


class HostSite:
    """A shop's page on its own loopback origin, embedding the widget with one tag."""

    def __init__(self):
        self.html = b""

    async def __call__(self, scope, receive, send):
        body = self.html if scope["path"] == "/" else b""
        await send({"type": "http.response.start", "status": 200 if body else 404,
                    "headers": [(b"content-type", b"text/html; charset=utf-8")]})
        await send({"type": "http.response.body", "body": body})


HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset=utf-8>
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Mug shop</title>
<style>body{{font:16px/1.5 Georgia,serif;margin:0;color:#222;background:#fffaf3}}header{{background:#7a3e12;color:#fff;padding:1rem 1.5rem}}
main{{max-width:48rem;margin:0 auto;padding:1.5rem}}.mugs{{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:1rem}}
.mug{{background:#fff;border:1px solid #e8dccb;border-radius:10px;padding:1rem}}</style></head>
<body><header><strong>The Mug Shop</strong></header><main><h1>Mugs for every desk</h1>
<div class="mugs"><div class="mug"><h2>Classic</h2><p>Blue, 350 ml. €12</p></div><div class="mug"><h2>Travel</h2><p>Black, lid, 400 ml. €18</p></div></div>
</main><script src="{gateway}/static/widget.js" data-key="{key}" async></script></body></html>"""
