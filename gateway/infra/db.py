import asyncio
import contextlib
import contextvars
import functools
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

_gates: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[int, asyncio.Semaphore]]" = weakref.WeakKeyDictionary()


def phase_gate() -> asyncio.Semaphore:
    """This loop's gate for database phases (threaded here, or statements and counter calls on the loop: gateway/infra/adb.py): at most DB_PHASE_CONCURRENCY database phases at once per event loop.

    Beyond the connection pool's size, extra phases would only park worker
    threads on the pool (and time out there under a burst); queued here they
    wait on the event loop, holding nothing.
    """
    loop, size = asyncio.get_running_loop(), settings.DB_PHASE_CONCURRENCY
    gate = _gates.get(loop)
    if gate is None or gate[0] != size:
        gate = _gates[loop] = (size, asyncio.Semaphore(size))
    return gate[1]


# (its max_workers, the executor): the size is kept beside it, ThreadPoolExecutor exposes no public one.
_executor: tuple[int, ThreadPoolExecutor] | None = None
_executor_lock = threading.Lock()


def _phase_executor() -> ThreadPoolExecutor:
    """The process's threads for database phases: as many as phases may run at once.

    Phases run on these shared threads rather than a new thread per request
    (asgiref's thread-sensitive default): a phase keeps no state on its thread,
    since it hands its connection back when it ends.
    """
    global _executor
    size = settings.DB_PHASE_CONCURRENCY
    if _executor is None or _executor[0] != size:
        with _executor_lock:
            if _executor is None or _executor[0] != size:
                _executor = (size, ThreadPoolExecutor(max_workers=size, thread_name_prefix="db-phase"))
    return _executor[1]


def _run_and_close(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    finally:
        if not connection.in_atomic_block:
            connection.close()


def _on_phase_threads():
    return sync_to_async(_run_and_close, thread_sensitive=False, executor=_phase_executor())


def _on_calling_thread():
    return sync_to_async(_run_and_close, thread_sensitive=True)


# Where this context's phases run: the phase threads, or the thread that called into the application.
_phase_runner: contextvars.ContextVar = contextvars.ContextVar("db_phase_runner", default=_on_phase_threads)


@contextlib.contextmanager
def phases_on_calling_thread():
    """Run the database phases of what starts inside on the thread that drives the event loop (async_to_sync's caller).

    For an in-process caller holding an open transaction on that thread's
    connection (the tests' rolled-back one): the phases then see what it wrote
    and write inside it, where the phase threads' own connections could not.
    """
    token = _phase_runner.set(_on_calling_thread)
    try:
        yield
    finally:
        _phase_runner.reset(token)


async def in_db_phase(fn, *args, **kwargs):
    """Run sync `fn` as one database phase: off the event loop, gated, its connection handed back after."""
    async with phase_gate():
        return await _phase_runner.get()()(fn, *args, **kwargs)


def db_phase(fn):
    """Run a sync function as one database phase (in_db_phase): off the event loop, its connection handed back after.

    A chat waits seconds on the provider between its database phases; closing
    the connection (with PostgreSQL: returning it to the pool) means a waiting
    chat holds none.
    """

    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        return await in_db_phase(fn, *args, **kwargs)

    return wrapper
