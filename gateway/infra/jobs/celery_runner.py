"""The distributed runner: jobs go to Celery over Redis; workers on any machine run them.

`app` is the Celery application and `run_job` its one task, `gateway.job`, which runs any job with
the same rules as the in-process runner (`jobs.run_attempt`): acknowledged late (a worker killed
mid-job leaves it on the queue for another), retried with backoff via Celery's own countdown, dead
after its max_retries. Workers and beat load them through gateway/infra/celery_app.py, which sets
Django up first; a server process sends the task from here.
"""

from celery import Celery
from django.conf import settings

from gateway.infra import jobs

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


class CeleryRunner(jobs.JobRunner):
    def enqueue(self, name: str, kwargs: dict) -> None:
        run_job.apply_async(args=(name, kwargs))

    def start_schedule(self) -> None:
        """Celery beat runs the periodic jobs (one beat per deployment), not the server processes."""
