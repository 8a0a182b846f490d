"""Scale-out through nginx: the chat bench through deploy/nginx/ai-gateway.conf (TLS) over 1, 2 and 4
single-worker gateway processes on this machine, plus one process reached directly (the proxy's overhead).

    python -m bench.scaleout --database-url postgres://postgres@127.0.0.1:5432/bench_scaleout \
        --redis-url redis://127.0.0.1:6379/1 --seconds 10 --connections 64

Prints a table and writes bench/results/scaleout-<time>.json. Asserts nothing about speed.
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bench import procs
from bench.run import RESULTS, machine

PY = sys.executable
ROOT = procs.ROOT


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--processes", default="1,2,4", help="gateway process counts to try")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--channels", type=int, default=50)
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--pool-max", type=int, default=10)
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_scaleout"))
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"))
    return p.parse_args(argv)


def main(argv=None) -> int:
    from gateway.testing.topology import Nginx, self_signed_certificate

    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="gateway-scaleout-"))
    running = procs.Procs()
    token = secrets.token_urlsafe(24)
    mock_port = procs.free_port()
    mock_url = f"http://127.0.0.1:{mock_port}"
    env = procs.bench_env(database_url=args.database_url, redis_url=args.redis_url, mock_url=mock_url, workdir=workdir,
                          pool_max=args.pool_max, llm_max_connections=1000, metrics_token=token)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # separate processes, not uvicorn's workers: each its own metrics
    env.update(TRUSTED_PROXY_COUNT="1", TRUST_X_FORWARDED_PROTO="True")
    log = workdir / "wrk.log"
    results = {"label": "scaleout", "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), "config": vars(args) | {"nginx_workers": "auto"}, "phases": {}}
    nginx = None
    try:
        procs.recreate_database(args.database_url)
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        targets_json = workdir / "targets.json"
        subprocess.run([PY, "-m", "bench.seed", "--channels", str(args.channels), "--sessions", str(args.sessions),
                        "--out", str(targets_json)], cwd=ROOT, env=env, check=True)
        seeded = json.loads(targets_json.read_text())
        targets = workdir / "targets.tsv"
        targets.write_text("".join(f"{t['key']}\t{t['session_id']}\n" for t in seeded["targets"]))
        mock = running.start([PY, "-m", "bench.mock_upstream", "--port", str(mock_port)], env=env, log=workdir / "mock.log")
        procs.wait_until(lambda: procs.http("POST", f"{mock_url}/_bench/latency?ms=0")[0] == 200, what="mock", proc=mock)
        cert, key = self_signed_certificate(workdir)
        ports = [procs.free_port() for _ in range(max(int(n) for n in args.processes.split(",")))]
        gateways = {}

        def gateway(port: int):
            if port not in gateways:
                gateways[port] = running.start(
                    [PY, "-m", "uvicorn", "gateway.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                     "--no-access-log", "--log-level", "warning", "--backlog", "4096"], env=env, log=workdir / f"gw-{port}.log")
                procs.wait_until(lambda: procs.http("GET", f"http://127.0.0.1:{port}/api/history")[0] == 401,
                                 what="gateway", proc=gateways[port], timeout=60)
            return gateways[port]

        def run(name: str, url: str) -> None:
            procs.wrk(url, connections=8, seconds=2, timeout=10, args=["gateway", str(targets)], log=log)  # warm-up
            r = procs.wrk(url, connections=args.connections, seconds=args.seconds, timeout=10,
                          args=["gateway", str(targets)], log=log)
            results["phases"][name] = r
            print(f"scaleout: {name:<18} {r['rps']:8.1f} req/s  p50 {r['latency_us']['p50'] / 1000:7.2f} ms  "
                  f"p99 {r['latency_us']['p99'] / 1000:7.2f} ms  ok {r['success_rate']:.2%}", flush=True)

        gateway(ports[0])
        run("direct_1", f"http://127.0.0.1:{ports[0]}")
        nginx = Nginx(workdir / "nginx", https_port=procs.free_port(), http_port=procs.free_port(), cert=cert, key=key,
                      workers="auto")
        for i, n in enumerate(int(x) for x in args.processes.split(",")):
            upstreams = []
            for port in ports[:n]:
                gateway(port)
                upstreams.append(f"127.0.0.1:{port}")
            if i == 0:
                nginx.start(upstreams)
            else:
                nginx.reload(upstreams)
            run(f"nginx_{n}", nginx.url)
    finally:
        if nginx is not None:
            nginx.stop()
        running.stop_all()
        procs.forget_cache_keys(args.redis_url, env["CACHE_KEY_PREFIX"])
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"scaleout-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"scaleout: wrote {out}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
