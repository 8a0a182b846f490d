"""Tripwires for the framework overrides (gateway/overrides/): an upgrade changing what they copy or rely on fails here.

Three kinds of check: the installed framework versions are the pinned ones; the framework code each
override copies or relies on is unchanged (a fingerprint of its syntax tree, recorded in the override's
`RELIES_ON`); and the framework behaviour each override exists to avoid is still there (when one of
those fails, the framework now does the job itself: the override can probably go).
"""

import asyncio
import importlib
import importlib.metadata
import pkgutil
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_started
from django.http import HttpResponse
from django.template.response import SimpleTemplateResponse
from django.urls import path
from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.response import Response

import gateway.overrides
from gateway.overrides.api_handler import ApiHandler
from gateway.overrides.api_view import LoopAPIView
from gateway.overrides.fingerprint import fingerprint
from gateway.overrides.light_serializer import LightSerializer
from gateway.overrides.redis_clients import SharedClientsRedisCache

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"
FRAMEWORKS = {
    "django": "Django", "rest_framework": "DRF", "adrf": "adrf", "whitenoise": "WhiteNoise",
    "mozilla_django_oidc": "mozilla-django-oidc", "uvicorn": "uvicorn",
}


def run_async(coroutine_function):
    # A thread of its own: earlier tests (the browser's) may have left an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine_function()).result()


def relied_on() -> list[tuple[str, str, str]]:
    """(module of the override, dotted name of the framework code, its recorded fingerprint), for every override."""
    found = [("gateway/overrides/__init__.py", name, print_) for name, print_ in gateway.overrides.RELIES_ON.items()]
    for info in pkgutil.iter_modules(gateway.overrides.__path__):
        module = importlib.import_module(f"gateway.overrides.{info.name}")
        for name, print_ in getattr(module, "RELIES_ON", {}).items():
            found.append((f"gateway/overrides/{info.name}.py", name, print_))
    return found


