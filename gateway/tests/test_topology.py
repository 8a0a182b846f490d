"""The production topology, for real: Debian's nginx terminating TLS (a self-signed certificate made here)
in front of two gateway processes, a Celery worker and Celery beat, on PostgreSQL and Redis. Every process
is started from deploy/ (the nginx site, the systemd units' ExecStart, the environment template).

Needs DATABASE_URL on PostgreSQL, REDIS_URL and /usr/sbin/nginx: on the SQLite-only run it is skipped
(CI's second run, on PostgreSQL + Redis, runs it). `make topology-test` runs this module alone.
"""

import json
import os
import signal
import ssl
import threading
import time
from types import SimpleNamespace

import httpx
import pytest
from django.conf import settings
from django.db import connection

from alerts import signing
from gateway.testing import loopback
from gateway.testing.api import UPSTREAM_KEY, WIDGET_ORIGIN
from gateway.testing.processes import PostgresDatabase, create_channels, free_port, gateway_env, manage
from gateway.testing.smtp import SmtpSink
from gateway.testing.topology import Nginx, UnitGateway, UnitProcess, env_template, self_signed_certificate
from gateway.testing.waiting import refuses_connections, wait_until
from gateway.testing.webhook_receiver import start_receiver

pytestmark = [pytest.mark.processes, 
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.nginx,
]

OWNER = "topology-owner@example.com"
FAIL_TIMEOUT = 2  # the upstream servers' fail_timeout in deploy/nginx/ai-gateway.conf

# In the cluster's database: the owner's webhook (its secret printed, as the dashboard shows it once).
# and a publishable key working from WIDGET_ORIGIN.
_SETUP = """
from alerts.services import webhook_set
from channels_app.models import Channel
from channels_app.services import channel_set_allowed_origins, publishable_key_issue
channel = Channel.objects.get(public_id="%s")
channel_set_allowed_origins(channel=channel, allowed_origins=["%s"])
print(publishable_key_issue(channel=channel).key)
print(webhook_set(channel=channel, url="%s"))
"""
_OLD_THREAD = """
from datetime import timedelta
from django.utils import timezone
from channels_app.models import Channel
from conversations.models import Session
past = timezone.now() - timedelta(days=400)
Session.objects.create(channel=Channel.objects.get(public_id="%s"), session_id="ancient", started_at=past,
                       expires_at=past + timedelta(hours=24))
"""


def cluster_env(*, database_url: str, llm_url: str, smtp_port: int, https_port: int) -> dict:
    """The deploy/env.example settings, with this test's secrets, services and ports filled in."""
    template = {k: v for k, v in env_template().items() if "change-me" not in v}
    tag = f"topo{os.getpid()}"
    return gateway_env(**{
        **template,
        # The test process's throwaway secrets stay (inherited); its plain-HTTP switches go: production defaults.
        **dict(
            SECURE_SSL_REDIRECT=None, SESSION_COOKIE_SECURE=None, CSRF_COOKIE_SECURE=None,
            DATABASE_URL=database_url, REDIS_URL=settings.REDIS_URL, CACHE_KEY_PREFIX=tag, CELERY_QUEUE=tag,
            ALLOWED_HOSTS="localhost,127.0.0.1", CSRF_TRUSTED_ORIGINS=f"https://localhost:{https_port}",
            STATIC_COLLECTED="False", LLM_BASE_URL=f"{llm_url}/v1", LLM_API_KEY=UPSTREAM_KEY,
            EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp_port),
            # Test-only speed-ups: thresholds checked every second, retries after a fraction of one.
            ALERT_CHECK_INTERVAL_SECONDS="1", RETENTION_PURGE_INTERVAL_SECONDS="2",
            JOB_RETRY_BACKOFF_BASE="0.2", JOB_RETRY_BACKOFF_CAP="1", WEBHOOK_TIMEOUT_SECONDS="1",
            WEBHOOK_MAX_RETRIES="2",
            WEBHOOK_ALLOW_PRIVATE="True",  # the webhook receiver is on loopback; deliveries check the address too
            # The knowledge test's website is served on loopback, which the crawler refuses by default.
            KNOWLEDGE_ALLOW_PRIVATE="True",
            LOG_LEVEL="WARNING",
        ),
    })


