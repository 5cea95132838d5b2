"""Benchmark: the Network Access Analyzer engine (``analysis/access_scope.py``) against naive
tracing, on generated networks of growing size.

Networks come from ``benchmarks/generate.py`` (hub and spoke over a transit gateway; VPC 0 is
an egress VPC with an internet gateway and a NAT gateway; restricted NACLs, database groups
and blackholes block some paths), plus, added here so both scopes have something to find: an
internet gateway and public subnet in VPC 1, a peering connection between VPC 0 ("A") and
VPC 1 ("B"), and one subnet of B that A's private subnets reach through A's NAT gateway.

Scopes: every internet gateway -> every ENI (AWS's canonical one), and any ENI of A -> any
ENI of B excluding paths through a NAT gateway. The naive peer traces every (source ENI or
internet gateway, destination ENI) pair on one port per TCP/UDP ingress rule of the
destination's security groups, with no candidate pruning; it runs only up to ``--naive-max``
ENIs. Both must find the same (source, destination) pairs; a mismatch is printed loudly and
the exit status is 1.

Usage: python benchmarks/access_analyzer_bench.py [--sizes 100,300,1000,3000]
[--naive-max 1000] [--flows-per-pair N]
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "src", ROOT):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from benchmarks.generate import (  # noqa: E402
    PUBLIC_IP_BASE,
    generate_network,
    subnet_cidr,
    subnet_id,
    vpc_cidr,
)
from localvpc.analysis.access_scope import Limits, analyze_scope  # noqa: E402
from localvpc.dataplane.compiled import compile_network  # noqa: E402
from localvpc.dataplane.engine import INTERNET, INTERNET_SOURCE, Tracer  # noqa: E402
from localvpc.dataplane.flow import Disposition, Flow, Trace  # noqa: E402
from localvpc.model.access_analyzer import (  # noqa: E402
    AccessScopePath,
    NetworkInsightsAccessScope,
    PathStatement,
    ResourceStatement,
)
from localvpc.model.base import DEFAULT_ACCOUNT, DEFAULT_REGION  # noqa: E402
from localvpc.model.gateways import InternetGateway  # noqa: E402
from localvpc.model.network import Network  # noqa: E402
from localvpc.model.peering import VpcPeeringConnection  # noqa: E402
from localvpc.model.vpc import Route, RouteOrigin, RouteTable, TargetType  # noqa: E402

VPC_A, VPC_B = "vpc-0000", "vpc-0001"
PCX_ID = "pcx-00000000000000ab"
IGW_B = "igw-0001"
#: ENIs -> (VPCs, subnets per VPC, ENIs per subnet)
LAYOUTS: dict[int, tuple[int, int, int]] = {
    100: (5, 4, 5), 300: (5, 4, 15), 1000: (10, 5, 20), 3000: (10, 10, 30)}
COLUMNS = ("ENIs", "scope", "compile s", "engine s", "engine traces", "findings",
           "naive s", "naive traces", "naive findings", "speed-up", "same pairs")
Pair = tuple[str, str]


def layout(enis: int) -> tuple[int, int, int]:
    """A layout of about ``enis`` ENIs: a listed one, else 10 VPCs of 10 subnets."""
    return LAYOUTS.get(enis) or (10, 10, max(1, enis // 100))


def build(enis: int, seed: int = 0) -> Network:
    """The generated network plus B's internet gateway, the A-B peering and the NAT detour."""
    vpcs, spv, eps = layout(enis)
    net = generate_network(vpcs, spv, eps, seed=seed)
    a_main, b_main = net.route_tables["rtb-0000main"], net.route_tables["rtb-0001main"]
    net.add(VpcPeeringConnection(id=PCX_ID, requester_vpc_id=VPC_A, accepter_vpc_id=VPC_B))
    # A's main table: B over the peering, except B's subnet 1 through A's NAT gateway.
    a_main.routes = [r for r in a_main.routes if r.destination != vpc_cidr(1)]
    a_main.routes += [Route(vpc_cidr(1), TargetType.VPC_PEERING, PCX_ID),
                      Route(subnet_cidr(1, 1), TargetType.NAT_GATEWAY, "nat-0000")]
    b_main.routes.append(Route(vpc_cidr(0), TargetType.VPC_PEERING, PCX_ID))
    # B's last subnet is public: its own table to a new gateway, half its ENIs with public IPs.
    public = subnet_id(1, spv - 1)
    net.add(InternetGateway(id=IGW_B, vpc_id=VPC_B))
    net.add(RouteTable(id="rtb-0001pub", vpc_id=VPC_B, subnet_ids=[public], routes=[
        Route(vpc_cidr(1), TargetType.LOCAL, "local", origin=RouteOrigin.CREATE_ROUTE_TABLE),
        Route(vpc_cidr(0), TargetType.VPC_PEERING, PCX_ID),
        Route(ipaddress.IPv4Network("0.0.0.0/0"), TargetType.INTERNET_GATEWAY, IGW_B)]))
    n = 0
    for eni in sorted(net.network_interfaces.values(), key=lambda e: e.id):
        if eni.subnet_id == public and n % 2 == 0:
            eni.private_ips[0].public_ip = ipaddress.IPv4Address(PUBLIC_IP_BASE + 50000 + n)
        n += eni.subnet_id == public
    return net


