"""The open-streams phase of `make bench`: N streamed chats held open at once through the gateway.

`python -m bench.run --busy --streams [N]` (bench/run.py) starts a gateway and a mock of their own and calls
`phase()`: every stream is `POST /api/chat` with `"stream": true` (docs/api.md), a new session each, against
the mock trickling one token a second (bench/mock_upstream.py, `[bench-stream …]`), which holds every stream
open until all N are open. It measures:

- streams: how many were open at once, and how many ended with their `done` event; every error (a status, an
  `error` event, a cut connection), and any worker that died meanwhile;
- memory: each gateway worker's RSS (/proc/<pid>/status) idle, then at its peak with the N open;
- CPU: each process's CPU per token relayed while all are held (nothing opens or ends then);
- time to first token: the gateway's minus the mock's own (the same client asking the mock directly),
  p50, at c=1 on an idle gateway and at c=1 beside the N open streams. The probes run in a process of
  their own (`python -m bench.streams probe …`), so the client holding the N streams does not delay them.

This one process holds every stream (asyncio, a plain Protocol per stream on a connection of its own, the fd
limit raised to the hard limit); warm-up and probes use aiohttp.
"""

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bench import procs
from bench.procs import PY, ROOT

PROBE_TOKENS = 3  # a probe's reply: short, so probes do not pile up beside the held streams


def directive(*, tokens: int, delay_ms: float, hold: bool = False, tail: int = 0, max_hold_s: float = 240) -> str:
    """What the mock upstream reads in the chat's message to trickle its answer."""
    return f"[bench-stream tokens={tokens} delay_ms={delay_ms:g}{' hold' if hold else ''} tail={tail} max_hold_s={max_hold_s:g}]"


@dataclass
class Stream:
    """One streamed chat as the client saw it (times from time.monotonic())."""

    sent: float = 0.0
    first_token: float | None = None
    ended: float | None = None
    tokens: int = 0
    done: bool = False
    error: str | None = None

    @property
    def ttft_ms(self) -> float | None:
        return None if self.first_token is None else (self.first_token - self.sent) * 1000


async def gateway_stream(http: aiohttp.ClientSession, url: str, key: str, session_id: str, message: str,
                         s: Stream, on_first_token=None) -> Stream:
    """POST /api/chat streamed: `event: token` {"delta"}…, then `event: done` (or `event: error`)."""
    s.sent = time.monotonic()
    try:
        async with http.post(f"{url}/api/chat", json={"message": message, "session_id": session_id, "stream": True},
                             headers={"X-API-Key": key}) as r:
            if r.status != 200:
                s.error = f"status {r.status}: {(await r.text())[:200]}"
                return s
            # Whole events only (they end with a blank line), counted by bytes.find/count: a line-by-line
            # read costs the client as much CPU per token as the gateway spends relaying it.
            pending = b""
            async for data in r.content.iter_any():
                buf = pending + data
                end = buf.rfind(b"\n\n") + 2
                if end < 2:
                    pending = buf
                    continue
                events, pending = buf[:end], buf[end:]
                tokens = events.count(b"event: token\n")
                if tokens:
                    s.tokens += tokens
                    if s.first_token is None:
                        s.first_token = time.monotonic()
                        if on_first_token:
                            on_first_token()
                if b"event: done\n" in events:
                    s.done = True
                at = events.find(b"event: error\n")
                if at >= 0:
                    s.error = f"error event: {events[at + 13:at + 213].decode(errors='replace').strip()}"
            if not s.done and s.error is None:
                s.error = "ended without its done event"
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, RuntimeError) as exc:  # RuntimeError: aiohttp's 'Connection closed.'
        s.error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        s.ended = time.monotonic()
    return s


