"""`make bench`: load-test the production setup against a local mock upstream.

Starts, on loopback only: the mock upstream (FakeLLM under uvicorn, its own
process), the gateway (`uvicorn gateway.asgi:application --workers <cores>`)
on PostgreSQL and Redis with a generated environment, then drives both with
wrk: every gateway figure has its direct-to-mock baseline from the same run.
Prints a table and writes bench/results/<time>.json (and latest.json).

    python -m bench.run            # the full run, a few minutes
    python -m bench.run --smoke    # a few seconds; fails if the harness breaks
    python -m bench.run --busy --streams   # first, 5,000 streamed chats held open at once (bench/streams.py)
"""

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from bench import procs, report, streams
from bench.procs import PY, ROOT

RESULTS = ROOT / "bench" / "results"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny counts and seconds, for CI")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="uvicorn workers (default: one per core)")
    p.add_argument("--channels", type=int, default=200)
    p.add_argument("--sessions", type=int, default=10, help="sessions per channel")
    p.add_argument("--new-sessions", action="store_true",
                   help="a new session per chat (every visitor new) instead of rotating the seeded ones")
    p.add_argument("--busy", action="store_true",
                   help="the busy single channel: --channels 1 --new-sessions (a popular site's widget or backend)")
    p.add_argument("--seconds", type=float, default=10, help="length of each 0 ms phase")
    p.add_argument("--slow-seconds", type=float, default=20, help="length of each slow-upstream phase")
    p.add_argument("--slow-latency-ms", type=float, default=2000)
    p.add_argument("--slow-connections", type=int, default=1000)
    p.add_argument("--sweep", default="16,32,64,128", help="concurrencies tried for the highest req/s")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench"))
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"))
    p.add_argument("--pool-max", type=int, default=20, help="DATABASE_POOL_MAX per worker")
    p.add_argument("--llm-max-connections", type=int, default=1000, help="LLM_MAX_CONNECTIONS per worker")
    p.add_argument("--loop", default="auto", help="uvicorn --loop for gateway and mock")
    p.add_argument("--http", default="auto", help="uvicorn --http for gateway and mock")
    p.add_argument("--nodelay-fix", action="store_true", help="serve through bench.uvicorn_nodelay (encode/uvicorn#3149, upstream)")
    p.add_argument("--profile", action="store_true", help="py-spy record each worker during the c=64 and slow phases")
    p.add_argument("--profile-gil", action="store_true", help="with --profile: only samples holding the GIL (where CPU goes)")
    p.add_argument("--streams", type=int, nargs="?", const=-1, default=0, metavar="N",
                   help="first, on a gateway of its own: N streamed chats held open at once, each a new session "
                        "(bench/streams.py; N: 5000, or 50 with --smoke)")
    p.add_argument("--streams-only", action="store_true", help="with --streams: no wrk phases after it")
    p.add_argument("--streams-app", default="gateway.asgi:application",
                   help="the ASGI app the streams phase's gateway serves; bench.traced_app:application traces its memory")
    p.add_argument("--stream-token-ms", type=float, default=None,
                   help="the trickling upstream's delay between tokens (1000; 200 with --smoke)")
    p.add_argument("--stream-open-concurrency", type=int, default=64, help="streams between sent and first token, at most")
    p.add_argument("--stream-hold-seconds", type=float, default=10, help="how long all streams are held open before the probes")
    p.add_argument("--stream-tail-tokens", type=int, default=20,
                   help="once released, each stream sends 0 to this many more tokens, so they do not all end at once")
    p.add_argument("--stream-probes", type=int, default=100, help="TTFT probes at c=1, idle and beside the open streams")
    p.add_argument("--label", default="baseline")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    if args.streams:
        args.streams = args.streams if args.streams > 0 else (50 if args.smoke else 5000)
        if args.stream_token_ms is None:
            args.stream_token_ms = 200 if args.smoke else 1000
        if args.smoke:
            args.stream_hold_seconds, args.stream_tail_tokens = 1, 2
            args.stream_probes = min(args.stream_probes, 5)
        if args.streams_only and args.label == "baseline":
            args.label = "streams"
    if args.busy:
        args.channels, args.sessions, args.new_sessions = 1, 1, True
        if args.label == "baseline":
            args.label = "busy"
    if args.smoke:
        args.channels, args.sessions = (1, 1) if args.busy else (4, 3)
        args.seconds, args.slow_seconds = 1, 2
        args.slow_latency_ms, args.slow_connections = 200, 50
        args.sweep = "8"
    return args


