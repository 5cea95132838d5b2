"""The Network Access Analyzer engine on small networks built in code.

Each test states a scope, analyzes it, and checks which paths are findings and which are not
(a security group, network ACL or missing route blocks a path; an exclude path removes it).
"""

from __future__ import annotations

import time
from typing import Any

from lab import Lab

from localvpc.analysis.access_scope import Limits, ScopeResult, analyze_scope
from localvpc.model.access_analyzer import (
    AccessScopePath,
    NetworkInsightsAccessScope,
    PacketHeaderStatement,
    PathStatement,
    ResourceStatement,
)
from localvpc.model.interfaces import Instance
from localvpc.model.vpc import TargetType

ACCOUNT, REGION = "000000000000", "us-east-1"  # the Lab's resources' owner


def stmt(*refs: str, types: tuple[str, ...] = (),
         header: PacketHeaderStatement | None = None) -> PathStatement:
    return PathStatement(header, ResourceStatement(list(refs), list(types))
                         if refs or types else None)


def scope(*match: AccessScopePath, exclude: tuple[AccessScopePath, ...] = ()
          ) -> NetworkInsightsAccessScope:
    return NetworkInsightsAccessScope("nis-1", ACCOUNT, REGION, match_paths=list(match),
                                      exclude_paths=list(exclude))


def run(lab: Lab, s: NetworkInsightsAccessScope, limits: Limits | None = None) -> ScopeResult:
    return analyze_scope(lab.net, s, ACCOUNT, REGION, limits=limits)


def ids(component_list: list[dict[str, Any]]) -> list[str]:
    return [c["Component"]["Id"] for c in component_list]


def ends(result: ScopeResult) -> set[tuple[str, str]]:
    """(first component, last component) of each finding."""
    return {(ids(f.components)[0], ids(f.components)[-1]) for f in result.findings}


IGW_TO_ENI = AccessScopePath(stmt(types=("AWS::EC2::InternetGateway",)),
                             stmt(types=("AWS::EC2::NetworkInterface",)))
ENI_TO_IGW = AccessScopePath(stmt(types=("AWS::EC2::NetworkInterface",)),
                             stmt(types=("AWS::EC2::InternetGateway",)))


def public_vpc(lab: Lab) -> dict[str, Any]:
    """A VPC with a public subnet (route to the IGW): a web server open on 443 to the world,
    a database open on 5432 to the VPC only, both with public IPs; and a private subnet
    whose instance has no public IP."""
    vpc = lab.vpc("10.0.0.0/16")
    pub = lab.subnet(vpc, "10.0.1.0/24")
    priv = lab.subnet(vpc, "10.0.2.0/24")
    igw = lab.igw(vpc)
    public_rt = lab.route_table(vpc, [pub])
    lab.route(public_rt, "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    web = lab.instance(pub, "10.0.1.10", public_ip="54.0.0.10",
                       sgs=[lab.sg(vpc, ingress=[("tcp", 443, 443, "0.0.0.0/0")])])
    db = lab.instance(pub, "10.0.1.20", public_ip="54.0.0.20",
                      sgs=[lab.sg(vpc, ingress=[("tcp", 5432, 5432, "10.0.0.0/16")])])
    app = lab.instance(priv, "10.0.2.30",
                       sgs=[lab.sg(vpc, ingress=[("tcp", 0, 65535, "0.0.0.0/0")])])
    return {"vpc": vpc, "pub": pub, "priv": priv, "igw": igw, "public_rt": public_rt,
            "web": web, "db": db, "app": app}


def test_igw_to_eni_finds_only_what_the_internet_reaches(lab: Lab) -> None:
    n = public_vpc(lab)
    result = run(lab, scope(IGW_TO_ENI))
    # The web server is reachable; the DB's group admits only the VPC; the app server has no
    # public address.
    assert ends(result) == {(n["igw"].id, n["web"].id)}
    finding = result.findings[0]
    first, last = finding.components[0], finding.components[-1]
    assert first["OutboundHeader"]["DestinationAddresses"] == ["54.0.0.10"]
    assert first["OutboundHeader"]["DestinationPortRanges"] == [{"From": 443, "To": 443}]
    # The header as it arrives: 1:1 NAT at the gateway turned the public address private.
    assert last["InboundHeader"]["DestinationAddresses"] == ["10.0.1.10"]
    rules = [c["SecurityGroupRule"] for c in finding.components if "SecurityGroupRule" in c]
    assert rules and rules[0]["PortRange"] == {"From": 443, "To": 443}
    assert [c["SequenceNumber"] for c in finding.components] == list(
        range(1, len(finding.components) + 1))
    assert result.analyzed_eni_count == 3
    assert not result.capped


