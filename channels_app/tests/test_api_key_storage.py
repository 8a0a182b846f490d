"""The plaintext key exists nowhere in the database, not even in a full dump of it."""

import base64
import io
import secrets
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from channels_app.models import ApiKey
from channels_app.services import api_key_rotate
from conftest import make_channel
from gateway.testing.api import UPSTREAM_KEY, chat, chat_stream


def every_row_as_text() -> str:
    """Every value of every row of every table; binary values as text and as hex."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value)
                        parts += [value.decode("latin-1"), value.hex()]
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def pg_dump() -> str:
    """`pg_dump` of the test database: what a backup holds."""
    db = connection.settings_dict
    env = {"PGPASSWORD": db["PASSWORD"] or ""}
    command = ["pg_dump", "--no-owner", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
               "-U", db["USER"], db["NAME"]]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=60).stdout


def assert_nowhere(dump: str, *plaintexts: str) -> None:
    for plaintext in plaintexts:
        body = plaintext[6:-6] if plaintext.startswith("amgai_") else plaintext
        for form in (plaintext, body, plaintext.encode().hex(), body.encode().hex()):
            assert form not in dump


def test_the_plaintext_key_is_nowhere_in_the_database(channel, key):
    assert_nowhere(every_row_as_text(), key)


def test_the_stored_key_reveals_to_its_plaintext(channel, key):
    api_key = ApiKey.objects.get(channel=channel)
    assert api_key.reveal() == key
    assert str(api_key) == api_key.masked
    assert key not in repr(api_key)


@pytest.mark.django_db(transaction=True)  # pg_dump reads what was committed
@pytest.mark.parametrize("dump", ["rows", "pg_dump"])
def test_no_key_is_in_a_dump_after_rotations_and_chats(dump, api, llm, settings, owner, outsider):
    if dump == "pg_dump" and (connection.vendor != "postgresql" or shutil.which("pg_dump") is None):
        pytest.skip("pg_dump needs PostgreSQL (DATABASE_URL) and the pg_dump client")
    channel, first = make_channel(owner, name="Shop")
    _, other = make_channel(outsider, name="Blog")
    rotated = api_key_rotate(channel=channel, grace=timedelta(hours=1))  # the dashboard's rotation, with grace
    old_encryption_key = settings.KEY_ENCRYPTION_KEY
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = secrets.token_bytes(32), [old_encryption_key]
    call_command("rotate_encryption_key", "--digest", stdout=io.StringIO())  # the at-rest key's rotation
    plaintexts = [first.plaintext, rotated.plaintext, other.plaintext]
    for i, key in enumerate(plaintexts):
        assert chat(api, key, f"hello {i}").status_code == 200
    assert chat_stream(api, rotated.plaintext, "a streamed hello")[0].status_code == 200

    text = every_row_as_text() if dump == "rows" else pg_dump()
    assert "Shop" in text and "a streamed hello" in text  # the dump really holds the data
    assert_nowhere(text, *plaintexts, UPSTREAM_KEY)
    for secret in (settings.KEY_ENCRYPTION_KEY, old_encryption_key, settings.KEY_DIGEST_SECRET):
        assert_nowhere(text, base64.b64encode(secret).decode(), secret.hex())
