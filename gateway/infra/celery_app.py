"""The Celery application: `celery -A gateway.infra.celery_app worker` and `... beat` (deploy/).

Every job goes through one task, `gateway.job`, which runs it with the same rules
as the in-process runner (gateway/infra/jobs: `run_attempt`): acknowledged late
(a worker killed mid-job leaves it on the queue for another), retried with backoff
via Celery's own countdown, dead after its max_retries.
"""

import os

import django
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")
django.setup()

from django.conf import settings  # noqa: E402

from gateway.infra import jobs  # noqa: E402

app = Celery("gateway")
app.conf.update(
    broker_url=settings.CELERY_BROKER_URL,
    broker_connection_retry_on_startup=True,
    task_default_queue=settings.CELERY_QUEUE,
    task_acks_late=True,
    task_reject_on_worker_lost=True,  # a worker that dies mid-job puts it back, not drops it
    worker_prefetch_multiplier=1,  # with late acks, one job held per worker process, not four
    task_ignore_result=True,  # nothing reads results; no result backend to size
    broker_transport_options={"visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT},
    worker_hijack_root_logger=False,
    timezone="UTC",
    beat_schedule={
        spec.name: {"task": "gateway.job", "schedule": every, "args": (spec.name, {})} for spec, every in jobs.periodic()
    },
)


@app.task(name="gateway.job", bind=True, acks_late=True)
def run_job(self, name: str, kwargs: dict) -> None:
    from django.db import close_old_connections

    close_old_connections()
    try:
        retry_in = jobs.run_attempt(name, kwargs, self.request.retries)
    finally:
        close_old_connections()
    if retry_in is not None:
        # max_retries=None: the job's own max_retries (in run_attempt) decides when it is dead.
        raise self.retry(countdown=retry_in, max_retries=None)