def test_network_acl_denying_the_port_removes_the_finding(lab: Lab) -> None:
    n = public_vpc(lab)
    lab.nacl(n["vpc"], [n["pub"]], [(90, "tcp", "deny", False, "0.0.0.0/0", 443, 443),
                                    (100, "-1", "allow", False, "0.0.0.0/0", None, None),
                                    (100, "-1", "allow", True, "0.0.0.0/0", None, None)])
    assert run(lab, scope(IGW_TO_ENI)).findings == []


def test_security_group_opening_a_port_adds_a_finding_on_that_port(lab: Lab) -> None:
    n = public_vpc(lab)
    db_sg = lab.net.security_groups[lab.eni_of(n["db"]).security_group_ids[0]]
    assert run(lab, scope(AccessScopePath(stmt(n["igw"].id), stmt(n["db"].id)))).findings == []
    db_sg.ingress += [lab_rule("tcp", 5432, 5432, "0.0.0.0/0")]
    result = run(lab, scope(AccessScopePath(stmt(n["igw"].id), stmt(n["db"].id))))
    assert ends(result) == {(n["igw"].id, n["db"].id)}
    header = result.findings[0].components[0]["OutboundHeader"]
    assert header["DestinationPortRanges"] == [{"From": 5432, "To": 5432}]


def lab_rule(proto: str, lo: int, hi: int, cidr: str) -> Any:
    from lab import sg_rule
    return sg_rule((proto, lo, hi, cidr))


def test_destination_ports_narrow_what_is_tried(lab: Lab) -> None:
    n = public_vpc(lab)
    ssh_only = PacketHeaderStatement(destination_ports=["22"], protocols=["tcp"])
    path = AccessScopePath(stmt(types=("AWS::EC2::InternetGateway",)),
                           stmt(types=("AWS::EC2::NetworkInterface",), header=ssh_only))
    assert run(lab, scope(path)).findings == []  # the web server opens 443, not 22
    web_sg = lab.net.security_groups[lab.eni_of(n["web"]).security_group_ids[0]]
    web_sg.ingress.append(lab_rule("tcp", 20, 30, "0.0.0.0/0"))
    result = run(lab, scope(path))
    assert ends(result) == {(n["igw"].id, n["web"].id)}
    assert result.findings[0].components[0]["OutboundHeader"]["DestinationPortRanges"] == [
        {"From": 22, "To": 22}]


def test_missing_route_to_the_gateway_means_no_outbound_path(lab: Lab) -> None:
    n = public_vpc(lab)
    result = run(lab, scope(ENI_TO_IGW))
    # Web and DB leave by the IGW; the private subnet has no route out.
    assert {last for _, last in ends(result)} == {n["igw"].id}
    assert {first for first, _ in ends(result)} == {n["web"].id, n["db"].id}
    n["public_rt"].routes = [r for r in n["public_rt"].routes
                             if r.target_type != TargetType.INTERNET_GATEWAY]
    assert run(lab, scope(ENI_TO_IGW)).findings == []


def nat_setup(lab: Lab) -> dict[str, Any]:
    n = public_vpc(lab)
    nat = lab.nat(n["pub"], "10.0.1.100", "54.0.0.100")
    private_rt = lab.route_table(n["vpc"], [n["priv"]])
    lab.route(private_rt, "0.0.0.0/0", TargetType.NAT_GATEWAY, nat.id)
    return {**n, "nat": nat}


