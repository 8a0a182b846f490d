"""Background jobs: one interface, two runners, chosen once at start-up from settings.

A job is a plain function registered with `@job("name")` in one of JOB_MODULES.
Callers queue it with `enqueue("name", **kwargs)` (after the current transaction
commits) and never ask which runner they got:

- `celery_runner.CeleryRunner` (JOBS=celery): Celery on Redis (CELERY_BROKER_URL,
  by default REDIS_URL); `celery -A gateway.infra.celery_app worker` runs the jobs,
  `... beat` the periodic ones. Several machines can share the queue.
- `in_process.InProcessRunner` (the default, `make run`): a daemon thread in the
  server process runs the same jobs with the same retries; no broker to install.

The rules are the same on both, because `run_attempt` is the one place a job runs:
a job must be idempotent (it may run again after a crash: Celery acknowledges late);
one that raises is retried after an exponential backoff up to its `max_retries`, and
then ends dead: a FailedJob row (admin) and the job's `on_dead` hook (a webhook
delivery shows "dead" on the dashboard). Never silently.
"""

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[..., None]
    max_retries: int | str  # a number, or the setting that holds it
    every: str | None  # the setting naming its interval in seconds (periodic jobs); 0 there turns it off
    on_dead: Callable[..., None] | None


REGISTRY: dict[str, Job] = {}


def job(name: str, *, max_retries: int | str = 5, every: str | None = None, on_dead: Callable[..., None] | None = None):
    """Register the decorated function as the job `name` (its keyword arguments must be JSON values)."""

    def register(func):
        REGISTRY[name] = Job(name=name, func=func, max_retries=max_retries, every=every, on_dead=on_dead)
        return func

    return register


@functools.cache
def load() -> dict[str, Job]:
    """Import JOB_MODULES (their `@job`s register themselves); the registry."""
    for module in settings.JOB_MODULES:
        import_module(module)
    return REGISTRY


def periodic() -> list[tuple[Job, float]]:
    """The periodic jobs that are on, with their intervals in seconds."""
    return [(j, float(getattr(settings, j.every))) for j in load().values() if j.every and getattr(settings, j.every) > 0]


def backoff(attempt: int) -> float:
    """Seconds before retry number `attempt + 1`: doubling from JOB_RETRY_BACKOFF_BASE, capped."""
    return min(settings.JOB_RETRY_BACKOFF_BASE * (2**attempt), settings.JOB_RETRY_BACKOFF_CAP)


def run_attempt(name: str, kwargs: dict, attempt: int) -> float | None:
    """Run attempt number `attempt` (0 first) of a job; the seconds to wait before retrying it, or None (done or dead)."""
    spec = load()[name]
    try:
        spec.func(**kwargs)
        return None
    except Exception as exc:
        max_retries = getattr(settings, spec.max_retries) if isinstance(spec.max_retries, str) else spec.max_retries
        if attempt < max_retries:
            delay = backoff(attempt)
            logger.warning("Job %s failed (attempt %d), retrying in %.1fs: %s", name, attempt + 1, delay, exc)
            return delay
        logger.exception("Job %s failed %d times: dead", name, attempt + 1)
        import_string(settings.JOB_DEAD_LETTER)(name=name, kwargs=kwargs, error=repr(exc), attempts=attempt + 1)
        if spec.on_dead is not None:
            spec.on_dead(**kwargs)
        return None


class JobRunner:
    def enqueue(self, name: str, kwargs: dict) -> None:
        """Queue one run of the job `name` now."""
        raise NotImplementedError

    def start_schedule(self) -> None:
        """In a server process: start whatever runs the periodic jobs here (nothing where beat does it)."""
        raise NotImplementedError


@functools.cache
def backend() -> JobRunner:
    """The process's runner, as JOB_RUNNER names it."""
    return import_string(settings.JOB_RUNNER)()


def enqueue(name: str, **kwargs) -> None:
    """Queue the job `name` once the current transaction commits (at once outside one)."""
    if name not in load():
        raise KeyError(f"no job named {name!r}")
    transaction.on_commit(lambda: backend().enqueue(name, kwargs))


@receiver(setting_changed)
def _forget_backend(*, setting, **kwargs):
    if setting in ("JOB_RUNNER", "JOB_MODULES"):
        backend.cache_clear()
