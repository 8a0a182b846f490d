"""Deleting a channel from its overview page: the organisation owner's decision, with everything it holds."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard import selectors
from teams import audit
from teams.policy import requires


@requires("channel.delete")
@require_POST
def channel_delete(request: HttpRequest, public_id) -> HttpResponse:
    """Delete the channel, its keys (they stop working at once: the key cache is invalidated on delete),
    conversations and credits. The organisation's audit log keeps the record."""
    channel = selectors.get_channel_for_user(request, public_id)
    if request.POST.get("confirm_name", "") != channel.name:
        messages.error(request, "Type the channel's name exactly to delete it.", extra_tags="channel-delete")
        return redirect(reverse("dashboard:channel-detail", kwargs={"public_id": channel.public_id}) + "#delete")
    with transaction.atomic():
        audit.record_channel(request, "channel.delete", changes={"credits": [channel.credits, None]})
        channel.delete()
    messages.success(request, f"“{channel.name}” is deleted, with its keys and conversations.")
    return redirect("dashboard:channel-list")