def machine() -> dict:
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "tree_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return ""


def server_impl(loop: str, http: str) -> dict:
    """What uvicorn's 'auto' resolves to here."""

    def has(mod: str) -> bool:
        try:
            __import__(mod)
            return True
        except ImportError:
            return False

    return {
        "loop": loop if loop != "auto" else ("uvloop" if has("uvloop") else "asyncio"),
        "http": http if http != "auto" else ("httptools" if has("httptools") else "h11"),
    }


class Sampler(threading.Thread):
    """Every 0.5 s: the gateway's summed RSS, and the chats in flight as /metrics reports them."""

    def __init__(self, master_pid: int, metrics_url: str, token: str):
        super().__init__(daemon=True)
        self.master_pid, self.metrics_url, self.token = master_pid, metrics_url, token
        self.stop_event = threading.Event()
        self.max_rss_kib = 0
        self.max_in_flight = 0.0

    def run(self) -> None:
        while not self.stop_event.wait(0.5):
            pids = [self.master_pid, *procs.children(self.master_pid)]
            self.max_rss_kib = max(self.max_rss_kib, sum(procs.memory_kib(p).get("VmRSS", 0) for p in pids))
            try:
                status, body = procs.http("GET", self.metrics_url, headers={"Authorization": f"Bearer {self.token}"})
            except OSError:
                continue
            match = re.search(rb'^gateway_requests_in_flight\{endpoint="chat"\} (\S+)$', body, re.M)
            if status == 200 and match:
                self.max_in_flight = max(self.max_in_flight, float(match.group(1)))

    def stop(self) -> None:
        self.stop_event.set()
        self.join(5)


