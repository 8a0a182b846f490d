import functools

from asgiref.sync import sync_to_async
from django.db import connection


def db_phase(fn):
    """Run a sync function off the event loop and hand its DB connection back afterwards.

    A chat waits seconds on the provider between its database phases; closing
    the connection (with PostgreSQL: returning it to the pool) means a waiting
    chat holds none.

    `fn.sync` calls it directly, from inside another phase: typically to give
    back what a failed phase held. If the failure broke the connection (the
    database restarted, the connection was killed), that connection is dropped
    first, so the compensating writes run on a fresh one instead of failing too.
    """

    def run_and_close(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            if not connection.in_atomic_block:
                connection.close()

    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        return await sync_to_async(run_and_close)(*args, **kwargs)

    @functools.wraps(fn)
    def sync(*args, **kwargs):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
        return fn(*args, **kwargs)

    wrapper.sync = sync
    return wrapper