@pytest.fixture(scope="module")
def topology(tmp_path_factory, fake_llm_server):
    tmp = tmp_path_factory.mktemp("topology")
    state = tmp / "state"
    state.mkdir()
    smtp = SmtpSink().start()
    receiver, receiver_server = start_receiver()
    receiver.url = receiver_server.url + "/hook"
    cert, key = self_signed_certificate(tmp)
    nginx = Nginx(tmp / "nginx", https_port=free_port(), http_port=free_port(), cert=cert, key=key)
    database = PostgresDatabase.beside(connection.settings_dict, f"gw_topology_{os.getpid()}")
    env = cluster_env(database_url=database.url, llm_url=fake_llm_server.url, smtp_port=smtp.port,
                      https_port=nginx.https_port)
    started = []
    try:
        database.create(env)
        # Limits out of the way of the load test; credits well above the alert threshold until a test lowers them.
        [channel] = create_channels(env, {"owner": OWNER, "credits": 10_000, "rate_limit_per_minute": 100_000,
                                            "daily_limit": 1_000_000})
        publishable, secret = manage(
            env, "shell", "-c", _SETUP % (channel["public_id"], WIDGET_ORIGIN, receiver.url)).strip().splitlines()[-2:]
        gateways = [UnitGateway(env, log_path=tmp / f"gateway-{i}.log", port=free_port(), state_dir=state).launch()
                    for i in range(2)]
        started += gateways
        for gateway in gateways:
            gateway.wait_ready()
        nginx.start([f"127.0.0.1:{g.port}" for g in gateways])
        started.append(nginx)
        worker = UnitProcess("ai-gateway-worker.service", env, log_path=tmp / "worker.log", state_dir=state).start()
        beat = UnitProcess("ai-gateway-beat.service", env, log_path=tmp / "beat.log", state_dir=state).start()
        started += [worker, beat]
        with loopback.Client(base_url=nginx.url, verify=ssl.create_default_context(cafile=str(cert)), timeout=30) as client:
            yield SimpleNamespace(
                client=client, nginx=nginx, gateways=gateways, worker=worker, beat=beat, database=database,
                channel=channel, secret=secret, publishable=publishable, smtp=smtp, receiver=receiver, env=env,
                cert=cert, llm=fake_llm_server.app,
            )
    finally:
        for process in reversed(started):
            process.stop()
        receiver_server.stop()
        smtp.stop()
        database.drop()
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        queue = env["CELERY_QUEUE"]
        for key_ in [*client.scan_iter(match=f"{env['CACHE_KEY_PREFIX']}:*"), queue, f"_kombu.binding.{queue}"]:
            client.delete(key_)


@pytest.fixture
def llm(topology):
    topology.llm.reset()
    return topology.llm


def chat(client, key, message, session_id="s-1", **extra):
    return client.post("/api/chat", json={"message": message, "session_id": session_id, **extra},
                       headers={"X-API-Key": key})


def test_sse_streams_arrive_token_by_token_through_nginx(topology, llm):
    llm.reply = "one two three four five six"
    llm.token_delay = 0.25
    arrivals = []
    body = {"message": "count", "session_id": "sse", "stream": True}
    with topology.client.stream("POST", "/api/chat", json=body, headers={"X-API-Key": topology.channel["key"]}) as r:
        assert r.status_code == 200 and r.headers["server"].startswith("nginx")
        for line in r.iter_lines():
            if line.startswith("event: token"):
                arrivals.append(time.monotonic())
    assert len(arrivals) == 6
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    # Buffered, they would arrive together at the end; passed through, about a token each quarter second
    # (a loaded machine may delay one and deliver it with the next: most gaps, not all, must show).
    assert arrivals[-1] - arrivals[0] > 0.75 and sum(gap > 0.1 for gap in gaps) >= 3, gaps


def test_the_client_address_reaches_the_login_throttle_and_cannot_be_spoofed(topology):
    client = topology.client
    client.get("/accounts/login/")
    origin = {"Origin": topology.nginx.url, "Referer": topology.nginx.url + "/accounts/login/"}
    statuses = []
    for i in range(6):  # a new made-up address each time: the throttle must see through it
        response = client.post("/accounts/login/", data={
            "username": "spoofer@example.com", "password": f"wrong-{i}",
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        }, headers={**origin, "X-Forwarded-For": f"203.0.113.{i}"})
        statuses.append(response.status_code)
    assert statuses[-1] == 429, statuses  # locked out after AXES_FAILURE_LIMIT, whatever the header said
    addresses = topology.database.query("SELECT DISTINCT host(ip_address) FROM axes_accessattempt")
    assert addresses == [("127.0.0.1",)]  # the address nginx saw, not 203.0.113.x


def test_the_client_address_reaches_the_visitor_limits_and_cannot_be_spoofed(topology):
    """New widget sessions are limited per client address (10 a minute): a visitor who makes up a new
    X-Forwarded-For for each is still one address, the one nginx saw."""
    statuses = []
    for i in range(12):
        spoof = {"Origin": WIDGET_ORIGIN, "X-Forwarded-For": f"198.51.100.{i}"}
        statuses.append(topology.client.post("/api/widget-session", params={"key": topology.publishable},
                                             headers=spoof).status_code)
    assert statuses == [200] * 10 + [429, 429], statuses


