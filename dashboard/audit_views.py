"""The organisation's audit log page and its CSV export."""

import csv
import io

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from dashboard.team_forms import AuditFilterForm
from teams import selectors
from teams.policy import requires

PAGE = 200
COLUMNS = ("when", "who", "from", "action", "target", "changes")
# A cell a spreadsheet would run as a formula starts with one of these (OWASP: CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _filtered(request: HttpRequest):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, selectors.audit_entries(request.organisation, **{k: v for k, v in filters.items() if v})


@requires("org.audit")
def audit_log(request: HttpRequest, org_id) -> HttpResponse:
    form, entries = _filtered(request)
    context = {"org": request.organisation, "form": form, "entries": list(entries[:PAGE]), "page": PAGE,
               "query": request.GET.urlencode()}
    return render(request, "teams/audit.html", context)


def _safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _row(entry) -> list[str]:
    changes = "; ".join(f"{name}: {before} → {after}" for name, (before, after) in entry.changes.items())
    when = entry.created_at.isoformat(timespec="seconds")
    return [_safe(v) for v in (when, entry.actor_email, entry.ip_address, entry.action, entry.target, changes)]


def _lines(entries):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for entry in entries.iterator(chunk_size=500):
        writer.writerow(_row(entry))
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


@requires("org.audit")
def audit_export(request: HttpRequest, org_id) -> StreamingHttpResponse:
    _form, entries = _filtered(request)
    response = StreamingHttpResponse(_lines(entries), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
