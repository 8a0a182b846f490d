"""/dashboard/org/<id>/credits/: the organisation's balance and its channels'; owners and admins move credits.
Routed in the teams namespace by dashboard/organisation_urls.py; a channel's draw switch by dashboard/urls.py."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from channels_app.organisation_credits import channel_set_draws, credits_move, place_name
from dashboard.channel_forms import ORGANISATION, CreditMoveForm
from teams.credits import CreditMoveRefused
from teams.policy import requires


@requires("org.credits")
@require_http_methods(["GET", "POST"])
def org_credits(request: HttpRequest, org_id) -> HttpResponse:
    org = request.organisation
    initial = {"destination": request.GET.get("to", ""), "source": ORGANISATION}
    form = CreditMoveForm(request.POST or None, organisation=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        source, destination = form.place(form.cleaned_data["source"]), form.place(form.cleaned_data["destination"])
        try:
            moved = credits_move(organisation=org, source=source, destination=destination,
                                 amount=form.cleaned_data["amount"], actor=request.user, request=request)
        except CreditMoveRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Moved {moved.amount:,} credits to {place_name(destination)}: it has {moved.destination_after:,} now.")
            return redirect(reverse("teams:credits", kwargs={"org_id": org.public_id}))
    org.refresh_from_db(fields=["credits"])
    context = {"org": org, "form": form, "channels": list(form.channels.values())}
    return render(request, "teams/credits.html", context, status=400 if form.errors else 200)


@requires("org.credits")
@require_POST
def credit_draw(request: HttpRequest, public_id) -> HttpResponse:
    """Switch the channel to draw its chats' credits from its organisation's balance ("on") or from its own ("off")."""
    channel, org = request.channel, request.organisation
    draws = request.POST.get("draws") == "on"
    try:
        changed = channel_set_draws(organisation=org, channel=channel, draws=draws, actor=request.user, request=request)
    except CreditMoveRefused as exc:
        messages.error(request, exc.message)
    else:
        if changed:
            messages.success(request, f"“{channel.name}” now spends "
                             + ("the organisation's credits." if draws else "its own credits."))
    return redirect(reverse("teams:credits", kwargs={"org_id": org.public_id}))
