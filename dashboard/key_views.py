"""Owner dashboard: revealing, rotating and revoking a channel's keys.

Revealing and rotating show a key's plaintext, so both need a recent password
entry (accounts.reauth) and both leave a KeyReveal record. Responses that
carry plaintext are never cached.
"""

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import reauth
from channels_app import shown_keys
from channels_app.models import ApiKey
from channels_app.services import api_key_create, api_key_reveal, api_key_revoke, api_key_rotate
from dashboard import selectors
from dashboard.channel_forms import ApiKeyForm, RotateKeyForm
from gateway.infra.endpoints import API
from gateway.infra.errors import error_json
from teams import audit
from teams.policy import requires


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# Pages a reveal may come from (the form's `return_to`), to go back to after the password.
RETURN_PAGES = {"integrate": "dashboard:channel-integrate"}


def _back_url(request: HttpRequest, channel) -> str:
    page = RETURN_PAGES.get(request.POST.get("return_to", ""), "dashboard:channel-detail")
    return reverse(page, kwargs={"public_id": channel.public_id})


def _reauth_url(request: HttpRequest, channel) -> str:
    return f"{reverse('confirm-password')}?{urlencode({'next': _back_url(request, channel)})}"


def _ask_for_password(request: HttpRequest, channel, *, label: str) -> HttpResponse:
    url = _reauth_url(request, channel)
    reauth.remember_action(request, label=label)  # replayed once the password is confirmed
    if _wants_json(request):
        return error_json(API, 403, "Confirm your password first.", reauth_url=url)
    messages.info(request, "For your security, confirm your password to see a key.")
    return redirect(url)


@never_cache
@requires("key.reveal")
@require_POST
def key_reveal(request: HttpRequest, public_id, key_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    api_key = selectors.get_key_for_channel(channel, key_id)
    if not api_key.is_usable():
        return error_json(API, 410, "This key is revoked.") if _wants_json(request) else redirect(
            _back_url(request, channel)
        )
    if not reauth.is_recent(request):
        return _ask_for_password(request, channel, label="Reveal key")
    plaintext = api_key_reveal(api_key=api_key, user=request.user, ip_address=get_client_ip_address(request) or "")
    audit.record_channel(request, "key.reveal", detail=api_key.masked)
    if _wants_json(request):
        return JsonResponse({"key": plaintext, "masked": api_key.masked})
    shown_keys.remember(request, api_key)
    if request.POST.get("return_to") == "integrate":
        return redirect(_back_url(request, channel))
    return redirect("dashboard:key-shown", public_id=channel.public_id, key_id=api_key.public_id)


@never_cache
@requires("key.rotate")
@require_POST
def key_rotate(request: HttpRequest, public_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    form = RotateKeyForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("grace", []):
            messages.error(request, error)
        return redirect("dashboard:channel-detail", public_id=channel.public_id)
    # One named key (its id posted as `key`), or without one every open key of the channel.
    one = selectors.get_open_key_for_channel(channel, request.POST["key"]) if request.POST.get("key") else None
    if not reauth.is_recent(request):
        return _ask_for_password(request, channel, label="Rotate key")
    old_key = one or selectors.card_key(channel)
    issued = api_key_rotate(
        channel=channel,
        grace=form.grace_period,
        revealed_to=request.user,
        ip_address=get_client_ip_address(request) or "",
        api_key=one,
    )
    shown_keys.remember(request, issued.api_key, rotated=True, old_key=old_key)
    audit.record_channel(
        request, "key.rotate", changes={"key": [old_key.masked if old_key else None, issued.api_key.masked],
                                        "grace": [None, form.cleaned_data["grace"]]},
    )
    return redirect("dashboard:key-shown", public_id=channel.public_id, key_id=issued.api_key.public_id)


@never_cache
@requires("key.reveal")
def key_shown(request: HttpRequest, public_id, key_id) -> HttpResponse:
    """The GET after a reveal or a rotation: the key in full once, masked (with Reveal) on a reload."""
    channel = selectors.get_channel_for_user(request, public_id)
    api_key = selectors.get_key_for_channel(channel, key_id)
    shown = shown_keys.take(request, api_key)
    old_key = selectors.get_key_for_channel(channel, shown["old"]) if shown and shown["old"] else None
    context = {
        "channel": channel,
        "api_key": api_key,
        "plaintext": api_key.reveal() if shown else None,
        "old_key": old_key,
        "rotated": bool(shown and shown["rotated"]),
    }
    return render(request, "channels/key_shown.html", context)


@requires("key.revoke")
@require_POST
def key_revoke(request: HttpRequest, public_id, key_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    api_key = selectors.get_key_for_channel(channel, key_id)
    if api_key.is_usable():
        api_key_revoke(api_key=api_key)
        audit.record_channel(request, "key.revoke", detail=f"{api_key.name} {api_key.masked}")
        messages.success(request, f"Key “{api_key.name}” ({api_key.masked}) is revoked: requests with it now get 401.")
    else:
        messages.info(request, f"Key {api_key.masked} was already revoked.")
    return redirect("dashboard:channel-detail", public_id=channel.public_id)


@never_cache
@requires("key.create")
@require_POST
def key_create(request: HttpRequest, public_id) -> HttpResponse:
    """Another named key beside the channel's others, shown once (so it needs a recent password, like a reveal)."""
    channel = selectors.get_channel_for_user(request, public_id)
    form = ApiKeyForm(request.POST, instance=ApiKey(channel=channel))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(f"{reverse('dashboard:channel-detail', kwargs={'public_id': channel.public_id})}#new-key")
    if not reauth.is_recent(request):
        return _ask_for_password(request, channel, label="Create key")
    issued = api_key_create(
        channel=channel, revealed_to=request.user, ip_address=get_client_ip_address(request) or "", **form.cleaned_data
    )
    shown_keys.remember(request, issued.api_key)
    audit.record_channel(request, "key.create", detail=f"{issued.api_key.name} {issued.api_key.masked}",
                         changes=_limits({}, form.cleaned_data))
    return redirect("dashboard:key-shown", public_id=channel.public_id, key_id=issued.api_key.public_id)


@requires("key.edit")
@require_POST
def key_edit(request: HttpRequest, public_id, key_id) -> HttpResponse:
    """A key's name and its own limits; the key itself stays as it is."""
    channel = selectors.get_channel_for_user(request, public_id)
    api_key = selectors.get_key_for_channel(channel, key_id)
    before = {name: getattr(api_key, name) for name in ApiKeyForm.Meta.fields}
    form = ApiKeyForm(request.POST, instance=api_key)
    if form.is_valid():
        form.save()
        audit.record_channel(request, "key.edit", detail=api_key.masked, changes=_limits(before, form.cleaned_data))
        messages.success(request, f"Key “{api_key.name}” saved.")
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(f"{reverse('dashboard:channel-detail', kwargs={'public_id': channel.public_id})}#keys-list")


def _limits(before: dict, after: dict) -> dict:
    return audit.diff(before, {name: after.get(name) for name in ApiKeyForm.Meta.fields})
