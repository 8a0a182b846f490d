"""Owner dashboard pages of one channel: its conversations, a transcript, its usage."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from channels_app.dashboard_selectors import get_channel_for_user
from conversations import charts, links, transcripts, usage
from conversations.models import Session
from conversations.rendering import render_markdown

MAX_SEARCH_LENGTH = 255
# PostgreSQL text cannot hold NUL, so a search containing one would be a database error (a 500);
# no session_id can contain it either, so it is refused as bad input instead.
NUL_IN_SEARCH = "Search text cannot contain NUL characters."


@login_required
def session_list(request: HttpRequest, public_id) -> HttpResponse:
    channel = get_channel_for_user(request, public_id)
    search = request.GET.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    context = {"channel": channel, "search": search, "now": timezone.now(), "tab": "conversations"}
    if "\x00" in search:
        context.update(search="", search_error=NUL_IN_SEARCH)
        return render(request, "conversations/sessions.html", context, status=400)
    page = transcripts.sessions_page(channel=channel, search=search, page=request.GET.get("page"))
    rows = [
        (s, links.transcript_url(channel_public_id=channel.public_id, thread=s.thread, session_id=s.session_id, source=s.source))
        for s in page.object_list
    ]
    context.update(page=page, rows=rows)
    return render(request, "conversations/sessions.html", context)


@login_required
def transcript(request: HttpRequest, public_id, thread: int, session_id: str | None = None) -> HttpResponse:
    channel = get_channel_for_user(request, public_id)
    if session_id is None:  # the `?session_id=` form (conversations/links.py)
        session_id = request.GET.get("session_id")
        if not session_id:
            raise Http404("No session_id")
    # `?source=widget` names the widget's namespace; without it, the secret key's (the URL as it always was).
    source = request.GET.get("source", Session.Source.API)
    if source not in Session.Source.values:
        raise Http404("No such session")
    session = transcripts.get_thread_for_channel(channel=channel, source=source, session_id=session_id, thread=thread)
    transcript = [
        {"message": m, "html": render_markdown(m.content) if m.role == m.Role.ASSISTANT else None}
        for m in transcripts.thread_transcript(session)
    ]
    context = {
        "channel": channel,
        "session": session,
        "expired": transcripts.is_expired(session),
        "transcript": transcript,
        "tab": "conversations",
    }
    return render(request, "conversations/transcript.html", context)


RANGES = ("7", "30", "90")  # the usage page's date-range picker, in days


@login_required
def usage_page(request: HttpRequest, public_id) -> HttpResponse:
    channel = get_channel_for_user(request, public_id)
    days = int(request.GET["days"]) if request.GET.get("days") in RANGES else usage.DAYS
    result = usage.channel_usage(channel=channel, days=days)
    context = {
        "days": days,
        "ranges": RANGES,
        "channel": channel,
        "usage": result,
        "summary": result.summary,
        "charts": charts.usage_charts(result.days),
        "tab": "usage",
    }
    return render(request, "conversations/usage.html", context)
