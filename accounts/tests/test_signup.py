"""/accounts/signup/: on by default, off with SIGNUP_ENABLED=False."""

from django.contrib.auth import get_user_model

VALID = {"email": "New.Owner@Example.com", "password1": "a-long-secret-42", "password2": "a-long-secret-42"}


def test_it_creates_the_account_logs_in_and_opens_the_dashboard(web):
    r = web.submit("/accounts/signup/", VALID)
    assert r.status_code == 302 and r.headers["location"] == "/dashboard/"
    user = get_user_model().objects.get()
    assert (user.username, user.email) == ("new.owner@example.com", "new.owner@example.com")
    assert user.check_password("a-long-secret-42")
    page = web.get("/dashboard/")
    assert page.status_code == 200 and "Create your first channel" in page.text


def test_it_rejects_an_email_that_has_an_account(web, owner):
    r = web.submit("/accounts/signup/", {**VALID, "email": "OWNER@example.com"})
    assert r.status_code == 200
    assert "An account with this email already exists." in r.text
    assert get_user_model().objects.count() == 1


def test_it_rejects_different_passwords(web):
    r = web.submit("/accounts/signup/", {**VALID, "password2": "something-else-42"})
    assert "The two passwords differ." in r.text
    assert not get_user_model().objects.exists()


def test_it_rejects_a_weak_password(web):
    r = web.submit("/accounts/signup/", {**VALID, "password1": "12345678", "password2": "12345678"})
    assert "This password is too common." in r.text
    assert not get_user_model().objects.exists()


def test_it_rejects_an_invalid_email(web):
    r = web.submit("/accounts/signup/", {**VALID, "email": "not-an-email"})
    assert "Enter a valid email address." in r.text


def test_it_is_a_404_when_sign_up_is_off(web, settings):
    settings.SIGNUP_ENABLED = False
    assert web.get("/accounts/signup/").status_code == 404
    assert web.submit("/accounts/signup/", VALID).status_code == 404
    assert not get_user_model().objects.exists()
    assert "/accounts/signup/" not in web.get("/accounts/login/").text


def test_it_links_sign_up_from_the_home_page(web):
    assert 'href="/accounts/signup/"' in web.get("/").text
