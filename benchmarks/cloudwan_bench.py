"""Benchmark: the Cloud WAN policy engine (issue 7, item 6).

A generated estate: 20 edge locations, 30 segments (one shared-services segment shared with
``*``, every fifth segment isolated, a ``deny-filter``, a static default route and a blackhole)
and N VPC attachments (one or two CIDRs each, tagged ``segment=<name>``, spread over the
edges). Each size measures, in one process:

* validate: ``check_policy`` on the JSON text (schema + generation checks);
* map: ``plan_attachment`` for every attachment (attachment policies in rule order);
* compile: ``compile_core_network`` (per-segment candidate tables);
* routes: every table materialised, ``routes(segment, edge)`` for 30 x 20 tables;
* lookups: 10,000 ``forward`` decisions between random attachments.

Target (issue 7): validate + map + compile + routes under 10 s at 20/30/5,000.
Usage: python benchmarks/cloudwan_bench.py [--sizes 1000,2000,5000,10000] [--edges 20]
[--segments 30] [--json FILE]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from localvpc.cloudwan.compile import (  # noqa: E402
    apply_plan,
    compile_core_network,
    plan_attachment,
)
from localvpc.cloudwan.policy import REGIONS, check_policy  # noqa: E402
from localvpc.model.cloudwan import CREATING, CoreNetworkAttachment  # noqa: E402
from localvpc.model.network import Network  # noqa: E402
from localvpc.model.vpc import Vpc  # noqa: E402

TARGET_S = 10.0


def make_policy(edges: list[str], segments: int) -> dict[str, Any]:
    names = ["shared"] + [f"seg{i}" for i in range(1, segments)]
    segs: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        seg: dict[str, Any] = {"name": name, "require-attachment-acceptance": False}
        if i and i % 5 == 0:
            seg["isolate-attachments"] = True
        if i and i % 7 == 0:  # a segment on half of the edges
            seg["edge-locations"] = edges[: max(1, len(edges) // 2)]
        segs.append(seg)
    if len(segs) > 3:
        segs[3]["deny-filter"] = ["shared"]
    actions: list[dict[str, Any]] = [
        {"action": "share", "mode": "attachment-route", "segment": "shared", "share-with": "*"},
        {"action": "create-route", "segment": names[-1], "destination-cidr-blocks":
         ["192.0.2.0/24"], "destinations": ["blackhole"]},
    ]
    rules = [{"rule-number": 100, "conditions": [{"type": "tag-exists", "key": "segment"}],
              "action": {"association-method": "tag", "tag-value-of-key": "segment"}}]
    return {"version": "2021.12",
            "core-network-configuration": {
                "asn-ranges": ["64512-65534"],
                "edge-locations": [{"location": e} for e in edges]},
            "segments": segs, "segment-actions": actions, "attachment-policies": rules}


def make_estate(n: int, edges: list[str], segments: int, seed: int = 7
                ) -> tuple[Network, list[CoreNetworkAttachment]]:
    rng = random.Random(seed)
    names = ["shared"] + [f"seg{i}" for i in range(1, segments)]
    net = Network()
    atts: list[CoreNetworkAttachment] = []
    for i in range(n):
        base = ipaddress.ip_network("10.0.0.0/8").network_address + (i << 12)
        cidrs = [ipaddress.ip_network(f"{base}/20")]
        if i % 4 == 0:
            cidrs.append(ipaddress.ip_network(f"100.64.{i % 250}.0/24"))  # overlapping ones
        vpc_id = f"vpc-{i:017x}"
        net.add(Vpc(id=vpc_id, cidrs=cidrs))
        seg = names[rng.randrange(len(names))]
        edge = edges[rng.randrange(len(edges))]
        atts.append(CoreNetworkAttachment(
            id=f"attachment-{i:017x}", account="111122223333", region=edge,
            tags={"segment": seg}, resource_id=vpc_id, state=CREATING))
    return net, atts


def run(n: int, n_edges: int, n_segments: int) -> dict[str, Any]:
    edges = sorted(REGIONS)[:n_edges]
    doc = make_policy(edges, n_segments)
    text = json.dumps(doc)
    net, atts = make_estate(n, edges, n_segments)
    t0 = time.perf_counter()
    check = check_policy(text)
    assert check.ok and check.policy is not None, check.errors
    policy = check.policy
    t1 = time.perf_counter()
    for a in atts:
        apply_plan(a, plan_attachment(policy, a))
    t2 = time.perf_counter()
    compiled = compile_core_network(policy, atts, net)
    t3 = time.perf_counter()
    routes = 0
    for seg in compiled.segments:
        for edge in compiled.edges:
            routes += len(compiled.routes(seg, edge))
    t4 = time.perf_counter()
    rng = random.Random(1)
    mapped = [a for a in atts if a.segment_name is not None]
    forwarded = 0
    for _ in range(10_000):
        src, dst = rng.choice(mapped), rng.choice(mapped)
        target = compiled.prefixes_of(dst.id)[0].network_address + 1
        forwarded += compiled.forward(src.id, target).action == "forward"
    t5 = time.perf_counter()
    assert routes == compiled.route_count()
    return {"attachments": n, "edges": n_edges, "segments": n_segments, "routes": routes,
            "mapped": len(mapped), "validate_s": t1 - t0, "map_s": t2 - t1,
            "compile_s": t3 - t2, "routes_s": t4 - t3, "total_s": t4 - t0,
            "lookup_us": (t5 - t4) / 10_000 * 1e6, "forwarded": forwarded}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| edges | segments | attachments | routes (all tables) | validate | map | "
             "compile | routes | total | per lookup |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['edges']} | {r['segments']} | {r['attachments']:,} | "
                     f"{r['routes']:,} | {r['validate_s'] * 1000:.1f} ms | "
                     f"{r['map_s']:.2f} s | {r['compile_s']:.2f} s | {r['routes_s']:.2f} s | "
                     f"**{r['total_s']:.2f} s** | {r['lookup_us']:.1f} µs |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,2000,5000,10000")
    ap.add_argument("--edges", type=int, default=20)
    ap.add_argument("--segments", type=int, default=30)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    rows = [run(int(s), args.edges, args.segments) for s in args.sizes.split(",")]
    print(table(rows))
    at_target = [r for r in rows if r["attachments"] == 5000]
    for r in at_target:
        verdict = "met" if r["total_s"] < TARGET_S else "MISSED"
        print(f"\nTarget < {TARGET_S:.0f} s at {r['edges']}/{r['segments']}/5,000: "
              f"{verdict} ({r['total_s']:.2f} s)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
