"""The SQLite database file and its -wal/-shm/-journal companions are readable by their owner only.

They hold everything (sessions, encrypted keys, conversations), so like `.env` (written 0600
by scripts/init_env.py) they get mode 0600 rather than the umask's usual 0644. SQLite creates
a companion file with the main file's permissions, so it is enough to fix the main file and
any companion that already exists each time a connection opens: the first connection of a
new database (whose `PRAGMA journal_mode=WAL` has just created all three) closes the window.
"""

import os
import stat

from django.db.backends.signals import connection_created

COMPANIONS = ("", "-wal", "-shm", "-journal")
MODE = 0o600


def database_file(connection) -> str | None:
    """The path of `connection`'s SQLite file, or None (another database, or in memory)."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    return name


def restrict_database_files(sender, connection, **kwargs) -> None:
    path = database_file(connection)
    if path is None:
        return
    for suffix in COMPANIONS:
        try:
            if stat.S_IMODE(os.stat(path + suffix).st_mode) != MODE:
                os.chmod(path + suffix, MODE)
        except FileNotFoundError:
            continue


def connect() -> None:
    connection_created.connect(restrict_database_files, dispatch_uid="gateway.infra.sqlite_files")
