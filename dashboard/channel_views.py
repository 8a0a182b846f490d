"""Owner dashboard: the channels page, creating, viewing and editing a channel, its integration page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import reauth
from accounts.selectors import confirmation_pending
from channels_app import integration, model_retirement, shown_keys
from channels_app.credits import latest_decision, pending_request
from channels_app.models import ApiKey, Channel
from channels_app.providers import catalog
from channels_app.services import ChannelCapReached, channel_create, channel_update
from dashboard import selectors
from dashboard.channel_forms import ApiKeyForm, ChannelForm, ChannelSettingsForm, CreditRequestForm, RotateKeyForm
from teams import audit
from teams.policy import requires


@requires("org.view")
def channel_list(request: HttpRequest) -> HttpResponse:
    cards = selectors.channel_cards_for_organisation(request.organisation)
    # Starting credits go to the user's own channels: another organisation's list is not about them.
    own = request.organisation.personal_for_id == request.user.pk
    context = {"cards": cards, "confirmation_pending": own and confirmation_pending(request.user)}
    return render(request, "channels/list.html", context)


@login_required
@require_POST
def notice_dismiss(request: HttpRequest, notice_id: int) -> HttpResponse:
    # A notice is its user's own (whatever organisation they work in): the service finds only theirs.
    if not model_retirement.notice_dismiss(owner=request.user, notice_id=notice_id):
        raise Http404()
    return redirect("dashboard:channel-list")


@requires("channel.create")
@require_http_methods(["GET", "POST"])
def channel_new(request: HttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None, initial={"model": catalog.default_model_id()})
    if request.method == "POST" and form.is_valid():
        try:
            channel, _issued = channel_create(owner=request.user, organisation=request.organisation, **form.cleaned_data)
            request.channel = channel
            audit.record_channel(request, "channel.create")
        except ChannelCapReached as exc:
            form.add_error(None, str(exc))
            return render(request, "channels/form.html", {"form": form, "creating": True})
        messages.success(request, f"“{channel.name}” is ready, with its first API key. Reveal it below to copy it.")
        return redirect("dashboard:channel-detail", public_id=channel.public_id)
    return render(request, "channels/form.html", {"form": form, "creating": True})


@requires("channel.view")
def channel_detail(request: HttpRequest, public_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    context = {
        "channel": channel,
        "card": selectors.channel_card(channel),
        "keys": selectors.channel_keys(channel),
        "reveals": selectors.key_reveals(channel),
        "rotate_form": RotateKeyForm(),
        "key_form": ApiKeyForm(initial={"name": ""}),
        "credit_form": CreditRequestForm(),
        "credit_pending": pending_request(channel),
        "credit_decided": latest_decision(channel),
        "recent_login": reauth.is_recent(request),
        "tab": "overview",
    }
    return render(request, "channels/detail.html", context)


@requires("channel.edit")
@require_http_methods(["GET", "POST"])
def channel_edit(request: HttpRequest, public_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    form = ChannelSettingsForm(request.POST or None, instance=channel)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        if changed:
            channel_update(channel=channel, **changed)
            audit.record_channel(request, "channel.settings", changes=audit.form_changes(form))
        messages.success(request, "Channel settings saved." if changed else "Nothing changed.")
        return redirect("dashboard:channel-detail", public_id=channel.public_id)
    channel.refresh_from_db()  # the form's validation wrote its input onto the instance
    return render(request, "channels/form.html", {"form": form, "channel": channel, "creating": False, "tab": "settings"})


@never_cache
@requires("channel.integrate")
def channel_integrate(request: HttpRequest, public_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    api_key = selectors.card_key(channel)
    shown = shown_keys.take(request, api_key)  # just revealed from this page (post/redirect/get)
    return render_integration(request, channel, api_key=api_key, plaintext=api_key.reveal() if shown else None)


def render_integration(
    request: HttpRequest, channel: Channel, *, api_key: ApiKey | None = None, plaintext: str | None = None
) -> HttpResponse:
    """The integration page. Only the GET right after a reveal passes `plaintext`: then every example carries the key."""
    api_key = api_key or selectors.card_key(channel)
    page_url = reverse("dashboard:channel-integrate", kwargs={"public_id": channel.public_id})
    origin = request.build_absolute_uri("/").rstrip("/")  # this server as the client reached it
    context = {
        "channel": channel,
        "api_key": api_key,
        "plaintext": plaintext,
        "key_text": plaintext or (api_key.masked if api_key else integration.PLACEHOLDER_KEY),
        "origin": origin,
        "examples": integration.channel_examples(origin=origin),
        "openai_examples": integration.openai_examples(origin=origin),
        "recent_login": reauth.is_recent(request),
        "reauth_url": f"{reverse('confirm-password')}?{urlencode({'next': page_url})}",
        "tab": "integrate",
    }
    return render(request, "channels/integrate.html", context)
