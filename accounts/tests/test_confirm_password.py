"""/accounts/confirm-password/: re-entering the password before a key is shown."""

from django.conf import settings as django_settings


def test_it_requires_login(web):
    assert web.get("/accounts/confirm-password/").status_code == 302


def test_it_rejects_a_wrong_password(owner_web):
    owner_web.age_password_entry(3600)
    r = owner_web.submit("/accounts/confirm-password/", {"password": "nope"})
    assert r.status_code == 200
    assert "That password is not correct." in r.text


def test_it_goes_back_to_next_after_the_right_password(owner_web, channel):
    back = f"/dashboard/channels/{channel.public_id}/"
    r = owner_web.submit(f"/accounts/confirm-password/?next={back}", {"password": "pw-owner-123!", "next": back})
    assert r.status_code == 302 and r.headers["location"] == back


def test_it_ignores_a_next_on_another_site(owner_web):
    r = owner_web.submit("/accounts/confirm-password/", {"password": "pw-owner-123!", "next": "https://evil.example/"})
    assert r.headers["location"] == "/dashboard/"


def test_it_locks_out_password_guessing_too(owner_web):
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        owner_web.submit("/accounts/confirm-password/", {"password": "nope"})
    r = owner_web.submit("/accounts/confirm-password/", {"password": "pw-owner-123!"})
    assert r.status_code == 429