def test_path_through_a_nat_gateway_is_found_and_an_exclude_path_removes_it(lab: Lab) -> None:
    n = nat_setup(lab)
    result = run(lab, scope(ENI_TO_IGW))
    by_source = {ids(f.components)[0]: ids(f.components) for f in result.findings}
    assert set(by_source) == {n["web"].id, n["db"].id, n["app"].id}
    assert n["nat"].id in by_source[n["app"].id]  # the private server goes out by the NAT
    assert by_source[n["app"].id][-1] == n["igw"].id
    no_nat = AccessScopePath(through=[ResourceStatement(resource_types=[
        "AWS::EC2::NatGateway"])])
    result = run(lab, scope(ENI_TO_IGW, exclude=(no_nat,)))
    assert {ids(f.components)[0] for f in result.findings} == {n["web"].id, n["db"].id}
    # The same exclusion by the NAT gateway's id.
    by_id = AccessScopePath(through=[ResourceStatement(resources=[n["nat"].id])])
    assert {ids(f.components)[0] for f in run(lab, scope(ENI_TO_IGW, exclude=(by_id,)))
            .findings} == {n["web"].id, n["db"].id}


def test_through_resources_must_be_passed(lab: Lab) -> None:
    n = nat_setup(lab)
    via_nat = AccessScopePath(stmt(types=("AWS::EC2::NetworkInterface",)),
                              stmt(types=("AWS::EC2::InternetGateway",)),
                              through=[ResourceStatement(resource_types=[
                                  "AWS::EC2::NatGateway"])])
    assert {ids(f.components)[0] for f in run(lab, scope(via_nat)).findings} == {n["app"].id}


def two_vpcs(lab: Lab) -> dict[str, Any]:
    """VPC A and VPC B, peered; a firewall appliance in A's inspection subnet sits on A's
    route to B for A's workload subnet."""
    a, b = lab.vpc("10.1.0.0/16"), lab.vpc("10.2.0.0/16")
    a_work, a_fw = lab.subnet(a, "10.1.1.0/24"), lab.subnet(a, "10.1.9.0/24")
    b_work = lab.subnet(b, "10.2.1.0/24")
    pcx = lab.peering(a, b)
    open_all = [("-1", None, None, "0.0.0.0/0")]
    client = lab.instance(a_work, "10.1.1.10", sgs=[lab.sg(a, ingress=open_all)])
    fw = lab.instance(a_fw, "10.1.9.10", sgs=[lab.sg(a, ingress=open_all)], sdc=False)
    server = lab.instance(b_work, "10.2.1.10", sgs=[lab.sg(b, ingress=open_all)])
    rt_work = lab.route_table(a, [a_work])
    rt_fw = lab.route_table(a, [a_fw])
    lab.route(rt_fw, "10.2.0.0/16", TargetType.VPC_PEERING, pcx.id)
    rt_b = lab.main_table(b)
    lab.route(rt_b, "10.1.0.0/16", TargetType.VPC_PEERING, pcx.id)
    return {"a": a, "b": b, "pcx": pcx, "client": client, "fw": fw, "server": server,
            "rt_work": rt_work}


def test_vpc_to_vpc_paths_and_exclusion_of_those_through_the_firewall(lab: Lab) -> None:
    n = two_vpcs(lab)
    a_to_b = AccessScopePath(stmt(n["a"].id), stmt(n["b"].id))
    # No route from the workload subnet to B yet: only the firewall itself reaches B.
    assert {ids(f.components)[0] for f in run(lab, scope(a_to_b)).findings} == {n["fw"].id}
    # Direct route by the peering connection: the client reaches B without inspection.
    lab.route(n["rt_work"], "10.2.0.0/16", TargetType.VPC_PEERING, n["pcx"].id)
    inspected = AccessScopePath(through=[ResourceStatement(resources=[n["fw"].id])])
    result = run(lab, scope(a_to_b, exclude=(inspected,)))
    assert n["client"].id in {ids(f.components)[0] for f in result.findings}
    finding = next(f for f in result.findings if ids(f.components)[0] == n["client"].id)
    # The peering connection is named by the route that sends the packet to it.
    assert any(c.get("RouteTableRoute", {}).get("VpcPeeringConnectionId") == n["pcx"].id
               for c in finding.components)
    assert ids(finding.components)[-1] == n["server"].id
    # Through the firewall instead: the client's path is now excluded.
    n["rt_work"].routes = [r for r in n["rt_work"].routes
                           if r.target_type != TargetType.VPC_PEERING]
    lab.route(n["rt_work"], "10.2.0.0/16", TargetType.NETWORK_INTERFACE,
              lab.eni_of(n["fw"]).id)
    found = run(lab, scope(a_to_b)).findings
    client_path = next(ids(f.components) for f in found if ids(f.components)[0] == n["client"].id)
    assert n["fw"].id in client_path[1:-1]
    result = run(lab, scope(a_to_b, exclude=(inspected,)))
    assert n["client"].id not in {ids(f.components)[0] for f in result.findings}


