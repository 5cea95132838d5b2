"""Filtering rules of shared/reference/vpc-filtering.md: security groups, NACLs, exemptions."""

from __future__ import annotations

from lab import Lab

from localvpc.dataplane import Disposition


def pair(lab: Lab, ingress, egress=None, same_subnet: bool = False):  # type: ignore[no-untyped-def]
    vpc = lab.vpc("10.0.0.0/16")
    a = lab.subnet(vpc, "10.0.1.0/24")
    b = a if same_subnet else lab.subnet(vpc, "10.0.2.0/24")
    client = lab.instance(a, "10.0.1.10", sgs=[lab.sg(vpc, egress=egress)])
    server = lab.instance(b, "10.0.1.20" if same_subnet else "10.0.2.20",
                          sgs=[lab.sg(vpc, ingress=ingress)])
    return vpc, a, b, client, server


def test_sg4_allow_only_no_rule_means_denied_with_the_groups_named(lab: Lab) -> None:
    _vpc, _a, _b, client, server = pair(lab, ingress=[("tcp", 22, 22, "0.0.0.0/0")])
    t = lab.trace(client, "10.0.2.20", port=80)
    assert t.disposition == Disposition.DENIED_IN and lab.nodes(t)[-1] == server.id
    sg_id = lab.eni_of(server).security_group_ids[0]
    assert f"no inbound rule of security groups [{sg_id}]" in t.reason
    assert lab.trace(client, "10.0.2.20", port=22).disposition == Disposition.ACCEPTED


