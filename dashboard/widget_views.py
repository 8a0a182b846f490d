"""Owner dashboard: the channel's embeddable widget (docs/widget.md).

Allowed origins, looks and per-visitor limits, and the publishable key with
its embed snippet. The publishable key is public by design: it is shown in
full, with no password re-entry and no reveal record.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from channels_app.models import Channel
from channels_app.refused_origins import refused_origins_for
from channels_app.selectors import publishable_key_current
from channels_app.services import (
    PublishableKeyExists,
    channel_set_allowed_origins,
    channel_update,
    publishable_key_issue,
    publishable_key_revoke,
    publishable_key_rotate,
)
from dashboard import selectors
from dashboard.channel_forms import AllowedOriginsForm, RotateKeyForm, WidgetSettingsForm
from teams import audit
from teams.policy import requires

WIDGET_SCRIPT_PATH = "/static/widget.js"


def embed_snippet(*, origin: str, key: str) -> str:
    """The tag an owner pastes into their pages."""
    return f'<script src="{origin}{WIDGET_SCRIPT_PATH}" data-key="{key}" async></script>'


def _render_page(
    request: HttpRequest,
    channel: Channel,
    *,
    origins_form: AllowedOriginsForm | None = None,
    settings_form: WidgetSettingsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    current = publishable_key_current(channel=channel)
    origin = request.build_absolute_uri("/").rstrip("/")  # this server as the owner reached it
    context = {
        "channel": channel,
        "current_key": current,
        "working_keys": selectors.publishable_keys_working(channel),
        "snippet": embed_snippet(origin=origin, key=current.key) if current else "",
        "origins_form": origins_form or AllowedOriginsForm(initial={"allowed_origins": "\n".join(channel.allowed_origins)}),
        "settings_form": settings_form or WidgetSettingsForm(instance=channel),
        "rotate_form": RotateKeyForm(),
        "refused_origins": refused_origins_for(channel=channel),
        "tab": "widget",
    }
    return render(request, "channels/widget.html", context, status=status)


def _back(channel: Channel, anchor: str = "") -> HttpResponse:
    response = redirect("dashboard:channel-widget", public_id=channel.public_id)
    response["Location"] += f"#{anchor}" if anchor else ""
    return response


@requires("widget.view")
@require_GET
def widget_page(request: HttpRequest, public_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    return _render_page(request, channel)


@requires("widget.edit")
@require_POST
def widget_origins(request: HttpRequest, public_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    form = AllowedOriginsForm(request.POST)
    before = list(channel.allowed_origins)
    if form.is_valid():
        try:
            channel_set_allowed_origins(channel=channel, allowed_origins=form.cleaned_data["allowed_origins"])
        except ValidationError as exc:  # the form checks the same rules; this keeps the service the last word
            form.add_error("allowed_origins", exc)
    if not form.is_valid():
        return _render_page(request, channel, origins_form=form)
    if before != channel.allowed_origins:
        audit.record_channel(request, "widget.origins", changes=audit.diff({"allowed_origins": before}, {"allowed_origins": channel.allowed_origins}))
    count = len(channel.allowed_origins)
    if count:
        messages.success(request, f"Allowed origins saved: the widget works on {count} site{'s' if count > 1 else ''}.")
    else:
        messages.warning(request, "Allowed origins cleared: the widget now works nowhere.")
    return _back(channel, "origins")


@requires("widget.edit")
@require_POST
def widget_settings(request: HttpRequest, public_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    form = WidgetSettingsForm(request.POST, instance=channel)
    if not form.is_valid():
        channel.refresh_from_db()  # the form's validation wrote its input onto the instance
        return _render_page(request, channel, settings_form=form)
    changed = {name: form.cleaned_data[name] for name in form.changed_data}
    if changed:
        channel_update(channel=channel, **changed)
        audit.record_channel(request, "widget.settings", changes=audit.form_changes(form))
    messages.success(request, "Widget settings saved." if changed else "Nothing changed.")
    return _back(channel, "appearance")


@requires("widget.edit")
@require_POST
def widget_key_create(request: HttpRequest, public_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    try:
        issued = publishable_key_issue(channel=channel)
    except PublishableKeyExists:
        messages.info(request, "This channel already has a publishable key: rotate it to get a new one.")
    else:
        audit.record_channel(request, "widget.key.create", detail=issued.key)
        messages.success(request, "Publishable key created. Put the snippet below into your pages.")
    return _back(channel, "key")


@requires("widget.edit")
@require_POST
def widget_key_rotate(request: HttpRequest, public_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    form = RotateKeyForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("grace", []):
            messages.error(request, error)
        return _back(channel, "key")
    had_key = publishable_key_current(channel=channel) is not None
    publishable_key_rotate(channel=channel, grace=form.grace_period)
    audit.record_channel(request, "widget.key.rotate", changes={"grace": [None, form.cleaned_data["grace"]]})
    if not had_key:
        messages.success(request, "Publishable key created. Put the snippet below into your pages.")
    elif form.grace_period:
        grace = dict(form.fields["grace"].choices)[form.cleaned_data["grace"]]
        messages.success(
            request, f"New publishable key issued. Update the snippet in your pages: the previous key keeps working for {grace}."
        )
    else:
        messages.success(request, "New publishable key issued; the previous one stopped working. Update the snippet in your pages.")
    return _back(channel, "key")


@requires("widget.edit")
@require_POST
def widget_key_revoke(request: HttpRequest, public_id, key_id) -> HttpResponse:
    channel = selectors.get_channel_for_user(request, public_id)
    publishable = selectors.get_publishable_key_for_channel(channel, key_id)
    if publishable.is_usable():
        publishable_key_revoke(publishable_key=publishable)
        audit.record_channel(request, "widget.key.revoke", detail=publishable.key)
        messages.success(request, "Publishable key revoked: widgets embedding it stop working at once.")
    else:
        messages.info(request, "That publishable key was already revoked.")
    return _back(channel, "key")
