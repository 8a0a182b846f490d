"""Turn the raw wrk phases into the figures docs/performance.md reports, a table, and the harness's own sanity checks."""

TARGETS = {
    "overhead_p50_c1_ms": 3.0,
    "sustained_rps": 400.0,
    "slow_p99_overhead_ms": 100.0,
}


def _ms(us: float) -> float:
    return round(us / 1000, 2)


def _pair(phases: dict, c: int, via: str = "gateway") -> dict:
    direct, gw = phases[f"direct_c{c}"], phases[f"{via}_c{c}"]
    d, g = direct["latency_us"], gw["latency_us"]
    return {
        "connections": c,
        "direct_p50_ms": _ms(d["p50"]), "direct_p99_ms": _ms(d["p99"]),
        "gateway_p50_ms": _ms(g["p50"]), "gateway_p99_ms": _ms(g["p99"]),
        # The definition: response time through the gateway minus the mock's own.
        "overhead_p50_ms": _ms(g["p50"] - d["p50"]), "overhead_p99_ms": _ms(g["p99"] - d["p99"]),
        # What the gateway itself reports in X-Gateway-Overhead-Ms (excludes the HTTP server and the network).
        "server_overhead_p50_ms": gw["server_overhead_ms"]["p50"], "server_overhead_p99_ms": gw["server_overhead_ms"]["p99"],
        "direct_rps": round(direct["rps"], 1), "gateway_rps": round(gw["rps"], 1),
        "gateway_success_rate": gw["success_rate"],
    }


def summarize(results: dict, args) -> dict:
    phases = results["phases"]
    small, wide = 1, (8 if args.smoke else 64)
    gw_phases = {k: v for k, v in phases.items() if k.startswith("gateway_c")}
    clean = [(v["rps"], v["connections"]) for v in gw_phases.values() if v["all_ok"]]
    best_rps, best_c = max(clean) if clean else (0.0, None)
    slow_key = f"gateway_slow_c{args.slow_connections}"
    slow, slow_direct = phases[slow_key], phases[f"direct_slow_c{args.slow_connections}"]
    summary = {
        "c1": _pair(phases, small),
        f"c{wide}": _pair(phases, wide),
        "throughput": {
            "best_rps_all_ok": round(best_rps, 1),
            "at_connections": best_c,
            "sweep": {v["connections"]: {"rps": round(v["rps"], 1), "success_rate": v["success_rate"]}
                      for v in sorted(gw_phases.values(), key=lambda v: v["connections"])},
            "direct_rps_c64": round(phases[f"direct_c{wide}"]["rps"], 1),
        },
        "slow": {
            "upstream_latency_ms": args.slow_latency_ms,
            "connections": args.slow_connections,
            "max_in_flight_seen": results.get("slow_max_in_flight_seen"),
            "gateway_requests": slow["requests"],
            "direct_requests": slow_direct["requests"],
            # wrk counts neither requests still waiting when the phase ends nor ones never sent, so a
            # stalled gateway can show 100% success on few answers: compare with what the mock alone served.
            "completed_vs_direct": round(slow["ok"] / slow_direct["requests"], 3) if slow_direct["requests"] else 0.0,
            "gateway_success_rate": slow["success_rate"],
            "gateway_errors": slow["errors"],
            "gateway_statuses": slow["statuses"],
            "gateway_rps": round(slow["rps"], 1),
            "direct_success_rate": slow_direct["success_rate"],
            "direct_p50_ms": _ms(slow_direct["latency_us"]["p50"]),
            "direct_p99_ms": _ms(slow_direct["latency_us"]["p99"]),
            "gateway_p50_ms": _ms(slow["latency_us"]["p50"]),
            "gateway_p99_ms": _ms(slow["latency_us"]["p99"]),
            "overhead_p50_ms": _ms(slow["latency_us"]["p50"] - slow_direct["latency_us"]["p50"]),
            "overhead_p99_ms": _ms(slow["latency_us"]["p99"] - slow_direct["latency_us"]["p99"]),
            "server_overhead_p99_ms": slow["server_overhead_ms"]["p99"],
        },
        "memory": results.get("memory", {}),
        "gateway_cpu_ms_per_request": {k: v.get("gateway_cpu_ms_per_request") for k, v in gw_phases.items()},
    }
    if f"floor_c{small}" in phases:
        summary["floor"] = floor_summary(phases, summary, small, wide, args.slow_connections)
    # /v1/chat/completions (the OpenAI-compatible API): the same chat, beside /api/chat's figures.
    summary["openai"] = {f"c{c}": _pair(phases, c, via="openai") for c in (small, wide) if f"openai_c{c}" in phases}
    if not args.smoke:
        c1, s = summary["c1"], summary["slow"]
        summary["targets"] = {
            "overhead p50 <= 3 ms at c=1": c1["overhead_p50_ms"] <= TARGETS["overhead_p50_c1_ms"],
            ">= 400 req/s at 100% success": best_rps >= TARGETS["sustained_rps"],
            "1000 in flight, 2 s upstream: zero errors": s["gateway_success_rate"] == 1.0 and s["completed_vs_direct"] >= 0.95,
            "1000 in flight, 2 s upstream: p99 overhead < 100 ms": s["overhead_p99_ms"] < TARGETS["slow_p99_overhead_ms"],
        }
    return summary


