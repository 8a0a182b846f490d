"""The distributed runner: jobs go to Celery over Redis; workers on any machine run them."""

from gateway.infra import jobs


class CeleryRunner(jobs.JobRunner):
    def enqueue(self, name: str, kwargs: dict) -> None:
        from gateway.infra.celery_app import run_job

        run_job.apply_async(args=(name, kwargs))

    def start_schedule(self) -> None:
        """Celery beat runs the periodic jobs (one beat per deployment), not the server processes."""
