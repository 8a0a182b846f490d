"""An organisation's SSO settings page, and the sign-in through its identity provider (teams/sso.py)."""

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from teams import audit, current, services, sso

from teams.forms import SsoForm
from teams.models import SsoConfig
from teams.policy import requires
from teams.sso_services import SHOWN, sso_save


@sensitive_post_parameters("client_secret")
@requires("org.sso")
@require_http_methods(["GET", "POST"])
def sso_settings(request: HttpRequest, org_id) -> HttpResponse:
    org = request.organisation
    config = SsoConfig.objects.filter(organisation=org).first()
    initial = {name: getattr(config, name) for name in SHOWN} if config else {}
    if config:
        initial["allowed_domains"] = ", ".join(config.allowed_domains)
    form = SsoForm(request.POST or None, initial=initial, has_secret=bool(config))
    if request.method == "POST" and form.is_valid():
        sso_save(organisation=org, actor=request.user, request=request, **form.cleaned_data)
        messages.success(request, "SSO settings saved.")
        return redirect("teams:sso", org_id=org.public_id)
    login_url = request.build_absolute_uri(reverse("sso-start", kwargs={"org_id": org.public_id}))
    callback_url = request.build_absolute_uri(reverse("sso-callback"))
    return render(request, "teams/sso.html", {"org": org, "form": form, "config": config, "login_url": login_url,
                                              "callback_url": callback_url})


SESSION_KEY = "sso_pending"


@never_cache
@require_GET
def sso_start(request: HttpRequest, org_id) -> HttpResponse:
    """Send the browser to the organisation's identity provider."""
    config = SsoConfig.objects.select_related("organisation").filter(organisation__public_id=org_id).first()
    if config is None:
        raise Http404()
    try:
        url, pending = sso.start(config, redirect_uri=request.build_absolute_uri(reverse("sso-callback")))
    except sso.SsoRefused as exc:
        return _refused(request, exc.reason)
    request.session[SESSION_KEY] = pending
    return redirect(url)


@never_cache
@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    """The provider's answer: check it, log the person in, make them a member with the default role if new."""
    pending = request.session.pop(SESSION_KEY, None)
    if not pending:
        return _refused(request, "No sign-in was started from this browser.")
    config = SsoConfig.objects.select_related("organisation").filter(organisation__public_id=pending["org"]).first()
    if config is None:
        raise Http404()
    try:
        user = sso.finish(request, pending, config)
    except sso.SsoRefused as exc:
        return _refused(request, exc.reason)
    org = config.organisation
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    services.membership_add(organisation=org, user=user, role=config.default_role, actor=user, request=request, via="sso")
    audit.record(organisation=org, actor=user, action="member.login.sso", request=request, target=f"member {user.email}")
    current.switch(request, org)
    return redirect("dashboard:channel-list")


def _refused(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "teams/sso_refused.html", {"reason": reason}, status=403)
