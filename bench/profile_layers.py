"""Where a chat's CPU goes, layer by layer: the gateway's ASGI app and the floor's, driven in one process.

    python -m bench.profile_layers                 # PostgreSQL + Redis on loopback, as `make bench`
    python -m bench.profile_layers --chats 3000 --json out.json

Builds what `make bench` builds (a fresh database, seeded; the mock upstream in
its own process; the production settings), then in a child process calls
`gateway.asgi.application` and `bench.floor.app` directly, one chat at a time
(c=1), with no HTTP server in between (uvicorn and httptools are the same for
both, so they are left out):

1. CPU per chat, unprofiled: `time.process_time()` over all chats, for the
   gateway and the floor, alternating rounds (best and median reported);
2. the gateway's split by layer: the same chats under cProfile with a
   thread-CPU clock; each layer's time is a function's inclusive time minus
   the layers nested in it (see LAYERS), scaled so that the layers add up to
   the unprofiled total (the profiler's own cost is spread pro rata, which
   overstates call-heavy layers a little).

Client-side work (psycopg, redis-py, aiohttp building and parsing their
messages) counts in the process, as it does in a worker. PostgreSQL's, Redis's
and the mock's CPU do not. Figures: docs/performance.md, "Layer by layer".
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import procs
from bench.asgi_call import asgi_call
from bench.procs import PY, ROOT

# Each function's own time (cProfile's tottime) goes to the layer of the file it is in: the first
# rule whose fragment is in its path. Nested-time arithmetic would not work here: asyncio tasks
# (the handler's, asyncio.shield's, adb.to_the_end's) start new call stacks, so a function's
# inclusive time leaves out what its tasks ran. Helpers with no layer of their own (built-ins,
# json, re, copy, ...: NEUTRAL) are charged to their callers, in proportion to the calls' time.
RULES = [
    ("logging", ("/logging/", "log_redaction")),
    ("bench driver (not counted)", ("bench/profile_layers",)),
    ("Django: URL resolution", ("django/urls/",)),
    ("Django: ASGI handler (request, send, close)", ("django/core/handlers/", "gateway/overrides/api_handler")),
    ("Django: HttpRequest/HttpResponse, signals, lazy objects (settings)", (
        "django/http/", "django/utils/datastructures", "django/dispatch", "django/core/signals", "django/utils/functional",
        "multipartparser")),
    ("validation (DRF serializers, fields)", ("rest_framework/serializers", "rest_framework/fields", "rest_framework/validators",
                                              "django/core/validators", "light_serializer", "conversations/serializers",
                                              "rest_framework/utils/", "django/utils/translation", "django/utils/regex")),
    ("DRF: Request, Response, dispatch, rendering", ("rest_framework/", "adrf/", "gateway/overrides/api_view",
                                                     "response_rendering")),
    ("our middleware: metrics (prometheus_client)", ("gateway/infra/middleware", "gateway/infra/metrics", "prometheus_client")),
    ("our ASGI router, body limit, security middleware", ("gateway/infra/api_middleware", "gateway/infra/body_limit",
                                                          "gateway/routing", "gateway/infra/cors", "gateway/asgi")),
    ("our views, key header, errors", ("conversations/views", "channels_app/authentication", "gateway/infra/errors")),
    ("key verification (HMAC, key cache)", ("channels_app/credentials", "channels_app/key_cache", "channels_app/keys",
                                             "hmac")),
    ("pipeline: admission (limits; redis-py)", ("conversations/admission", "conversations/limits", "conversations/windows",
                                                "conversations/visitor_limits", "conversations/counters", "/redis/")),
    ("pipeline: store (psycopg)", ("conversations/store", "gateway/infra/adb", "gateway/infra/db", "psycopg")),
    ("pipeline: provider call (aiohttp)", ("conversations/provider", "conversations/resilience", "aiohttp", "yarl",
                                           "multidict", "aiohappyeyeballs", "frozenlist", "aiosignal", "propcache")),
    ("pipeline: its own steps (flow, prompt)", ("conversations/", "channels_app/")),
    ("Django: settings, timezone, other", ("django/",)),
    ("event loop (asyncio, uvloop, tasks)", ("asyncio/", "uvloop", "contextvars", "concurrent/")),
    ("the floor's own code", ("bench/floor",)),
]
NEUTRAL = ("~", "/json/", "/re/", "/re.py", "/copy.py", "/functools.py", "/abc.py", "/typing.py", "/enum.py",
           "/datetime.py", "/uuid.py", "/decimal.py", "/_pydecimal.py", "/collections/", "/contextlib.py",
           "/weakref.py", "/_weakrefset.py", "/inspect.py", "/dataclasses.py", "/urllib/", "/email/", "/http/",
           "/string.py", "/base64.py", "/types.py", "/operator.py", "/ipaddress.py", "/socket.py", "/ssl.py",
           "/random.py", "/hashlib.py", "/threading.py", "/_collections_abc.py", "/posixpath.py", "/genericpath.py",
           "/codecs.py", "/encodings/", "/warnings.py", "/locale.py", "/sre_")


def layer_of(path: str) -> str | None:
    if path == "~" or any(fragment in path for fragment in NEUTRAL[1:]):
        return None
    for title, fragments in RULES:
        if any(fragment in path for fragment in fragments):
            return title
    return "other"


def layer_split(stats: pstats.Stats, n: int) -> dict:
    """Seconds of own time per chat for each layer."""
    table = stats.stats
    split: dict[str, float] = {}
    by_function: dict[tuple[str, str], float] = {}

    def charge(func, seconds: float, depth: int = 0) -> None:
        title = layer_of(func[0])
        if title is None and depth < 12:
            callers = table.get(func, (0, 0, 0, 0, {}))[4]
            weights = {caller: max(v[2] if isinstance(v, tuple) else 0.0, 1e-12) for caller, v in callers.items()}
            total = sum(weights.values())
            if total:
                for caller, weight in weights.items():
                    charge(caller, seconds * weight / total, depth + 1)
                return
        title = title or "other (unattributed helpers)"
        split[title] = split.get(title, 0.0) + seconds
        where = (title, f"{func[0].split('site-packages/')[-1]}:{func[1]}({func[2]})")
        by_function[where] = by_function.get(where, 0.0) + seconds

    for func, (_cc, _nc, tt, _ct, _callers) in table.items():
        charge(func, tt)
    top = sorted(by_function.items(), key=lambda kv: -kv[1])[:60]
    return {"layers": {title: seconds / n for title, seconds in split.items()},
            "top_functions": [[title, where, round(seconds / n * 1e6, 1)] for (title, where), seconds in top]}


def chat_scope(key: str, body: bytes) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/chat", "raw_path": b"/api/chat", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), (b"x-api-key", key.encode())],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
    }


async def one_chat(app, key: str, body: bytes) -> int:
    return await asgi_call(app, chat_scope(key, body), body)


def bodies(targets: list[tuple[str, str]]):
    i = 0
    while True:
        key, session = targets[i % len(targets)]
        i += 1
        if os.environ.get("PROFILE_NEW_SESSIONS"):  # --new-sessions: the busy channel's visitors, each new
            session = f"{session}-new-{i}"
        yield key, json.dumps({"message": f"Which of your kettles is the quietest? (#{i})", "session_id": session,
                               "metadata": {"url": f"https://shop.example/p/{i}", "title": f"Product {i}"}}).encode()


async def run_chats(app, chats, n: int) -> float:
    """CPU seconds per chat for n chats, one at a time (and, into WALL, wall-clock seconds per chat)."""
    started, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        key, body = next(chats)
        status = await one_chat(app, key, body)
        if status != 200:
            raise SystemExit(f"a chat answered {status}")
    WALL.append((time.perf_counter() - wall) / n)
    return (time.process_time() - started) / n


async def time_steps(app, chats, n: int) -> dict:
    """Wall-clock µs per chat of the gateway's round trips (--steps): each step wrapped for the run, then restored."""
    from channels_app import credentials
    from channels_app.providers import provider
    from conversations.engine import admission, pipeline, store

    backend = type(store.backend())
    spent: dict[str, float] = {}
    originals = []

    def wrap(owner, attribute: str, title: str) -> None:
        original = getattr(owner, attribute)
        originals.append((owner, attribute, original))

        async def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                spent[title] = spent.get(title, 0.0) + time.perf_counter() - began

        setattr(owner, attribute, timed)

    wrap(credentials, "resolve", "key: credentials.resolve")
    wrap(admission, "admit", "limits: admission.admit (Redis)")
    wrap(backend, "hold_and_history", "store: hold_and_history (PostgreSQL)")
    wrap(provider, "complete", "provider: complete (the mock)")
    wrap(backend, "store_exchange", "store: store_exchange (PostgreSQL)")
    wrap(pipeline, "finish", "pipeline.finish (provider + store)")
    try:
        began = time.perf_counter()
        for _ in range(n):
            key, body = next(chats)
            await one_chat(app, key, body)
        total = time.perf_counter() - began
    finally:
        for owner, attribute, original in originals:
            setattr(owner, attribute, original)
    return {"whole chat": round(total / n * 1e6, 1), **{k: round(v / n * 1e6, 1) for k, v in spent.items()}}


