"""/accounts/password/change/."""


def test_it_changes_the_password_and_keeps_the_session(owner_web, owner):
    r = owner_web.submit(
        "/accounts/password/change/",
        {"old_password": "pw-owner-123!", "new_password1": "brand-new-secret-77", "new_password2": "brand-new-secret-77"},
    )
    assert r.status_code == 302 and r.headers["location"] == "/accounts/password/change/done/"
    owner.refresh_from_db()
    assert owner.check_password("brand-new-secret-77")
    assert owner_web.get("/dashboard/").status_code == 200


def test_it_rejects_a_wrong_old_password(owner_web, owner):
    r = owner_web.submit(
        "/accounts/password/change/",
        {"old_password": "wrong", "new_password1": "brand-new-secret-77", "new_password2": "brand-new-secret-77"},
    )
    assert "Your old password was entered incorrectly." in r.text


def test_it_requires_login(web):
    assert web.get("/accounts/password/change/").status_code == 302
