"""The dashboard's Knowledge page: sources with their status, usage against the caps, unanswered questions.

Thin: forms in forms.py, writes in services.py, reads in selectors.py; the policy decides first
(teams/policy.py: knowledge.view for the page, knowledge.manage for every change).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboard.knowledge_forms import FORMS, FileForm, QAForm, SiteForm, TextForm
from knowledge import selectors, services
from teams import audit
from teams.policy import decided_channel, requires


@requires("knowledge.view")
def knowledge_page(request: HttpRequest, public_id) -> HttpResponse:
    channel = decided_channel(request, public_id)
    return render(request, "knowledge/knowledge.html", page_context(channel))


def page_context(channel, **forms) -> dict:
    sources = selectors.sources_of(channel)
    return {
        "channel": channel,
        "tab": "knowledge",
        "sources": [{"source": source, "preview": selectors.preview(source)} for source in sources],
        "busy": any(source.busy for source in sources),
        "usage": selectors.usage(channel),
        "unanswered": selectors.unanswered(channel),
        "site_form": forms.get("site") or SiteForm(),
        "file_form": forms.get("file") or FileForm(),
        "text_form": forms.get("text") or TextForm(),
        "qa_form": forms.get("qa") or QAForm(),
    }


@requires("knowledge.manage")
@require_POST
def knowledge_add(request: HttpRequest, public_id) -> HttpResponse:
    channel = decided_channel(request, public_id)
    kind = request.POST.get("kind", "")
    form_class = FORMS.get(kind)
    if form_class is None:
        messages.error(request, "Choose what to add: a website, a file, a text or a Q&A pair.")
        return redirect("dashboard:knowledge", public_id=channel.public_id)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            source = _add(channel, kind, form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            audit.record_channel(request, "knowledge.add", detail=f"{source.get_kind_display()} {source.title}")
            messages.success(request, f"Added “{source.title}”: it is being processed.")
            return redirect("dashboard:knowledge", public_id=channel.public_id)
    return render(request, "knowledge/knowledge.html", page_context(channel, **{kind: form}), status=400)


def _add(channel, kind: str, data: dict):
    if kind == "site":
        return services.source_add_site(channel=channel, url=data["url"], max_pages=data["max_pages"],
                                        path_prefix=data["path_prefix"])
    if kind == "file":
        upload = data["file"]
        return services.source_add_file(channel=channel, name=upload.name, data=upload.read())
    if kind == "text":
        return services.source_add_text(channel=channel, title=data["title"], text=data["text"])
    source = services.source_add_qa(channel=channel, question=data["question"], answer=data["answer"])
    if data.get("unanswered"):
        services.unanswered_dismiss(channel=channel, answer_id=data["unanswered"])
    return source


@requires("knowledge.manage")
@require_POST
def knowledge_refresh(request: HttpRequest, public_id) -> HttpResponse:
    channel = decided_channel(request, public_id)
    source_id = request.POST.get("source", "")
    if source_id:
        source = selectors.source_of(channel, int(source_id)) if source_id.isdigit() else None
        if source is None:
            messages.error(request, "That source does not exist (any more).")
        else:
            services.source_refresh(source=source)
            messages.success(request, f"“{source.title}” is being refreshed.")
    else:
        count = services.refresh_all(channel)
        messages.success(request, f"{count} source(s) are being refreshed.")
    audit.record_channel(request, "knowledge.refresh", detail=f"source {source_id}" if source_id else "all sources")
    return redirect("dashboard:knowledge", public_id=channel.public_id)


@requires("knowledge.manage")
@require_POST
def knowledge_remove(request: HttpRequest, public_id) -> HttpResponse:
    channel = decided_channel(request, public_id)
    source_id = request.POST.get("source", "")
    source = selectors.source_of(channel, int(source_id)) if source_id.isdigit() else None
    if source is None:
        messages.error(request, "That source does not exist (any more).")
    else:
        title = source.title
        services.source_remove(source=source)
        audit.record_channel(request, "knowledge.remove", detail=f"{source.get_kind_display()} {title}")
        messages.success(request, f"Removed “{title}”.")
    return redirect("dashboard:knowledge", public_id=channel.public_id)


@requires("knowledge.manage")
@require_POST
def unanswered_dismiss(request: HttpRequest, public_id) -> HttpResponse:
    """Take a question off the unanswered list without adding a Q&A pair (a greeting, say)."""
    channel = decided_channel(request, public_id)
    answer_id = request.POST.get("unanswered", "")
    if answer_id.isdigit():
        services.unanswered_dismiss(channel=channel, answer_id=int(answer_id))
    return redirect("dashboard:knowledge", public_id=channel.public_id)