WALL: list[float] = []  # run_chats' wall-clock seconds per chat, in call order


async def drive(targets_file: Path, chats: int, rounds: int) -> dict:
    import django

    django.setup()
    from bench import floor
    from gateway.asgi import application

    targets = [tuple(line.split("\t")) for line in targets_file.read_text().splitlines() if line]
    await floor.floor.start()
    chat_bodies = bodies(targets)
    # Warm up: every key into the key cache, pools and sessions open.
    await run_chats(application, chat_bodies, 2 * len(targets))
    await run_chats(floor.app, chat_bodies, len(targets))
    cpu = {"gateway": [], "floor": []}
    wall = {"gateway": [], "floor": []}
    for r in range(rounds):
        order = ("gateway", "floor") if r % 2 == 0 else ("floor", "gateway")
        for name in order:
            cpu[name].append(await run_chats(application if name == "gateway" else floor.app, chat_bodies, chats))
            wall[name].append(WALL[-1])
    steps = await time_steps(application, chat_bodies, chats) if os.environ.get("PROFILE_STEPS") else None
    layers = {}
    for name, app in (("gateway", application), ("floor", floor.app)):
        profiler = cProfile.Profile(time.thread_time_ns, 1e-9)
        profiler.enable()
        for _ in range(chats):
            key, body = next(chat_bodies)
            await one_chat(app, key, body)
        profiler.disable()
        if os.environ.get("PROFILE_PSTATS_DIR"):  # --pstats: the raw profile too, for pstats' callers/callees
            profiler.dump_stats(Path(os.environ["PROFILE_PSTATS_DIR"]) / f"{name}.pstats")
        layers[name] = layer_split(pstats.Stats(profiler), chats)
    await floor.floor.stop()
    return {"cpu_us_per_chat": {k: [round(v * 1e6, 1) for v in vs] for k, vs in cpu.items()}, "chats": chats,
            "wall_us_per_chat": {k: [round(v * 1e6, 1) for v in vs] for k, vs in wall.items()}, "steps": steps,
            "layers": layers}


