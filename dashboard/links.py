"""Links to a transcript, with the session_id percent-encoded.

A session_id is any string the integrator chose (docs/api-behaviour.md), so it can hold `/`,
`?`, `#`, `%` or `..`. Put into a path as it is, `../../admin/` would make the link lead to
/admin/ (browsers resolve dot segments), and the owner could not open that transcript. Every
character outside [A-Za-z0-9_.~-] is percent-encoded, `/` included, so the id is one path
segment; the server decodes it back (the route's `path` converter accepts `/`).

`.` and `..` alone are dot segments even when encoded (%2E), so those two travel in the query
string instead: `…/conversations/<thread>/?session_id=..`. A widget session's link adds
`source=widget` to the query (its namespace; without it the URL means the secret key's).
"""

from urllib.parse import quote, urlencode

from django.urls import reverse

DOT_SEGMENTS = {".", ".."}


def transcript_url(*, channel_public_id, thread: int, session_id: str, source: str = "api") -> str:
    base = reverse("dashboard:transcript-by-query", kwargs={"public_id": channel_public_id, "thread": thread})
    query = {"source": source} if source != "api" else {}
    if session_id in DOT_SEGMENTS:
        return f"{base}?{urlencode({'session_id': session_id, **query})}"
    return base + quote(session_id, safe="") + (f"?{urlencode(query)}" if query else "")
