"""The loopback OpenID provider's URLs, sign-in page and claims (imported inside its process only:
gateway/testing/oidc_provider.py starts it)."""

import time

from django.contrib.auth import authenticate, login
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import include, path
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_validators import OAuth2Validator

class Validator(OAuth2Validator):
    oidc_claim_scope = {"sub": "openid", "email": "email", "email_verified": "email"}

    def get_additional_claims(self, request):
        return {"email": request.user.email, "email_verified": True}

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
        user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
        if user is not None:
            login(request, user)
            return HttpResponseRedirect(next_url)
        return HttpResponse("wrong password", status=401)
    return HttpResponse(
        f'<form method="post" action="?next={escape(next_url)}"><input name="username"><input name="password"></form>'
    )

urlpatterns = [path("login/", login_view), path("o/", include("oauth2_provider.urls", namespace="oauth2_provider"))]