class HeldStream(asyncio.Protocol):
    """POST /api/chat streamed on a connection of its own, read with no HTTP client: the events counted in the raw
    bytes as they arrive (the gateway writes each event whole, so no chunk-size line splits a marker). aiohttp's
    reader costs the client about half the CPU per token that the gateway spends relaying it; this, a tenth."""

    TAIL = 16  # bytes kept from the last read: a marker split between two reads is still seen once

    def __init__(self, s: Stream, request: bytes, on_first_token, ended: asyncio.Future):
        self.s, self.request, self.on_first_token, self.ended = s, request, on_first_token, ended
        self.head, self.tail, self.in_body, self.transport = b"", b"", False, None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.s.sent = time.monotonic()
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self.in_body:
            self.head += data
            at = self.head.find(b"\r\n\r\n")
            if at < 0:
                return
            status, data, self.in_body = self.head.split(b" ", 2)[1], self.head[at + 4:], True
            if status != b"200":
                self.s.error = f"status {status.decode()}: {data[:200].decode(errors='replace')}"
                self.transport.close()
                return
        buf = self.tail + data
        tokens = buf.count(b"event: token\n") - self.tail.count(b"event: token\n")
        if tokens:
            self.s.tokens += tokens
            if self.s.first_token is None:
                self.s.first_token = time.monotonic()
                if self.on_first_token:
                    self.on_first_token()
        if b"event: done\n" in buf:
            self.s.done = True
        at = buf.find(b"event: error\n")
        if at >= 0 and self.s.error is None:
            self.s.error = f"error event: {buf[at + 13:at + 213].decode(errors='replace').strip()}"
        if buf.endswith(b"0\r\n\r\n"):  # the chunked body's end
            self.transport.close()
        self.tail = buf[-self.TAIL:]

    def connection_lost(self, exc) -> None:
        if not self.ended.done():
            self.ended.set_result(exc)


async def held_stream(host: str, port: int, key: str, session_id: str, message: str, s: Stream,
                      on_first_token=None, timeout: float = 1800) -> Stream:
    body = json.dumps({"message": message, "session_id": session_id, "stream": True}).encode()
    request = (f"POST /api/chat HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
               f"X-API-Key: {key}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    loop = asyncio.get_running_loop()
    ended = loop.create_future()
    s.sent = time.monotonic()
    transport = None
    try:
        transport, _ = await asyncio.wait_for(
            loop.create_connection(lambda: HeldStream(s, request, on_first_token, ended), host, port), 30)
        lost = await asyncio.wait_for(ended, timeout)
        if s.error is None and not s.done:
            s.error = f"ended without its done event{f' ({lost})' if lost else ''}"
    except (OSError, asyncio.TimeoutError) as exc:
        s.error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        if transport is not None:
            transport.close()
        s.ended = time.monotonic()
    return s


async def direct_stream(http: aiohttp.ClientSession, mock_url: str, message: str, s: Stream) -> Stream:
    """The same ask straight to the mock's /v1/chat/completions: chunks with delta.content, then [DONE]."""
    s.sent = time.monotonic()
    try:
        async with http.post(f"{mock_url}/v1/chat/completions", json={
            "model": "bench", "messages": [{"role": "user", "content": message}], "stream": True,
        }, headers={"Authorization": "Bearer bench"}) as r:
            if r.status != 200:
                s.error = f"status {r.status}"
                return s
            async for raw in r.content:
                line = raw.rstrip(b"\r\n")
                if line == b"data: [DONE]":
                    s.done = True
                elif line.startswith(b"data:") and b'"content"' in line:
                    s.tokens += 1
                    if s.first_token is None:
                        s.first_token = time.monotonic()
            if not s.done:
                s.error = "ended without [DONE]"
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, RuntimeError) as exc:  # RuntimeError: aiohttp's 'Connection closed.'
        s.error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        s.ended = time.monotonic()
    return s


def client(limit: int = 0, read_timeout: float = 600) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=read_timeout),
    )


async def probe(*, gateway_url: str, mock_url: str, key: str, count: int, name: str) -> dict:
    """`count` streamed chats at c=1 through the gateway, each beside the same ask to the mock; TTFT of each."""
    ask = f"Which kettle is the quietest? {directive(tokens=PROBE_TOKENS, delay_ms=0)}"
    gateway, direct, errors = [], [], []
    async with client(limit=4) as http:
        for i in range(count):
            d = await direct_stream(http, mock_url, ask, Stream())
            g = await gateway_stream(http, gateway_url, key, f"{name}-{time.time_ns()}-{i}", ask, Stream())
            for s, into in ((d, direct), (g, gateway)):
                if s.error or s.ttft_ms is None:
                    errors.append(s.error or "no token")
                else:
                    into.append(round(s.ttft_ms, 3))
    return {"direct_ttft_ms": direct, "gateway_ttft_ms": gateway, "errors": errors}


