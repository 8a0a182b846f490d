"""For tests that write messages or failed requests straight through the ORM (as fixtures), bypassing the chat
store: recompute the usage roll-ups from them, as `manage.py rebuild_usage` does."""

import datetime as dt

from django.utils import timezone

from conversations import rollups


def rebuild_all_usage() -> None:
    today = timezone.now().astimezone(dt.timezone.utc).date()
    rollups.rebuild(since=today - dt.timedelta(days=400), until=today + dt.timedelta(days=1))
