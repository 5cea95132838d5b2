"""NAT gateways, NAT instances, internet gateways, endpoints and load balancers (NG, IG, ...)."""

from __future__ import annotations

from ipaddress import ip_address

from lab import Lab

from localvpc.dataplane import Disposition
from localvpc.model.vpc import TargetType


def nat_lab(lab: Lab, connectivity: str = "public"):  # type: ignore[no-untyped-def]
    vpc = lab.vpc("10.0.0.0/16", ipv6="2600:1f18:1::/56")
    public = lab.subnet(vpc, "10.0.0.0/24")
    private = lab.subnet(vpc, "10.0.2.0/24", ipv6="2600:1f18:1:2::/64")
    igw = lab.igw(vpc)
    nat = lab.nat(public, "10.0.0.50", "203.0.113.10" if connectivity == "public" else None,
                  connectivity)
    pub_rt = lab.route_table(vpc, [public])
    lab.route(pub_rt, "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    priv_rt = lab.route_table(vpc, [private])
    lab.route(priv_rt, "0.0.0.0/0", TargetType.NAT_GATEWAY, nat.id)
    lab.route(priv_rt, "64:ff9b::/96", TargetType.NAT_GATEWAY, nat.id)
    host = lab.instance(private, "10.0.2.15", ipv6=["2600:1f18:1:2::15"])
    jump = lab.instance(public, "10.0.0.7", public_ip="198.51.100.7")
    return vpc, public, private, igw, nat, host, jump


def test_e8_nat_gateway_translates_source_and_igw_maps_to_eip(lab: Lab) -> None:
    vpc, public, private, igw, nat, host, _ = nat_lab(lab)
    t = lab.trace(host, "93.184.216.34", port=443, both=True)
    assert t.disposition == Disposition.EXITS_NETWORK
    assert lab.nodes(t) == [host.id, private.id, vpc.id, nat.id, public.id, vpc.id, igw.id,
                            "aws-backbone", "internet"]
    assert t.final_flow is not None and str(t.final_flow.src_ip) == "203.0.113.10"
    assert 1024 <= (t.final_flow.src_port or 0) <= 65535  # NG-6
    r = t.return_trace
    assert r is not None and r.disposition == Disposition.ACCEPTED
    assert lab.nodes(r)[-1] == host.id and r.final_flow is not None
    assert str(r.final_flow.dst_ip) == "10.0.2.15" and r.final_flow.dst_port == 49152


def test_ng5_unsolicited_packet_to_the_nat_is_dropped(lab: Lab) -> None:
    _vpc, _pub, _priv, _igw, nat, _host, _ = nat_lab(lab)
    t = lab.trace("internet", "203.0.113.10", port=22, src="198.51.100.99")
    assert t.disposition == Disposition.DENIED_IN and lab.nodes(t)[-1] == nat.id
    assert "inbound-initiated" in t.reason


def test_ng4_only_tcp_udp_icmp_are_translated(lab: Lab) -> None:
    _vpc, _pub, _priv, _igw, nat, host, _ = nat_lab(lab)
    t = lab.trace(host, "93.184.216.34", protocol="47")
    assert t.disposition == Disposition.DENIED_IN and lab.nodes(t)[-1] == nat.id
    assert lab.trace(host, "93.184.216.34", protocol="udp", port=123).disposition \
        == Disposition.EXITS_NETWORK
    assert lab.trace(host, "93.184.216.34", protocol="icmp").disposition \
        == Disposition.EXITS_NETWORK


def test_nat_drops_traffic_sent_to_it_from_its_own_subnet(lab: Lab) -> None:
    _vpc, _pub, _priv, _igw, nat, _host, jump = nat_lab(lab)
    t = lab.trace(jump, "10.0.0.50")
    assert lab.nodes(t) == [jump.id, nat.id] and t.disposition == Disposition.DENIED_IN


def test_ng3_private_nat_gateway_cannot_reach_the_internet(lab: Lab) -> None:
    _vpc, _pub, _priv, igw, _nat, host, _ = nat_lab(lab, connectivity="private")
    t = lab.trace(host, "93.184.216.34", port=443)
    assert t.disposition == Disposition.DENIED_IN and lab.nodes(t)[-1] == igw.id
    assert "no public IPv4" in t.reason


def test_ng10_nat64_extracts_the_ipv4_destination(lab: Lab) -> None:
    _vpc, _pub, _priv, _igw, nat, host, _ = nat_lab(lab)
    t = lab.trace(host, "64:ff9b::5db8:d822", port=443, src="2600:1f18:1:2::15", both=True)
    assert t.disposition == Disposition.EXITS_NETWORK, t.to_json()
    assert nat.id in lab.nodes(t)
    assert t.final_flow is not None and str(t.final_flow.dst_ip) == "93.184.216.34"
    assert str(t.final_flow.src_ip) == "203.0.113.10"
    r = t.return_trace
    assert r is not None and r.disposition == Disposition.ACCEPTED, r.to_json()
    assert r.final_flow is not None and str(r.final_flow.src_ip) == "64:ff9b::5db8:d822"
    assert str(r.final_flow.dst_ip) == "2600:1f18:1:2::15"


def test_ig2_igw_drops_sources_without_public_ip(lab: Lab) -> None:
    vpc = lab.vpc("10.0.0.0/16")
    sub = lab.subnet(vpc, "10.0.0.0/24")
    igw = lab.igw(vpc)
    lab.route(lab.main_table(vpc), "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    private_only = lab.instance(sub, "10.0.0.9")
    t = lab.trace(private_only, "8.8.8.8")
    assert t.disposition == Disposition.DENIED_IN and lab.nodes(t)[-1] == igw.id
    lab.eni_of(private_only).private_ips[0].public_ip = ip_address("198.51.100.9")
    assert lab.trace(private_only, "8.8.8.8").disposition == Disposition.EXITS_NETWORK


def test_ig5_egress_only_gateway_is_outbound_only(lab: Lab) -> None:
    vpc = lab.vpc("10.0.0.0/16", ipv6="2600:1f18:1::/56")
    sub = lab.subnet(vpc, "10.0.0.0/24", ipv6="2600:1f18:1:1::/64")
    eigw = lab.eigw(vpc)
    lab.route(lab.main_table(vpc), "::/0", TargetType.EGRESS_ONLY_INTERNET_GATEWAY, eigw.id)
    host = lab.instance(sub, "10.0.0.9", ipv6=["2600:1f18:1:1::9"],
                        sgs=[lab.sg(vpc, ingress=[("-1", None, None, "::/0")])])
    t = lab.trace(host, "2606:4700::1111", src="2600:1f18:1:1::9", both=True)
    assert t.disposition == Disposition.EXITS_NETWORK and eigw.id in lab.nodes(t)
    assert t.return_trace is not None
    assert t.return_trace.disposition == Disposition.ACCEPTED
    t = lab.trace("internet", "2600:1f18:1:1::9", src="2606:4700::1111")
    assert t.disposition == Disposition.DENIED_IN and lab.nodes(t)[-1] == eigw.id


def test_nat_instance_masquerades_and_forwards_replies(lab: Lab) -> None:
    vpc = lab.vpc("172.31.100.0/24")
    public = lab.subnet(vpc, "172.31.100.0/26")
    private = lab.subnet(vpc, "172.31.100.64/26")
    igw = lab.igw(vpc)
    nat = lab.instance(public, "172.31.100.10", public_ip="203.0.113.20", sdc=False,
                       masquerade=True,
                       sgs=[lab.sg(vpc, ingress=[("-1", None, None, "172.31.100.0/24")])])
    app = lab.instance(private, "172.31.100.70")
    pub_rt = lab.route_table(vpc, [public])
    lab.route(pub_rt, "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    priv_rt = lab.route_table(vpc, [private])
    nat_eni = lab.eni_of(nat).id
    lab.route(priv_rt, "0.0.0.0/0", TargetType.INSTANCE, nat.id, eni=nat_eni)
    t = lab.trace(app, "93.184.216.34", port=443, both=True)
    assert t.disposition == Disposition.EXITS_NETWORK, t.to_json()
    assert lab.nodes(t) == [app.id, private.id, vpc.id, public.id, nat.id, public.id, vpc.id,
                            igw.id, "aws-backbone", "internet"]
    assert t.final_flow is not None and str(t.final_flow.src_ip) == "203.0.113.20"
    r = t.return_trace
    assert r is not None and r.disposition == Disposition.ACCEPTED, r.to_json()
    assert lab.nodes(r)[-1] == app.id
    # With source/destination check left on, the instance cannot forward (GW-10).
    lab.eni_of(nat).source_dest_check = True
    t = lab.trace(app, "93.184.216.34", port=443)
    assert t.disposition == Disposition.DENIED_IN and lab.nodes(t)[-1] == nat.id


def test_interface_endpoint_receives_what_its_group_allows(lab: Lab) -> None:
    vpc = lab.vpc("10.1.0.0/16")
    a = lab.subnet(vpc, "10.1.1.0/24")
    b = lab.subnet(vpc, "10.1.101.0/24")
    ep = lab.interface_endpoint(b, "10.1.101.97", [lab.sg(vpc, ingress=[
        ("tcp", 443, 443, "10.1.0.0/16")])])
    client = lab.instance(a, "10.1.1.88")
    t = lab.trace(client, "10.1.101.97", port=443, both=True)
    assert lab.nodes(t) == [client.id, a.id, vpc.id, b.id, ep.id]
    assert t.disposition == Disposition.ACCEPTED
    assert t.return_trace is not None
    assert t.return_trace.disposition == Disposition.ACCEPTED
    assert lab.trace(client, "10.1.101.97", port=80).disposition == Disposition.DENIED_IN


def nlb_lab(lab: Lab, cross_zone: bool):  # type: ignore[no-untyped-def]
    vpc = lab.vpc("10.1.0.0/16")
    za = lab.subnet(vpc, "10.1.1.0/24", "us-east-1a")
    zb = lab.subnet(vpc, "10.1.2.0/24", "us-east-1b")
    zc = lab.subnet(vpc, "10.1.250.0/24", "us-east-1c")
    web = lab.sg(vpc, ingress=[("tcp", 8080, 8080, "10.1.0.0/16")])
    s1 = lab.instance(za, "10.1.1.10", sgs=[web])
    s2 = lab.instance(zb, "10.1.2.10", sgs=[web])
    client = lab.instance(zc, "10.1.250.5")
    lb = lab.nlb(vpc, [(za, "10.1.1.200"), (zb, "10.1.2.200")], 80,
                 [(s1, 8080, "unhealthy"), (s2, 8080, "healthy")], cross_zone)
    return vpc, za, zb, zc, s1, s2, client, lb


def test_nlb_rewrites_destination_to_a_healthy_target_and_reply_returns_through_it(
        lab: Lab) -> None:
    vpc, za, zb, zc, _s1, s2, client, _lb = nlb_lab(lab, cross_zone=True)
    t = lab.trace(client, "10.1.1.200", port=80, both=True)
    assert t.disposition == Disposition.ACCEPTED, t.to_json()
    lb_node = "us-east-1a-web-0123456789abcdef.elb.us-east-1.amazonaws.com"
    assert lab.nodes(t) == [client.id, zc.id, vpc.id, za.id, lb_node, za.id, vpc.id, zb.id,
                            s2.id]
    assert t.final_flow is not None and str(t.final_flow.dst_ip) == "10.1.2.10"
    assert t.final_flow.dst_port == 8080 and str(t.final_flow.src_ip) == "10.1.250.5"
    r = t.return_trace
    assert r is not None and r.disposition == Disposition.ACCEPTED, r.to_json()
    assert lb_node in lab.nodes(r) and lab.nodes(r)[-1] == client.id
    assert r.final_flow is not None and str(r.final_flow.src_ip) == "10.1.1.200"
    assert r.final_flow.src_port == 80


def test_nlb_without_listener_or_cross_zone(lab: Lab) -> None:
    _vpc, _za, _zb, _zc, s1, _s2, client, _lb = nlb_lab(lab, cross_zone=False)
    t = lab.trace(client, "10.1.1.200", port=81)
    assert t.disposition == Disposition.DENIED_IN and "no listener on TCP port 81" in t.reason
    # Cross-zone off: the us-east-1a node only uses us-east-1a targets; s1 is unhealthy, so
    # the node fails open to it (all targets of the zone), as NLB does.
    t = lab.trace(client, "10.1.1.200", port=80)
    assert lab.nodes(t)[-1] == s1.id


def test_forwarding_loop_between_two_appliances_is_detected(lab: Lab) -> None:
    vpc = lab.vpc("10.0.0.0/16")
    a = lab.subnet(vpc, "10.0.1.0/24")
    b = lab.subnet(vpc, "10.0.2.0/24")
    open_sg = lab.sg(vpc, ingress=[("-1", None, None, "0.0.0.0/0")])
    fw1 = lab.instance(a, "10.0.1.5", sdc=False, sgs=[open_sg])
    fw2 = lab.instance(b, "10.0.2.5", sdc=False, sgs=[open_sg])
    rt_a = lab.route_table(vpc, [a])
    rt_b = lab.route_table(vpc, [b])
    lab.route(rt_a, "0.0.0.0/0", TargetType.NETWORK_INTERFACE, lab.eni_of(fw2).id,
              eni=lab.eni_of(fw2).id)
    lab.route(rt_b, "0.0.0.0/0", TargetType.NETWORK_INTERFACE, lab.eni_of(fw1).id,
              eni=lab.eni_of(fw1).id)
    t = lab.trace(fw1, "8.8.8.8")
    assert t.disposition == Disposition.LOOP
    assert "loop" in t.reason