async def run_probe(*, gateway_url: str, mock_url: str, key: str, count: int, name: str) -> dict:
    """probe() in a process of its own; its figures summarised."""
    proc = await asyncio.create_subprocess_exec(
        PY, "-m", "bench.streams", "probe", "--gateway", gateway_url, "--mock", mock_url,
        "--count", str(count), "--name", name, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "BENCH_STREAMS_KEY": key},  # a key stays out of command lines (ps shows them)
    )
    out, _ = await proc.communicate()
    raw = json.loads(out.decode().strip().splitlines()[-1])
    d, g = _quantiles(raw["direct_ttft_ms"]), _quantiles(raw["gateway_ttft_ms"])
    return {
        "probes": count, "errors": raw["errors"][:10], "error_count": len(raw["errors"]),
        "direct_ttft_ms": d, "gateway_ttft_ms": g,
        # The target's definition: the gateway's first-token time minus the mock's own, at the median.
        "overhead_p50_ms": round(g["p50"] - d["p50"], 3) if g["n"] and d["n"] else None,
        "overhead_p99_ms": round(g["p99"] - d["p99"], 3) if g["n"] and d["n"] else None,
    }


def _quantiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    v = sorted(values)
    return {"n": len(v), "p50": round(statistics.median(v), 3), "p99": round(v[min(len(v) - 1, int(len(v) * 0.99))], 3),
            "max": round(v[-1], 3)}


@dataclass
class Watch:
    """What the phase samples every half second: each process's RSS and sockets, the streams open."""

    pids: list[int]
    peak_rss_kib: dict = field(default_factory=dict)
    peak_fds: dict = field(default_factory=dict)
    most_open: int = 0

    def sample(self, open_now: int) -> None:
        self.most_open = max(self.most_open, open_now)
        for pid in self.pids:
            rss = procs.memory_kib(pid).get("VmRSS", 0)
            self.peak_rss_kib[pid] = max(self.peak_rss_kib.get(pid, 0), rss)
            self.peak_fds[pid] = max(self.peak_fds.get(pid, 0), _fds(pid))


def _fds(pid: int) -> int:
    try:
        return len(list(Path(f"/proc/{pid}/fd").iterdir()))
    except OSError:
        return 0


def _rss_mib(pid: int) -> float:
    return round(procs.memory_kib(pid).get("VmRSS", 0) / 1024, 1)


def _database_connections(database_url: str) -> dict:
    """The bench database's server connections by state (idle ones are pooled, not held by a stream)."""
    import psycopg

    try:
        with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT coalesce(state, '?'), count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() GROUP BY 1"
            ).fetchall()
    except psycopg.Error as exc:  # a shared server's connection slots may all be taken: a figure lost, not the run
        return {"unknown": str(exc).strip()[:120]}
    return dict(rows)


