"""Single sign-on's flows: a member's link of their own account, and the sign-in through the organisation's identity
provider (teams/sso.py). The organisation's SSO settings page is the dashboard's (dashboard/sso_settings_views.py)."""

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts import reauth
from teams import audit, current, services, sso
from teams.models import SsoConfig
from teams.policy import requires


@never_cache
@requires("org.sso.link")
@require_http_methods(["GET", "POST"])
def sso_link(request: HttpRequest, org_id) -> HttpResponse:
    """A member links their own account to the organisation's identity provider: a page to confirm, a fresh password,
    then the provider's sign-in. From then on SSO signs them in to this account (teams/sso_accounts.py)."""
    org = request.organisation
    config = SsoConfig.objects.select_related("organisation").filter(organisation=org).first()
    if config is None:
        raise Http404()
    if request.method == "POST":
        if not reauth.is_recent(request):
            messages.info(request, "For your security, confirm your password to link single sign-on.")
            return redirect(f"{reverse('confirm-password')}?{urlencode({'next': request.path})}")
        try:
            url, pending = sso.start(config, redirect_uri=request.build_absolute_uri(reverse("sso-callback")),
                                     link_user=request.user)
        except sso.SsoRefused as exc:
            return _refused(request, exc.reason)
        request.session[SESSION_KEY] = pending
        return redirect(url)
    linked = request.user.sso_identities.filter(organisation=org, issuer=config.issuer).exclude(subject="").exists()
    return render(request, "teams/sso_link.html", {"org": org, "linked": linked})


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
    org = config.organisation
    link_user = None
    if pending.get("link") is not None:
        if not request.user.is_authenticated or request.user.pk != pending["link"]:
            return _refused(request, "Sign in with your password again to link single sign-on.")
        link_user = request.user
    try:
        user = sso.finish(request, pending, config, link_user=link_user)
    except sso.SsoRefused as exc:
        return _refused(request, exc.reason)
    if link_user is not None:
        messages.success(request, "Single sign-on is linked to your account.")
        return redirect("teams:sso-link", org_id=org.public_id)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    services.membership_add(organisation=org, user=user, role=config.default_role, actor=user, request=request, via="sso")
    audit.record(organisation=org, actor=user, action="member.login.sso", request=request, target=f"member {user.email}")
    current.switch(request, org)
    return redirect("dashboard:channel-list")


def _refused(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "teams/sso_refused.html", {"reason": reason}, status=403)