async def drive_under_callgrind(targets_file: Path, chats: int, handshake: Path) -> None:
    """The child under `valgrind --tool=callgrind --instr-atstart=no`: after the warm-up, `chats` chats of each
    app, between files the parent waits for while it turns instrumentation on and off (callgrind_control)."""
    from datetime import timedelta

    import django

    django.setup()
    from bench import floor
    from channels_app import selectors
    from gateway.asgi import application

    # Under callgrind a chat takes ~50x longer, so the once-a-minute work (a key's last_used_at, read on a
    # thread with the ORM) would come ~50x more often per chat than at real speed: stretched to an hour,
    # as the key cache's expiry is (KEY_CACHE_SECONDS in the parent), so the count is that of a chat.
    selectors.LAST_USED_RESOLUTION = timedelta(hours=1)
    targets = [tuple(line.split("\t")) for line in targets_file.read_text().splitlines() if line]
    await floor.floor.start()
    chat_bodies = bodies(targets)
    await run_chats(application, chat_bodies, 2 * len(targets))
    await run_chats(floor.app, chat_bodies, len(targets))

    def wait_for(name: str) -> None:
        while not (handshake / name).exists():
            time.sleep(0.02)

    for name, app in (("gateway", application), ("floor", floor.app)):
        (handshake / f"{name}.ready").write_text(str(os.getpid()))
        wait_for(f"{name}.go")
        await run_chats(app, chat_bodies, chats)
        (handshake / f"{name}.done").touch()
        wait_for(f"{name}.next")
    await floor.floor.stop()


