"""The gateway's ASGI app with tracemalloc on, to see what memory a held stream keeps (a measuring tool only).

    python -m bench.run --busy --streams 1000 --streams-only --app bench.traced_app:application

Each SIGUSR1 to a worker writes, into $BENCH_TRACE_DIR/profile-memory-<pid>-<n>.txt, the allocations grown since the
worker's previous SIGUSR1 (the first one only takes the baseline), grouped by the line that allocated them,
largest first. bench/streams.py signals each worker at idle and again with every stream open. tracemalloc
slows every allocation, so the run's times and CPU figures mean nothing; its memory ones do. A snapshot holds
the worker for seconds: past about 1,000 streams uvicorn's 5 s health check may kill the worker taking it.
"""

import os
import signal
import tracemalloc
from pathlib import Path

tracemalloc.start(1)

from gateway.asgi import application  # noqa: E402  (imported after tracemalloc starts, so its own memory counts)

__all__ = ["application"]

_state = {"baseline": None, "n": 0}


def _snapshot(signum, frame) -> None:
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    baseline, _state["baseline"] = _state["baseline"], snapshot
    if baseline is None:
        return
    _state["n"] += 1
    diff = snapshot.compare_to(baseline, "lineno")
    grown = sum(d.size_diff for d in diff)
    count = sum(d.count_diff for d in diff)
    lines = [f"grown {grown / 2**20:.1f} MiB in {count} blocks (traced by Python's allocator, not RSS)"]
    lines += [f"{d.size_diff / 1024:10.1f} KiB {d.count_diff:8d} blocks  {d.traceback[0].filename}:{d.traceback[0].lineno}"
              for d in diff[:60]]
    out = Path(os.environ.get("BENCH_TRACE_DIR", "/tmp")) / f"profile-memory-{os.getpid()}-{_state['n']}.txt"
    out.write_text("\n".join(lines) + "\n")


signal.signal(signal.SIGUSR1, _snapshot)
