"""/dashboard/org/<id>/usage/: the organisation's usage, routed in the teams namespace by dashboard/organisation_urls.py."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard import charts
from dashboard.organisation_usage import organisation_usage
from teams.policy import requires

RANGES = ("7", "30", "90")  # the date-range picker, in days, as on a channel's usage page


@requires("org.usage")
def org_usage(request: HttpRequest, org_id) -> HttpResponse:
    days = int(request.GET["days"]) if request.GET.get("days") in RANGES else None
    result = organisation_usage(request.organisation, **({"days": days} if days else {}))
    context = {
        "org": request.organisation,
        "usage": result,
        "summary": result.usage.summary,
        "charts": charts.usage_charts(result.usage.days),
        "ranges": RANGES,
        "days": result.days,
    }
    return render(request, "teams/usage.html", context)
