"""The seed's Local Zones walk-through on examples/local-zone-wordpress.yaml (issue 2's done-when).

WordPress reaches the internet through the NAT instance; the internet reaches only the ALB.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from localvpc.dataplane import Disposition, Trace, compile_network
from localvpc.dataplane.request import trace_request
from localvpc.snapshot.topology import load_topology

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "local-zone-wordpress.yaml"
NAT, WORDPRESS, MYSQL = "i-0a1b2c3d4e5f60001", "i-0a1b2c3d4e5f60002", "i-0a1b2c3d4e5f60003"
IGW = "igw-0a1b2c3d4e5f60001"
ALB_PUBLIC, NAT_PUBLIC = "203.0.113.20", "203.0.113.10"
CLIENT = "198.51.100.7"


@cache
def trace(node: str, dst: str, port: int, src: str | None = None) -> Trace:
    fp = compile_network(load_topology(EXAMPLE))
    _, traces = trace_request(fp, node, dst, src, "tcp", None, port, bidirectional=True)
    return traces[0]


def test_wordpress_reaches_the_internet_through_the_nat_instance() -> None:
    t = trace(WORDPRESS, "93.184.216.34", 443)
    nodes = [h.node for h in t.hops]
    assert t.disposition == Disposition.EXITS_NETWORK
    assert nodes.index(NAT) < nodes.index(IGW) and nodes[-1] == "internet"
    assert t.final_flow is not None and str(t.final_flow.src_ip) == NAT_PUBLIC
    assert t.return_trace is not None
    assert t.return_trace.disposition == Disposition.ACCEPTED
    assert t.return_trace.hops[-1].node == WORDPRESS


def test_the_internet_reaches_wordpress_only_through_the_alb() -> None:
    t = trace("internet", ALB_PUBLIC, 80, CLIENT)
    nodes = [h.node for h in t.hops]
    assert t.disposition == Disposition.ACCEPTED and nodes[-1] == WORDPRESS
    assert any(".elb." in n for n in nodes)
    assert t.return_trace is not None
    assert t.return_trace.disposition == Disposition.EXITS_NETWORK
    assert t.return_trace.final_flow is not None
    assert str(t.return_trace.final_flow.src_ip) == ALB_PUBLIC


@pytest.mark.parametrize(("dst", "port", "disposition"), [
    (ALB_PUBLIC, 443, Disposition.DENIED_IN),     # no listener on 443
    (NAT_PUBLIC, 80, Disposition.DENIED_IN),      # NAT instance's group: VPC only
    (NAT_PUBLIC, 22, Disposition.DENIED_IN),
    ("172.31.100.80", 80, Disposition.NULL_ROUTED),  # private address: not on the internet
    ("172.31.100.90", 3306, Disposition.NULL_ROUTED),
])
def test_nothing_else_is_reachable_from_the_internet(dst: str, port: int,
                                                     disposition: Disposition) -> None:
    assert trace("internet", dst, port, CLIENT).disposition == disposition


def test_mysql_accepts_only_wordpress() -> None:
    assert trace(WORDPRESS, "172.31.100.90", 3306).disposition == Disposition.ACCEPTED
    t = trace(NAT, "172.31.100.90", 3306)
    assert t.disposition == Disposition.DENIED_IN and t.hops[-1].node == MYSQL
