"""The loopback OpenID provider's URLs, sign-in page and claims (imported inside its process only:
gateway/testing/oidc_provider.py starts it)."""

import json
import os
import time

from django.contrib.auth import authenticate, get_user_model, login
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import include, path
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_validators import OAuth2Validator

from gateway.testing.oidc_provider import ABSENT, PASSWORD


def asserted_claims(username: str) -> dict:
    """The claims the test asserted for this user (OidcProvider.assert_claims), read afresh for each token."""
    try:
        with open(os.environ["OIDC_PROVIDER_CLAIMS"]) as f:
            return json.load(f).get(username, {})
    except FileNotFoundError:
        return {}


class Validator(OAuth2Validator):
    oidc_claim_scope = None  # every claim, in the ID token and from userinfo: the tests choose them

    def get_additional_claims(self, request):
        return {"email": request.user.email, "email_verified": True}

    def get_claim_dict(self, request):
        claims = super().get_claim_dict(request)
        claims.update(asserted_claims(request.user.username))
        return {name: value for name, value in claims.items() if value != ABSENT}

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        if request.user.email.startswith("expired"):
            claims["exp"] = int(time.time()) - 3600
        if request.user.email.startswith("wrongaud"):
            claims["aud"] = "some-other-client"  # replaces the client id oauthlib put there
        return claims, expiration

@csrf_exempt  # a test double's sign-in page: the tests post to it directly
def login_view(request):
    next_url = request.GET.get("next", "/")
    if request.method == "POST":
        if request.POST["password"] == PASSWORD and not get_user_model().objects.filter(username=request.POST["username"]).exists():
            # Any name signs in with the test password: each test picks its people without restarting the provider.
            get_user_model().objects.create_user(request.POST["username"], request.POST["username"], PASSWORD)
        user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
        if user is not None:
            login(request, user)
            return HttpResponseRedirect(next_url)
        return HttpResponse("wrong password", status=401)
    return HttpResponse(
        f'<form method="post" action="?next={escape(next_url)}"><input name="username"><input name="password"></form>'
    )

urlpatterns = [path("login/", login_view), path("o/", include("oauth2_provider.urls", namespace="oauth2_provider"))]
