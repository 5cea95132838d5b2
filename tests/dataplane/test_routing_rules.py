"""Routing rules of shared/reference/vpc-routing.md, one test per rule or worked example."""

from __future__ import annotations

from lab import Lab

from localvpc.dataplane import Disposition, compile_network
from localvpc.dataplane.request import trace_request
from localvpc.model.base import parse_cidr
from localvpc.model.gateways import LocalGatewayRoute
from localvpc.model.transit import TransitGatewayRoute
from localvpc.model.vpc import TargetType


def two_subnets(lab: Lab):  # type: ignore[no-untyped-def]
    vpc = lab.vpc("10.0.0.0/16")
    a = lab.subnet(vpc, "10.0.1.0/24")
    b = lab.subnet(vpc, "10.0.2.0/24")
    return vpc, a, b


def test_rs1_same_subnet_is_delivered_without_route_or_nacl(lab: Lab) -> None:
    vpc, a, _ = two_subnets(lab)
    lab.nacl(vpc, [a], [])  # a custom NACL denying everything
    x = lab.instance(a, "10.0.1.10")
    y = lab.instance(a, "10.0.1.11")
    t = lab.trace(x, "10.0.1.11")
    assert t.disposition == Disposition.ACCEPTED
    assert lab.nodes(t) == [x.id, y.id]


def test_rs2_local_route_delivers_across_subnets(lab: Lab) -> None:
    vpc, a, b = two_subnets(lab)
    x = lab.instance(a, "10.0.1.10")
    y = lab.instance(b, "10.0.2.20")
    t = lab.trace(x, "10.0.2.20")
    assert t.disposition == Disposition.ACCEPTED
    assert lab.nodes(t) == [x.id, a.id, vpc.id, b.id, y.id]


def test_e1_longest_prefix_and_static_beats_propagated(lab: Lab) -> None:
    vpc, a, _ = two_subnets(lab)
    x = lab.instance(a, "10.0.1.10", public_ip="203.0.113.10")
    igw = lab.igw(vpc)
    peer = lab.vpc("172.30.0.0/16")
    pcx = lab.peering(vpc, peer)
    vgw = lab.vgw(vpc, routes=["172.31.0.0/24"])
    rt = lab.main_table(vpc)
    lab.route(rt, "172.31.0.0/16", TargetType.VPC_PEERING, pcx.id)
    rt.propagating_vgws.append(vgw.id)
    lab.route(rt, "172.31.0.0/24", TargetType.INTERNET_GATEWAY, igw.id)
    # /24 beats /16; at /24 the static IGW route beats the VGW-propagated one (RS-3).
    t = lab.trace(x, "172.31.0.9")
    assert igw.id in lab.nodes(t) and vgw.id not in lab.nodes(t)
    assert "route 172.31.0.0/24" in t.hops[1].detail
    # Without the static route the propagated VGW route is used.
    rt.routes.pop()
    t = lab.trace(x, "172.31.0.9")
    assert lab.nodes(t)[-1] == vgw.id and t.disposition == Disposition.EXITS_NETWORK
    assert "propagated" in t.hops[1].detail
    # /16 to the peering for the rest of 172.31/16; the peer does not own it: dropped there.
    t = lab.trace(x, "172.31.5.1")
    assert lab.nodes(t)[-1] == peer.id and t.disposition == Disposition.NO_ROUTE


