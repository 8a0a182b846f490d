"""The activity log pages: a channel's requests, and its organisation's over all its channels, with a CSV export.

Analysts may read them (the "activity.view" action, teams/roles.py); rows name keys, never show them.
"""

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from conversations.models import Activity
from dashboard import activity_export
from dashboard.activity_selectors import Filters, activity_keys, activity_models, activity_page, activity_rows
from teams.policy import decided_channel, requires

PERIODS = {"1h": dt.timedelta(hours=1), "24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7),
           "30d": dt.timedelta(days=30)}


class ActivityFilterForm(forms.Form):
    outcome = forms.ChoiceField(label="Status", required=False, choices=[("", "Any")] + Activity.Outcome.choices)
    status = forms.IntegerField(label="Code", required=False, min_value=100, max_value=599,
                                widget=forms.NumberInput(attrs={"placeholder": "e.g. 429"}))
    key = forms.ChoiceField(label="Key", required=False)
    model = forms.ChoiceField(label="Model", required=False)
    channel = forms.ChoiceField(label="Channel", required=False)
    period = forms.ChoiceField(label="Time", required=False, choices=[
        ("", "Any time"), ("1h", "Last hour"), ("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"),
    ])
    since = forms.DateTimeField(label="From (UTC)", required=False,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    until = forms.DateTimeField(label="Until (UTC)", required=False,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))

    def __init__(self, data, *, keys, models, channels=None):
        super().__init__(data)
        self.keys_by_public_id = {str(k.public_id): k for k in keys}
        self.channels_by_public_id = {str(c.public_id): c for c in channels or ()}
        many_channels = channels is not None
        self.fields["key"].choices = [("", "Any")] + [
            (str(k.public_id), f"{k.channel.name}: {k.name} ({k.masked})" if many_channels else f"{k.name} ({k.masked})")
            for k in keys
        ]
        asked = (data or {}).get("model", "")
        names = models + ([asked] if asked and asked not in models else [])
        self.fields["model"].choices = [("", "Any")] + [(name, name) for name in names]
        if channels is None:
            del self.fields["channel"]
        else:
            self.fields["channel"].choices = [("", "All")] + [(str(c.public_id), c.name) for c in channels]

    def filters(self, now: dt.datetime) -> Filters:
        """The filters the form asks for; an invalid field narrows nothing (the form shows its error)."""
        if not self.is_bound:
            return Filters()
        if not self.is_valid():
            data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        else:
            data = self.cleaned_data
        key = self.keys_by_public_id.get(data.get("key") or "")
        channel = self.channels_by_public_id.get(data.get("channel") or "")
        since = data.get("since")
        if data.get("period"):
            since = max(since, now - PERIODS[data["period"]]) if since else now - PERIODS[data["period"]]
        return Filters(
            outcome=data.get("outcome") or "", status=data.get("status"), key_id=key.pk if key else None,
            key_channel_id=key.channel_id if key else None,
            model=data.get("model") or "", channel_id=channel.pk if channel else None, since=since,
            until=data.get("until"),
        )


def _query(request: HttpRequest) -> str:
    """The page's filters as a query string, without its cursor: for the next page's link and the export."""
    return urlencode([(name, value) for name, value in request.GET.items() if name != "before" and value])


def _render(request: HttpRequest, *, template_context: dict, rows, form) -> HttpResponse:
    page = activity_page(rows, before=request.GET.get("before"))
    context = template_context | {"page": page, "form": form, "query": _query(request), "filtered": bool(_query(request))}
    return render(request, "conversations/activity.html", context)


@requires("activity.view")
def channel_activity(request: HttpRequest, public_id) -> HttpResponse:
    channel = decided_channel(request, public_id)
    form = ActivityFilterForm(request.GET or None, keys=activity_keys(channel=channel),
                              models=activity_models(channel=channel))
    rows = activity_rows(channel=channel, filters=form.filters(timezone.now()))
    return _render(request, template_context={"channel": channel, "tab": "activity", "scope": "channel"}, rows=rows,
                   form=form)


@requires("activity.view")
def channel_activity_export(request: HttpRequest, public_id) -> StreamingHttpResponse:
    channel = decided_channel(request, public_id)
    form = ActivityFilterForm(request.GET or None, keys=activity_keys(channel=channel),
                              models=activity_models(channel=channel))
    return _export(activity_rows(channel=channel, filters=form.filters(timezone.now())), f"activity-{channel.public_id}")


@requires("activity.view")
def organisation_activity(request: HttpRequest, org_id) -> HttpResponse:
    org = request.organisation
    form = _organisation_form(request, org)
    rows = activity_rows(organisation=org, filters=form.filters(timezone.now()))
    return _render(request, template_context={"org": org, "tab": "activity", "scope": "organisation"}, rows=rows,
                   form=form)


@requires("activity.view")
def organisation_activity_export(request: HttpRequest, org_id) -> StreamingHttpResponse:
    org = request.organisation
    form = _organisation_form(request, org)
    return _export(activity_rows(organisation=org, filters=form.filters(timezone.now())), f"activity-{org.public_id}")


def _organisation_form(request: HttpRequest, org) -> ActivityFilterForm:
    channels = list(org.channels.order_by("name"))
    return ActivityFilterForm(request.GET or None, keys=activity_keys(organisation=org),
                              models=activity_models(organisation=org), channels=channels)


def _export(rows, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(activity_export.stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.now():%Y%m%d-%H%M%S}.csv"'
    response["Cache-Control"] = "no-store"
    return response
