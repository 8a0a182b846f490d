"""An organisation's SSO settings page, its domains' verification, a member's link of their own account, and the
sign-in through its identity provider (teams/sso.py)."""

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.utils.http import urlencode

from accounts import reauth
from teams import audit, current, services, sso, sso_domains

from teams.forms import SsoForm
from teams.models import SsoConfig, SsoDomain
from teams.policy import requires
from teams.sso_services import SHOWN, SsoSaveRefused, sso_save


@sensitive_post_parameters("client_secret")
@requires("org.sso")
@require_http_methods(["GET", "POST"])
def sso_settings(request: HttpRequest, org_id) -> HttpResponse:
    org = request.organisation
    config = SsoConfig.objects.filter(organisation=org).first()
    initial = {name: getattr(config, name) for name in SHOWN} if config else {}
    domains = list(SsoDomain.objects.filter(organisation=org))
    initial["domains"] = ", ".join(d.domain for d in domains)
    form = SsoForm(request.POST or None, initial=initial, has_secret=bool(config))
    if request.method == "POST" and form.is_valid():
        try:
            sso_save(organisation=org, actor=request.user, request=request, **form.cleaned_data)
        except SsoSaveRefused as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, "SSO settings saved.")
            return redirect("teams:sso", org_id=org.public_id)
    login_url = request.build_absolute_uri(reverse("sso-start", kwargs={"org_id": org.public_id}))
    callback_url = request.build_absolute_uri(reverse("sso-callback"))
    rows = [{"domain": d, "record_name": sso_domains.record_name(d), "record_value": sso_domains.record_value(d)}
            for d in domains]
    return render(request, "teams/sso.html", {"org": org, "form": form, "config": config, "login_url": login_url,
                                              "callback_url": callback_url, "domains": rows})


@requires("org.sso")
@require_POST
def sso_domain_check(request: HttpRequest, org_id, domain_id: int) -> HttpResponse:
    """Look the domain's TXT record up now, and verify the domain if it is there."""
    domain = get_object_or_404(SsoDomain, pk=domain_id, organisation=request.organisation)
    try:
        found = sso_domains.domain_check_dns(domain=domain, actor=request.user, request=request)
    except sso_domains.DomainTaken as exc:
        messages.error(request, str(exc))
    else:
        if found:
            messages.success(request, f"{domain.domain} is verified.")
        else:
            messages.error(request, f"The TXT record for {domain.domain} was not found (DNS changes can take a while).")
    return redirect("teams:sso", org_id=request.organisation.public_id)


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