def test_rs6_blackhole_route_drops_without_falling_back(lab: Lab) -> None:
    vpc, a, _ = two_subnets(lab)
    x = lab.instance(a, "10.0.1.10", public_ip="203.0.113.10")
    igw = lab.igw(vpc)
    rt = lab.main_table(vpc)
    lab.route(rt, "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    lab.route(rt, "8.8.8.0/24", TargetType.NAT_GATEWAY, "nat-gone", state="blackhole")
    t = lab.trace(x, "8.8.8.8")
    assert t.disposition == Disposition.NULL_ROUTED
    assert lab.nodes(t) == [x.id, a.id]
    assert "blackhole" in t.reason
    assert lab.trace(x, "8.8.4.4").disposition == Disposition.EXITS_NETWORK


def test_rs7_no_route_and_rt6_families_are_independent(lab: Lab) -> None:
    vpc = lab.vpc("10.0.0.0/16", ipv6="2600:1f18:1::/56")
    a = lab.subnet(vpc, "10.0.1.0/24", ipv6="2600:1f18:1:1::/64")
    igw = lab.igw(vpc)
    x = lab.instance(a, "10.0.1.10", public_ip="203.0.113.10", ipv6=["2600:1f18:1:1::10"])
    lab.route(lab.main_table(vpc), "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    t = lab.trace(x, "2600::1", src="2600:1f18:1:1::10")
    assert t.disposition == Disposition.NO_ROUTE
    assert "no route for 2600::1" in t.reason
    lab.route(lab.main_table(vpc), "::/0", TargetType.INTERNET_GATEWAY, igw.id)
    t = lab.trace(x, "2600::1", src="2600:1f18:1:1::10")
    assert t.disposition == Disposition.EXITS_NETWORK  # IG-3: IPv6 is not translated
    assert t.final_flow is not None and str(t.final_flow.src_ip) == "2600:1f18:1:1::10"


def test_rs8_reserved_range_is_never_routed(lab: Lab) -> None:
    vpc, a, _ = two_subnets(lab)
    x = lab.instance(a, "10.0.1.10")
    appliance = lab.instance(a, "10.0.1.20", sdc=False)
    lab.route(lab.main_table(vpc), "169.254.0.0/16", TargetType.NETWORK_INTERFACE,
              lab.eni_of(appliance).id, eni=lab.eni_of(appliance).id)
    t = lab.trace(x, "169.254.168.7")
    assert t.disposition == Disposition.NULL_ROUTED and "reserved" in t.reason
    t = lab.trace(x, "169.254.169.254")  # answered by the hypervisor (EX-2)
    assert t.disposition == Disposition.ACCEPTED and "metadata" in t.reason


def test_vpc_cidr_outside_any_subnet_is_null_routed_at_the_vpc(lab: Lab) -> None:
    vpc, a, _ = two_subnets(lab)
    x = lab.instance(a, "10.0.1.10")
    t = lab.trace(x, "10.0.200.1")
    assert t.disposition == Disposition.NULL_ROUTED and lab.nodes(t)[-1] == vpc.id
    t = lab.trace(x, "10.0.2.99")  # in subnet b, but nobody owns it
    assert t.disposition == Disposition.NEIGHBOR_UNREACHABLE


def test_rs5_prefix_list_route_for_gateway_endpoint_beats_default(lab: Lab) -> None:
    vpc, a, _ = two_subnets(lab)
    x = lab.instance(a, "10.0.1.10", public_ip="203.0.113.10")
    igw = lab.igw(vpc)
    rt = lab.main_table(vpc)
    lab.route(rt, "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    pl = lab.prefix_list("52.216.0.0/15", name="com.amazonaws.us-east-1.s3")
    ep = lab.gateway_endpoint(vpc, pl, [rt])
    t = lab.trace(x, "52.216.1.2", port=443)
    assert lab.nodes(t) == [x.id, a.id, vpc.id, ep.id]
    assert t.disposition == Disposition.EXITS_NETWORK and "prefix list" in t.hops[1].detail


def test_st2_route_to_deleted_nat_gateway_is_blackhole(lab: Lab) -> None:
    vpc, a, b = two_subnets(lab)
    x = lab.instance(a, "10.0.1.10")
    nat = lab.nat(b, "10.0.2.5", "198.51.100.5")
    nat.state = "deleted"
    lab.route(lab.main_table(vpc), "0.0.0.0/0", TargetType.NAT_GATEWAY, nat.id)
    t = lab.trace(x, "8.8.8.8")
    assert t.disposition == Disposition.NULL_ROUTED and "deleted" in t.reason


# ------------------------------------------------------------------ ingress routing (GW-*)
def ingress_lab(lab: Lab, appliance_sdc: bool):  # type: ignore[no-untyped-def]
    vpc = lab.vpc("10.0.0.0/16")
    fw_subnet = lab.subnet(vpc, "10.0.0.0/24")
    web_subnet = lab.subnet(vpc, "10.0.1.0/24")
    igw = lab.igw(vpc)
    fw = lab.instance(fw_subnet, "10.0.0.5", public_ip="198.51.100.5", sdc=appliance_sdc,
                      sgs=[lab.sg(vpc, ingress=[("-1", None, None, "0.0.0.0/0")])])
    web = lab.instance(web_subnet, "10.0.1.10", public_ip="203.0.113.10",
                       sgs=[lab.sg(vpc, ingress=[("tcp", 443, 443, "0.0.0.0/0")])])
    fw_eni = lab.eni_of(fw).id
    edge = lab.route_table(vpc, gateway=igw.id)
    lab.route(edge, "10.0.1.0/24", TargetType.NETWORK_INTERFACE, fw_eni, eni=fw_eni)
    web_rt = lab.route_table(vpc, subnets=[web_subnet])
    lab.route(web_rt, "0.0.0.0/0", TargetType.NETWORK_INTERFACE, fw_eni, eni=fw_eni)
    fw_rt = lab.route_table(vpc, subnets=[fw_subnet])
    lab.route(fw_rt, "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    return vpc, igw, fw, web, fw_subnet, web_subnet


def test_e5_ingress_routing_sends_internet_traffic_through_the_appliance(lab: Lab) -> None:
    vpc, igw, fw, web, fw_subnet, web_subnet = ingress_lab(lab, appliance_sdc=False)
    t = lab.trace("internet", "203.0.113.10", port=443, src="198.51.100.77", both=True)
    assert t.disposition == Disposition.ACCEPTED, t.to_json()
    assert lab.nodes(t) == ["internet", "aws-backbone", igw.id, vpc.id, fw_subnet.id, fw.id,
                            fw_subnet.id, vpc.id, web_subnet.id, web.id]
    assert "ingress routing" in t.hops[3].detail
    # GW-8: the reply goes back through the appliance and out with the public address.
    r = t.return_trace
    assert r is not None and r.disposition == Disposition.EXITS_NETWORK
    assert fw.id in lab.nodes(r) and lab.nodes(r)[-1] == "internet"
    assert r.final_flow is not None and str(r.final_flow.src_ip) == "203.0.113.10"


def test_gw10_appliance_with_source_dest_check_drops_transit(lab: Lab) -> None:
    *_, fw, _web, _fs, _ws = ingress_lab(lab, appliance_sdc=True)
    t = lab.trace("internet", "203.0.113.10", port=443, src="198.51.100.77")
    assert t.disposition == Disposition.DENIED_IN
    assert lab.nodes(t)[-1] == fw.id and "source/destination check" in t.reason


# ------------------------------------------------------------------ peering (PX-*)
def test_e6_peering_is_not_transitive_and_has_no_edge_to_edge(lab: Lab) -> None:
    a, b, c = lab.vpc("10.0.0.0/16"), lab.vpc("10.1.0.0/16"), lab.vpc("10.2.0.0/16")
    sa = lab.subnet(a, "10.0.1.0/24")
    sb = lab.subnet(b, "10.1.1.0/24")
    lab.subnet(c, "10.2.1.0/24")
    x = lab.instance(sa, "10.0.1.10")
    y = lab.instance(sb, "10.1.1.10", sgs=[lab.sg(b, ingress=[("tcp", 80, 80, "10.0.0.0/16")])])
    ab, bc = lab.peering(a, b), lab.peering(b, c)
    lab.route(lab.main_table(a), "10.1.0.0/16", TargetType.VPC_PEERING, ab.id)
    lab.route(lab.main_table(a), "10.2.0.0/16", TargetType.VPC_PEERING, ab.id)
    lab.route(lab.main_table(a), "0.0.0.0/0", TargetType.VPC_PEERING, ab.id)
    lab.route(lab.main_table(b), "10.2.0.0/16", TargetType.VPC_PEERING, bc.id)
    igw = lab.igw(b)
    lab.route(lab.main_table(b), "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    t = lab.trace(x, "10.1.1.10")
    assert lab.nodes(t) == [x.id, sa.id, a.id, b.id, sb.id, y.id]
    assert t.disposition == Disposition.ACCEPTED
    t = lab.trace(x, "10.2.1.5")  # PX-5
    assert t.disposition == Disposition.NO_ROUTE and lab.nodes(t)[-1] == b.id
    assert "not transitive" in t.reason
    t = lab.trace(x, "8.8.8.8")  # PX-6: B's internet gateway is not for A
    assert t.disposition == Disposition.NO_ROUTE and igw.id not in lab.nodes(t)


def test_px1_only_active_peering_carries_traffic(lab: Lab) -> None:
    a, b = lab.vpc("10.0.0.0/16"), lab.vpc("10.1.0.0/16")
    sa = lab.subnet(a, "10.0.1.0/24")
    lab.subnet(b, "10.1.1.0/24")
    x = lab.instance(sa, "10.0.1.10")
    pcx = lab.peering(a, b, status="pending-acceptance")
    lab.route(lab.main_table(a), "10.1.0.0/16", TargetType.VPC_PEERING, pcx.id)
    t = lab.trace(x, "10.1.1.10")
    assert t.disposition == Disposition.NULL_ROUTED and "pending-acceptance" in t.reason


# ------------------------------------------------------------------ transit gateway (TG-*)
def tgw_lab(lab: Lab):  # type: ignore[no-untyped-def]
    tgw = lab.tgw()
    t0 = lab.tgw_table(tgw)
    a, b = lab.vpc("10.0.0.0/16"), lab.vpc("10.1.0.0/16")
    sa, sa2 = lab.subnet(a, "10.0.1.0/24", "us-east-1a"), lab.subnet(a, "10.0.2.0/24", "us-east-1b")
    sb = lab.subnet(b, "10.1.1.0/24", "us-east-1a")
    att_a = lab.attach(tgw, a, [sa], t0, [t0])
    att_b = lab.attach(tgw, b, [sb], t0, [t0])
    for vpc, dst in ((a, "10.1.0.0/16"), (b, "10.0.0.0/16")):
        lab.route(lab.main_table(vpc), dst, TargetType.TRANSIT_GATEWAY, tgw.id)
    x = lab.instance(sa, "10.0.1.10")
    x2 = lab.instance(sa2, "10.0.2.10")
    y = lab.instance(sb, "10.1.1.10", sgs=[lab.sg(b, ingress=[("-1", None, None,
                                                                "10.0.0.0/8")])])
    return tgw, t0, a, b, sa, sb, att_a, att_b, x, x2, y


def test_e7_tgw_propagation_then_static_blackhole_then_more_specific(lab: Lab) -> None:
    tgw, t0, a, b, sa, sb, _att_a, att_b, x, _x2, y = tgw_lab(lab)
    t = lab.trace(x, "10.1.1.10")
    assert lab.nodes(t) == [x.id, sa.id, a.id, tgw.id, b.id, sb.id, y.id]
    assert t.disposition == Disposition.ACCEPTED
    assert "propagated" in t.hops[3].detail
    t0.routes.append(TransitGatewayRoute(parse_cidr("10.1.0.0/16"), "static", "blackhole"))
    t = lab.trace(x, "10.1.1.10")
    assert t.disposition == Disposition.NULL_ROUTED and lab.nodes(t)[-1] == tgw.id
    t0.routes.append(TransitGatewayRoute(parse_cidr("10.1.1.0/24"), "static", "active",
                                         att_b.id))
    assert lab.trace(x, "10.1.1.10").disposition == Disposition.ACCEPTED


def test_tg3_association_decides_the_table_used(lab: Lab) -> None:
    tgw, t0, _a, _b, _sa, _sb, att_a, _att_b, x, _x2, _y = tgw_lab(lab)
    t1 = lab.tgw_table(tgw)  # empty table
    t0.associated_attachment_ids.remove(att_a.id)
    t1.associated_attachment_ids.append(att_a.id)
    att_a.association_route_table_id = t1.id
    t = lab.trace(x, "10.1.1.10")
    assert t.disposition == Disposition.NO_ROUTE and t1.id in t.reason


def test_tg4_zone_without_attachment_subnet_cannot_reach_the_tgw(lab: Lab) -> None:
    _tgw, *_rest, x2, _y = tgw_lab(lab)
    t = lab.trace(x2, "10.1.1.10")
    assert t.disposition == Disposition.NULL_ROUTED
    assert len(t.hops) == 2 and "no subnet in zone us-east-1b" in t.reason


# ------------------------------------------------------------------ Outposts LGW (LG-*)
def lgw_lab(lab: Lab, attached: bool):  # type: ignore[no-untyped-def]
    vpc = lab.vpc("10.0.0.0/16")
    sub = lab.subnet(vpc, "10.0.1.0/24")
    appliance = lab.instance(sub, "10.0.1.5", sdc=False,
                             sgs=[lab.sg(vpc, ingress=[("-1", None, None, "0.0.0.0/0")])])
    eni = lab.eni_of(appliance)
    eni.attached = attached
    routes = [
        LocalGatewayRoute(parse_cidr("0.0.0.0/0"), "static", vif_group_id="lgw-vif-grp-1"),
        LocalGatewayRoute(parse_cidr("198.19.33.16/28"), "propagated", coip_pool_id="cp-1"),
        LocalGatewayRoute(parse_cidr("198.19.33.240/28"), "propagated", coip_pool_id="cp-2"),
        LocalGatewayRoute(parse_cidr("198.19.33.248/29"), "static",
                          "active" if attached else "blackhole", network_interface_id=eni.id),
    ]
    return lab.lgw(vpc, routes), appliance, vpc, sub


def test_e9_lgw_ingress_route_to_eni_keeps_the_destination(lab: Lab) -> None:
    lgw, appliance, vpc, sub = lgw_lab(lab, attached=True)
    t = lab.trace(lgw.id, "198.19.33.250", src="192.168.10.10")
    assert lab.nodes(t) == [lgw.id, vpc.id, sub.id, appliance.id]
    assert t.final_flow is not None and str(t.final_flow.dst_ip) == "198.19.33.250"
    assert "198.19.33.248/29 (static)" in t.hops[0].detail


def test_lg6_route_to_detached_eni_is_blackhole(lab: Lab) -> None:
    lgw, *_ = lgw_lab(lab, attached=False)
    t = lab.trace(lgw.id, "198.19.33.250", src="192.168.10.10")
    assert t.disposition == Disposition.NULL_ROUTED and "blackhole" in t.reason


def test_lg7_static_beats_propagated_on_equal_prefix(lab: Lab) -> None:
    lgw, appliance, _vpc, _sub = lgw_lab(lab, attached=True)
    table = next(iter(lab.net.local_gateway_route_tables.values()))
    table.routes.append(LocalGatewayRoute(parse_cidr("198.19.33.240/28"), "static",
                                          network_interface_id=lab.eni_of(appliance).id))
    t = lab.trace(lgw.id, "198.19.33.241", src="192.168.10.10")
    assert lab.nodes(t)[-1] == appliance.id
    assert "198.19.33.240/28 (static)" in t.hops[0].detail


def test_propagated_vgw_route_origin_is_reported(lab: Lab) -> None:
    vpc = lab.vpc("10.0.0.0/16")
    sub = lab.subnet(vpc, "10.0.1.0/24")
    x = lab.instance(sub, "10.0.1.10")
    vgw = lab.vgw(vpc, routes=["192.168.0.0/16"], tunnels=["3.3.3.3", "4.4.4.4"])
    lab.main_table(vpc).propagating_vgws.append(vgw.id)
    _, traces = trace_request(compile_network(lab.net), x.id, "192.168.1.1", None, "tcp",
                              None, 22)
    assert len(traces) == 2  # one path per tunnel (ECMP)
    assert all(t.disposition == Disposition.EXITS_NETWORK for t in traces)
    assert "propagated" in traces[0].hops[1].detail


def test_flow_started_at_the_vpc_router_uses_the_main_table_to_the_tgw(lab: Lab) -> None:
    tgw, _t0, a, b, _sa, sb, _att_a, _att_b, _x, _x2, y = tgw_lab(lab)
    t = lab.trace(a.id, "10.1.1.10")
    assert lab.nodes(t) == [a.id, tgw.id, b.id, sb.id, y.id]
    assert t.disposition == Disposition.ACCEPTED


def test_gw6_appliance_must_run_and_have_a_public_address(lab: Lab) -> None:
    *_, fw, _web, _fs, _ws = ingress_lab(lab, appliance_sdc=False)
    fw.state = "stopped"
    t = lab.trace("internet", "203.0.113.10", port=443, src="198.51.100.77")
    assert t.disposition == Disposition.NEIGHBOR_UNREACHABLE and lab.nodes(t)[-1] == fw.id
    fw.state = "running"
    lab.eni_of(fw).private_ips[0].public_ip = None
    t = lab.trace("internet", "203.0.113.10", port=443, src="198.51.100.77")
    assert t.disposition == Disposition.NULL_ROUTED and "GW-6" in t.reason


def test_gw5_vgw_route_table_to_a_gwlb_endpoint_drops(lab: Lab) -> None:
    vpc = lab.vpc("10.0.0.0/16")
    sub = lab.subnet(vpc, "10.0.1.0/24")
    lab.instance(sub, "10.0.1.10")
    vgw = lab.vgw(vpc, routes=["192.168.0.0/16"])
    edge = lab.route_table(vpc, gateway=vgw.id)
    lab.route(edge, "10.0.1.0/24", TargetType.GWLB_ENDPOINT, "vpce-gwlb")
    t = lab.trace(vgw.id, "10.0.1.10", src="192.168.1.1")
    assert t.disposition == Disposition.NULL_ROUTED and "GW-5" in t.reason


def test_tg6_static_route_hides_an_identical_propagated_one(lab: Lab) -> None:
    tgw, t0, a, _b, _sa, _sb, att_a, _att_b, x, _x2, _y = tgw_lab(lab)
    # A static route for B's CIDR back to A's own attachment wins over B's propagation.
    t0.routes.append(TransitGatewayRoute(parse_cidr("10.1.0.0/16"), "static", "active",
                                         att_a.id))
    t = lab.trace(x, "10.1.1.10")
    assert "(static)" in t.hops[3].detail and lab.nodes(t)[4] == a.id
    assert tgw.id in lab.nodes(t)
