"""manage.py create_channel."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from channels_app import keys
from channels_app.models import ApiKey, Channel
from channels_app.selectors import api_key_authenticate


def run(*args):
    out = StringIO()
    call_command("create_channel", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_owner_and_channel_and_prints_the_key_last(db):
    out = run("--owner", "New@Example.com", "--name", "Shop", "--model", "openai/gpt-oss-20b", "--credits", "7",
              "--rate-limit", "9", "--daily-limit", "11", "--system-prompt", "Be nice.")
    key = out.strip().splitlines()[-1]
    assert keys.is_well_formed(key)
    channel = Channel.objects.get()
    assert (channel.owner.email, channel.name, channel.model) == ("new@example.com", "Shop", "openai/gpt-oss-20b")
    assert (channel.credits, channel.rate_limit_per_minute, channel.daily_limit) == (7, 9, 11)
    assert channel.system_prompt == "Be nice." and channel.is_active
    assert api_key_authenticate(key).channel == channel


def test_it_reuses_an_existing_owner(db, owner):
    run("--owner", owner.email, "--name", "One")
    run("--owner", owner.email.upper(), "--name", "Two")
    assert Channel.objects.filter(owner=owner).count() == 2


def test_it_can_create_an_inactive_channel(db):
    run("--owner", "a@example.com", "--name", "Off", "--inactive")
    assert not Channel.objects.get().is_active


def test_it_refuses_an_unknown_model(db):
    with pytest.raises(CommandError, match="Unknown model 'gpt-9'"):
        run("--owner", "a@example.com", "--name", "X", "--model", "gpt-9")
    assert not Channel.objects.exists()


@pytest.mark.parametrize("option,value", [("--credits", "-1"), ("--credits", "lots"), ("--rate-limit", "0"), ("--daily-limit", "1.5")])
def test_it_refuses_a_bad_number(db, option, value):
    with pytest.raises(CommandError, match=option.lstrip("-")):
        run("--owner", "a@example.com", "--name", "X", option, value)
    assert not Channel.objects.exists() and not ApiKey.objects.exists()


def test_it_refuses_a_bad_email(db):
    with pytest.raises(CommandError, match="not an email"):
        run("--owner", "nobody", "--name", "X")


@pytest.mark.processes
@pytest.mark.standalone
def test_it_exits_non_zero_from_the_shell(tmp_path):
    import subprocess
    import sys

    from gateway.testing.processes import sqlite_database

    # Migrated first: the catalog the model is checked against lives in the database.
    env = {**__import__("os").environ, "DATABASE_URL": sqlite_database(tmp_path), "REDIS_URL": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "create_channel", "--owner", "a@example.com", "--name", "X", "--model", "nope"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode != 0
    assert "Unknown model 'nope'" in result.stderr
