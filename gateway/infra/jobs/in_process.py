"""The embedded runner: jobs run on one daemon thread of the server process (no broker).

Retries wait on the same thread's timeline, so a failing webhook never blocks a
request. Every process schedules the periodic jobs, but each round runs in one of
them: the first to claim the round's time slot in the shared cache (`cache.add`,
atomic in Redis). Without a shared cache there is one process, and it runs every
round. The jobs are idempotent anyway (deleting what is already gone deletes
nothing, a crossed threshold is claimed once with a conditional UPDATE), so a
claim lost with a crashed process costs one round, never a double alert; what
the claim saves is the work: each server process ran every check, on the same
thread-and-GIL its requests need.
"""

import atexit
import heapq
import itertools
import logging
import threading
import time

from django.core.cache import cache
from django.db import connection

from gateway.infra import jobs

logger = logging.getLogger(__name__)


class InProcessRunner(jobs.JobRunner):
    def __init__(self):
        self.queue: list[tuple[float, int, str, dict, int, float | None]] = []  # (due, seq, name, kwargs, attempt, every)
        self.seq = itertools.count()
        self.wakeup = threading.Condition()
        self.thread: threading.Thread | None = None
        self.stopping = False
        self.scheduled = False
        self.busy = 0
        # A short-lived process (a management command that revoked a key, say) finishes the jobs it
        # queued before it exits; retries still waiting are dropped (their rows stay, e.g. a pending delivery).
        atexit.register(self.drain)

    def enqueue(self, name: str, kwargs: dict) -> None:
        self.push(time.monotonic(), name, kwargs, 0, None)

    def start_schedule(self) -> None:
        with self.wakeup:
            if self.scheduled:
                return
            self.scheduled = True
        for spec, every in jobs.periodic():
            self.push(time.monotonic() + every, spec.name, {}, 0, every)

    def push(self, due: float, name: str, kwargs: dict, attempt: int, every: float | None) -> None:
        with self.wakeup:
            self.ensure_thread()
            heapq.heappush(self.queue, (due, next(self.seq), name, kwargs, attempt, every))
            self.wakeup.notify()

    def ensure_thread(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.stopping = False
            self.thread = threading.Thread(target=self.work, name="jobs", daemon=True)
            self.thread.start()

    def idle(self) -> bool:
        """Nothing due now and nothing running (tests wait for this)."""
        with self.wakeup:
            return not self.busy and not any(due <= time.monotonic() for due, *_ in self.queue)

    def drain(self, timeout: float = 10) -> None:
        """Wait (up to `timeout`) until nothing is due or running."""
        deadline = time.monotonic() + timeout
        while self.thread is not None and self.thread.is_alive() and not self.idle() and time.monotonic() < deadline:
            time.sleep(0.05)

    @staticmethod
    def claim(name: str, every: float) -> bool:
        """Whether this process runs this round of periodic job `name`: no other process claimed its time slot.

        Slots are `every` seconds of the wall clock, the same in every process; one process's rounds are
        `every` apart or more, so each falls in a slot of its own.
        """
        try:
            return cache.add(f"jobs:round:{name}:{int(time.time() // every)}", 1, timeout=int(every) + 1)
        except Exception:  # the cache is down: run it here, as without one
            logger.warning("Could not claim a round of %s; running it in this process", name)
            return True

    def stop(self, timeout: float = 10) -> None:
        """Drop what is queued and stop the thread (tests; a process that exits needs nothing)."""
        with self.wakeup:
            self.stopping = True
            self.queue.clear()
            self.scheduled = False
            self.wakeup.notify()
        if self.thread is not None:
            self.thread.join(timeout)

    def work(self) -> None:
        while True:
            with self.wakeup:
                while not self.stopping and (not self.queue or self.queue[0][0] > time.monotonic()):
                    self.wakeup.wait(None if not self.queue else self.queue[0][0] - time.monotonic())
                if self.stopping:
                    return
                due, _, name, kwargs, attempt, every = heapq.heappop(self.queue)
                self.busy += 1
            try:
                retry_in = jobs.run_attempt(name, kwargs, attempt) if every is None or self.claim(name, every) else None
            except Exception:  # the dead letter itself failed: logged, the thread goes on
                logger.exception("Job %s could not be recorded as dead", name)
                retry_in = None
            finally:
                connection.close()  # hand this thread's connection back between jobs
                with self.wakeup:
                    self.busy -= 1
            if every is not None:  # a periodic job: its next round, whatever this one did
                self.push(time.monotonic() + every, name, kwargs, 0, every)
            elif retry_in is not None:
                self.push(time.monotonic() + retry_in, name, kwargs, attempt + 1, None)
