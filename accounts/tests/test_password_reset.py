"""/accounts/password/reset/: a link by email (the console backend by default)."""

import re

from django.core import mail


def test_it_mails_a_link_that_sets_a_new_password(web, owner):
    r = web.submit("/accounts/password/reset/", {"email": "owner@example.com"})
    assert r.status_code == 302 and r.headers["location"] == "/accounts/password/reset/done/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Reset your AI Gateway password"
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = web.get(link, follow_redirects=True)
    assert "Choose a new password" in form_page.text
    done = web.submit(
        str(form_page.url.path), {"new_password1": "reset-secret-991", "new_password2": "reset-secret-991"}
    )
    assert done.headers["location"] == "/accounts/password/reset/complete/"
    owner.refresh_from_db()
    assert owner.check_password("reset-secret-991")


def test_it_says_the_same_for_an_unknown_email(web):
    r = web.submit("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert r.headers["location"] == "/accounts/password/reset/done/"
    assert mail.outbox == []


def test_the_console_backend_is_the_default():
    from gateway import settings as project_settings

    assert project_settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