def scopes() -> dict[str, NetworkInsightsAccessScope]:
    def res(types: list[str] | None = None, ids: list[str] | None = None) -> PathStatement:
        return PathStatement(resource=ResourceStatement(resources=ids or [],
                                                        resource_types=types or []))
    nat = ResourceStatement(resource_types=["AWS::EC2::NatGateway"])
    return {
        "IGW -> ENI": NetworkInsightsAccessScope(id="nis-igw", match_paths=[AccessScopePath(
            source=res(["AWS::EC2::InternetGateway"]),
            destination=res(["AWS::EC2::NetworkInterface"]))]),
        "VPC A -> VPC B": NetworkInsightsAccessScope(
            id="nis-ab", match_paths=[AccessScopePath(source=res(ids=[VPC_A]),
                                                      destination=res(ids=[VPC_B]))],
            exclude_paths=[AccessScopePath(through=[nat])]),
    }


# ---------------------------------------------------------------------- the two evaluators
def engine_pairs(net: Network, scope: NetworkInsightsAccessScope, fp: object,
                 limits: Limits) -> tuple[set[Pair], int, float, str]:
    """(pairs, traces, seconds, warning): a pair is (first, last) component resource id."""
    t0 = time.perf_counter()
    result = analyze_scope(net, scope, DEFAULT_ACCOUNT, DEFAULT_REGION, fp=fp,  # type: ignore[arg-type]
                           limits=limits)
    elapsed = time.perf_counter() - t0
    pairs = {(_id(net, f.components[0]), _id(net, f.components[-1]))
             for f in result.findings}
    return pairs, result.traces, elapsed, result.warning


def _id(net: Network, component: dict[str, Any]) -> str:
    """A component's resource id; an instance (one ENI each here) as its ENI."""
    rid = str(component.get("Component", {}).get("Id", ""))
    instance = net.instances.get(rid)
    return instance.network_interface_ids[0] if instance is not None else rid


@dataclass(slots=True)
class Naive:
    pairs: set[Pair] = field(default_factory=set)
    traces: int = 0
    seconds: float = 0.0


def _ports(net: Network, eni_id: str) -> list[tuple[int, int]]:
    """One (protocol, port) per TCP/UDP ingress rule of the ENI's groups (443 for all)."""
    out: list[tuple[int, int]] = []
    for gid in net.network_interfaces[eni_id].security_group_ids:
        for rule in net.security_groups[gid].ingress:
            proto = str(rule.protocol).lower()
            if proto in ("-1", "all"):
                out += [(6, 443), (17, 443)]
            elif proto in ("tcp", "6", "udp", "17"):
                out.append((6 if proto in ("tcp", "6") else 17, max(1, rule.from_port or 0)))
    return list(dict.fromkeys(out))


def _delivered(trace: Trace, eni_id: str) -> bool:
    last = trace.hops[-1]
    return trace.disposition == Disposition.ACCEPTED and (
        last.node == eni_id or f"on {eni_id}" in last.detail)


def _through_nat(trace: Trace) -> bool:
    return any(h.node.startswith("nat-") or h.type == "nat-gateway" for h in trace.hops)