def profile_workers(pids: list[int], seconds: float, name: str, out_dir: Path, gil: bool = False) -> list[subprocess.Popen]:
    spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    started = []
    for pid in pids:
        for fmt, ext in (("raw", "txt"), ("flamegraph", "svg")):
            started.append(subprocess.Popen(
                [spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", "200",
                 "--format", fmt, "--output", str(out_dir / f"profile-{name}-{pid}.{ext}"), "--nonblocking",
                 *(["--gil"] if gil else [])],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
    return started


def main(argv=None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="gateway-bench-"))  # keys and logs: outside git
    running = procs.Procs()

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    token = secrets.token_urlsafe(24)
    mock_port, gw_port = procs.free_port(), procs.free_port()
    floor_port = procs.free_port()
    mock_url, gw_url = f"http://127.0.0.1:{mock_port}", f"http://127.0.0.1:{gw_port}"
    floor_url = f"http://127.0.0.1:{floor_port}"
    env = procs.bench_env(
        database_url=args.database_url, redis_url=args.redis_url, mock_url=mock_url, workdir=workdir,
        pool_max=args.pool_max, llm_max_connections=args.llm_max_connections, metrics_token=token,
    )
    log = workdir / "bench.log"
    results = {
        "label": args.label,
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "smoke": args.smoke,
        "machine": machine(),
        "config": {
            "workers": args.workers, "channels": args.channels, "sessions_per_channel": args.sessions,
            "new_session_per_chat": args.new_sessions,
            "seconds": args.seconds, "slow_seconds": args.slow_seconds, "slow_latency_ms": args.slow_latency_ms,
            "slow_connections": args.slow_connections, "pool_max": args.pool_max,
            "llm_max_connections": args.llm_max_connections, "server": server_impl(args.loop, args.http),
            "nodelay_fix": args.nodelay_fix,
            "database": args.database_url.split("://")[0], "cache": "redis" if args.redis_url else "locmem",
        },
        "phases": {},
    }
    if args.streams:
        results["config"]["streams"] = {
            "streams": args.streams, "token_delay_ms": args.stream_token_ms,
            "open_concurrency": args.stream_open_concurrency, "hold_seconds": args.stream_hold_seconds,
            "tail_tokens": args.stream_tail_tokens, "probes": args.stream_probes,
            "llm_max_connections": max(args.llm_max_connections, args.streams), "llm_total_timeout": 600,
            "mock_keep_alive_seconds": 75,
        }
    try:
        print(f"bench: work dir {workdir}", flush=True)
        procs.recreate_database(args.database_url)
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        targets_json = workdir / "targets.json"
        subprocess.run(
            [PY, "-m", "bench.seed", "--channels", str(args.channels), "--sessions", str(args.sessions),
             "--out", str(targets_json)], cwd=ROOT, env=env, check=True,
        )
        seeded = json.loads(targets_json.read_text())
        targets = workdir / "targets.tsv"
        targets.write_text("".join(f"{t['key']}\t{t['session_id']}\n" for t in seeded["targets"]))
        results["config"]["seeded"] = {"sessions": seeded["sessions"], "messages": seeded["messages"]}
        print(f"bench: seeded {args.channels} channels, {seeded['sessions']} sessions, {seeded['messages']} messages", flush=True)

        mock = running.start(
            [PY, "-m", "bench.mock_upstream", "--port", str(mock_port), "--loop", args.loop, "--http", args.http],
            env=env, log=workdir / "mock.log",
        )
        procs.wait_until(lambda: procs.http("POST", f"{mock_url}/_bench/latency?ms=0")[0] == 200, what="mock", proc=mock)

        def start_server(what: str, port: int, app: str, server_env: dict, probe: str, *flags: str
                         ) -> tuple[subprocess.Popen, list[int]]:
            """`app` on uvicorn with the bench's flags; ready once its workers answer `probe` (a GET) with 401."""
            url = f"http://127.0.0.1:{port}"
            server = running.start(
                [PY, "-m", "bench.uvicorn_nodelay" if args.nodelay_fix else "uvicorn", app, *flags, "--host", "127.0.0.1",
                 "--port", str(port), "--workers", str(args.workers), "--no-access-log", "--log-level", "warning",
                 "--backlog", "4096", "--loop", args.loop, "--http", args.http],
                env=server_env, log=workdir / f"{what}.log",
            )
            procs.wait_until(
                lambda: len(procs.workers_of(server.pid)) >= (args.workers if args.workers > 1 else 0)
                and all(procs.http("GET", url + probe)[0] == 401 for _ in range(4 * args.workers)),
                what=what, proc=server, timeout=60,
            )
            return server, procs.workers_of(server.pid) or [server.pid]

        def start_gateway(port: int, gateway_env: dict, mock_pid: int, app: str = "gateway.asgi:application"
                          ) -> tuple[subprocess.Popen, list[int]]:
            gateway, workers = start_server("gateway", port, app, gateway_env, "/api/history")
            print(f"bench: gateway pid {gateway.pid}, workers {workers}; mock pid {mock_pid}", flush=True)
            return gateway, workers

        if args.streams:
            # A gateway of its own, so its idle memory is a fresh gateway's and the wrk phases' figures do not
            # carry the streams' peak. Every stream may land on one worker, so each may open N upstream
            # connections; a stream held through the whole ramp outlives the 90 s default LLM_TOTAL_TIMEOUT
            # (a deadline for the whole answer, as long reasoning answers also need raised).
            # Its mock (its own too) keeps idle connections longer than the gateway's pool (aiohttp's 15 s), as
            # providers do: with uvicorn's 5 s, a chat may be sent on a connection the mock is closing.
            streams_port, streams_mock_port = procs.free_port(), procs.free_port()
            streams_mock_url = f"http://127.0.0.1:{streams_mock_port}"
            streams_mock = running.start(
                [PY, "-m", "bench.mock_upstream", "--port", str(streams_mock_port), "--loop", args.loop, "--http", args.http,
                 "--timeout-keep-alive", "75"], env=env, log=workdir / "mock-streams.log",
            )
            procs.wait_until(lambda: procs.http("GET", f"{streams_mock_url}/_bench/streams")[0] == 200, what="mock",
                             proc=streams_mock)
            streams_gateway, streams_workers = start_gateway(streams_port, env | {
                "LLM_BASE_URL": f"{streams_mock_url}/v1",
                "LLM_MAX_CONNECTIONS": str(max(args.llm_max_connections, args.streams)), "LLM_TOTAL_TIMEOUT": "600",
                "BENCH_TRACE_DIR": str(RESULTS),
            }, streams_mock.pid, args.streams_app)
            results["streams"] = asyncio.run(streams.phase(
                gateway_url=f"http://127.0.0.1:{streams_port}", mock_url=streams_mock_url,
                keys=sorted({t["key"] for t in seeded["targets"]}), gateway_pids=streams_workers, mock_pid=streams_mock.pid,
                gateway_master_pid=streams_gateway.pid, trace_memory=args.streams_app.startswith("bench.traced_app"),
                database_url=args.database_url, metrics_token=token, streams=args.streams,
                open_concurrency=args.stream_open_concurrency, token_delay_ms=args.stream_token_ms,
                hold_seconds=args.stream_hold_seconds, tail_tokens=args.stream_tail_tokens, probes=args.stream_probes,
                settle_seconds=0.2 if args.smoke else 1,
            ))
            running.stop(streams_gateway)
            running.stop(streams_mock)
        if not args.streams_only:
            gateway, workers = start_gateway(gw_port, env, mock.pid)
            # The floor (bench/floor.py): the same chat's work with no framework, on the same uvicorn, same flags.
            floor, floor_workers = start_server("floor", floor_port, "bench.floor:app", env, "/api/chat", "--lifespan", "on")
            print(f"bench: floor pid {floor.pid}, workers {floor_workers}", flush=True)

            def run(name: str, target: str, connections: int, seconds: float, timeout: float = 10) -> dict:
                if target == "floor":  # the floor answers the gateway's /api/chat requests
                    url, extra, pids = floor_url, ["gateway", str(targets)], floor_workers
                elif target in ("gateway", "openai"):
                    url, extra, pids = gw_url, [target, str(targets)], workers
                else:
                    url, extra, pids = mock_url, ["direct"], []
                if args.new_sessions and target != "direct":
                    extra.append(f"{name}-{time.time_ns()}")  # this phase's session names: none seen before
                cpu_before = procs.cpu_seconds(pids)
                r = procs.wrk(url, connections=connections, seconds=seconds, timeout=timeout, args=extra, log=log)
                # CPU the server's workers (the gateway's, or the floor's) spent per answered request: steadier
                # than req/s on a shared machine.
                r["gateway_cpu_ms_per_request"] = round(
                    (procs.cpu_seconds(pids) - cpu_before) * 1000 / max(1, r["requests"]), 3
                ) if target != "direct" else None
                results["phases"][name] = r
                cpu = f"  gateway CPU {r['gateway_cpu_ms_per_request']:.2f} ms/req" if target != "direct" else ""
                print(f"bench: {name:<22} {r['rps']:8.1f} req/s  p50 {r['latency_us']['p50'] / 1000:8.2f} ms  "
                      f"p99 {r['latency_us']['p99'] / 1000:8.2f} ms  ok {r['success_rate']:.2%}{cpu}", flush=True)
                return r

            procs.wrk(gw_url, connections=8, seconds=1 if args.smoke else 3, timeout=10,
                      args=["gateway", str(targets)], log=log)  # warm-up: pools, caches, the provider client
            procs.wrk(floor_url, connections=8, seconds=1 if args.smoke else 3, timeout=10,
                      args=["gateway", str(targets)], log=log)  # the floor's warm-up
            for c in (1, 64 if not args.smoke else 8):
                run(f"direct_c{c}", "direct", c, args.seconds)
                run(f"floor_c{c}", "floor", c, args.seconds)
                spies = profile_workers(workers, args.seconds, f"c{c}", RESULTS, args.profile_gil) if args.profile and c > 1 else []
                run(f"gateway_c{c}", "gateway", c, args.seconds)
                for spy in spies:
                    spy.wait(30)
                run(f"openai_c{c}", "openai", c, args.seconds)  # the same chat through /v1/chat/completions
            for c in (int(x) for x in args.sweep.split(",")):
                if f"gateway_c{c}" not in results["phases"]:
                    run(f"gateway_c{c}", "gateway", c, args.seconds)

            procs.http("POST", f"{mock_url}/_bench/latency?ms={args.slow_latency_ms:g}")
            slow_timeout = args.slow_latency_ms / 1000 + 30
            run(f"direct_slow_c{args.slow_connections}", "direct", args.slow_connections, args.slow_seconds, slow_timeout)
            run(f"floor_slow_c{args.slow_connections}", "floor", args.slow_connections, args.slow_seconds, slow_timeout)
            time.sleep(args.slow_latency_ms / 1000 + 1)  # the floor's chats still upstream finish before the gateway's turn
            sampler = Sampler(gateway.pid, f"{gw_url}/metrics", token)
            sampler.start()
            spies = profile_workers(workers, args.slow_seconds, "slow", RESULTS, args.profile_gil) if args.profile else []
            run(f"gateway_slow_c{args.slow_connections}", "gateway", args.slow_connections, args.slow_seconds, slow_timeout)
            sampler.stop()
            for spy in spies:
                spy.wait(30)

            status, body = procs.http("GET", f"{gw_url}/metrics", headers={"Authorization": f"Bearer {token}"})
            results["metrics_scrape_ok"] = status == 200 and b"gateway_requests_total" in body
            results["memory"] = {
                "gateway_peak_rss_mib_sum_of_processes": round(
                    sum(procs.memory_kib(p).get("VmHWM", 0) for p in [gateway.pid, *workers]) / 1024, 1),
                "gateway_peak_rss_mib_sampled": round(sampler.max_rss_kib / 1024, 1),
                "per_process_peak_rss_mib": {
                    str(p): round(procs.memory_kib(p).get("VmHWM", 0) / 1024, 1) for p in [gateway.pid, *workers]},
                "mock_peak_rss_mib": round(procs.memory_kib(mock.pid).get("VmHWM", 0) / 1024, 1),
            }
            results["slow_max_in_flight_seen"] = sampler.max_in_flight
    except KeyboardInterrupt:
        print(f"bench: interrupted; logs in {workdir}", file=sys.stderr)
        return 130
    except BaseException:
        print(f"bench: failed; logs in {workdir}", file=sys.stderr)
        raise
    finally:
        running.stop_all()
        procs.forget_cache_keys(args.redis_url, env["CACHE_KEY_PREFIX"])

    gateway_log = (workdir / "gateway.log").read_text(errors="replace").splitlines()
    exceptions = Counter(
        line.split(":")[0] for line in gateway_log if re.match(r"^[\w.]+(Error|Exception|Timeout|Unavailable)\b", line)
    )
    results["gateway_log"] = {"lines": len(gateway_log), "exceptions": dict(exceptions), "tail": gateway_log[-20:]}
    if not args.streams_only:
        results["summary"] = report.summarize(results, args)
        print(report.table(results["summary"], results))
    if args.streams:
        print(streams.table(results["streams"], results))
    RESULTS.mkdir(exist_ok=True)
    out = args.out or RESULTS / f"{'smoke' if args.smoke else args.label}-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(results, indent=2))
    (RESULTS / ("latest-smoke.json" if args.smoke else "latest.json")).write_text(json.dumps(results, indent=2))
    print(f"bench: wrote {out}")
    shutil.rmtree(workdir, ignore_errors=True)
    problems = ([] if args.streams_only else report.harness_problems(results)) + (
        streams.problems(results["streams"]) if args.streams else [])
    for problem in problems:
        print(f"bench: FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
