from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters

from accounts import reauth
from accounts.forms import ConfirmPasswordForm, SignupForm
from accounts.services import EmailTaken, user_signup


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_ENABLED:
        raise Http404("Sign-up is closed")
    if request.user.is_authenticated:
        return redirect("dashboard:channel-list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_signup(email=form.cleaned_data["email"], password=form.cleaned_data["password1"])
        except EmailTaken:
            form.add_error("email", "An account with this email already exists. Log in instead.")
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Create your first channel to get an API key.")
            return redirect("dashboard:channel-list")
    return render(request, "registration/signup.html", {"form": form})


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


@login_required
@sensitive_post_parameters("password")
def confirm_password(request: HttpRequest) -> HttpResponse:
    """Ask for the password again; then go back to `next`."""
    form = ConfirmPasswordForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        reauth.mark_recent(request)
        messages.success(request, "Password confirmed. You can reveal and rotate keys for the next 15 minutes.")
        return redirect(_safe_next(request))
    return render(request, "registration/confirm_password.html", {"form": form, "next": _safe_next(request)})
