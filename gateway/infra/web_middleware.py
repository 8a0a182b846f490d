"""Middleware for the web pages: security headers Django 5.2 does not set, and static files."""

import os

from django.conf import settings
from django.http import HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware


class SecurityHeadersMiddleware:
    """Add the Content Security Policy and Permissions-Policy to every response.

    The policy allows scripts and styles from this origin only, so templates
    carry no inline `<script>`, `style=` or event-handler attributes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, adapted to this app.

    - Quiet about a STATIC_ROOT that collectstatic has not made yet: before it
      (tests, a quick local run) the files come from the finders instead.
    - Under ASGI a file is answered as one body rather than streamed through a
      sync iterator, which Django would have to drain on a worker thread; the
      files here (CSS, JS, icons, the admin's assets) are all small.
    """

    def add_files(self, root, prefix=None):
        if not os.path.isdir(root):
            return
        super().add_files(root, prefix)

    @staticmethod
    def serve(static_file, request):
        response = WhiteNoiseMiddleware.serve(static_file, request)
        if not response.streaming:
            return response
        whole = HttpResponse(b"".join(response.streaming_content), status=response.status_code)
        for header, value in response.items():
            whole[header] = value
        response.close()
        return whole
