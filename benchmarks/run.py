"""Benchmark the trace engine against the naive evaluator on generated networks.

Usage::

    python benchmarks/run.py [--sizes small,medium,large] [--traces N] [--naive-flows N]

Each size runs in its own child process, so that its peak RSS is its own. A child generates
the network, compiles it, measures memory, checks that the engine and the naive evaluator
agree on a sample of flows (timing both), then times ``Tracer.trace`` on ``--traces`` flows.
The parent prints a Markdown table, how costs grow between sizes, and the targets.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import SIZES, generate_network, rule_counts, sample_flows  # noqa: E402
from benchmarks.naive import NaiveEvaluator  # noqa: E402
from localvpc.dataplane import Tracer, compile_network  # noqa: E402

#: Targets at the largest size (from the issue).
TARGET_P50_US = 200.0
TARGET_SPEEDUP = 50.0
TARGET_COMPILE_S = 30.0
TARGET_MEMORY_MB = 2048.0
X = "\N{MULTIPLICATION SIGN}"  # spelled out: ruff flags the literal as ambiguous


def parse_size(text: str) -> tuple[str, tuple[int, int, int]]:
    """``small``/``medium``/``large`` or ``VPCSxSUBNETSxENIS`` (e.g. ``30x20x50``)."""
    if text in SIZES:
        return text, SIZES[text]
    parts = text.split("x")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"bad size {text!r}: use {', '.join(SIZES)} or VxSxE")
    v, s, e = (int(p) for p in parts)
    return text, (v, s, e)


def percentile(sorted_values: list[int], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return float(sorted_values[rank - 1])


def max_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- one size
def run_size(name: str, dims: tuple[int, int, int], traces: int, naive_flows: int,
             seed: int, measure_tracemalloc: bool) -> dict[str, Any]:
    vpcs, spv, eps = dims
    result: dict[str, Any] = {"size": name, "vpcs": vpcs, "subnets_per_vpc": spv,
                              "enis_per_subnet": eps}
    rss_start = max_rss_mb()
    t0 = time.perf_counter()
    network = generate_network(vpcs, spv, eps, seed)
    t1 = time.perf_counter()
    fp = compile_network(network)
    t2 = time.perf_counter()
    result.update(generate_s=t1 - t0, compile_s=t2 - t1, rss_start_mb=rss_start,
                  max_rss_mb=max_rss_mb())
    sg_rules, nacl_entries = rule_counts(network)
    result.update(enis=len(network.network_interfaces), instances=len(network.instances),
                  subnets=len(network.subnets), sg_rules=sg_rules, nacl_entries=nacl_entries,
                  security_groups=len(network.security_groups),
                  route_tables=len(network.route_tables))
    log(f"[{name}] generated in {t1 - t0:.2f} s, compiled in {t2 - t1:.2f} s, "
        f"{result['enis']:,} ENIs, {sg_rules:,} SG rules, {nacl_entries:,} NACL entries")
    if measure_tracemalloc:
        # A second build under tracemalloc (which slows allocation, so it is not timed).
        gc.collect()
        tracemalloc.start()
        again = compile_network(generate_network(vpcs, spv, eps, seed))
        result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
        tracemalloc.stop()
        del again
        gc.collect()
        log(f"[{name}] tracemalloc peak of generate+compile: "
            f"{result['tracemalloc_peak_mb']:.0f} MB")

    tracer = Tracer(fp)
    naive = NaiveEvaluator(network)
    cases = sample_flows(network, traces + naive_flows, seed + 1)
    sample, timed = cases[:naive_flows], cases[naive_flows:]
    for case in timed[:min(500, len(timed))]:  # warm up
        tracer.trace(case.node, case.flow)

    # Agreement on the sample, timing both evaluators on it. Each runs in its own loop: the
    # naive scans evict the caches, and interleaving them would make the engine look slow.
    engine_ns: list[int] = []
    expected: list[str] = []
    for case in sample:
        a = time.perf_counter_ns()
        expected.append(tracer.trace(case.node, case.flow)[0].disposition.value)
        engine_ns.append(time.perf_counter_ns() - a)
    naive_ns: list[int] = []
    mismatches: list[str] = []
    agree = 0
    for case, engine in zip(sample, expected, strict=True):
        a = time.perf_counter_ns()
        slow = naive.disposition(case.node, case.flow)
        naive_ns.append(time.perf_counter_ns() - a)
        if engine == slow:
            agree += 1
        else:
            mismatches.append(f"{case.category} {case.node} {case.flow}: engine {engine}, "
                              f"naive {slow}")
    engine_ns.sort()
    naive_ns.sort()
    result.update(naive_flows=len(sample), agree=agree, mismatches=mismatches[:10],
                  naive_p50_us=percentile(naive_ns, 0.5) / 1000,
                  naive_p99_us=percentile(naive_ns, 0.99) / 1000,
                  engine_sample_p50_us=percentile(engine_ns, 0.5) / 1000)
    result["speedup"] = result["naive_p50_us"] / result["engine_sample_p50_us"]
    log(f"[{name}] engine and naive agree on {agree}/{len(sample)} flows; naive p50 "
        f"{result['naive_p50_us']:,.0f} us")

    # Engine latency and throughput.
    latencies = [0] * len(timed)
    dispositions: Counter[str] = Counter()
    start = time.perf_counter_ns()
    for i, case in enumerate(timed):
        a = time.perf_counter_ns()
        out = tracer.trace(case.node, case.flow)
        latencies[i] = time.perf_counter_ns() - a
        dispositions[out[0].disposition.value] += 1
    wall = time.perf_counter_ns() - start
    latencies.sort()
    result.update(traces=len(timed), p50_us=percentile(latencies, 0.5) / 1000,
                  p90_us=percentile(latencies, 0.9) / 1000,
                  p99_us=percentile(latencies, 0.99) / 1000,
                  max_us=latencies[-1] / 1000 if latencies else math.nan,
                  traces_per_s=len(timed) / (wall / 1e9) if wall else math.nan,
                  dispositions=dict(dispositions.most_common()),
                  final_max_rss_mb=max_rss_mb())
    log(f"[{name}] {len(timed):,} traces: p50 {result['p50_us']:.1f} us, "
        f"p99 {result['p99_us']:.1f} us, {result['traces_per_s']:,.0f} traces/s")
    return result


# ---------------------------------------------------------------------------- report
def _ratio(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def table(results: list[dict[str, Any]]) -> str:
    head = (f"| size | VPCs{X}subnets{X}ENIs | ENIs | SG+NACL rules | generate s | compile s "
            "| peak MB (tracemalloc) | max RSS MB | trace p50 µs | p99 µs | traces/s "
            "| naive p50 µs | speedup |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        peak = r.get("tracemalloc_peak_mb")
        rows.append(
            f"| {r['size']} | {r['vpcs']}{X}{r['subnets_per_vpc']}{X}{r['enis_per_subnet']} "
            f"| {r['enis']:,} | {r['sg_rules']:,} + {r['nacl_entries']:,} "
            f"| {r['generate_s']:.2f} | {r['compile_s']:.2f} "
            f"| {'-' if peak is None else f'{peak:,.0f}'} | {r['max_rss_mb']:,.0f} "
            f"| {r['p50_us']:.1f} | {r['p99_us']:.1f} | {r['traces_per_s']:,.0f} "
            f"| {r['naive_p50_us']:,.0f} | {_ratio(r['speedup'])}{X} |")
    return "\n".join(rows)


def growth(results: list[dict[str, Any]]) -> str:
    rows = [f"| from → to | ENIs {X} | compile s {X} | trace p50 {X} | trace p99 {X} "
            f"| naive p50 {X} |",
            "|---|---|---|---|---|---|"]
    for a, b in itertools.pairwise(results):
        rows.append(
            f"| {a['size']} → {b['size']} | {b['enis'] / a['enis']:.1f} "
            f"| {b['compile_s'] / a['compile_s']:.1f} | {b['p50_us'] / a['p50_us']:.2f} "
            f"| {b['p99_us'] / a['p99_us']:.2f} | {b['naive_p50_us'] / a['naive_p50_us']:.1f} |")
    return "\n".join(rows)


def targets(r: dict[str, Any]) -> list[str]:
    memory = r["max_rss_mb"]
    checks = [
        (f"trace p50 {r['p50_us']:.1f} µs < {TARGET_P50_US:.0f} µs",
         r["p50_us"] < TARGET_P50_US),
        (f"speedup {_ratio(r['speedup'])}{X} ≥ {TARGET_SPEEDUP:.0f}{X}",
         r["speedup"] >= TARGET_SPEEDUP),
        (f"compile {r['compile_s']:.2f} s < {TARGET_COMPILE_S:.0f} s",
         r["compile_s"] < TARGET_COMPILE_S),
        (f"max RSS {memory:,.0f} MB < {TARGET_MEMORY_MB:,.0f} MB", memory < TARGET_MEMORY_MB),
        (f"engine and naive agree on {r['agree']}/{r['naive_flows']} flows",
         r["agree"] == r["naive_flows"]),
    ]
    return [f"- [{'x' if ok else ' '}] {text}" for text, ok in checks]


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs; {results[0]['traces']:,} engine traces and "
        f"{results[0]['naive_flows']} naive flows per size.",
        "",
        table(results),
        "",
    ]
    if len(results) > 1:
        lines += ["How cost grows with size:", "", growth(results), ""]
    for r in results:
        mix = ", ".join(f"{k} {v}" for k, v in r["dispositions"].items())
        lines.append(f"- {r['size']}: engine and naive agree on {r['agree']}/"
                     f"{r['naive_flows']} flows; dispositions of the timed flows: {mix}")
        lines += [f"  - mismatch: {m}" for m in r["mismatches"]]
    largest = max(results, key=lambda r: r["enis"])
    lines += ["", f"Targets at the largest size ({largest['size']}):", *targets(largest)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="small,medium,large",
                        help="comma-separated: small, medium, large or VxSxE (e.g. 30x20x50)")
    parser.add_argument("--traces", type=int, default=20000,
                        help="engine traces timed per size (default 20000)")
    parser.add_argument("--naive-flows", type=int, default=200,
                        help="flows checked and timed on both evaluators (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-tracemalloc", action="store_true",
                        help="skip the second, tracemalloc-instrumented build")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--in-process", action="store_true",
                        help="run every size in this process (peak RSS then accumulates)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        name, dims = parse_size(args.worker)
        result = run_size(name, dims, args.traces, args.naive_flows, args.seed,
                          not args.no_tracemalloc)
        print(json.dumps(result))
        return 0

    sizes = [parse_size(s.strip()) for s in args.sizes.split(",") if s.strip()]
    results: list[dict[str, Any]] = []
    for name, dims in sizes:
        if args.in_process:
            results.append(run_size(name, dims, args.traces, args.naive_flows, args.seed,
                                    not args.no_tracemalloc))
            continue
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", name,
                   "--traces", str(args.traces), "--naive-flows", str(args.naive_flows),
                   "--seed", str(args.seed)]
        if args.no_tracemalloc:
            command.append("--no-tracemalloc")
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            log(f"[{name}] worker failed with exit code {done.returncode}")
            return done.returncode
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report(results))
    return 0 if all(r["agree"] == r["naive_flows"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