async def phase(*, gateway_url: str, mock_url: str, keys: list[str], gateway_pids: list[int], mock_pid: int,
                gateway_master_pid: int, trace_memory: bool, database_url: str, metrics_token: str, streams: int,
                open_concurrency: int, token_delay_ms: float, hold_seconds: float, tail_tokens: int, probes: int,
                open_timeout: float = 300, settle_seconds: float = 1) -> dict:
    """Open `streams` held streams, measure with all of them open, release them, count how each ended."""
    hard = procs.raise_fd_limit()
    if hard < streams + 100:
        print(f"bench: streams: the fd hard limit {hard} is below {streams} streams", file=sys.stderr, flush=True)
    released = await _mock(mock_url, "hold")
    assert not released["released"]
    key = keys[0]
    # Warm-up: every worker's pools, caches and provider client (sequential and concurrent).
    async with client() as http:
        warm = directive(tokens=PROBE_TOKENS, delay_ms=0)
        for i in range(4 * len(gateway_pids)):
            await gateway_stream(http, gateway_url, keys[i % len(keys)], f"warm-{time.time_ns()}-{i}", warm, Stream())
        await asyncio.gather(*(gateway_stream(http, gateway_url, keys[i % len(keys)], f"warm-{time.time_ns()}-{i}",
                                              warm, Stream()) for i in range(min(32, streams))))
    await asyncio.sleep(settle_seconds)
    load_before = os.getloadavg()[0]
    if trace_memory:  # bench/traced_app.py: the baseline snapshot
        for pid in gateway_pids:
            os.kill(pid, signal.SIGUSR1)
    idle = {pid: _rss_mib(pid) for pid in gateway_pids}
    idle_fds = {pid: _fds(pid) for pid in gateway_pids}
    mock_idle = _rss_mib(mock_pid)
    print(f"bench: streams: idle RSS MiB {idle}; probing TTFT at c=1", flush=True)
    low = await run_probe(gateway_url=gateway_url, mock_url=mock_url, key=key, count=probes, name="probe-idle")
    print(f"bench: streams: c=1 idle: TTFT p50 direct {low['direct_ttft_ms']['p50']} ms, via gateway "
          f"{low['gateway_ttft_ms']['p50']} ms, overhead {low['overhead_p50_ms']} ms", flush=True)

    watch = Watch(gateway_pids)
    held: list[Stream] = [Stream() for _ in range(streams)]
    counts = {"opened": 0, "open": 0, "never_opened": 0}
    opening = asyncio.Semaphore(open_concurrency)
    # The mock lets a held stream go by itself only once this phase must be over.
    max_hold = open_timeout + hold_seconds + 300
    ask = (f"Tell me about your kettles, slowly. "
           f"{directive(tokens=2, delay_ms=token_delay_ms, hold=True, tail=tail_tokens, max_hold_s=max_hold)}")
    run_name = f"stream-{time.time_ns()}"

    host, port = urlsplit(gateway_url).hostname, urlsplit(gateway_url).port

    async def one(i: int) -> None:
        # At most open_concurrency chats between sent and their first token: visitors arrive, they do not
        # all press send in one instant.
        await opening.acquire()
        got = False

        def first():
            nonlocal got
            got = True
            counts["opened"] += 1
            counts["open"] += 1
            opening.release()

        try:
            await held_stream(host, port, keys[i % len(keys)], f"{run_name}-{i}", ask, held[i], first)
        finally:
            if got:
                counts["open"] -= 1
            else:
                counts["never_opened"] += 1
                opening.release()

    async def sampler(stop: asyncio.Event) -> None:
        while not stop.is_set():
            watch.sample(counts["open"])
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except TimeoutError:
                pass

    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler(stop))
    started = time.monotonic()
    tasks = [asyncio.create_task(one(i)) for i in range(streams)]
    last_report = started
    while counts["opened"] + counts["never_opened"] < streams and time.monotonic() - started < open_timeout:
        await asyncio.sleep(0.2)
        if time.monotonic() - last_report >= 5:
            last_report = time.monotonic()
            print(f"bench: streams: {counts['open']} open, {counts['never_opened']} failed, "
                  f"{time.monotonic() - started:.0f}s", flush=True)
    ramp_s = time.monotonic() - started
    open_at_peak = counts["open"]
    print(f"bench: streams: {open_at_peak} open after {ramp_s:.1f}s; holding {hold_seconds:g}s", flush=True)
    # What relaying the trickle costs, while nothing else happens: CPU per token relayed, per process.
    cpu_before = _cpu(gateway_pids, mock_pid)
    tokens_before, hold_started = sum(s.tokens for s in held), time.monotonic()
    await asyncio.sleep(hold_seconds / 2)
    metrics_in_flight = await asyncio.to_thread(_in_flight, gateway_url, metrics_token)
    await asyncio.sleep(hold_seconds / 2)
    relayed, held_s = sum(s.tokens for s in held) - tokens_before, time.monotonic() - hold_started
    cpu_after = _cpu(gateway_pids, mock_pid)
    load_while_holding = os.getloadavg()[0]
    alive = all(Path(f"/proc/{pid}").exists() for pid in gateway_pids)  # a dead worker's CPU reads as 0
    holding_cpu = {
        name: {"cores": round((cpu_after[name] - cpu_before[name]) / held_s, 3),
               "us_per_token": round((cpu_after[name] - cpu_before[name]) * 1e6 / relayed, 1) if relayed else None}
        if alive or name != "gateway" else {"cores": None, "us_per_token": None}
        for name in cpu_before
    }
    holding_cpu["tokens_per_second"] = round(relayed / held_s, 1)
    if trace_memory:  # bench/traced_app.py: what grew since the idle snapshot
        for pid in gateway_pids:
            os.kill(pid, signal.SIGUSR1)
    database = await asyncio.to_thread(_database_connections, database_url)
    fds_open = {pid: _fds(pid) for pid in gateway_pids}
    rss_open = {pid: _rss_mib(pid) for pid in gateway_pids}
    mock_open = await _mock(mock_url, "streams")
    print(f"bench: streams: RSS MiB with {open_at_peak} open {rss_open}; probing TTFT at c=1 beside them", flush=True)
    loaded = await run_probe(gateway_url=gateway_url, mock_url=mock_url, key=key, count=probes, name="probe-open")
    print(f"bench: streams: c=1 beside {open_at_peak} open: TTFT p50 direct {loaded['direct_ttft_ms']['p50']} ms, "
          f"via gateway {loaded['gateway_ttft_ms']['p50']} ms, overhead {loaded['overhead_p50_ms']} ms", flush=True)
    still_open = counts["open"]
    await _mock(mock_url, "release")
    released_at = time.monotonic()
    await asyncio.wait(tasks, timeout=tail_tokens * token_delay_ms / 1000 + 120)
    drain_s = time.monotonic() - released_at
    for t in tasks:
        t.cancel()
    stop.set()
    await sampling
    mock_end = await _mock(mock_url, "streams")

    errors: dict[str, int] = {}
    for s in held:
        if not s.done or s.error:
            reason = s.error or "not ended"
            errors[reason[:80]] = errors.get(reason[:80], 0) + 1
    ttft = _quantiles([s.ttft_ms for s in held if s.ttft_ms is not None])
    hwm = {pid: round(procs.memory_kib(pid).get("VmHWM", 0) / 1024, 1) for pid in gateway_pids}
    # uvicorn's supervisor kills a worker that leaves its health check unanswered for 5 s (and starts another):
    # every stream that worker held ends without its done event.
    replaced = sorted(set(gateway_pids) - set(procs.workers_of(gateway_master_pid)))
    per_process = {
        str(pid): {
            "idle_rss_mib": idle[pid],
            "rss_with_all_open_mib": rss_open[pid],
            "peak_rss_sampled_mib": round(watch.peak_rss_kib.get(pid, 0) / 1024, 1),
            "peak_rss_mib": hwm[pid],  # VmHWM: the kernel's own high-water mark
            "growth_mib": round(max(hwm[pid], watch.peak_rss_kib.get(pid, 0) / 1024) - idle[pid], 1),
            "idle_fds": idle_fds[pid], "fds_with_all_open": fds_open[pid], "peak_fds": watch.peak_fds.get(pid, 0),
        } for pid in gateway_pids
    }
    return {
        "streams": streams,
        "token_delay_ms": token_delay_ms,
        "hold_seconds": hold_seconds,
        "open_concurrency": open_concurrency,
        "fd_hard_limit": hard,
        "opened": sum(1 for s in held if s.first_token is not None),
        "open_at_once": open_at_peak,
        "open_at_once_sampled_max": watch.most_open,
        "still_open_after_probes": still_open,
        "ramp_seconds": round(ramp_s, 1),
        "opened_per_second": round(open_at_peak / ramp_s, 1) if ramp_s else None,
        "drain_seconds": round(drain_s, 1),
        "completed_with_done": sum(1 for s in held if s.done and not s.error),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "tokens_received": sum(s.tokens for s in held),
        "ttft_while_opening_ms": ttft,
        "ttft_idle_c1": low,
        "ttft_beside_open_c1": loaded,
        "memory": {"per_process": per_process,
                   "max_growth_mib": max(p["growth_mib"] for p in per_process.values()),
                   "mock_idle_rss_mib": mock_idle, "mock_peak_rss_mib": round(procs.memory_kib(mock_pid).get("VmHWM", 0) / 1024, 1)},
        "gateway_chats_in_flight_metric": metrics_in_flight,
        "cpu_while_holding": holding_cpu,
        "workers_replaced": replaced,
        "load_average_1m": {"before": round(load_before, 2), "while_holding": round(load_while_holding, 2)},
        "database_connections_with_all_open": database,
        "mock_with_all_open": mock_open,
        "mock_at_end": mock_end,
    }


