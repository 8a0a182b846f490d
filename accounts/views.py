from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from accounts import reauth, throttle
from accounts.client_ip import client_ip
from accounts.forms import ConfirmPasswordForm, SignupForm
from accounts.selectors import confirmation_pending
from accounts.services import ConfirmationInvalid, EmailTaken, confirmation_send, email_confirm, user_signup

SENT = "We sent a confirmation link to {email}. Confirm your e-mail to get your starting credits."
NOT_SENT = "We could not send the confirmation e-mail just now. Send it again from your channels page."


def _throttled(request: HttpRequest, what: str) -> HttpResponse:
    return render(request, "registration/throttled.html", {"what": what}, status=429)


def _send_confirmation(request: HttpRequest, user) -> None:
    def link_for(token: str) -> str:
        return request.build_absolute_uri(reverse("confirm-email", kwargs={"token": token}))

    if confirmation_send(user=user, link_for=link_for):
        messages.info(request, SENT.format(email=user.email))
    else:
        messages.warning(request, NOT_SENT)


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_ENABLED:
        raise Http404("Sign-up is closed")
    if request.user.is_authenticated:
        return redirect("dashboard:channel-list")
    # Every attempt counts, not only the successful ones: the form also says whether an address has an account.
    if request.method == "POST" and not throttle.hit("signup", client_ip(request), settings.SIGNUP_RATE):
        return _throttled(request, "sign-ups")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_signup(email=form.cleaned_data["email"], password=form.cleaned_data["password1"])
        except EmailTaken:
            form.add_error("email", "An account with this email already exists. Log in instead.")
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Create your first channel to get an API key.")
            _send_confirmation(request, user)
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
        action = reauth.pop_action(request)
        if action:  # finish what the owner started: the browser posts it again (app.js submits this form)
            return render(request, "registration/continue_action.html", {"action": action})
        return redirect(_safe_next(request))
    return render(request, "registration/confirm_password.html", {"form": form, "next": _safe_next(request)})


@sensitive_variables("token")
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners that open links must not spend the link."""
    if request.method == "POST":
        try:
            email_confirm(token=token)
        except ConfirmationInvalid:
            return render(request, "registration/confirm_email.html", {"invalid": True}, status=400)
        messages.success(request, "Your e-mail is confirmed. Your starting credits go to your first channel.")
        return redirect("dashboard:channel-list" if request.user.is_authenticated else "login")
    return render(request, "registration/confirm_email.html", {"invalid": False})


@login_required
@require_POST
def resend_confirmation(request: HttpRequest) -> HttpResponse:
    if not confirmation_pending(request.user):
        messages.info(request, "Your e-mail is confirmed already.")
        return redirect("dashboard:channel-list")
    # Per account and per address: each resend is a mail we send on someone's behalf.
    rate = settings.CONFIRMATION_RESEND_RATE
    if not (throttle.hit("resend-user", request.user.email, rate) and throttle.hit("resend-ip", client_ip(request), rate)):
        return _throttled(request, "confirmation e-mails")
    _send_confirmation(request, request.user)
    return redirect("dashboard:channel-list")