def test_graceful_shutdown_finishes_a_stream_in_flight(topology, llm):
    """SIGTERM to every gateway while a stream is half-way: it still ends with its `done` event."""
    llm.reply = "slow words for a stream that outlives the signal"
    llm.token_delay = 0.3
    body = {"message": "slow", "session_id": "graceful", "stream": True}
    events = []
    with topology.client.stream("POST", "/api/chat", json=body, headers={"X-API-Key": topology.channel["key"]}) as r:
        for line in r.iter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
                if len(events) == 2:
                    for gateway in topology.gateways:
                        gateway.process.send_signal(signal.SIGTERM)
    assert events[-1] == "done" and events.count("token") == 9, events
    for gateway in topology.gateways:
        gateway.process.wait(20)
        gateway.launch()
    for gateway in topology.gateways:
        gateway.wait_ready()


def test_a_chat_sent_on_a_connection_a_stopping_gateway_had_taken_is_answered(topology, llm):
    """nginx connects, then writes its request; a gateway told to stop in between still answers it
    (gateway/overrides/graceful_shutdown.py: uvicorn alone closes such a connection, a 502 through nginx)."""
    import socket

    gateway = topology.gateways[0]
    body = json.dumps({"message": "just in time", "session_id": "shutdown-race"}).encode()
    request = (f"POST /api/chat HTTP/1.1\r\nHost: localhost\r\nX-API-Key: {topology.channel['key']}\r\n"
               f"Content-Type: application/json\r\nX-Forwarded-Proto: https\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    client = socket.create_connection(("127.0.0.1", gateway.port), timeout=20)
    try:
        gateway.process.send_signal(signal.SIGTERM)

        assert wait_until(lambda: refuses_connections(gateway.port), timeout=10)  # the stop is under way
        client.sendall(request + body)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    finally:
        client.close()
        gateway.process.wait(20)
        gateway.launch().wait_ready()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert topology.database.query(
        "SELECT count(*) FROM conversations_message WHERE role = 'user' AND content = 'just in time'") == [(1,)]


def test_x_forwarded_proto_makes_django_see_https(topology):
    client = topology.client
    page = client.get("/accounts/login/")
    assert page.status_code == 200  # no redirect loop: Django knows the request came over HTTPS
    assert "secure" in page.headers["set-cookie"].lower()  # CSRF cookie marked Secure
    plain = loopback.get(topology.nginx.http_url + "/accounts/login/", follow_redirects=False)
    assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
    # Straight to a gateway, without the proxy's header, Django sees plain HTTP and redirects.
    direct = loopback.get(topology.gateways[0].url + "/accounts/login/", follow_redirects=False)
    assert direct.status_code == 301 and direct.headers["location"].startswith("https://")


def test_bodies_over_the_limit_are_refused_at_the_proxy(topology):
    huge = b"x" * (3 * 1024 * 1024)
    response = topology.client.post("/api/chat", content=huge, headers={
        "X-API-Key": topology.channel["key"], "Content-Type": "application/json"})
    assert response.status_code == 413 and response.headers["server"].startswith("nginx")
    assert response.json() == {"error": "Request body is too large"}
    v1 = topology.client.post("/v1/chat/completions", content=huge, headers={"Content-Type": "application/json"})
    assert v1.status_code == 413 and v1.json()["error"]["code"] == "request_too_large"


def test_alerts_and_webhooks_run_on_celery_once_per_crossing(topology):
    """Beat checks thresholds each second; the worker e-mails (real SMTP) and calls the webhook (real HTTP),
    retrying the receiver's failure; one alert however many checks run."""
    topology.receiver.reset(plan=["fail"], then="ok")
    channel = topology.channel
    topology.database.query("UPDATE channels_app_channel SET credits = 3 WHERE id = %s RETURNING id", (channel["id"],))

    [mail] = topology.smtp.wait_for(OWNER, timeout=30)
    assert "credits are running low" in mail["Subject"]
    requests = topology.receiver.wait_for(2, timeout=30)
    assert [r["answered"] for r in requests] == ["fail", "ok"]
    last = requests[-1]
    assert signing.verify(topology.secret, last["headers"]["x-gateway-timestamp"], last["body"],
                          last["headers"]["x-gateway-signature"])
    assert json.loads(last["body"])["data"]["credits_left"] == 3
    assert wait_until(lambda: topology.database.query(
        "SELECT status, attempts, response_code FROM alerts_webhookdelivery") == [("delivered", 2, 204)], timeout=10)
    time.sleep(3)  # three more checks by beat
    assert len(topology.smtp.to(OWNER)) == 1 and len(topology.receiver.received) == 2


_EMIT = """
from channels_app import events
from channels_app.models import Channel
events.emit(Channel.objects.get(public_id="%s"), "model.retired", {"model": "old-model"})
"""


def test_a_webhook_that_keeps_failing_ends_dead_on_celery(topology):
    topology.receiver.reset(then="fail")
    manage(topology.env, "shell", "-c", _EMIT % topology.channel["public_id"])
    assert wait_until(lambda: topology.database.query(
        "SELECT d.status, d.attempts, d.response_code FROM alerts_webhookdelivery d JOIN alerts_event e "
        "ON e.id = d.event_id WHERE e.type = 'model.retired'") == [("dead", 3, 500)], timeout=20)
    assert topology.database.query("SELECT name, attempts FROM alerts_failedjob") == [("alerts.webhook", 3)]
    assert len(topology.receiver.received) == 3
    assert any("retired" in m["Subject"] for m in topology.smtp.to(OWNER))  # the e-mail went out regardless


def test_knowledge_is_ingested_by_the_celery_worker_and_grounds_chats_through_nginx(topology, llm):
    """`manage.py knowledge ... --wait` queues on Celery and waits for the worker; the gateways then search it
    (PostgreSQL full-text) once their list of channels with knowledge is renewed."""
    from gateway.testing.servers import ThreadedUvicorn
    from knowledge.testing import LoopbackSite

    [channel] = create_channels(topology.env, {"owner": OWNER, "name": "Knowing", "credits": 100})
    site = ThreadedUvicorn(LoopbackSite()).start()
    try:
        site.app.html("/returns", "Returns", "<h1>Returns</h1><p>Unopened tins can be returned within 30 days.</p>")
        out = manage(topology.env, "knowledge", "add-site", channel["public_id"], f"{site.url}/returns", "--wait")
        assert "\tsite\tready\t1\t" in out, out
        out = manage(topology.env, "knowledge", "add-text", channel["public_id"], "--title", "Hours", "--wait",
                     input="Open from nine to five.")
        assert "\ttext\tready\t1\t" in out, out
        assert site.app.fetched("/returns")
    finally:
        site.stop()

    def grounded():
        answer = chat(topology.client, channel["key"], "Can unopened tins be returned?", session_id="k").json()
        return answer["sources"] == [{"title": "Returns", "url": f"{site.url}/returns"}]

    assert wait_until(grounded, timeout=20)
    assert "within 30 days" in json.dumps(llm.requests[-1]["json"]["messages"])
    status = manage(topology.env, "knowledge", "status", channel["public_id"]).splitlines()
    assert [line.split("\t")[1:4] for line in status] == [["site", "ready", "1"], ["text", "ready", "1"]]


def test_beat_schedules_the_retention_purge_on_the_worker(topology):
    manage(topology.env, "shell", "-c", _OLD_THREAD % topology.channel["public_id"])
    assert wait_until(lambda: not topology.database.query(
        "SELECT id FROM conversations_session WHERE session_id = 'ancient'"), timeout=20)


def test_a_rolling_restart_under_load_loses_no_request_and_stores_no_chat_twice(topology, llm):
    llm.latency = 0.3  # chats in flight when a process is told to stop
    key = topology.channel["key"]
    topology.database.query("UPDATE channels_app_channel SET credits = 100000 WHERE id = %s RETURNING id",
                            (topology.channel["id"],))
    results: list[tuple[str, int]] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        with loopback.Client(base_url=topology.nginx.url, verify=ssl.create_default_context(cafile=str(topology.cert)), timeout=30) as client:
            n = 0
            while not stop.is_set():
                message = f"rolling-{worker}-{n}"
                stream = n % 3 == 0
                try:
                    response = chat(client, key, message, session_id=f"roll-{worker}", stream=stream)
                    ok = response.status_code == 200 and (not stream or "event: done" in response.text)
                    results.append((message, response.status_code if ok else -response.status_code))
                except httpx.HTTPError as exc:
                    results.append((message, f"{type(exc).__name__}"))
                n += 1

    threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(FAIL_TIMEOUT + 1)  # whatever an earlier test restarted is back in nginx's rotation
    for i, gateway in enumerate(topology.gateways):  # one at a time, as docs/operations.md says
        gateway.stop()  # SIGTERM: finishes its in-flight chats and streams, then exits
        gateway.launch().wait_ready()
        time.sleep(FAIL_TIMEOUT + 1)  # nginx tries it again: only then is the next one restarted
    stop.set()
    for t in threads:
        t.join(60)

    failures = [(m, s) for m, s in results if s != 200]
    assert len(results) > 20 and failures == [], failures[:10]
    stored = dict(topology.database.query(
        "SELECT content, count(*) FROM conversations_message WHERE role = 'user' AND content LIKE 'rolling-%%' "
        "GROUP BY content"))
    assert stored == {m: 1 for m, _ in results}