def test_e2_rules_of_all_groups_are_unioned(lab: Lab) -> None:
    vpc = lab.vpc("10.0.0.0/16")
    sub = lab.subnet(vpc, "10.0.1.0/24")
    igw = lab.igw(vpc)
    from localvpc.model.vpc import TargetType

    lab.route(lab.main_table(vpc), "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    sg_a = lab.sg(vpc, ingress=[("tcp", 22, 22, "203.0.113.0/24")])
    sg_b = lab.sg(vpc, ingress=[("tcp", 443, 443, "0.0.0.0/0")])
    host = lab.instance(sub, "10.0.1.10", sgs=[sg_a, sg_b], public_ip="198.51.100.10")
    assert lab.trace("internet", "198.51.100.10", port=22, src="203.0.113.7").disposition \
        == Disposition.ACCEPTED
    t = lab.trace("internet", "198.51.100.10", port=22, src="198.51.100.1")
    assert t.disposition == Disposition.DENIED_IN and lab.nodes(t)[-1] == host.id
    t = lab.trace("internet", "198.51.100.10", port=443, src="198.51.100.1")
    assert t.disposition == Disposition.ACCEPTED and sg_b.id in t.hops[-1].detail


def test_sg9_group_reference_matches_members_private_ips_only(lab: Lab) -> None:
    vpc = lab.vpc("10.0.0.0/16")
    sub = lab.subnet(vpc, "10.0.1.0/24")
    other = lab.subnet(vpc, "10.0.2.0/24")
    sg_lb = lab.sg(vpc)
    sg_web = lab.sg(vpc, ingress=[("tcp", 80, 80, sg_lb.id)])
    lb_like = lab.instance(sub, "10.0.1.10", sgs=[sg_lb])
    stranger = lab.instance(sub, "10.0.1.11", sgs=[lab.sg(vpc)])
    lab.instance(other, "10.0.2.20", sgs=[sg_web])
    assert lab.trace(lb_like, "10.0.2.20").disposition == Disposition.ACCEPTED
    assert lab.trace(stranger, "10.0.2.20").disposition == Disposition.DENIED_IN
    # E3: the same member arriving with a source that is not its private address is denied.
    t = lab.trace(other.id, "10.0.2.20", src="3.3.3.3")
    assert t.disposition == Disposition.DENIED_IN


def test_sg12_prefix_list_peer_matches_its_cidrs(lab: Lab) -> None:
    pl = lab.prefix_list("10.0.1.0/25")
    _vpc, _a, _b, client, _server = pair(lab, ingress=[("tcp", 443, 443, pl.id)])
    assert lab.trace(client, "10.0.2.20", port=443).disposition == Disposition.ACCEPTED
    assert lab.trace(client, "10.0.2.20", port=443, src="10.0.1.200").disposition \
        == Disposition.DENIED_OUT  # anti-spoofing: not the instance's address


def test_sg_egress_denial_is_denied_out_at_the_sender(lab: Lab) -> None:
    _vpc, _a, _b, client, _server = pair(lab, ingress=[("-1", None, None, "0.0.0.0/0")],
                                         egress=[("tcp", 443, 443, "0.0.0.0/0")])
    t = lab.trace(client, "10.0.2.20", port=80)
    assert t.disposition == Disposition.DENIED_OUT and lab.nodes(t) == [client.id]


def test_sg5_icmp_rule_matches_type_and_code(lab: Lab) -> None:
    _vpc, _a, _b, client, _server = pair(lab, ingress=[("icmp", 8, -1, "10.0.0.0/16")])
    assert lab.trace(client, "10.0.2.20", protocol="icmp").disposition == Disposition.ACCEPTED
    t = lab.trace(client, "10.0.2.20", protocol="udp", port=53)
    assert t.disposition == Disposition.DENIED_IN


def test_ct1_reply_of_allowed_flow_passes_without_inbound_rule(lab: Lab) -> None:
    # The client's group has no inbound rules at all; the reply still gets in (tracked).
    _vpc, a, b, client, server = pair(lab, ingress=[("tcp", 5432, 5432, "10.0.1.0/24")])
    t = lab.trace(client, "10.0.2.20", port=5432, both=True)
    assert t.disposition == Disposition.ACCEPTED
    r = t.return_trace
    assert r is not None and r.disposition == Disposition.ACCEPTED
    assert lab.nodes(r) == [server.id, b.id, lab.net.subnets[b.id].vpc_id, a.id, client.id]
    assert "reply of a tracked connection" in r.hops[-1].detail


# ------------------------------------------------------------------ NACLs
def test_e4_nacl_first_matching_rule_wins(lab: Lab) -> None:
    vpc, _a, b, client, _server = pair(lab, ingress=[("-1", None, None, "0.0.0.0/0")])
    acl = lab.nacl(vpc, [b], [(100, "6", "allow", False, "0.0.0.0/0", 0, 65535),
                              (110, "6", "deny", False, "0.0.0.0/0", 22, 22),
                              (100, "-1", "allow", True, "0.0.0.0/0", None, None)])
    assert lab.trace(client, "10.0.2.20", port=22).disposition == Disposition.ACCEPTED
    t = lab.trace(client, "10.0.2.20", protocol="udp", port=53)
    assert t.disposition == Disposition.DENIED_IN and lab.nodes(t)[-1] == b.id
    assert "default * rule denies" in t.reason
    acl.entries.insert(0, acl.entries[1].__class__(90, "6", "deny", False,
                                                   acl.entries[1].cidr, 22, 22))
    t = lab.trace(client, "10.0.2.20", port=22)
    assert t.disposition == Disposition.DENIED_IN and "rule 90 denies" in t.reason
    assert lab.trace(client, "10.0.2.20", port=80).disposition == Disposition.ACCEPTED


def test_e5_nacl_is_stateless_so_the_reply_needs_ephemeral_ports(lab: Lab) -> None:
    vpc, _a, b, client, _server = pair(lab, ingress=[("tcp", 443, 443, "0.0.0.0/0")])
    lab.nacl(vpc, [b], [(100, "6", "allow", False, "0.0.0.0/0", 443, 443),
                        (100, "6", "allow", True, "0.0.0.0/0", 32768, 61000)])
    ok = lab.trace(client, "10.0.2.20", port=443, src_port=51000, both=True)
    assert ok.return_trace is not None
    assert ok.return_trace.disposition == Disposition.ACCEPTED
    bad = lab.trace(client, "10.0.2.20", port=443, src_port=62000, both=True)
    assert bad.disposition == Disposition.ACCEPTED  # the request gets in ...
    r = bad.return_trace
    assert r is not None and r.disposition == Disposition.DENIED_OUT  # ... the reply does not
    assert lab.nodes(r)[-1] == b.id and "outbound" in r.reason


def test_na8_nacl_does_not_apply_inside_one_subnet(lab: Lab) -> None:
    vpc, a, _b, client, _server = pair(lab, ingress=[("-1", None, None, "0.0.0.0/0")],
                                       same_subnet=True)
    lab.nacl(vpc, [a], [])
    assert lab.trace(client, "10.0.1.20").disposition == Disposition.ACCEPTED


def test_e7_amazon_dns_and_metadata_are_not_filtered(lab: Lab) -> None:
    vpc, a, _b, client, _server = pair(lab, ingress=[], egress=[])
    lab.nacl(vpc, [a], [])
    for dst, words in (("10.0.0.2", "Amazon DNS"), ("169.254.169.253", "Amazon DNS"),
                       ("169.254.169.254", "metadata")):
        t = lab.trace(client, dst, protocol="udp", port=53)
        assert t.disposition == Disposition.ACCEPTED and words in t.reason, dst
    t = lab.trace(client, "8.8.8.8", protocol="udp", port=53)
    assert t.disposition == Disposition.DENIED_OUT


def test_sg10_group_reference_does_not_match_across_a_middlebox(lab: Lab) -> None:
    from localvpc.model.vpc import TargetType

    vpc = lab.vpc("10.0.0.0/16")
    a, fw_net, b = (lab.subnet(vpc, c) for c in ("10.0.1.0/24", "10.0.3.0/24", "10.0.2.0/24"))
    sg_app = lab.sg(vpc)
    client = lab.instance(a, "10.0.1.10", sgs=[sg_app])
    lab.instance(b, "10.0.2.20", sgs=[lab.sg(vpc, ingress=[("tcp", 80, 80, sg_app.id)])])
    assert lab.trace(client, "10.0.2.20").disposition == Disposition.ACCEPTED
    fw = lab.instance(fw_net, "10.0.3.5", sdc=False,
                      sgs=[lab.sg(vpc, ingress=[("-1", None, None, "10.0.0.0/16")])])
    rt_a = lab.route_table(vpc, [a])
    fw_eni = lab.eni_of(fw).id
    lab.route(rt_a, "10.0.2.0/24", TargetType.NETWORK_INTERFACE, fw_eni, eni=fw_eni)
    t = lab.trace(client, "10.0.2.20")
    assert fw.id in lab.nodes(t)
    assert t.disposition == Disposition.DENIED_IN and "no inbound rule" in t.reason