def instructions_per_chat(targets: Path, env: dict, chats: int, workdir: Path) -> dict:
    """Instructions (callgrind's Ir, deterministic: no noise from a shared machine) per chat, gateway and floor."""
    handshake = workdir / "callgrind"
    handshake.mkdir()
    python = PY  # the venv's interpreter (a symlink to the binary, not a wrapper script, which valgrind would not follow)
    child = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={handshake}/out.%p",
         python, "-m", "bench.profile_layers", "--drive", str(targets), "--chats", str(chats),
         "--callgrind-handshake", str(handshake)],
        cwd=ROOT, env={**env, "KEY_CACHE_SECONDS": "3600"}, stdout=subprocess.DEVNULL,
        stderr=open(workdir / "callgrind.log", "wb"),
    )

    def wait_for(name: str, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while not (handshake / name).exists():
            if child.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"callgrind child gone or stuck before {name}; see {workdir / 'callgrind.log'}")
            time.sleep(0.1)

    def control(*args: str) -> None:
        subprocess.run(["callgrind_control", *args, str(child.pid)], check=True, capture_output=True)

    result = {}
    for name in ("gateway", "floor"):
        wait_for(f"{name}.ready")
        control("--zero")
        control("--instr=on")
        (handshake / f"{name}.go").touch()
        wait_for(f"{name}.done")
        control("--instr=off")
        before = set(handshake.glob("out.*"))
        control("--dump")
        dumped = procs_wait_new_file(handshake, before)
        totals = next(int(line.split()[1]) for line in dumped.read_text().splitlines() if line.startswith("totals:"))
        result[name] = round(totals / chats)
        (handshake / f"{name}.next").touch()
    child.wait(120)
    return result