FLOOR_TARGETS = {"rps_ratio_c64": 0.75, "overhead_p50_c1_extra_ms": 0.7, "slow_pace": 0.90}


def _ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def floor_summary(phases: dict, summary: dict, small: int, wide: int, slow_connections: int) -> dict:
    """The gateway beside the floor (bench/floor.py, the same chat's work with no framework), as ratios."""
    direct = {c: phases[f"direct_c{c}"]["latency_us"] for c in (small, wide)}
    fl = {c: phases[f"floor_c{c}"] for c in (small, wide)}
    gw = {c: phases[f"gateway_c{c}"] for c in (small, wide)}

    def over(phase, c, q):
        return _ms(phase["latency_us"][q] - direct[c][q])

    slow_direct = phases[f"direct_slow_c{slow_connections}"]
    slow_floor, slow_gw = phases[f"floor_slow_c{slow_connections}"], phases[f"gateway_slow_c{slow_connections}"]
    pace = {"floor": _ratio(slow_floor["ok"], slow_direct["requests"]), "gateway": _ratio(slow_gw["ok"], slow_direct["requests"])}
    rows = {
        "overhead_p50_c1_ms": (over(fl[small], small, "p50"), over(gw[small], small, "p50")),
        "overhead_p99_c1_ms": (over(fl[small], small, "p99"), over(gw[small], small, "p99")),
        "server_overhead_p50_c1_ms": (fl[small]["server_overhead_ms"]["p50"], gw[small]["server_overhead_ms"]["p50"]),
        f"rps_c{wide}": (round(fl[wide]["rps"], 1), round(gw[wide]["rps"], 1)),
        "cpu_ms_per_chat_c1": (fl[small]["gateway_cpu_ms_per_request"], gw[small]["gateway_cpu_ms_per_request"]),
        f"cpu_ms_per_chat_c{wide}": (fl[wide]["gateway_cpu_ms_per_request"], gw[wide]["gateway_cpu_ms_per_request"]),
        f"slow_c{slow_connections}_pace": (pace["floor"], pace["gateway"]),
        f"slow_c{slow_connections}_success_rate": (slow_floor["success_rate"], slow_gw["success_rate"]),
    }
    out = {name: {"floor": f, "gateway": g, "ratio": _ratio(g, f)} for name, (f, g) in rows.items()}
    f_over, g_over = rows["overhead_p50_c1_ms"]
    out["targets"] = {
        f"req/s at c={wide} >= 75% of the floor's": (_ratio(*reversed(rows[f"rps_c{wide}"])) or 0) >= FLOOR_TARGETS["rps_ratio_c64"],
        "overhead p50 at c=1 <= the floor's + 0.7 ms": g_over <= f_over + FLOOR_TARGETS["overhead_p50_c1_extra_ms"],
        f"{slow_connections} in flight: zero errors and >= 90% of the upstream's pace": (
            slow_gw["success_rate"] == 1.0 and (pace["gateway"] or 0) >= FLOOR_TARGETS["slow_pace"]),
    }
    return out


def floor_table(floor: dict) -> list[str]:
    lines = [
        "",
        f"| {'gateway beside the floor (bench/floor.py)':<48} | {'floor':>12} | {'gateway':>12} | {'gateway/floor':>13} |",
        f"|{'-' * 50}|{'-' * 14}|{'-' * 14}|{'-' * 15}|",
    ]
    names = {
        "overhead_p50_c1_ms": "overhead p50, c=1 (ms)",
        "overhead_p99_c1_ms": "overhead p99, c=1 (ms)",
        "server_overhead_p50_c1_ms": "X-Gateway-Overhead-Ms p50, c=1",
        "cpu_ms_per_chat_c1": "server CPU per chat, c=1 (ms)",
    }
    for key, value in floor.items():
        if key == "targets":
            continue
        name = names.get(key) or key.replace("rps_c", "req/s, c=").replace("cpu_ms_per_chat_c", "server CPU per chat (ms), c=")
        if key.startswith("slow_"):
            conns, what = key[len("slow_c"):].split("_", 1)
            name = f"{conns} in flight: {'answered / mock alone' if what == 'pace' else 'success rate'}"
        ratio = value["ratio"]
        lines.append(f"| {name:<48} | {_f(value['floor']):>12} | {_f(value['gateway']):>12} | "
                     f"{('-' if ratio is None else f'{ratio:.2f}x'):>13} |")
    for name, met in floor["targets"].items():
        lines.append(f"floor target {name}: {'met' if met else 'MISSED'}")
    return lines


def _f(x) -> str:
    return "-" if x is None else (f"{x:.2f}" if isinstance(x, float) else str(x))


