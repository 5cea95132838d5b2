"""Shared helpers for the flow-log generation tests: the data-plane ``Lab`` and a few
networks built with it, plus tracing straight into observations and records."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dataplane"))

from lab import Lab

from localvpc.dataplane import Trace, compile_network
from localvpc.dataplane.request import trace_request
from localvpc.flowlogs.observe import Observer
from localvpc.model.vpc import TargetType

__all__ = ["Lab", "TargetType", "bidir", "nat_lab", "seen", "two_tier"]


def bidir(lab: Lab, start: Any, dst: str, port: int = 80, protocol: str = "tcp",
          src_port: int = 40000, src: str | None = None) -> tuple[Trace, Observer]:
    fp = compile_network(lab.net)
    node = start if isinstance(start, str) else start.id
    _, traces = trace_request(fp, node, dst, src, protocol, src_port, port, bidirectional=True)
    return traces[0], Observer(fp)


def seen(observer: Observer, trace: Trace | None) -> list[tuple[str, str, str]]:
    """(interface, direction, action) of each ENI observation of one direction."""
    if trace is None:
        return []
    return [(o.fields["interface-id"], o.fields["flow-direction"], o.fields["action"])
            for o in observer.observe(trace) if o.kind == "eni"]


def two_tier(lab: Lab) -> dict[str, Any]:
    """One VPC, a web and a db subnet; db accepts 5432 from the web subnet only."""
    vpc = lab.vpc("10.0.0.0/16")
    web_sn = lab.subnet(vpc, "10.0.1.0/24")
    db_sn = lab.subnet(vpc, "10.0.2.0/24", az="us-east-1b")
    web_sg = lab.sg(vpc, ingress=[("tcp", 443, 443, "0.0.0.0/0")])
    db_sg = lab.sg(vpc, ingress=[("tcp", 5432, 5432, "10.0.1.0/24")])
    web = lab.instance(web_sn, "10.0.1.10", sgs=[web_sg])
    db = lab.instance(db_sn, "10.0.2.20", sgs=[db_sg])
    return {"vpc": vpc, "web_sn": web_sn, "db_sn": db_sn, "web": web, "db": db,
            "web_sg": web_sg, "db_sg": db_sg}


def nat_lab(lab: Lab) -> dict[str, Any]:
    """A private instance reaching the internet through a NAT gateway (the AWS example)."""
    vpc = lab.vpc("10.0.0.0/16")
    pub = lab.subnet(vpc, "10.0.0.0/24")
    priv = lab.subnet(vpc, "10.0.1.0/24")
    igw = lab.igw(vpc)
    nat = lab.nat(pub, "10.0.0.220", "198.51.100.99")
    rt_pub = lab.route_table(vpc, [pub])
    lab.route(rt_pub, "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    lab.route(lab.main_table(vpc), "0.0.0.0/0", TargetType.NAT_GATEWAY, nat.id)
    inst = lab.instance(priv, "10.0.1.5")
    return {"vpc": vpc, "inst": inst, "nat": nat, "pub": pub, "priv": priv}