def procs_wait_new_file(directory: Path, before: set, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = set(directory.glob("out.*")) - before
        if new:
            time.sleep(0.5)  # let callgrind finish writing it
            return max(new, key=lambda p: p.stat().st_mtime)
        time.sleep(0.1)
    raise SystemExit("callgrind wrote no dump")


def report(result: dict) -> str:
    cpu = result["cpu_us_per_chat"]
    best = {name: min(values) for name, values in cpu.items()}
    lines = [
        f"CPU per chat, in process, c=1, {result['chats']} chats a round (best; median of the rounds):",
        f"  gateway {best['gateway']:.0f} µs ({statistics.median(cpu['gateway']):.0f}); floor {best['floor']:.0f} µs "
        f"({statistics.median(cpu['floor']):.0f}); difference {best['gateway'] - best['floor']:.0f} µs",
        f"  rounds: gateway {cpu['gateway']}, floor {cpu['floor']}",
        *([f"Wall clock per chat (best): gateway {min(result['wall_us_per_chat']['gateway']):.0f} µs, floor "
           f"{min(result['wall_us_per_chat']['floor']):.0f} µs (CPU plus the waits for PostgreSQL, Redis and the mock)"]
          if "wall_us_per_chat" in result else []),
        *([f"  gateway step by step (wall µs per chat): {result['steps']}"] if result.get("steps") else []),
        "By layer: cProfile own time (thread CPU clock), each app's layers scaled to its unprofiled best.",
        "",
        "| layer | gateway µs | floor µs | difference µs |",
        "|---|---|---|---|",
    ]
    scaled = {}
    for name in ("gateway", "floor"):
        layers = {k: v for k, v in result["layers"][name]["layers"].items() if not k.startswith("bench driver")}
        total = sum(layers.values())
        scaled[name] = {k: v / total * best[name] for k, v in layers.items()} if total else {}
    titles = sorted(set(scaled["gateway"]) | set(scaled["floor"]), key=lambda t: -scaled["gateway"].get(t, 0))
    for title in titles:
        g, f = scaled["gateway"].get(title, 0.0), scaled["floor"].get(title, 0.0)
        lines.append(f"| {title} | {g:.0f} | {f:.0f} | {g - f:+.0f} |")
    lines.append(f"| **total** | **{best['gateway']:.0f}** | **{best['floor']:.0f}** | "
                 f"**{best['gateway'] - best['floor']:+.0f}** |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chats", type=int, default=1000, help="chats per round and in the profile")
    p.add_argument("--rounds", type=int, default=4, help="unprofiled rounds of each, alternating")
    p.add_argument("--channels", type=int, default=100)
    p.add_argument("--sessions", type=int, default=10, help="sessions per channel (histories grow with every chat)")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench"))
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"))
    p.add_argument("--new-sessions", action="store_true", help="a new session per chat (with --channels 1: the busy channel)")
    p.add_argument("--json", type=Path)
    p.add_argument("--steps", action="store_true", help="also the wall clock of the gateway's round trips, step by step")
    p.add_argument("--pstats", type=Path, metavar="DIR", help="also write each app's raw cProfile (DIR/gateway.pstats)")
    p.add_argument("--callgrind", type=int, default=0, metavar="CHATS",
                   help="instead: instructions per chat under callgrind (noise-free), CHATS of each app")
    p.add_argument("--drive", type=Path, help=argparse.SUPPRESS)  # the child process: targets file
    p.add_argument("--callgrind-handshake", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.drive and args.callgrind_handshake:
        import uvloop

        uvloop.run(drive_under_callgrind(args.drive, args.chats, args.callgrind_handshake))
        return 0
    if args.drive:
        import uvloop

        result = uvloop.run(drive(args.drive, args.chats, args.rounds))
        sys.stdout.write("PROFILE_JSON " + json.dumps(result) + "\n")
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="gateway-profile-"))
    running = procs.Procs()
    mock_port = procs.free_port()
    mock_url = f"http://127.0.0.1:{mock_port}"
    env = procs.bench_env(database_url=args.database_url, redis_url=args.redis_url, mock_url=mock_url, workdir=workdir,
                          pool_max=20, llm_max_connections=1000, metrics_token="profile")
    try:
        procs.recreate_database(args.database_url)
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        seeded = workdir / "targets.json"
        subprocess.run([PY, "-m", "bench.seed", "--channels", str(args.channels), "--sessions", str(args.sessions), "--out", str(seeded)],
                       cwd=ROOT, env=env, check=True)
        targets = workdir / "targets.tsv"
        targets.write_text("".join(f"{t['key']}\t{t['session_id']}\n" for t in json.loads(seeded.read_text())["targets"]))
        mock = running.start([PY, "-m", "bench.mock_upstream", "--port", str(mock_port)], env=env, log=workdir / "mock.log")
        procs.wait_until(lambda: procs.http("POST", f"{mock_url}/_bench/latency?ms=0")[0] == 200, what="mock", proc=mock)
        if args.callgrind:
            ir = instructions_per_chat(targets, env, args.callgrind, workdir)
            print(f"instructions per chat (callgrind Ir, {args.callgrind} chats each): gateway {ir['gateway']:,}, "
                  f"floor {ir['floor']:,}, ratio {ir['gateway'] / ir['floor']:.2f}")
            if args.json:
                args.json.write_text(json.dumps({"instructions_per_chat": ir, "chats": args.callgrind}, indent=2))
            return 0
        if args.steps:
            env = {**env, "PROFILE_STEPS": "1"}
        if args.new_sessions:
            env = {**env, "PROFILE_NEW_SESSIONS": "1"}
        if args.pstats:
            args.pstats.mkdir(parents=True, exist_ok=True)
            env = {**env, "PROFILE_PSTATS_DIR": str(args.pstats.resolve())}
        child = subprocess.run(
            [PY, "-m", "bench.profile_layers", "--drive", str(targets), "--chats", str(args.chats),
             "--rounds", str(args.rounds)], cwd=ROOT, env=env, capture_output=True, text=True,
        )
        line = next((x for x in child.stdout.splitlines() if x.startswith("PROFILE_JSON ")), None)
        if line is None:
            raise SystemExit(f"the profile failed:\n{child.stdout[-2000:]}\n{child.stderr[-4000:]}")
        result = json.loads(line[len("PROFILE_JSON "):])
    finally:
        running.stop_all()
        procs.forget_cache_keys(args.redis_url, env["CACHE_KEY_PREFIX"])
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
