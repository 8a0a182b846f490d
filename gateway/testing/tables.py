"""Search every table of the test database for a piece of text (erasure and retention tests)."""

from django.db import connection


def tables_containing(needle: str) -> dict[str, int]:
    """{table: rows whose any column, as text, contains `needle`} over every table in the database."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from introspection
            hits = sum(1 for row in cursor.fetchall() if any(needle in _text(value) for value in row))
            if hits:
                found[table] = hits
    return found


def _text(value) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
