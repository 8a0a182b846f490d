"""Override: a transactional test's flush keeps the rows `post_migrate` makes, instead of deleting and making them again.

What it replaces: Django's `TransactionTestCase._fixture_teardown`, which after each transactional test (pytest-django's
`transactional_db`: the live and browser tiers, tests whose threads need committed rows) runs the `flush` command:
every table emptied, then the `post_migrate` signal, whose receivers make the content types
(`contenttypes.management.create_contenttypes`) and the permissions (`auth.management.create_permissions`) again,
a few hundred rows, in a query or more per app. In test runs only (`install`, called by the root conftest), and only
for Django's plain case (no `available_apps`, no serialized rollback: those stay Django's):

- a database's first flush in the process is Django's; the rows it leaves in the tables those two receivers fill
  (`KEPT`) are the snapshot;
- each later flush reads those tables first. While they equal the snapshot it empties every other table, clears the
  content-type cache (what `create_contenttypes` does first) and sends no signal: the database is left with the
  rows Django's flush would leave. A test that changed them gets Django's flush, and a new snapshot.

If the signal has receivers other than those two (an app added one), every flush is Django's: what an unknown
receiver makes cannot be kept. The application never flushes a database, so nothing outside the tests changes.

Why (docs/testing.md, "Emptying the database between tests"): the signal was most of a flush: Django's flush took
14.6–17.7 ms on SQLite and 40–95 ms on PostgreSQL (by deletes), 0.8–1.7 ms and 4–6 ms without the signal (a loaded
machine), after each of the ~400 transactional tests of a run.

Guarded by: gateway/tests/test_overrides.py::test_a_flush_leaves_the_rows_of_a_migrated_flushed_database (a real
flush after a test that wrote rows, and after one that changed a kept table, leaves exactly the rows of a fresh
migrate's content types and permissions and nothing else),
test_post_migrate_has_only_the_receivers_whose_rows_the_flush_keeps, and the fingerprints of the Django code it
replaces or relies on (`RELIES_ON`).
"""

import weakref
from collections import Counter

from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connections
from django.db.models.signals import post_migrate
from django.test import TransactionTestCase

# The flush command's `handle` runs `sql_flush`, then sends the signal through `emit_post_migrate_signal`; its own
# source cannot be fingerprinted (a prompt's text starts at column 0), so the two functions it calls are.
RELIES_ON = {
    "django.test.testcases.TransactionTestCase._fixture_teardown": "760777307131c092",
    "django.core.management.sql.sql_flush": "2f1bcf539e8a9513",
    "django.core.management.sql.emit_post_migrate_signal": "dde0af7adb892d6d",
    "django.contrib.contenttypes.management.create_contenttypes": "66bf193918fae260",
    "django.contrib.auth.management.create_permissions": "ded9298569100fc9",
}

# The post_migrate receivers whose rows are kept, and the models whose tables they fill.
KEPT = {
    "django.contrib.contenttypes.management.create_contenttypes": ("contenttypes", "ContentType"),
    "django.contrib.auth.management.create_permissions": ("auth", "Permission"),
}

_djangos = TransactionTestCase._fixture_teardown
_snapshots: dict[str, dict[str, Counter]] = {}  # database alias -> kept table -> its rows after Django's flush


def receivers() -> set[str]:
    """The dotted names of the functions connected to `post_migrate` in this process."""
    names = set()
    for _, reference, _ in post_migrate.receivers:
        receiver = reference() if isinstance(reference, weakref.ReferenceType) else reference
        if receiver is not None:
            names.add(f"{receiver.__module__}.{receiver.__qualname__}")
    return names


def kept_tables() -> list[str]:
    from django.apps import apps

    return [apps.get_model(*model)._meta.db_table for model in KEPT.values()]


def _rows(connection, table: str) -> Counter:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return Counter(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cursor.fetchall())


def flush(alias: str) -> None:
    """Empty database `alias` as Django's flush after a test would, keeping the unchanged rows of `KEPT`."""
    from django.contrib.contenttypes.models import ContentType

    connection = connections[alias]
    snapshot = _snapshots.get(alias)
    if snapshot is not None and all(_rows(connection, table) == rows for table, rows in snapshot.items()):
        tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        emptied = [table for table in tables if table not in snapshot]
        connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), emptied))
        ContentType.objects.clear_cache()
        return
    _snapshots.pop(alias, None)
    call_command("flush", verbosity=0, interactive=False, database=alias, reset_sequences=False, allow_cascade=False)
    if receivers() == set(KEPT):
        _snapshots[alias] = {table: _rows(connection, table) for table in kept_tables()}


def _fixture_teardown(self):
    plain = self.available_apps is None and not self.serialized_rollback
    if not plain:
        return _djangos(self)
    for alias in self._databases_names(include_mirrors=False):
        flush(alias)


# What it stands in for: inspect (and so the fingerprint test) reads Django's code through it, patched or not.
_fixture_teardown.__wrapped__ = _djangos


def install() -> None:
    """Use `_fixture_teardown` for transactional tests in this process (the test runner's)."""
    TransactionTestCase._fixture_teardown = _fixture_teardown
