"""/accounts/login/ and /accounts/logout/, with django-axes throttling failed logins."""

from django.test import RequestFactory

from accounts.client_ip import client_ip


def _login(web, email="owner@example.com", password="pw-owner-123!"):
    return web.submit("/accounts/login/", {"username": email, "password": password})


def test_it_logs_in_with_the_email_in_any_case(web, owner):
    r = _login(web, email="Owner@Example.COM")
    assert r.status_code == 302 and r.headers["location"] == "/dashboard/"
    assert web.get("/dashboard/").status_code == 200


def test_it_goes_back_to_next_after_login(web, owner, channel):
    url = f"/dashboard/channels/{channel.public_id}/"
    r = web.submit(f"/accounts/login/?next={url}", {"username": "owner@example.com", "password": "pw-owner-123!", "next": url})
    assert r.headers["location"] == url


def test_it_rejects_a_wrong_password(web, owner):
    r = _login(web, password="wrong")
    assert r.status_code == 200
    assert "Your email and password didn't match." in r.text
    assert web.get("/dashboard/").status_code == 302


def test_it_locks_out_after_repeated_failures_even_with_the_right_password(web, owner, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(web, password="wrong")
    r = _login(web)
    assert r.status_code == 429
    assert "Too many failed attempts" in r.text
    assert web.get("/dashboard/").status_code == 302


def test_it_does_not_lock_out_the_same_account_from_another_address(web, owner, settings, gateway_server):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": web.csrf_token, "username": "owner@example.com", "password": "wrong"},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
    r = web.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": web.csrf_token, "username": "owner@example.com", "password": "pw-owner-123!"},
        headers={"X-Forwarded-For": "198.51.100.8"},
    )
    assert r.status_code == 302


def test_it_logs_out_with_a_post(owner_web):
    r = owner_web.submit("/accounts/logout/")
    assert r.status_code == 302 and r.headers["location"] == "/"
    assert owner_web.get("/dashboard/").status_code == 302


def test_the_client_address_is_remote_addr_without_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "10.0.0.1"


def test_the_client_address_is_what_the_trusted_proxy_appended(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert client_ip(request) == "203.0.113.5"


def test_the_client_address_ignores_a_too_short_forwarded_chain(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client_ip(request) == "10.0.0.1"
