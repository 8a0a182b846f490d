"""Post/redirect/get for pages that show a key: the POST (reveal, rotate) records the reveal and
remembers which key to show; the GET after the redirect shows it once. Reloading that page shows
the masked key (a new reveal is a new POST, recorded), and never rotates again.
"""

import time

from django.http import HttpRequest

from channels_app.models import ApiKey

SESSION_KEY = "channels_shown_key"
MAX_AGE_SECONDS = 300


def remember(request: HttpRequest, api_key: ApiKey, *, rotated: bool = False, old_key: ApiKey | None = None) -> None:
    request.session[SESSION_KEY] = {
        "key": str(api_key.public_id),
        "rotated": rotated,
        "old": str(old_key.public_id) if old_key else None,
        "at": time.time(),
    }


def take(request: HttpRequest, api_key: ApiKey | None) -> dict | None:
    """What `remember` kept for this key, once; None if it is another key's, stale, or already shown."""
    shown = request.session.get(SESSION_KEY)
    if api_key is None or not isinstance(shown, dict) or shown.get("key") != str(api_key.public_id):
        return None
    del request.session[SESSION_KEY]
    if not 0 <= time.time() - shown.get("at", 0) < MAX_AGE_SECONDS or not api_key.is_usable():
        return None
    return shown
