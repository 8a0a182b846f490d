from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

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
    login_url = request.build_absolute_uri(f"/sso/{org.public_id}/login/")
    callback_url = request.build_absolute_uri("/sso/callback/")
    return render(request, "teams/sso.html", {"org": org, "form": form, "config": config, "login_url": login_url,
                                              "callback_url": callback_url})
