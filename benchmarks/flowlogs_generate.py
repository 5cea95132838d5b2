"""Benchmark flow-log generation: one simulated hour of a 1,000-ENI network at 100 new flows/s.

Usage::

    python benchmarks/flowlogs_generate.py [--size small] [--rate 100] [--duration 3600]

Builds the generated hub-and-spoke network (``benchmarks/generate.py``), plays a traffic mix
(mesh, app to database, NAT-ed egress through the transit gateway, internet port scans)
through the trace engine, aggregates the records of every VPC at a 60-s interval and renders
them as default-format lines. Prints a Markdown table; the target is under 60 s in total.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import SIZES, generate_network, subnet_id, vpc_id  # noqa: E402
from localvpc.dataplane import compile_network  # noqa: E402
from localvpc.flowlogs.records import Subscription  # noqa: E402
from localvpc.flowlogs.traffic import TrafficRunner, parse_traffic_spec  # noqa: E402

TARGET_S = 60.0


def spec_text(rate: float, duration: float, subnets: int) -> str:
    """The traffic mix, in the spec format users write (docs/traffic-format.md)."""
    share = {"mesh": 0.55, "app-to-db": 0.2, "nat-egress": 0.2, "port-scan": 0.05}
    return f"""
seed: 1
start: 2024-06-01T00:00:00Z
duration: {duration}
generators:
  - type: mesh
    rate: {rate * share["mesh"]}
    peers: 8
    packets: 5-40
    bytes: 400-60000
    lasts: 1-90
  - type: app-to-db
    from: [{vpc_id(1)}, {vpc_id(2)}]
    to: [{subnet_id(1, 2)}, {subnet_id(2, 2)}]
    rate: {rate * share["app-to-db"]}
    lasts: 0-20
  - type: nat-egress
    from: [{vpc_id(1)}, {vpc_id(3)}, {vpc_id(4)}]
    rate: {rate * share["nat-egress"]}
  - type: port-scan
    to: [{subnet_id(0, subnets - 1)}]
    ports: 1-1024
    rate: {rate * share["port-scan"]}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="small", choices=sorted(SIZES))
    ap.add_argument("--rate", type=float, default=100.0, help="new flows per second")
    ap.add_argument("--duration", type=float, default=3600.0, help="simulated seconds")
    args = ap.parse_args()
    vpcs, subnets, enis = SIZES[args.size]
    network = generate_network(vpcs, subnets, enis)
    began = time.perf_counter()
    fp = compile_network(network)
    spec = parse_traffic_spec(spec_text(args.rate, args.duration, subnets), fp, "<benchmark>")
    runner = TrafficRunner(fp)
    stats = runner.run(spec)
    played = time.perf_counter() - began
    records = lines = 0
    for vpc in sorted(network.vpcs):
        sub = Subscription(vpc, interval=60)
        for _line in runner.collector.lines(sub):
            lines += 1
    records = lines
    total = time.perf_counter() - began
    n_enis = len(network.network_interfaces)
    print(f"network: {n_enis:,} ENIs in {vpcs} VPCs; {args.duration:.0f} simulated seconds at "
          f"{args.rate:g} new flows/s; 60-s aggregation, default format")
    print()
    print("| flows | traces | records | seconds (trace + aggregate) | "
          "seconds (total) | records/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {stats.connections:,} | {stats.traced:,} | {records:,} | {played:.1f} | "
          f"{total:.1f} | {records / total:,.0f} |")
    print()
    verdict = "met" if total < TARGET_S else "MISSED"
    print(f"target: under {TARGET_S:.0f} s in total: {verdict}")


if __name__ == "__main__":
    main()
