"""Keeps the benchmarks honest: the generator builds what it is asked for, and the engine
and the benchmarks' naive evaluator agree on a sample of flows."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate_network, rule_counts, sample_flows  # noqa: E402
from benchmarks.naive import NaiveEvaluator  # noqa: E402

from localvpc.dataplane import Tracer, compile_network  # noqa: E402


def test_generator_builds_the_requested_counts() -> None:
    net = generate_network(3, 4, 5, seed=1)
    assert len(net.vpcs) == 3
    assert len(net.subnets) == 12
    assert len(net.instances) == 60
    # One ENI per instance, plus the NAT gateway's in the egress VPC (VPC 0).
    assert len(net.network_interfaces) == 61
    assert len(net.nat_gateways) == len(net.internet_gateways) == 1
    per_subnet = Counter(i.subnet_id for i in net.instances.values())
    assert set(per_subnet.values()) == {5}
    assert len(net.transit_gateway_attachments) == 3
    (table,) = net.transit_gateway_route_tables.values()
    assert sorted(table.associated_attachment_ids) == sorted(net.transit_gateway_attachments)
    assert sorted(table.propagating_attachment_ids) == sorted(net.transit_gateway_attachments)
    assert any(r.state == "blackhole" for r in table.routes)
    assert len(net.security_groups) == 3 * 6
    assert all(20 <= len(g.ingress) + len(g.egress) <= 60 for g in net.security_groups.values())
    sg_rules, nacl_entries = rule_counts(net)
    assert sg_rules >= 18 * 20
    # A default NACL (4 entries) per VPC, and a restricted one (24) on subnet 3, except in
    # VPC 0, where subnet 3 is the public subnet of the egress VPC.
    assert nacl_entries == 3 * 4 + 2 * 24


def test_generator_rejects_sizes_it_cannot_lay_out() -> None:
    with pytest.raises(ValueError):
        generate_network(0, 4, 5)
    with pytest.raises(ValueError):
        generate_network(2, 4, 500)


def test_engine_and_naive_evaluator_agree() -> None:
    net = generate_network(4, 5, 6, seed=2)
    tracer = Tracer(compile_network(net))
    naive = NaiveEvaluator(net)
    seen: Counter[str] = Counter()
    for case in sample_flows(net, 50, seed=3):
        engine = tracer.trace(case.node, case.flow)[0].disposition.value
        assert naive.disposition(case.node, case.flow) == engine, (case, engine)
        seen[engine] += 1
    assert len(seen) >= 4, seen  # the sample exercises several outcomes, not one path
