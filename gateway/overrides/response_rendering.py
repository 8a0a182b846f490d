"""Override: `rendered()`, DRF responses rendered on the event loop instead of by Django's handler.

What it works around (Django 5.2.19): `BaseHandler._get_response_async` renders any response
with a `render()` method (DRF's `Response` is a `SimpleTemplateResponse`) through
`sync_to_async(response.render, thread_sensitive=True)`, which under ASGI starts a thread for
every request. Here the view renders it itself and hands Django a plain `HttpResponse`, which
has no `render()`, so Django has nothing left to do. Only public API is used (`render()`,
`HttpResponse`); what it relies on is that Django would otherwise render on a thread.

Why (docs/performance.md, "After", `c0896c5`, `render-on-loop`): `Thread.start` for that render
was 12 % of a worker's samples at c=64; rendering a small JSON body here costs microseconds.
The c=1 overhead p50 went from 9.3 to 8.4 ms. DRF's `finalize_response` could do the same, but
only after it has run, which is where `LoopAPIView` calls this.

Guarded by gateway/tests/test_overrides.py::test_framework_code_the_overrides_copy_is_unchanged
(the fingerprint below) and ::test_django_still_renders_a_template_response_on_a_thread, which
fails (and says this override can go) once Django renders on the loop.
"""

from django.http import HttpResponse
from django.template.response import SimpleTemplateResponse

RELIES_ON = {
    "django.core.handlers.base.BaseHandler._get_response_async": "6ee6eda710fad318",
}


def rendered(response):
    """A DRF Response rendered here, as a plain HttpResponse; other responses (streams) pass through."""
    if not isinstance(response, SimpleTemplateResponse):
        return response
    response.render()
    plain = HttpResponse(response.content, status=response.status_code)
    for name, value in response.items():
        plain[name] = value
    return plain
