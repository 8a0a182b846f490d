"""Owner dashboard: asking staff for more credits (granted in admin, channels_app/credits.py)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from channels_app.credits import CreditRequestPending, credit_request_create
from dashboard import selectors
from dashboard.channel_forms import CreditRequestForm
from teams import audit
from teams.policy import requires


@requires("channel.credits")
@require_POST
def credit_request(request: HttpRequest, public_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    form = CreditRequestForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            credit_request_create(channel=channel, user=request.user, **form.cleaned_data)
            audit.record_channel(request, "credits.request", changes={"amount": [None, form.cleaned_data["amount"]]})
        except CreditRequestPending:
            messages.info(request, "A request for this channel is already waiting for staff.")
        else:
            amount = form.cleaned_data["amount"]
            messages.success(request, f"Asked staff for {amount:,} credits. You will see here when they are granted.")
    return redirect(reverse("dashboard:channel-detail", kwargs={"public_id": channel.public_id}) + "#credits")
