import functools

from asgiref.sync import sync_to_async
from django.db import connection


def db_phase(fn):
    """Run a sync function off the event loop and hand its DB connection back afterwards.

    A chat waits seconds on the provider between its database phases; closing
    the connection (with PostgreSQL: returning it to the pool) means a waiting
    chat holds none.
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

    wrapper.sync = fn
    return wrapper
