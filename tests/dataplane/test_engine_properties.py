"""Property: whatever flow is asked for, the engine answers with a trace or a TraceInputError.

Flows are drawn from the real snapshots: any start node, destinations both owned and random,
any protocol and ports, with and without the reply.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localvpc.dataplane import Disposition, ForwardingPlane, compile_network
from localvpc.dataplane.request import trace_request
from localvpc.model.errors import TraceInputError
from localvpc.snapshot import load_snapshot

SNAPSHOTS = Path(__file__).resolve().parents[3] / "shared" / "aws-snapshots"

SCENARIOS = sorted(p.name for p in SNAPSHOTS.glob("test-*")) if SNAPSHOTS.is_dir() else []


@cache
def plane(name: str) -> ForwardingPlane:
    return compile_network(load_snapshot(SNAPSHOTS / name))


def nodes(fp: ForwardingPlane) -> list[str]:
    n = fp.network
    return sorted([*n.instances, *n.subnets, *n.vpcs, *n.vpn_gateways, *n.network_interfaces,
                   "internet", "no-such-node"])


def addresses(fp: ForwardingPlane) -> list[str]:
    out = {str(ip) for view in fp.vpcs.values() for ip in view.owners}
    out |= {str(ip) for ip in fp.public_ips}
    out |= {"8.8.8.8", "52.216.237.77", "10.255.255.254", "169.254.169.254", "not-an-ip"}
    return sorted(out)


@pytest.mark.skipif(not SCENARIOS, reason="../shared snapshots are not present")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_trace_never_fails_except_with_its_own_error(data: st.DataObject) -> None:
    fp = plane(data.draw(st.sampled_from(SCENARIOS)))
    node = data.draw(st.sampled_from(nodes(fp)))
    dst = data.draw(st.one_of(st.sampled_from(addresses(fp)),
                              st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str)))
    src = data.draw(st.one_of(st.none(), st.sampled_from(addresses(fp))))
    proto = data.draw(st.sampled_from(["tcp", "udp", "icmp", "0", "47", "300", "bogus"]))
    port = data.draw(st.one_of(st.none(), st.integers(-5, 70000)))
    both = data.draw(st.booleans())
    try:
        flow, traces = trace_request(fp, node, dst, src, proto, port, port, bidirectional=both)
    except TraceInputError as e:
        assert str(e)
        return
    assert traces
    for t in traces:
        assert isinstance(t.disposition, Disposition)
        assert t.hops and all(isinstance(h.node, str) and h.node for h in t.hops)
        assert t.hops[-1].detail or t.disposition in (Disposition.EXITS_NETWORK,)
        if t.return_trace is not None:
            assert t.disposition.is_success
            assert t.return_trace.hops
    assert ipaddress.ip_address(dst) == flow.dst_ip
