"""The plaintext key exists nowhere in the database."""

from django.db import connection

from channels_app.models import ApiKey


def test_the_plaintext_key_is_nowhere_in_the_database(channel, key):
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("latin-1")
                    assert key not in str(value), table
                    assert key[6:-6] not in str(value), table


def test_the_stored_key_reveals_to_its_plaintext(channel, key):
    api_key = ApiKey.objects.get(channel=channel)
    assert api_key.reveal() == key
    assert str(api_key) == api_key.masked
    assert key not in repr(api_key)