def table(summary: dict, results: dict) -> str:
    m, cfg = results["machine"], results["config"]
    lines = [
        "",
        f"AI Gateway bench ({results['label']}{', smoke' if results['smoke'] else ''}) — {m['nproc']} cores, {m['cpu']}, "
        f"{m['memory_gib']} GiB; {cfg['workers']} workers, {cfg['server']['loop']}/{cfg['server']['http']}, "
        f"{cfg['database']} + {cfg['cache']}",
        "",
        f"| {'figure':<48} | {'direct mock':>12} | {'via gateway':>12} | {'overhead':>10} | {'X-Gateway-Overhead-Ms':>21} |",
        f"|{'-' * 50}|{'-' * 14}|{'-' * 14}|{'-' * 12}|{'-' * 23}|",
    ]

    def row(name, direct, gw, over, server):
        lines.append(f"| {name:<48} | {_f(direct):>12} | {_f(gw):>12} | {_f(over):>10} | {_f(server):>21} |")

    for key in [k for k in summary if k.startswith("c") and k[1:].isdigit()]:
        p = summary[key]
        for q in ("p50", "p99"):
            row(f"latency {q}, c={p['connections']}, 0 ms mock (ms)", p[f"direct_{q}_ms"], p[f"gateway_{q}_ms"],
                p[f"overhead_{q}_ms"], p[f"server_overhead_{q}_ms"])
    for p in summary.get("openai", {}).values():
        for q in ("p50", "p99"):
            row(f"/v1/chat/completions {q}, c={p['connections']}, 0 ms (ms)", p[f"direct_{q}_ms"], p[f"gateway_{q}_ms"],
                p[f"overhead_{q}_ms"], p[f"server_overhead_{q}_ms"])
    t = summary["throughput"]
    row(f"req/s, 100% success (best at c={t['at_connections']}), 0 ms", t["direct_rps_c64"], t["best_rps_all_ok"], None, None)
    s = summary["slow"]
    row(f"{s['connections']} conns, {s['upstream_latency_ms']:g} ms mock: success rate",
        f"{s['direct_success_rate']:.2%}", f"{s['gateway_success_rate']:.2%}", None, None)
    row(f"{s['connections']} conns, {s['upstream_latency_ms']:g} ms mock: p50 (ms)",
        s["direct_p50_ms"], s["gateway_p50_ms"], s["overhead_p50_ms"], None)
    row(f"{s['connections']} conns, {s['upstream_latency_ms']:g} ms mock: p99 (ms)",
        s["direct_p99_ms"], s["gateway_p99_ms"], s["overhead_p99_ms"], s["server_overhead_p99_ms"])
    row(f"{s['connections']} conns: chats answered (mock alone = 100%)", s["direct_requests"], s["gateway_requests"],
        f"{s['completed_vs_direct']:.1%}", None)
    row(f"{s['connections']} conns: req/s; most chats in flight seen", None, s["gateway_rps"], None, s["max_in_flight_seen"])
    cpu = summary.get("gateway_cpu_ms_per_request", {})
    wide = [k for k in summary if k.startswith("c") and k[1:].isdigit()][-1]
    if cpu:
        row(f"gateway CPU per chat, ms (c=1; {wide.replace('c', 'c=')})", None, cpu.get("gateway_c1"), None,
            cpu.get(f"gateway_{wide}"))
    mem = summary["memory"]
    row("peak RSS, MiB (mock process; gateway, all)", mem.get("mock_peak_rss_mib"),
        mem.get("gateway_peak_rss_mib_sum_of_processes"), None, None)
    if "floor" in summary:
        lines += floor_table(summary["floor"])
    lines.append("")
    lines.append("sweep (connections: req/s, success): " + ", ".join(
        f"{c}: {v['rps']} ({v['success_rate']:.2%})" for c, v in t["sweep"].items()))
    if s["gateway_success_rate"] < 1:
        lines.append(f"slow phase errors: {s['gateway_errors']}, statuses: {s['gateway_statuses']}")
    for name, met in summary.get("targets", {}).items():
        lines.append(f"target {name}: {'met' if met else 'MISSED'}")
    return "\n".join(lines)


def harness_problems(results: dict) -> list[str]:
    """What says the harness (not the gateway's speed) is broken. The smoke run also wants every request answered."""
    problems = []
    for name, phase in results["phases"].items():
        if phase["requests"] == 0:
            problems.append(f"{name}: no request completed")
        if name.startswith(("gateway", "openai")) and phase["server_overhead_ms"]["n"] == 0:
            problems.append(f"{name}: no response carried X-Gateway-Overhead-Ms")
        if (results["smoke"] or name == "gateway_c1") and not phase["all_ok"]:
            problems.append(f"{name}: not every request succeeded ({phase['statuses']}, {phase['errors']})")
    if not results.get("metrics_scrape_ok"):
        problems.append("/metrics did not answer the bench's token")
    return problems