def test_peering_as_a_through_type_and_a_transit_attachment_that_is_not_passed(lab: Lab) -> None:
    n = two_vpcs(lab)
    lab.route(n["rt_work"], "10.2.0.0/16", TargetType.VPC_PEERING, n["pcx"].id)
    via_pcx = AccessScopePath(stmt(n["client"].id), stmt(n["server"].id), through=[
        ResourceStatement(resource_types=["AWS::EC2::VPCPeeringConnection"])])
    via_tgw = AccessScopePath(stmt(n["client"].id), stmt(n["server"].id), through=[
        ResourceStatement(resource_types=["AWS::EC2::TransitGatewayAttachment"])])
    assert ends(run(lab, scope(via_pcx))) == {(n["client"].id, n["server"].id)}
    assert run(lab, scope(via_tgw)).findings == []


def test_source_addresses_in_the_packet_header_statement(lab: Lab) -> None:
    n = public_vpc(lab)
    from_vpc = PathStatement(PacketHeaderStatement(source_addresses=["10.0.2.0/24"]), None)
    to_db = AccessScopePath(from_vpc, stmt(n["db"].id))
    # Only the app server (10.0.2.30) is a source; the DB admits it on 5432.
    result = run(lab, scope(to_db))
    assert ends(result) == {(n["app"].id, n["db"].id)}
    assert result.findings[0].components[0]["OutboundHeader"]["DestinationPortRanges"] == [
        {"From": 5432, "To": 5432}]


def test_work_is_capped_and_says_so(lab: Lab) -> None:
    public_vpc(lab)
    result = run(lab, scope(AccessScopePath()), Limits(max_traces=2))
    assert result.capped and "capped" in result.warning
    assert result.traces == 2


def test_hundreds_of_enis_analyze_quickly(lab: Lab) -> None:
    vpc = lab.vpc("10.0.0.0/16")
    igw = lab.igw(vpc)
    subnets = [lab.subnet(vpc, f"10.0.{i}.0/24") for i in range(3)]
    lab.route(lab.main_table(vpc), "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    web = lab.sg(vpc, ingress=[("tcp", 443, 443, "0.0.0.0/0")])
    closed = lab.sg(vpc, ingress=[("tcp", 22, 22, "10.0.0.0/16")])
    open_ones: set[str] = set()
    for i in range(300):
        inst: Instance = lab.instance(subnets[i % 3], f"10.0.{i % 3}.{i // 3 + 10}",
                                      sgs=[web if i % 2 else closed],
                                      public_ip=f"54.1.{i // 200}.{i % 200 + 1}")
        if i % 2:
            open_ones.add(inst.id)
    started = time.monotonic()
    result = run(lab, scope(IGW_TO_ENI))
    assert time.monotonic() - started < 10
    assert {last for _, last in ends(result)} == open_ones
    assert result.analyzed_eni_count == 300


def test_each_internet_gateway_is_a_source_into_its_own_vpc(lab: Lab) -> None:
    first = public_vpc(lab)
    vpc = lab.vpc("10.9.0.0/16")
    sub = lab.subnet(vpc, "10.9.1.0/24")
    igw = lab.igw(vpc)
    lab.route(lab.main_table(vpc), "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    web = lab.instance(sub, "10.9.1.10", public_ip="54.9.0.10",
                       sgs=[lab.sg(vpc, ingress=[("tcp", 80, 80, "0.0.0.0/0")])])
    result = run(lab, scope(IGW_TO_ENI))
    assert ends(result) == {(first["igw"].id, first["web"].id), (igw.id, web.id)}
    port = next(f for f in result.findings if ids(f.components)[-1] == web.id
                ).components[0]["OutboundHeader"]["DestinationPortRanges"]
    assert port == [{"From": 80, "To": 80}]
