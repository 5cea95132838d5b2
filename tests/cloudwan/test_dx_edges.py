"""A trace through a core network to a Direct Connect gateway attachment placed at two edges
(us-east-1, us-west-2): from a VPC at one of them it leaves at that (local) edge, from a VPC
at an edge without the gateway (eu-west-1) it crosses the core to the edge the segment's
route table there names (CN-4 for a multi-edge attachment, through the data plane)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cloudwan_lab import att_id, attachment, e1

from localvpc.cloudwan.advertised import ADVERTISE_TAG
from localvpc.cloudwan.compile import CompiledCoreNetwork, compile_core_network
from localvpc.cloudwan.policy import parse_policy
from localvpc.dataplane import compile_network
from localvpc.dataplane.flow import Disposition, Trace
from localvpc.dataplane.request import trace_request
from localvpc.model.base import parse_cidr, parse_ip
from localvpc.model.cloudwan import DIRECT_CONNECT_GATEWAY
from localvpc.model.filters import NaclEntry, NetworkAcl, SecurityGroup, SgRule
from localvpc.model.interfaces import Instance, NetworkInterface, PrivateIp
from localvpc.model.network import Network
from localvpc.model.vpc import Route, RouteOrigin, RouteTable, Subnet, TargetType, Vpc

CORE = "core-network-0123456789abcdef0"
CORE_ARN = f"arn:aws:networkmanager::111122223333:core-network/{CORE}"
ON_PREM = "172.16.0.0/12"
DX_EDGES = ["us-east-1", "us-west-2"]


@dataclass
class Site:
    vpc: Vpc
    instance: Instance
    attachment_id: str


def site(net: Network, n: int, region: str) -> Site:
    """VPC ``n`` in ``region``: one subnet, one instance, allow-all NACL and SG, a route to
    the on-premises network through the core network, and its (prod) attachment."""
    vpc = Vpc(f"vpc-{n:017x}", "111122223333", region, cidrs=[parse_cidr(f"10.{n}.0.0/16")])
    subnet = Subnet(f"subnet-{n:017x}", vpc.account, region, vpc_id=vpc.id,
                    cidr=parse_cidr(f"10.{n}.1.0/24"), availability_zone=f"{region}a")
    routes = [Route(parse_cidr(f"10.{n}.0.0/16"), TargetType.LOCAL, "local",
                    origin=RouteOrigin.CREATE_ROUTE_TABLE),
              Route(parse_cidr(ON_PREM), TargetType.CORE_NETWORK, CORE_ARN,
                    origin=RouteOrigin.CREATE_ROUTE)]
    acl = NetworkAcl(f"acl-{n:017x}", vpc_id=vpc.id, is_default=True, entries=[
        NaclEntry(100, "-1", "allow", egress, parse_cidr("0.0.0.0/0"))
        for egress in (False, True)])
    sg = SecurityGroup(f"sg-{n:017x}", vpc_id=vpc.id, group_name="default",
                       egress=[SgRule("-1", cidr=parse_cidr("0.0.0.0/0"))])
    eni = NetworkInterface(f"eni-{n:017x}", subnet_id=subnet.id, vpc_id=vpc.id,
                           availability_zone=subnet.availability_zone,
                           private_ips=[PrivateIp(parse_ip(f"10.{n}.1.10"), primary=True)],
                           security_group_ids=[sg.id])
    inst = Instance(f"i-{n:017x}", subnet_id=subnet.id, vpc_id=vpc.id,
                    availability_zone=subnet.availability_zone, state="running",
                    network_interface_ids=[eni.id])
    eni.instance_id = inst.id
    att = attachment(n, region=region, segment="prod", resource_id=vpc.id)
    att.core_network_id = CORE
    att.subnet_arns = [f"arn:aws:ec2:{region}:{vpc.account}:subnet/{subnet.id}"]
    for r in (vpc, subnet, RouteTable(f"rtb-{n:017x}", vpc_id=vpc.id, routes=routes,
                                      main=True), acl, sg, eni, inst, att):
        net.add(r)
    return Site(vpc, inst, att.id)


@pytest.fixture
def wan() -> tuple[Network, CompiledCoreNetwork, Site, Site]:
    doc = e1()
    doc["core-network-configuration"]["edge-locations"] = [
        {"location": e} for e in ("us-east-1", "us-west-2", "eu-west-1")]
    net = Network()
    east, eu = site(net, 1, "us-east-1"), site(net, 2, "eu-west-1")
    dx = attachment(9, region=DX_EDGES[0], segment="prod", kind=DIRECT_CONNECT_GATEWAY,
                    resource_id="6a5b4c3d-1111-2222-3333-444455556666",
                    tags={ADVERTISE_TAG: ON_PREM})
    dx.core_network_id = CORE
    dx.edge_locations = list(DX_EDGES)
    net.add(dx)
    compiled = compile_core_network(parse_policy(doc),
                                    list(net.core_network_attachments.values()), net)
    return net, compiled, east, eu


def trace(net: Network, compiled: CompiledCoreNetwork, inst: Instance) -> Trace:
    plane = compile_network(net, core_networks={CORE: compiled})
    _, traces = trace_request(plane, inst.id, "172.16.5.5", protocol="tcp", dst_port=443)
    assert len(traces) == 1
    return traces[0]


def core_hops(t: Trace) -> list[str]:
    """The core network hops' details without the route notes the engine appends."""
    return [h.detail.split("; ", 1)[0] for h in t.hops if h.type == "core-network"]


