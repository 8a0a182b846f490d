"""An organisation's single sign-on settings (its identity provider, e-mail domains, default role) and its domains'
verification by DNS. The sign-in itself, and a member's link of their account, are teams/sso_views.py."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.team_forms import SsoForm
from teams import sso_domains
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
