"""Override: how the test suite empties PostgreSQL after each transactional test.

What it replaces: Django's PostgreSQL `DatabaseOperations.sql_flush`, one `TRUNCATE` of every table, which the
`flush` command runs after each transactional test (pytest-django's `transactional_db`, the live and browser tiers).
In test runs only (`install`, called by the root conftest), and only for the plain flush (no `reset_sequences`, no
`allow_cascade`: those stay Django's), it is one `LOCK TABLE` of them all (the lock `TRUNCATE` takes, so a writer
the test left behind waits for the flush as it would for `TRUNCATE`) and a `DELETE FROM` per table. `flush` runs them in one
transaction (`execute_sql_flush`), and Django makes every foreign key `DEFERRABLE INITIALLY DEFERRED`, so the order
of the tables does not matter: the constraints are checked at the commit, when every table is empty.
The application never flushes a database, so nothing outside the tests changes.

Why (docs/testing.md, "Emptying the database between tests"): `TRUNCATE` gives each of the 52 tables a new file, and
took 150–360 ms per flush on the idle 2-core machine (0.6–1.7 s loaded); locking them and deleting the few rows a
test leaves took 8–12 ms. The PostgreSQL pass runs hundreds of transactional tests.

Guarded by: gateway/tests/test_overrides.py::test_the_test_flush_empties_every_table_by_delete_and_keeps_djangos_otherwise
(the statements, and a real flush on PostgreSQL leaving no row behind), and the fingerprint of the method it
replaces (`RELIES_ON`).
"""

from django.db.backends.postgresql.operations import DatabaseOperations

RELIES_ON = {
    "django.db.backends.postgresql.operations.DatabaseOperations.sql_flush": "1951bc15897bf0ed",
}

_djangos = DatabaseOperations.sql_flush


def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if reset_sequences or allow_cascade or not tables:
        return _djangos(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
    names = [style.SQL_FIELD(self.quote_name(table)) for table in tables]
    # The lock TRUNCATE takes, without its new files: a thread the test left writing (a background job) waits for
    # the flush to commit, instead of inserting a row that points at one the flush deleted.
    lock = f"{style.SQL_KEYWORD('LOCK TABLE')} {', '.join(names)} {style.SQL_KEYWORD('IN ACCESS EXCLUSIVE MODE')};"
    return [lock, *(f"{style.SQL_KEYWORD('DELETE FROM')} {name};" for name in names)]


# What it stands in for: inspect (and so the fingerprint test) reads Django's code through it, patched or not.
sql_flush.__wrapped__ = _djangos


def install() -> None:
    """Use `sql_flush` for PostgreSQL in this process (the test runner's)."""
    DatabaseOperations.sql_flush = sql_flush