def naive_pairs(net: Network, scope_name: str, fp: object) -> Naive:
    """Every source x every destination ENI x every opened port, no pruning."""
    tracer = Tracer(fp)  # type: ignore[arg-type]
    out = Naive()
    t0 = time.perf_counter()
    enis = sorted(net.network_interfaces.values(), key=lambda e: e.id)
    if scope_name == "IGW -> ENI":
        for igw in sorted(net.internet_gateways):
            for eni in enis:
                pip = eni.private_ips[0] if eni.private_ips else None
                if pip is None:
                    continue
                dst = pip.public_ip or pip.address
                for proto, port in _ports(net, eni.id):
                    out.traces += 1
                    trace = tracer.trace(INTERNET, Flow(INTERNET_SOURCE, dst, proto, 49152,
                                                        port))[0]
                    if igw in (h.node for h in trace.hops) and _delivered(trace, eni.id):
                        out.pairs.add((igw, eni.id))
                        break
    else:
        for src in (e for e in enis if e.vpc_id == VPC_A):
            for dst in (e for e in enis if e.vpc_id == VPC_B):
                for proto, port in _ports(net, dst.id):
                    out.traces += 1
                    trace = tracer.trace(src.id if src.instance_id is None else
                                         src.instance_id, Flow(
                        src.private_ips[0].address, dst.private_ips[0].address, proto, 49152,
                        port))[0]
                    if _delivered(trace, dst.id) and not _through_nat(trace):
                        out.pairs.add((src.id, dst.id))
                        break
    out.seconds = time.perf_counter() - t0
    return out


# ---------------------------------------------------------------------- the run
def run(enis: int, naive: bool, limits: Limits) -> list[dict[str, object]]:
    net = build(enis)
    t0 = time.perf_counter()
    fp = compile_network(net)
    compile_s = time.perf_counter() - t0
    rows: list[dict[str, object]] = []
    for name, scope in scopes().items():
        pairs, traces, seconds, warning = engine_pairs(net, scope, fp, limits)
        row: dict[str, object] = {
            "ENIs": len(net.network_interfaces), "scope": name, "compile s": compile_s,
            "engine s": seconds, "engine traces": traces, "findings": len(pairs),
            "warning": warning, "pairs": pairs}
        if naive:
            peer = naive_pairs(net, name, fp)
            row.update({"naive s": peer.seconds, "naive traces": peer.traces,
                        "naive findings": len(peer.pairs),
                        "speed-up": peer.seconds / seconds if seconds else float("inf"),
                        "same pairs": peer.pairs == pairs,
                        "missed": sorted(peer.pairs - pairs), "extra": sorted(pairs - peer.pairs)})
        rows.append(row)
    return rows


def _cell(row: dict[str, object], col: str) -> str:
    if col not in row:
        return "not run (capped)"
    value = row[col]
    if col == "same pairs":
        return "yes" if value else "**NO: MISMATCH**"
    if isinstance(value, float):
        return f"{value:.1f}x" if col == "speed-up" else f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def table(rows: list[dict[str, object]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cell(r, c) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, object]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sizes", default="100,300,1000,3000", help="ENI counts, comma separated")
    ap.add_argument("--naive-max", type=int, default=1000,
                    help="run the naive peer only up to this many ENIs")
    ap.add_argument("--flows-per-pair", type=int, default=Limits().max_flows_per_pair,
                    help="the engine's packets per pair (Limits.max_flows_per_pair)")
    args = ap.parse_args(argv)
    # Raised so no size is capped (the defaults stop at 2,000 ENIs / 25,000 traces).
    limits = Limits(max_ends=10**6, max_traces=10**8, max_findings=10**8,
                    max_flows_per_pair=args.flows_per_pair)
    rows: list[dict[str, object]] = []
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        print(f"size {size} ...", file=sys.stderr, flush=True)
        rows += run(size, size <= args.naive_max, limits)
    print(table(rows))
    print(f"\nEngine limits: max_flows_per_pair={limits.max_flows_per_pair}, other caps "
          f"raised; naive peer capped at {args.naive_max} ENIs.")
    for r in rows:
        if r.get("warning"):
            print(f"WARNING {r['ENIs']} {r['scope']}: {r['warning']}")
        if "same pairs" in r and not r["same pairs"]:
            missed, extra = r["missed"], r["extra"]
            assert isinstance(missed, list) and isinstance(extra, list)
            print(f"MISMATCH at {r['ENIs']} ENIs, {r['scope']}: engine missed {len(missed)} "
                  f"pairs (e.g. {missed[:3]}), found {len(extra)} the naive peer did not "
                  f"(e.g. {extra[:3]})", file=sys.stderr)
    return rows


if __name__ == "__main__":
    sys.exit(1 if any(r.get("same pairs") is False for r in main()) else 0)
