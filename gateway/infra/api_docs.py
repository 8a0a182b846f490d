"""/api/docs/: drf-spectacular's Swagger UI, with the headers the dashboard pages have.

/api/ runs on its own slim middleware stack (gateway/routing.py), without the web stack's
Content Security Policy and X-Frame-Options, so this page sets them itself: without them
it could be framed (clickjacking) and any injected script would run. The page's only inline
code (a <style> block in drf-spectacular's template) moves to a static file
(templates/api/swagger_ui.html), so the dashboard's strict policy fits it unchanged:
Swagger UI's bundle, preset, CSS and init script all come from this origin.
"""

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.response import Response


class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        response["X-Frame-Options"] = "DENY"
        return response


class SchemaView(SpectacularAPIView):
    """/api/schema/: generated and rendered once per process and format, then served from memory.

    Generating it walks every view and serializer and rendering it as YAML is slow too: ≈ 27 ms of CPU a
    request (measured in process; 10 ms of it the YAML), for a GET anyone may send without a key, so a few
    dozen requests a second kept a core busy. The schema changes only with the code, so a process's lifetime is
    the right one to keep it. One schema for every request: the API has no versions and its schema is not
    translated (drf-spectacular's `?lang=` would otherwise be a way around the cache).
    """

    _rendered: dict = {}  # accepted media type -> (body, headers), filled by the first request of each

    def get(self, request, *args, **kwargs):
        kept = self._rendered.get(request.accepted_media_type)
        if kept is None:
            return super().get(request, *args, **kwargs)
        body, headers = kept
        return HttpResponse(body, headers=headers)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.status_code == 200:
            response.render()
            self._rendered[request.accepted_media_type] = (response.content, dict(response.items()))
        return response