def resolve(dotted: str):
    """The function a dotted name points at: a module's attribute, a class's method or property."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            # A class's own __dict__ keeps the descriptor (cached_property, staticmethod) rather than its value.
            own = isinstance(target, type) and attribute in target.__dict__
            target = target.__dict__[attribute] if own else getattr(target, attribute)
        if isinstance(target, cached_property):
            return target.func
        if isinstance(target, (staticmethod, classmethod)):
            return target.__func__
        if isinstance(target, property):
            return target.fget
        return target
    raise ImportError(dotted)


def test_installed_framework_versions_are_the_pinned_ones():
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", REQUIREMENTS.read_text(), re.M))
    for package in ("Django", "djangorestframework", "adrf", "whitenoise", "redis", "mozilla-django-oidc", "uvicorn"):
        installed = importlib.metadata.version(package)
        assert installed == pinned[package], (
            f"{package} {installed} is installed, requirements.txt pins {pinned[package]}: "
            "re-check every override in gateway/overrides/ written against the pinned version"
        )


@pytest.mark.parametrize("module, dotted, recorded", [pytest.param(*entry, id=entry[1]) for entry in relied_on()])
def test_framework_code_the_overrides_copy_is_unchanged(module, dotted, recorded):
    framework = FRAMEWORKS[dotted.split(".")[0]]
    name = ".".join(part for part in dotted.split(".") if part[:1].isupper() or part == dotted.split(".")[-1])
    assert fingerprint(resolve(dotted)) == recorded, f"{framework} changed {name}: re-check {module}"


def test_every_override_module_says_what_it_replaces_why_and_which_test_guards_it():
    for info in pkgutil.iter_modules(gateway.overrides.__path__):
        if info.name == "fingerprint":
            continue
        doc = importlib.import_module(f"gateway.overrides.{info.name}").__doc__ or ""
        assert doc.startswith("Override:"), info.name
        # The measurement of a speed override, or the threat a security one closes.
        why = any(f"Why (docs/{page}.md" in doc for page in ("performance", "security", "testing", "operations"))
        assert "What it " in doc and why and "Guarded by" in doc, info.name
        assert f"`{info.name}.py`" in gateway.overrides.__doc__, f"{info.name} is missing from the index"


# --- ApiHandler: no signal sent through a thread; its own middleware ---------------------------------------------

async def plain_view(request):
    return HttpResponse(b"ok")


class RenderProbe(SimpleTemplateResponse):
    """A template-style response that notes the thread it is rendered on."""

    rendered_on = None

    def __init__(self):
        super().__init__(template=None)

    def resolve_template(self, template):
        return None

    @property
    def rendered_content(self):
        RenderProbe.rendered_on = threading.get_ident()
        return b"probe"


async def render_probe_view(request):
    return RenderProbe()


class ProbeView(LoopAPIView):
    authentication_classes: list = []
    initial_on = None

    def initial(self, request, *args, **kwargs):
        type(self).initial_on = threading.get_ident()
        super().initial(request, *args, **kwargs)

    async def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("probe", plain_view),
    path("render-probe", render_probe_view),
    path("loop-view", ProbeView.as_view()),
]


async def fetch(app, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as client:
        return await client.get(url)


@pytest.fixture
def probe_urls(settings):
    settings.ROOT_URLCONF = __name__
    settings.MIDDLEWARE = []


def signals_seen(handler_factory) -> list[int]:
    seen: list[int] = []

    def receiver(**kwargs):
        seen.append(threading.get_ident())

    request_started.connect(receiver, weak=False)
    try:
        assert run_async(lambda: fetch(handler_factory(), "/probe")).status_code == 200
    finally:
        request_started.disconnect(receiver)
    return seen


def test_the_api_handler_sends_no_signal_through_a_thread(probe_urls):
    assert signals_seen(lambda: ApiHandler([])) == []


def test_django_still_sends_request_started_through_a_thread(probe_urls):
    # What the API handler's copy of ASGIHandler.handle leaves out. If this fails, Django no longer
    # makes that trip: gateway/overrides/api_handler.py may be replaced by ASGIHandler itself.
    assert len(signals_seen(ASGIHandler)) == 1


def test_the_api_handler_runs_the_api_middleware_and_leaves_the_setting_alone(settings):
    from gateway.routing import API_MIDDLEWARE

    settings.ROOT_URLCONF = __name__
    web = list(settings.MIDDLEWARE)
    response = run_async(lambda: fetch(ApiHandler(API_MIDDLEWARE), "/probe"))
    assert settings.MIDDLEWARE == web
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # ApiSecurityMiddleware
    assert response.headers["Cache-Control"] == "no-store"  # ApiSecurityMiddleware too
    assert "X-Frame-Options" not in response.headers  # the web stack's XFrameOptionsMiddleware did not run


def test_django_still_refuses_the_lifespan_protocol():
    # Why gateway/routing.py's Router answers it: if Django ever speaks lifespan, Router may not need to.
    async def never():
        raise AssertionError("not reached")

    with pytest.raises(ValueError, match="can only handle ASGI/HTTP"):
        run_async(lambda: ASGIHandler()({"type": "lifespan"}, never, never))


# --- LoopAPIView and rendered(): initial() and rendering on the event loop ---------------------------------------

def test_the_api_view_runs_initial_on_the_event_loop(probe_urls):
    loop_thread = {}

    async def call():
        loop_thread["id"] = threading.get_ident()
        return await fetch(ApiHandler([]), "/loop-view")

    response = run_async(call)
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert ProbeView.initial_on == loop_thread["id"]


def test_adrf_still_runs_initial_in_a_thread(probe_urls):
    # What gateway/overrides/api_view.py avoids. If this fails, adrf runs initial() on the loop itself:
    # LoopAPIView's copy of async_dispatch may go (keeping its two hooks in the API's view).
    from adrf.views import APIView

    class AdrfProbe(APIView):
        authentication_classes: list = []
        initial_on = None

        def initial(self, request, *args, **kwargs):
            type(self).initial_on = threading.get_ident()
            super().initial(request, *args, **kwargs)

        async def get(self, request):
            return Response({"ok": True})

    async def call():
        loop = threading.get_ident()
        view = AdrfProbe.as_view()
        from django.test import RequestFactory

        response = await view(RequestFactory().get("/"))
        return loop, response

    loop, response = run_async(call)
    assert response.status_code == 200
    assert AdrfProbe.initial_on != loop


def test_django_still_renders_a_template_response_on_a_thread(probe_urls):
    # What gateway/overrides/response_rendering.py avoids. If this fails, Django renders on the loop: rendered() may go.
    async def call():
        RenderProbe.rendered_on = None
        response = await fetch(ApiHandler([]), "/render-probe")
        return threading.get_ident(), response

    loop, response = run_async(call)
    assert response.content == b"probe"
    assert RenderProbe.rendered_on is not None and RenderProbe.rendered_on != loop


def test_rendered_hands_django_a_response_with_nothing_left_to_render():
    from gateway.overrides.response_rendering import rendered

    drf = Response({"a": 1}, status=201, headers={"X-Test": "1"})
    from rest_framework.renderers import JSONRenderer

    drf.accepted_renderer, drf.accepted_media_type, drf.renderer_context = JSONRenderer(), "application/json", {}
    plain = rendered(drf)
    assert not hasattr(plain, "render")
    assert (plain.status_code, plain.content, plain["X-Test"]) == (201, b'{"a":1}', "1")


# --- LightSerializer: DRF's per-serializer deep copy ----------------------------------------------------------------

class CountedField(serializers.CharField):
    built = 0

    def __init__(self, **kwargs):
        type(self).built += 1
        super().__init__(**kwargs)


def test_drf_still_deep_copies_declared_fields_for_each_serializer():
    # What gateway/overrides/light_serializer.py avoids: each DRF serializer re-runs every field's __init__.
    class Stock(serializers.Serializer):
        name = CountedField()

    assert "name" in Stock._declared_fields  # what LightSerializer.get_fields reads
    before = CountedField.built
    Stock().fields  # noqa: B018
    Stock().fields  # noqa: B018
    assert CountedField.built == before + 2, "DRF no longer deep-copies fields per serializer: LightSerializer may go"


def test_light_serializer_builds_no_field_per_serializer_yet_binds_its_own_copies():
    class Light(LightSerializer):
        name = CountedField()

    before = CountedField.built
    first, second = Light(data={"name": "a"}), Light(data={"name": "b"})
    assert first.is_valid() and second.is_valid()
    assert CountedField.built == before
    assert first.fields["name"] is not second.fields["name"]
    assert first.fields["name"].parent is first and second.fields["name"].parent is second
    assert Light._declared_fields["name"].parent is None  # the declaration itself is never bound


# --- SharedClientsRedisCache: one client per process -----------------------------------------------------------------

def test_django_still_builds_a_redis_client_per_cache_object_and_ours_shares_one():
    from django.core.cache.backends.redis import RedisCache

    location, params = "redis://127.0.0.1:6379/10", {"OPTIONS": {"socket_timeout": 1}}
    # Nothing connects here: clients and pools are built lazily.
    assert RedisCache(location, params)._cache is not RedisCache(location, params)._cache, (
        "Django now shares its Redis client between cache objects: gateway/overrides/redis_clients.py may go"
    )
    ours = SharedClientsRedisCache(location, params)._cache
    assert ours is SharedClientsRedisCache(location, params)._cache
    assert ours.get_client() is ours.get_client()


def test_shallow_copy_is_copy_copy_for_every_api_field():
    # LightSerializer copies fields with shallow_copy, a shortcut of copy.copy: it must build the same object.
    import copy

    import conversations.edge.openai_api  # noqa: F401  (its serializers too)
    import conversations.edge.serializers  # noqa: F401
    from gateway.overrides.light_serializer import shallow_copy

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    fields = [field for cls in subclasses(LightSerializer) for field in cls._declared_fields.values()]
    assert len(fields) >= 6
    for field in fields:
        ours, theirs = shallow_copy(field), copy.copy(field)
        assert type(ours) is type(theirs) is type(field)
        assert vars(ours) == vars(theirs) and ours is not field


# --- flush_by_delete: the test suite empties PostgreSQL by DELETE --------------------------------------------------


def test_the_test_flush_empties_every_table_by_delete_and_keeps_djangos_otherwise():
    from django.core.management.color import no_style
    from django.db.backends.postgresql.operations import DatabaseOperations

    from gateway.overrides import flush_by_delete

    flush_by_delete.install()  # as the root conftest does
    ops = DatabaseOperations(None)
    assert ops.sql_flush(no_style(), ["a", "b"]) == [
        'LOCK TABLE "a", "b" IN ACCESS EXCLUSIVE MODE;', 'DELETE FROM "a";', 'DELETE FROM "b";'
    ]
    assert ops.sql_flush(no_style(), ["a", "b"], reset_sequences=True) == ['TRUNCATE "a", "b" RESTART IDENTITY;']
    assert ops.sql_flush(no_style(), ["a"], allow_cascade=True) == ['TRUNCATE "a" CASCADE;']


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_flush_on_postgresql_leaves_no_row_in_any_table(api, llm, key):
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection

    from gateway.testing.api import chat

    assert chat(api, key, "rows in linked tables: owner, channel, key, session, messages").status_code == 200
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)

    def rows() -> dict[str, int]:
        with connection.cursor() as cursor:
            counts = {}
            for table in tables:
                cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
                counts[table] = cursor.fetchone()[0]
            return {table: n for table, n in counts.items() if n}

    assert {"conversations_message", "channels_app_channel", "channels_app_apikey"} <= set(rows())
    assert connection.ops.sql_flush(no_style(), tables)[1].startswith("DELETE FROM")
    call_command("flush", interactive=False, reset_sequences=False, inhibit_post_migrate=True, verbosity=0)
    assert rows() == {}


# --- flush_keeps_post_migrate_rows: the content types and permissions stay through a test's flush -----------------


def test_post_migrate_has_only_the_receivers_whose_rows_the_flush_keeps():
    from gateway.overrides.flush_keeps_post_migrate_rows import KEPT, receivers

    # A new receiver (an app added one) turns the override off, every flush Django's: say which tables it fills.
    assert receivers() == set(KEPT), "a new post_migrate receiver: add the model it fills to KEPT, or drop the override"


def _natural_rows(cursor) -> dict[str, set[tuple]]:
    """The content types and permissions of a database, by natural key (ids differ between databases)."""
    cursor.execute("SELECT app_label, model FROM django_content_type")
    content_types = set(cursor.fetchall())
    cursor.execute(
        "SELECT t.app_label, t.model, p.codename, p.name FROM auth_permission p"
        " JOIN django_content_type t ON t.id = p.content_type_id"
    )
    return {"content types": content_types, "permissions": set(cursor.fetchall())}


@pytest.mark.django_db(transaction=True)
def test_a_flush_leaves_the_rows_of_a_migrated_flushed_database(tmp_path, monkeypatch):
    import sqlite3

    from django.apps import apps
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.commands import flush as flush_command
    from django.db import connection

    from channels_app.providers import catalog, catalog_seed
    from conftest import make_channel, make_user
    from gateway.overrides.flush_keeps_post_migrate_rows import flush, kept_tables
    from gateway.testing.processes import sqlite_database

    with sqlite3.connect(sqlite_database(tmp_path).removeprefix("sqlite:///")) as fresh:  # a fresh `migrate`
        migrated = _natural_rows(fresh.cursor())
    assert len(migrated["content types"]) > 40 and len(migrated["permissions"]) > 160

    signals = []
    emit = flush_command.emit_post_migrate_signal
    monkeypatch.setattr(flush_command, "emit_post_migrate_signal", lambda *a, **k: (signals.append(a), emit(*a, **k)))

    def left() -> tuple[set[str], dict[str, set[tuple]]]:
        tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        with connection.cursor() as cursor:
            filled = set()
            for table in tables:
                cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
                if cursor.fetchone():
                    filled.add(table)
            return filled, _natural_rows(cursor)

    flush("default")
    flush("default")  # the first in this process was Django's; from here on the snapshot exists
    # A test that wrote rows, some pointing at the kept ones (the catalog as the model_catalog fixture seeds it).
    catalog_seed.seed(apps)
    catalog.forget()
    owner = make_user("owner@example.com", "pw-owner-123!")
    make_channel(owner)
    Group.objects.create(name="editors").permissions.add(Permission.objects.get(codename="change_group"))
    signals.clear()
    flush("default")
    assert signals == []  # nothing made again
    assert left() == (set(kept_tables()), migrated)

    # A test that changed the kept rows: Django's flush makes them again.
    Permission.objects.filter(codename="view_group").delete()
    ContentType.objects.create(app_label="elsewhere", model="thing")
    flush("default")
    assert len(signals) == 1
    assert left() == (set(kept_tables()), migrated)
    ContentType.objects.get_for_model(Group)  # the cache holds no content type a flush removed
    assert not ContentType.objects.filter(app_label="elsewhere").exists()
