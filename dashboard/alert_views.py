"""Owner dashboard: a channel's alert thresholds, webhook (secret shown once, rotatable) and delivery log."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from alerts import selectors, services
from dashboard.alert_forms import AlertSettingsForm
from teams.policy import decided_channel, requires


@requires("alerts.manage")
def alerts_page(request: HttpRequest, public_id) -> HttpResponse:
    channel = decided_channel(request, public_id)
    prefs = services.settings_for(channel)
    form = AlertSettingsForm(request.POST or None, instance=prefs)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        form.save(commit=False)
        prefs.save(update_fields=["daily_limit_pct", "error_rate_pct", "email_enabled"])
        new_secret = services.webhook_set(channel=channel, url=form.cleaned_data["webhook_url"])
        if new_secret is None:
            messages.success(request, "Alert settings saved.")
            return redirect("dashboard:alerts", public_id=channel.public_id)
    return render(request, "alerts/alerts.html", page_context(channel, form, new_secret))


@requires("alerts.manage")
@require_POST
def webhook_secret_rotate(request: HttpRequest, public_id) -> HttpResponse:
    channel = decided_channel(request, public_id)
    new_secret = services.webhook_secret_rotate(channel=channel)
    form = AlertSettingsForm(instance=services.settings_for(channel))
    return render(request, "alerts/alerts.html", page_context(channel, form, new_secret))


def page_context(channel, form, new_secret: str | None) -> dict:
    prefs = services.settings_for(channel)
    return {
        "channel": channel,
        "tab": "alerts",
        "form": form,
        "prefs": prefs,
        "new_secret": new_secret,  # shown on this one response only; never stored in plaintext
        "deliveries": selectors.recent_deliveries(channel),
        "events": selectors.recent_events(channel),
    }
