"""The Celery entry point: `celery -A gateway.infra.celery_app worker` and `... beat` (deploy/).

Sets Django up, then loads the application and its one task from the Celery job runner
(gateway/infra/jobs/celery_runner.py), where a server process sends the task from.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")
django.setup()

from gateway.infra.jobs.celery_runner import app, run_job  # noqa: E402

__all__ = ["app", "run_job"]