def test_from_a_dx_edge_the_packet_leaves_at_that_edge(
        wan: tuple[Network, CompiledCoreNetwork, Site, Site]) -> None:
    net, compiled, east, _ = wan
    route = compiled.lookup("prod", "us-east-1", "172.16.5.5")
    assert route is not None and (route.attachment_id, route.edge_location) == (
        att_id(9), "us-east-1")
    t = trace(net, compiled, east.instance)
    assert t.disposition == Disposition.EXITS_NETWORK
    assert core_hops(t) == [f"from attachment {east.attachment_id} at edge us-east-1"]
    assert not any("across the core" in h.detail for h in t.hops)
    entry = next(h.detail for h in t.hops if h.type == "core-network")
    assert f"-> {att_id(9)} (us-east-1) in segment prod" in entry  # the route the edge chose
    last = t.hops[-1]
    assert (last.type, last.action, last.detail) == (
        "direct_connect_gateway", "exited",
        f"to DIRECT_CONNECT_GATEWAY attachment {att_id(9)} at edge us-east-1")


def test_from_an_edge_without_the_gateway_it_crosses_to_the_edge_the_table_names(
        wan: tuple[Network, CompiledCoreNetwork, Site, Site]) -> None:
    net, compiled, _, eu = wan
    route = compiled.lookup("prod", "eu-west-1", "172.16.5.5")
    assert route is not None and route.attachment_id == att_id(9)
    assert route.edge_location in DX_EDGES  # learned across the core from one of its edges
    t = trace(net, compiled, eu.instance)
    assert t.disposition == Disposition.EXITS_NETWORK
    assert core_hops(t) == [
        f"from attachment {eu.attachment_id} at edge eu-west-1",
        f"across the core from edge eu-west-1 to edge {route.edge_location}"]
    assert t.hops[-1].detail == (f"to DIRECT_CONNECT_GATEWAY attachment {att_id(9)} "
                                 f"at edge {route.edge_location}")


def test_moving_the_gateway_off_the_local_edge_sends_traffic_across_the_core(
        wan: tuple[Network, CompiledCoreNetwork, Site, Site]) -> None:
    net, _, east, _ = wan
    dx = net.core_network_attachments[att_id(9)]
    dx.edge_locations, dx.region = ["us-west-2"], "us-west-2"
    doc = e1()
    doc["core-network-configuration"]["edge-locations"] = [
        {"location": e} for e in ("us-east-1", "us-west-2", "eu-west-1")]
    compiled = compile_core_network(parse_policy(doc),
                                    list(net.core_network_attachments.values()), net)
    t = trace(net, compiled, east.instance)
    assert core_hops(t)[1:] == ["across the core from edge us-east-1 to edge us-west-2"]
    assert t.hops[-1].detail.endswith("at edge us-west-2")
