"""/api/docs/: drf-spectacular's Swagger UI, with the headers the dashboard pages have.

/api/ runs on its own slim middleware stack (gateway/routing.py), without the web stack's
Content Security Policy and X-Frame-Options, so this page sets them itself: without them
it could be framed (clickjacking) and any injected script would run. The page's only inline
code (a <style> block in drf-spectacular's template) moves to a static file
(templates/api/swagger_ui.html), so the dashboard's strict policy fits it unchanged:
Swagger UI's bundle, preset, CSS and init script all come from this origin.
"""

from django.conf import settings
from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        response["X-Frame-Options"] = "DENY"
        return response
