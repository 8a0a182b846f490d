"""An API answer as a plain HttpResponse whose body DRF's JSONRenderer wrote: the same bytes, one object fewer.

DRF's `Response` is a `SimpleTemplateResponse`: the API's views render it themselves and copy it into a plain
`HttpResponse` (gateway/overrides/response_rendering.py) so Django does not render it on a thread. A view
whose answer is a JSON object can hand over the plain response at once: the same renderer (compact,
`ensure_ascii` off, U+2028/U+2029 escaped), the same `application/json`, and DRF's `finalize_response` still
adds its headers (`Allow`, `Vary`) to it, as to any HttpResponse. It skips building the template response,
`render()` and the copy (docs/performance.md, "the no-framework floor"). Errors stay DRF Responses: the exception handler
builds them, and the views read their `data` to record a failed request.
conversations/tests/test_json_answer.py holds the bytes and headers to what a DRF Response sends.
"""

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer

_RENDERER = JSONRenderer()


def json_answer(data: dict, *, headers: dict | None = None) -> HttpResponse:
    """A 200 answer of `data`, rendered as DRF's Response would render it for the API (always JSON)."""
    return HttpResponse(_RENDERER.render(data), content_type=JSONRenderer.media_type, headers=headers)
