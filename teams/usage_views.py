from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from teams.policy import requires
from teams.usage import organisation_usage


@requires("org.usage")
def org_usage(request: HttpRequest, org_id) -> HttpResponse:
    return render(request, "teams/usage.html", {"org": request.organisation, "usage": organisation_usage(request.organisation)})