async def _mock(mock_url: str, what: str) -> dict:
    async with client() as http:
        method = "GET" if what == "streams" else "POST"
        async with http.request(method, f"{mock_url}/_bench/{what}") as r:
            return await r.json()


def _cpu(gateway_pids: list[int], mock_pid: int) -> dict:
    """CPU seconds so far: the gateway's workers (summed), the mock, and this client."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"gateway": procs.cpu_seconds(gateway_pids), "mock": procs.cpu_seconds([mock_pid]),
            "client": usage.ru_utime + usage.ru_stime}


def _in_flight(gateway_url: str, token: str) -> float | None:
    """The chats in flight as the gateway's /metrics counts them (summed over its workers)."""
    try:
        status, body = procs.http("GET", f"{gateway_url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    except OSError:
        return None
    match = re.search(rb'^gateway_requests_in_flight\{endpoint="chat"\} (\S+)$', body, re.M)
    return float(match.group(1)) if status == 200 and match else None


def table(result: dict, results: dict) -> str:
    """The open-streams phase as the rows docs/performance.md shows."""
    m, cfg = results["machine"], results["config"]
    lines = [
        "",
        f"AI Gateway bench (open streams{', smoke' if results['smoke'] else ''}) — {m['nproc']} cores, {m['cpu']}, "
        f"{m['memory_gib']} GiB; {cfg['workers']} workers, {cfg['server']['loop']}/{cfg['server']['http']}, "
        f"{cfg['database']} + {cfg['cache']}; a token every {result['token_delay_ms']:g} ms",
        "",
        f"| {'figure':<58} | {'value':>28} |",
        f"|{'-' * 60}|{'-' * 30}|",
    ]

    def row(name, value):
        lines.append(f"| {name:<58} | {value!s:>28} |")

    row("streams asked; open at once (after the ramp)", f"{result['streams']}; {result['open_at_once']}")
    row("ramp: seconds to open them; streams opened per second", f"{result['ramp_seconds']}; {result['opened_per_second']}")
    row(f"still open after {result['hold_seconds']:g} s held and the probes", result["still_open_after_probes"])
    row("ended with their done event; errors", f"{result['completed_with_done']}; {result['errors']}")
    for name, p in (("idle gateway", result["ttft_idle_c1"]), (f"beside {result['open_at_once']} open", result["ttft_beside_open_c1"])):
        row(f"TTFT p50 at c=1, {name}: mock, via gateway (ms)",
            f"{p['direct_ttft_ms']['p50']}; {p['gateway_ttft_ms']['p50']}")
        row(f"TTFT overhead at c=1, {name}: p50; p99 (ms)", f"{p['overhead_p50_ms']}; {p['overhead_p99_ms']}")
    t = result["ttft_while_opening_ms"]
    row(f"TTFT of the held streams while opening (c={result['open_concurrency']}): p50; p99 (ms)", f"{t['p50']}; {t['p99']}")
    c = result["cpu_while_holding"]
    row("held: tokens relayed per second", c["tokens_per_second"])
    for name in ("gateway", "mock", "client"):
        row(f"held: {name} CPU, cores; µs per token relayed", f"{c[name]['cores']}; {c[name]['us_per_token']}")
    row("load average (1 min): before; while held", f"{result['load_average_1m']['before']}; "
        f"{result['load_average_1m']['while_holding']}")
    for pid, p in result["memory"]["per_process"].items():
        row(f"worker {pid} RSS MiB: idle; peak; growth",
            f"{p['idle_rss_mib']}; {p['peak_rss_mib']}; {p['growth_mib']}")
        row(f"worker {pid} open fds: idle; with all open", f"{p['idle_fds']}; {p['fds_with_all_open']}")
    row("workers that died or were replaced during the phase", ", ".join(map(str, result["workers_replaced"])) or "none")
    row("mock RSS MiB: idle; peak", f"{result['memory']['mock_idle_rss_mib']}; {result['memory']['mock_peak_rss_mib']}")
    db = result["database_connections_with_all_open"]
    row("PostgreSQL connections with all open, by state", ", ".join(f"{k} {v}" for k, v in sorted(db.items())) or "none")
    return "\n".join(lines)


def problems(result: dict) -> list[str]:
    """What fails the phase: a stream not opened, not ended with `done`, or a probe that failed."""
    found = []
    if result["workers_replaced"]:
        found.append(f"streams: workers {result['workers_replaced']} died or were killed (uvicorn's health check) during the phase")
    if result["open_at_once"] < result["streams"]:
        found.append(f"streams: only {result['open_at_once']} of {result['streams']} were open at once")
    if result["still_open_after_probes"] < result["open_at_once"]:
        found.append(f"streams: {result['open_at_once'] - result['still_open_after_probes']} ended while held")
    if result["errors"]:
        found.append(f"streams: {result['errors']} did not end with their done event: {result['error_kinds']}")
    for name in ("ttft_idle_c1", "ttft_beside_open_c1"):
        if result[name]["error_count"]:
            found.append(f"streams: {name}: {result[name]['error_count']} probes failed: {result[name]['errors']}")
    return found


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="The TTFT probes of the open-streams phase, at c=1; prints one JSON line.")
    p.add_argument("command", choices=["probe"])
    p.add_argument("--gateway", required=True)
    p.add_argument("--mock", required=True)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--name", default="probe")
    args = p.parse_args(argv)
    result = asyncio.run(probe(gateway_url=args.gateway, mock_url=args.mock, key=os.environ["BENCH_STREAMS_KEY"], count=args.count, name=args.name))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
