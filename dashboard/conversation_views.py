"""Owner dashboard pages of one channel: its conversations, a transcript, its usage."""

from datetime import datetime, time
from datetime import timezone as dt_timezone
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from conversations.edge import feedback
from conversations.engine import erasure
from conversations.models import AuditEvent, Session
from dashboard import charts, export, links, transcripts, usage
from dashboard.rendering import render_markdown
from knowledge import selectors as knowledge_selectors
from teams import audit
from teams.policy import decided_channel, requires

MAX_SEARCH_LENGTH = 255
# PostgreSQL text cannot hold NUL, so a search containing one would be a database error (a 500);
# no session_id can contain it either, so it is refused as bad input instead.
NUL_IN_SEARCH = "Search text cannot contain NUL characters."


class DateRangeForm(forms.Form):
    """The conversations page's date filter: threads started on these UTC days (both included)."""

    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] > cleaned["until"]:
            raise forms.ValidationError("“From” must not be after “To”.")
        return cleaned


def _filters(request: HttpRequest) -> tuple[DateRangeForm, dict]:
    dates = DateRangeForm(request.GET)
    bounds = {"since": None, "until": None}
    if dates.is_valid():
        bounds = {"since": dates.cleaned_data["since"], "until": dates.cleaned_data["until"]}
    return dates, bounds


@requires("conversations.view")
def session_list(request: HttpRequest, public_id) -> HttpResponse:
    channel = decided_channel(request, public_id)
    search = request.GET.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    dates, bounds = _filters(request)
    context = {
        "channel": channel, "search": search, "dates": dates, "now": timezone.now(), "tab": "conversations",
        "audit_events": transcripts.recent_audit_events(channel=channel),
    }
    source = request.GET.get("source", "")
    source = source if source in Session.Source.values else ""
    context["source"] = source
    if "\x00" in search:
        context.update(search="", search_error=NUL_IN_SEARCH)
        return render(request, "conversations/sessions.html", context, status=400)
    page = transcripts.sessions_page(
        channel=channel, search=search, source=source or None, before=request.GET.get("before"), **bounds
    )
    rows = [
        (s, links.transcript_url(channel_public_id=channel.public_id, thread=s.thread, session_id=s.session_id, source=s.source))
        for s in page.object_list
    ]
    query = {
        k: v for k, v in {"q": search, "source": source, "since": bounds["since"], "until": bounds["until"]}.items() if v
    }
    context.update(
        page=page, rows=rows, filtered=bool(query), query=urlencode(query),
        export_query=urlencode({k: v for k, v in query.items() if k not in ("q", "source")}),
    )
    return render(request, "conversations/sessions.html", context)


@requires("conversations.export")
def session_export(request: HttpRequest, public_id, fmt: str) -> StreamingHttpResponse:
    """The channel's conversations (optionally those started between two days) as CSV or JSON Lines, streamed.

    The view is sync, like the dashboard's others; its body is an async iterator, which the ASGI handler
    streams from the event loop, each batch read in a database phase of its own (dashboard/export.py).
    """
    if fmt not in export.FORMATS:
        raise Http404("No such format")
    channel = decided_channel(request, public_id)
    _dates, bounds = _filters(request)
    content_type, extension = export.FORMATS[fmt]
    name = f"conversations-{channel.public_id}-{timezone.now():%Y%m%d-%H%M%S}.{extension}"
    response = StreamingHttpResponse(export.stream(channel=channel, fmt=fmt, **bounds), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@requires("conversations.erase")
@require_POST
def session_erase(request: HttpRequest, public_id) -> HttpResponse:
    """Erase every thread of one session (one namespace) and every copy of its text; back to the list."""
    channel = decided_channel(request, public_id)
    session_id, source = request.POST.get("session_id", ""), request.POST.get("source", "")
    if not session_id or "\x00" in session_id or source not in Session.Source.values:
        raise Http404("No such session")
    counts = erasure.session_erase(
        channel=channel, session_id=session_id, source=source, via=AuditEvent.Via.DASHBOARD, actor=request.user
    )
    threads = counts["threads"]
    # Counts only: what was erased stays erased, in this log too.
    audit.record_channel(request, "conversations.erase", changes={"threads": [threads, 0], "messages": [counts["messages"], 0]})
    messages.success(
        request,
        f"Session erased: {threads} thread{'s' if threads != 1 else ''} and {counts['messages']} message"
        f"{'s' if counts['messages'] != 1 else ''} deleted. The audit log below records it, without the content.",
    )
    return redirect("dashboard:session-list", public_id=channel.public_id)


@requires("conversations.view")
def transcript(request: HttpRequest, public_id, thread: int, session_id: str | None = None) -> HttpResponse:
    channel = decided_channel(request, public_id)
    if session_id is None:  # the `?session_id=` form (dashboard/links.py)
        session_id = request.GET.get("session_id")
        if not session_id:
            raise Http404("No session_id")
    # `?source=widget` names the widget's namespace; without it, the secret key's (so links made without it still open).
    source = request.GET.get("source", Session.Source.API)
    if source not in Session.Source.values:
        raise Http404("No such session")
    session = transcripts.get_thread_for_channel(channel=channel, source=source, session_id=session_id, thread=thread)
    transcript = [
        {
            "message": m,
            "html": render_markdown(m.content) if m.role == m.Role.ASSISTANT else None,
            "feedback": getattr(m, "feedback", None),
        }
        for m in transcripts.thread_transcript(session)
    ]
    # Which knowledge sources each reply was given (knowledge/): matched by the time its question arrived.
    grounded = knowledge_selectors.sources_by_question_time(channel, session.session_id)
    asked_at = None
    for item in transcript:
        item["sources"] = None  # not a grounded reply (the channel had no knowledge then)
        if item["message"].role == item["message"].Role.USER:
            asked_at = item["message"].created_at
        elif asked_at in grounded:
            item["sources"] = grounded[asked_at]
    context = {
        "channel": channel,
        "session": session,
        "expired": transcripts.is_expired(session),
        "transcript": transcript,
        "tab": "conversations",
    }
    return render(request, "conversations/transcript.html", context)


RANGES = ("7", "30", "90")  # the usage page's date-range picker, in days


@requires("usage.view")
def usage_page(request: HttpRequest, public_id) -> HttpResponse:
    channel = decided_channel(request, public_id)
    days = int(request.GET["days"]) if request.GET.get("days") in RANGES else usage.DAYS
    result = usage.channel_usage(channel=channel, days=days)
    since = datetime.combine(result.days[0].day, time.min, tzinfo=dt_timezone.utc)  # the charts' first UTC day
    context = {
        "days": days,
        "ranges": RANGES,
        "channel": channel,
        "feedback": feedback.feedback_counts(channel=channel, since=since),
        "usage": result,
        "summary": result.summary,
        "charts": charts.usage_charts(result.days),
        "tab": "usage",
    }
    return render(request, "conversations/usage.html", context)
