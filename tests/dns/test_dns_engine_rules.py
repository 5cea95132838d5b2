"""The resolution engine, one test per rule of dns.md where possible (rule ids in names)."""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterator

import pytest
from dnslab import AliasTarget, Lab, Upstream

from localvpc.dns.forward import Forwarder
from localvpc.dns.resolver import DnsError, Resolver, resolver_addresses
from localvpc.model.base import parse_ip
from localvpc.model.dns import FirewallConfig, FirewallRule, HealthCheck
from localvpc.model.elb import LoadBalancer, LoadBalancerZone


@pytest.fixture
def lab() -> Lab:
    return Lab()


def resolver(lab: Lab, seed: int = 7, timeout: float = 1.0) -> Resolver:
    return Resolver(lab.source, forwarder=Forwarder(timeout=timeout), seed=seed)


def ask(lab: Lab, vpc_id: str, name: str, qtype: str = "A", subnet: str | None = None,
        r: Resolver | None = None) -> tuple[str, list[str]]:
    r = r or resolver(lab)
    ans = r.resolve(r.origin_vpc(vpc_id, subnet), name, qtype)
    return ans.rcode, ans.values(qtype)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    up = Upstream({("www.example.com", "A"): ["192.168.1.10"],
                   ("db.corp.example", "A"): ["192.168.7.7"],
                   ("app.onprem.example", "CNAME"): ["evil.net."]})
    yield up
    up.stop()


# ------------------------------------------------------------------ resolver basics
def test_rv1_resolver_address_is_primary_cidr_plus_two_and_link_local(lab: Lab) -> None:
    vpc = lab.vpc("10.4.0.0/16")
    vpc.cidrs.append(ipaddress.ip_network("10.9.0.0/16"))
    assert [str(a) for a in resolver_addresses(vpc)] == ["10.4.0.2", "169.254.169.253",
                                                         "fd00:ec2::253"]


def test_rv2_dns_support_off_means_no_answer(lab: Lab) -> None:
    vpc = lab.vpc(support=False)
    r = resolver(lab)
    ans = r.resolve(r.origin_vpc(vpc.id), "ip-10-0-0-5.ec2.internal")
    assert ans.dropped and ans.rcode == "REFUSED"
    assert any("enableDnsSupport=false" in w for w in ans.why)


def test_rv2_private_zones_need_dns_hostnames(lab: Lab) -> None:
    vpc = lab.vpc(hostnames=False)
    zone = lab.zone("corp.example", vpc)
    lab.record(zone, "app.corp.example", "A", "10.0.0.9")
    rcode, values = ask(lab, vpc.id, "app.corp.example")
    assert (rcode, values) == ("NXDOMAIN", [])  # zone ignored: public side has no such name
    vpc.enable_dns_hostnames = True
    lab.touch()
    assert ask(lab, vpc.id, "app.corp.example") == ("NOERROR", ["10.0.0.9"])


@pytest.mark.parametrize("region,name", [("us-east-1", "ip-10-0-1-5.ec2.internal"),
                                         ("eu-west-1", "ip-10-0-1-5.eu-west-1.compute.internal")])
def test_rv3_ip_name_host_names(region: str, name: str) -> None:
    lab = Lab(region)
    vpc = lab.vpc()
    lab.instance(lab.subnet(vpc, "10.0.1.0/24"), "10.0.1.5")
    assert ask(lab, vpc.id, name) == ("NOERROR", ["10.0.1.5"])
    assert ask(lab, vpc.id, name.replace("1-5", "1-6"))[0] == "NXDOMAIN"
    r = resolver(lab)
    ptr = r.resolve(r.origin_vpc(vpc.id), "5.1.0.10.in-addr.arpa", "PTR")
    assert ptr.values("PTR") == [name + "."]


def test_rv3_public_name_is_private_inside_and_public_outside(lab: Lab) -> None:
    vpc = lab.vpc()
    other = lab.vpc("10.1.0.0/16")
    lab.instance(lab.subnet(vpc, "10.0.1.0/24"), "10.0.1.5", public="203.0.113.25")
    name = "ec2-203-0-113-25.compute-1.amazonaws.com"
    assert ask(lab, vpc.id, name) == ("NOERROR", ["10.0.1.5"])
    assert ask(lab, other.id, name) == ("NOERROR", ["203.0.113.25"])
    vpc.enable_dns_hostnames = False  # no public host names without DNS host names
    lab.touch()
    assert ask(lab, other.id, name)[0] == "NXDOMAIN"


def test_rv3_resource_name_records_follow_the_subnet_settings(lab: Lab) -> None:
    vpc = lab.vpc(ipv6="2600:1f18::/56")
    sub = lab.subnet(vpc, "10.0.1.0/24", enable_resource_name_dns_a_record_on_launch=True)
    inst = lab.instance(sub, "10.0.1.5", ipv6="2600:1f18::5")
    name = f"{inst.id}.ec2.internal"
    assert ask(lab, vpc.id, name) == ("NOERROR", ["10.0.1.5"])
    assert ask(lab, vpc.id, name, "AAAA") == ("NOERROR", [])
    sub.enable_resource_name_dns_aaaa_record_on_launch = True
    lab.touch()
    assert ask(lab, vpc.id, name, "AAAA") == ("NOERROR", ["2600:1f18::5"])


# ------------------------------------------------------------------ private hosted zones
def e1(lab: Lab) -> str:
    vpc = lab.vpc()
    z1 = lab.zone("example.com", vpc)
    lab.record(z1, "www.example.com", "A", "10.0.0.10")
    z2 = lab.zone("accounting.example.com", vpc)
    lab.record(z2, "seattle.accounting.example.com", "A", "10.0.1.20")
    pub = lab.zone("example.com", private=False)
    lab.record(pub, "www.example.com", "A", "93.184.216.34")
    pub_org = lab.zone("example.org", private=False)
    lab.record(pub_org, "www.example.org", "A", "93.184.216.35")
    return vpc.id


def test_pz2_most_specific_private_zone_wins(lab: Lab) -> None:
    vpc = e1(lab)
    assert ask(lab, vpc, "seattle.accounting.example.com") == ("NOERROR", ["10.0.1.20"])
    assert ask(lab, vpc, "www.example.com") == ("NOERROR", ["10.0.0.10"])


def test_pz3_absent_name_in_matching_zone_is_nxdomain_without_fallback(lab: Lab) -> None:
    vpc = e1(lab)
    r = resolver(lab)
    ans = r.resolve(r.origin_vpc(vpc), "www.accounting.example.com")
    assert ans.rcode == "NXDOMAIN" and ans.values() == []
    assert ans.authority[0].type == "SOA"
    assert any("no fallback" in w for w in ans.why)
    # name present with another type only: NOERROR, no data
    assert ask(lab, vpc, "www.example.com", "TXT") == ("NOERROR", [])


def test_pz4_no_private_zone_means_public_recursion(lab: Lab) -> None:
    vpc = e1(lab)
    assert ask(lab, vpc, "www.example.org") == ("NOERROR", ["93.184.216.35"])
    other = lab.vpc("10.1.0.0/16")  # not associated with the private zones (PZ-1)
    assert ask(lab, other.id, "www.example.com") == ("NOERROR", ["93.184.216.34"])
    assert ask(lab, other.id, "nothing.example.net")[0] == "NXDOMAIN"


def test_pz8_alias_to_another_record_takes_its_ttl(lab: Lab) -> None:
    vpc = lab.vpc()
    zone = lab.zone("corp.example", vpc)
    lab.record(zone, "real.corp.example", "A", "10.0.0.7", ttl=42)
    lab.record(zone, "nick.corp.example", "A",
               alias_target=AliasTarget(zone.id, "real.corp.example."))
    r = resolver(lab)
    ans = r.resolve(r.origin_vpc(vpc.id), "nick.corp.example")
    assert [(x.name, x.value, x.ttl) for x in ans.records] == [
        ("nick.corp.example.", "10.0.0.7", 42)]


def test_cname_is_chased_through_the_whole_resolver(lab: Lab) -> None:
    vpc = e1(lab)
    zone = lab.net.hosted_zones[next(iter(lab.net.hosted_zones))]
    lab.record(zone, "alias.example.com", "CNAME", "www.example.org.")
    r = resolver(lab)
    ans = r.resolve(r.origin_vpc(vpc), "alias.example.com")
    assert [(x.type, x.value) for x in ans.records] == [("CNAME", "www.example.org."),
                                                          ("A", "93.184.216.35")]


def test_wildcard_record(lab: Lab) -> None:
    vpc = lab.vpc()
    zone = lab.zone("corp.example", vpc)
    lab.record(zone, "*.corp.example", "A", "10.0.0.99")
    lab.record(zone, "exact.corp.example", "A", "10.0.0.1")
    assert ask(lab, vpc.id, "any.corp.example") == ("NOERROR", ["10.0.0.99"])
    assert ask(lab, vpc.id, "exact.corp.example") == ("NOERROR", ["10.0.0.1"])


# ------------------------------------------------------------------ resolver rules
def test_rr2_rr3_most_specific_rule_and_label_wise_matching(lab: Lab,
                                                            upstream: Upstream) -> None:
    vpc = lab.vpc()
    sub = lab.subnet(vpc, "10.0.0.0/24")
    out = lab.outbound(vpc, sub)
    lab.rule(vpc, "corp.example", targets=[("127.0.0.1", upstream.port)], endpoint=out)
    lab.rule(vpc, "acme.corp.example", "SYSTEM")
    assert ask(lab, vpc.id, "db.corp.example") == ("NOERROR", ["192.168.7.7"])
    assert upstream.queries == [("db.corp.example.", "A")]
    # the SYSTEM rule for the subdomain keeps it local (carve-out)
    rcode, _ = ask(lab, vpc.id, "x.acme.corp.example")
    assert rcode == "NXDOMAIN" and len(upstream.queries) == 1
    # label-wise: "xcorp.example" is not under "corp.example"
    ask(lab, vpc.id, "db.xcorp.example")
    assert len(upstream.queries) == 1


def test_rr5_forward_rule_beats_private_zone_of_the_same_name(lab: Lab,
                                                              upstream: Upstream) -> None:
    vpc = e1(lab)
    v = lab.net.vpcs[vpc]
    sub = lab.subnet(v, "10.0.0.0/24")
    out = lab.outbound(v, sub)
    lab.rule(v, "example.com", targets=[("127.0.0.1", upstream.port)], endpoint=out)
    assert ask(lab, vpc, "www.example.com") == ("NOERROR", ["192.168.1.10"])  # E2
    # the more specific private zone still wins over the less specific forward rule
    assert ask(lab, vpc, "seattle.accounting.example.com") == ("NOERROR", ["10.0.1.20"])
    assert upstream.queries == [("www.example.com.", "A")]


def test_rr5_system_rule_resolves_locally_from_the_parent_private_zone(lab: Lab,
                                                                       upstream: Upstream
                                                                       ) -> None:
    vpc = e1(lab)
    v = lab.net.vpcs[vpc]
    out = lab.outbound(v, lab.subnet(v, "10.0.0.0/24"))
    lab.rule(v, "example.com", targets=[("127.0.0.1", upstream.port)], endpoint=out)
    lab.rule(v, "corp.example.com", "SYSTEM")
    r = resolver(lab)
    ans = r.resolve(r.origin_vpc(vpc), "x.corp.example.com")
    assert ans.rcode == "NXDOMAIN" and upstream.queries == []
    assert any("private zone" in w for w in ans.why)


def test_forward_to_a_silent_server_is_servfail(lab: Lab) -> None:
    import socket

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never answers
    silent.bind(("127.0.0.1", 0))
    try:
        vpc = lab.vpc()
        out = lab.outbound(vpc, lab.subnet(vpc, "10.0.0.0/24"))
        lab.rule(vpc, "corp.example", targets=[("127.0.0.1", silent.getsockname()[1])],
                 endpoint=out)
        r = resolver(lab, timeout=0.3)
        ans = r.resolve(r.origin_vpc(vpc.id), "db.corp.example")
        assert ans.rcode == "SERVFAIL"
        assert any("did not answer within 0.3 s" in w for w in ans.why)
    finally:
        silent.close()


def test_forward_rule_without_outbound_endpoint_is_servfail(lab: Lab) -> None:
    vpc = lab.vpc()
    lab.rule(vpc, "corp.example", targets=[("127.0.0.1", 1)])
    assert ask(lab, vpc.id, "db.corp.example")[0] == "SERVFAIL"


def test_rr9_inbound_endpoint_answers_with_its_vpc_view(lab: Lab) -> None:
    vpc = e1(lab)
    v = lab.net.vpcs[vpc]
    ep = lab.inbound(v, lab.subnet(v, "10.0.0.0/24"))
    r = resolver(lab)
    ans = r.resolve(r.origin_inbound(ep.id), "seattle.accounting.example.com")
    assert ans.values() == ["10.0.1.20"]
    assert "inbound endpoint" in ans.why[0]
    out = lab.outbound(v, lab.net.subnets[next(iter(lab.net.subnets))])
    with pytest.raises(DnsError, match="only at INBOUND"):
        r.origin_inbound(out.id)


# ------------------------------------------------------------------ DNS Firewall
def e3(lab: Lab) -> tuple[str, FirewallRule]:
    vpc = lab.vpc()
    pub = lab.zone("bad.com", private=False)
    for n in ("good.bad.com", "x.bad.com", "bad.com"):
        lab.record(pub, n, "A", "198.51.100.1")
    lab.record(lab.zone("notbad.com", private=False), "notbad.com", "A", "198.51.100.2")
    evil = lab.zone("evil.net", private=False)
    lab.record(evil, "evil.net", "A", "198.51.100.3")
    lab.record(evil, "www.evil.net", "A", "198.51.100.4")
    walled = lab.zone("example.internal", private=False)
    lab.record(walled, "blocked.example.internal", "A", "198.51.100.99")
    allow = lab.domain_list("good.bad.com")
    bad = lab.domain_list("*.bad.com", "bad.com")
    evil_list = lab.domain_list("evil.net")
    lab.rule_group(vpc, 100, FirewallRule(allow.id, 1, "ALLOW", rule_name="allow"))
    r10 = FirewallRule(bad.id, 10, "BLOCK", rule_name="bad", block_response="NXDOMAIN")
    r20 = FirewallRule(evil_list.id, 20, "BLOCK", rule_name="evil", block_response="OVERRIDE",
                       block_override_domain="blocked.example.internal",
                       block_override_dns_type="CNAME", block_override_ttl=60)
    lab.rule_group(vpc, 200, r10, r20)
    return vpc.id, r10


def test_fw3_group_and_rule_order_allow_first(lab: Lab) -> None:
    vpc, _ = e3(lab)
    assert ask(lab, vpc, "good.bad.com") == ("NOERROR", ["198.51.100.1"])
    assert ask(lab, vpc, "x.bad.com")[0] == "NXDOMAIN"
    assert ask(lab, vpc, "bad.com")[0] == "NXDOMAIN"
    assert ask(lab, vpc, "notbad.com") == ("NOERROR", ["198.51.100.2"])


def test_fw5_override_answers_a_cname_and_chases_it(lab: Lab) -> None:
    vpc, _ = e3(lab)
    r = resolver(lab)
    for name in ("evil.net", "EVIL.NET."):
        ans = r.resolve(r.origin_vpc(vpc), name)
        assert [(x.type, x.value, x.ttl) for x in ans.records] == [
            ("CNAME", "blocked.example.internal.", 60), ("A", "198.51.100.99", 300)]
    assert ask(lab, vpc, "www.evil.net") == ("NOERROR", ["198.51.100.4"])  # FW-6: exact only


def test_fw5_nodata(lab: Lab) -> None:
    vpc, r10 = e3(lab)
    r10.block_response = "NODATA"
    assert ask(lab, vpc, "x.bad.com") == ("NOERROR", [])


def test_fw6_wildcard_does_not_match_apex_and_star_matches_all(lab: Lab) -> None:
    vpc = lab.vpc()
    pub = lab.zone("shop.com", private=False)
    lab.record(pub, "shop.com", "A", "198.51.100.5")
    lab.record(pub, "a.b.shop.com", "A", "198.51.100.6")
    lst = lab.domain_list("*.shop.com")
    lab.rule_group(vpc, 100, FirewallRule(lst.id, 1, "BLOCK", block_response="NXDOMAIN"))
    assert ask(lab, vpc.id, "a.b.shop.com")[0] == "NXDOMAIN"
    assert ask(lab, vpc.id, "shop.com") == ("NOERROR", ["198.51.100.5"])
    everything = lab.domain_list("*")
    lab.rule_group(vpc, 300, FirewallRule(everything.id, 1, "BLOCK", block_response="NODATA"))
    assert ask(lab, vpc.id, "shop.com") == ("NOERROR", [])


def test_fw4_alert_proceeds_and_says_so(lab: Lab) -> None:
    vpc = lab.vpc()
    lab.record(lab.zone("watch.com", private=False), "watch.com", "A", "198.51.100.7")
    lst = lab.domain_list("watch.com")
    lab.rule_group(vpc, 100, FirewallRule(lst.id, 1, "ALERT", rule_name="watch"))
    r = resolver(lab)
    ans = r.resolve(r.origin_vpc(vpc.id), "watch.com")
    assert ans.values() == ["198.51.100.7"]
    assert any("-> ALERT" in w for w in ans.why)


def test_fw1_qtype_restricts_a_rule(lab: Lab) -> None:
    vpc = lab.vpc()
    z = lab.zone("q.com", private=False)
    lab.record(z, "q.com", "A", "198.51.100.8")
    lab.record(z, "q.com", "TXT", '"hello"')
    lst = lab.domain_list("q.com")
    lab.rule_group(vpc, 100, FirewallRule(lst.id, 1, "BLOCK", block_response="NXDOMAIN",
                                          qtype="TXT"))
    assert ask(lab, vpc.id, "q.com") == ("NOERROR", ["198.51.100.8"])
    assert ask(lab, vpc.id, "q.com", "TXT")[0] == "NXDOMAIN"


def test_fw7_cname_targets_are_inspected_unless_trusted(lab: Lab) -> None:
    vpc, _ = e3(lab)
    z = lab.zone("fine.org", private=False)
    lab.record(z, "go.fine.org", "CNAME", "x.bad.com.")
    assert ask(lab, vpc, "go.fine.org")[0] == "NXDOMAIN"
    for group in lab.net.firewall_rule_groups.values():
        for rule in group.rules:
            rule.firewall_domain_redirection_action = "TRUST_REDIRECTION_DOMAIN"
    lab.touch()
    assert ask(lab, vpc, "go.fine.org") == ("NOERROR", ["198.51.100.1"])


def test_fw7_forwarded_cname_chain_is_inspected(lab: Lab, upstream: Upstream) -> None:
    vpc, _ = e3(lab)
    v = lab.net.vpcs[vpc]
    out = lab.outbound(v, lab.subnet(v, "10.0.0.0/24"))
    lab.rule(v, "onprem.example", targets=[("127.0.0.1", upstream.port)], endpoint=out)
    r = resolver(lab)
    ans = r.resolve(r.origin_vpc(vpc), "app.onprem.example")
    assert ans.records[0].type == "CNAME" and ans.records[1].value == \
        "blocked.example.internal."  # evil.net -> override


def test_fw8_fail_closed_and_fail_open(lab: Lab) -> None:
    vpc, _ = e3(lab)
    r = resolver(lab)
    r.firewall_down = True
    assert r.resolve(r.origin_vpc(vpc), "notbad.com").rcode == "SERVFAIL"
    lab.net.add(FirewallConfig("rslvr-fc-1", vpc_id=vpc, firewall_fail_open="ENABLED"))
    lab.touch()
    ans = r.resolve(r.origin_vpc(vpc), "x.bad.com")
    assert ans.rcode == "NOERROR" and ans.values() == ["198.51.100.1"]


def test_fw8_dangling_domain_list_fails_closed(lab: Lab) -> None:
    vpc, r10 = e3(lab)
    del lab.net.firewall_domain_lists[r10.firewall_domain_list_id]
    lab.touch()
    assert ask(lab, vpc, "notbad.com")[0] == "SERVFAIL"


# ------------------------------------------------------------------ routing policies
def failover_zone(lab: Lab) -> tuple[str, HealthCheck, HealthCheck]:
    vpc = lab.vpc()
    zone = lab.zone("app.example", private=False)
    hc1 = lab.net.add(HealthCheck("hc-1", ip_address="127.0.0.1", port=1))
    hc2 = lab.net.add(HealthCheck("hc-2", ip_address="127.0.0.1", port=1))
    lab.record(zone, "www.app.example", "A", "10.0.0.1", set_identifier="lz",
               failover="PRIMARY", health_check_id=hc1.id)
    lab.record(zone, "www.app.example", "A", "10.0.0.2", set_identifier="region",
               failover="SECONDARY")
    return vpc.id, hc1, hc2


def test_rp1_failover(lab: Lab) -> None:
    vpc, hc1, hc2 = failover_zone(lab)
    assert ask(lab, vpc, "www.app.example")[1] == ["10.0.0.1"]
    hc1.healthy = False
    lab.touch()
    assert ask(lab, vpc, "www.app.example")[1] == ["10.0.0.2"]
    secondary = lab.net.hosted_zones[next(iter(lab.net.hosted_zones))].records[-1]
    secondary.health_check_id = hc2.id
    hc2.healthy = False
    lab.touch()
    assert ask(lab, vpc, "www.app.example")[1] == ["10.0.0.1"]  # both down -> primary
    hc1.inverted = True  # inverted unhealthy = healthy
    hc2.healthy = True
    lab.touch()
    assert ask(lab, vpc, "www.app.example")[1] == ["10.0.0.1"]


def test_rp2_alias_with_evaluate_target_health_follows_the_load_balancer(lab: Lab) -> None:
    from localvpc.model.elb import Target, TargetGroup

    vpc = lab.vpc()
    lz = lab.net.add(LoadBalancer("arn:lb/lz", lb_type="application", dns_name="lz-alb.example",
                                  zones=[LoadBalancerZone("us-east-1-wl1", "s",
                                                          [parse_ip("10.0.9.9")])]))
    region = lab.net.add(LoadBalancer("arn:lb/r", lb_type="application",
                                      dns_name="region-alb.example",
                                      zones=[LoadBalancerZone("us-east-1a", "s",
                                                              [parse_ip("10.0.1.1")])]))
    tg = lab.net.add(TargetGroup("arn:tg/1", load_balancer_arns=[lz.id],
                                 targets=[Target("i-1", 80, "healthy")]))
    zone = lab.zone("app.example", private=False)
    lab.record(zone, "www.app.example", "A", set_identifier="p", failover="PRIMARY",
               alias_target=AliasTarget("Z1", "lz-alb.example.", True))
    lab.record(zone, "www.app.example", "A", set_identifier="s", failover="SECONDARY",
               alias_target=AliasTarget("Z2", "dualstack.region-alb.example.", False))
    assert ask(lab, vpc.id, "www.app.example") == ("NOERROR", ["10.0.9.9"])
    tg.targets[0].health = "unhealthy"
    lab.touch()
    assert ask(lab, vpc.id, "www.app.example") == ("NOERROR", ["10.0.1.1"])
    assert region.dns_name


def test_rp3_weighted_by_weight_and_health(lab: Lab) -> None:
    vpc = lab.vpc()
    zone = lab.zone("w.example", private=False)
    lab.record(zone, "w.example", "A", "10.0.0.1", set_identifier="one", weight=20)
    rec2 = lab.record(zone, "w.example", "A", "10.0.0.2", set_identifier="two", weight=10)
    r = resolver(lab, seed=1)

    def spread() -> Counter[str]:
        return Counter(ask(lab, vpc.id, "w.example", r=r)[1][0] for _ in range(3000))

    counts = spread()
    assert 1850 < counts["10.0.0.1"] < 2150 and counts["10.0.0.1"] + counts["10.0.0.2"] == 3000
    lab.net.add(HealthCheck("hc-w", healthy=False))
    rec2.health_check_id = "hc-w"
    lab.touch()
    assert spread() == Counter({"10.0.0.1": 3000})
    # weight 0 answers only when every non-zero record is down
    zero = lab.record(zone, "z.w.example", "A", "10.0.0.3", set_identifier="z", weight=0)
    lab.record(zone, "z.w.example", "A", "10.0.0.4", set_identifier="nz", weight=5,
               health_check_id="hc-w")
    assert zero.weight == 0
    assert ask(lab, vpc.id, "z.w.example", r=r)[1] == ["10.0.0.3"]


def test_multivalue_answers_healthy_records(lab: Lab) -> None:
    vpc = lab.vpc()
    zone = lab.zone("m.example", private=False)
    lab.net.add(HealthCheck("hc-m", healthy=False))
    for i in range(1, 4):
        lab.record(zone, "m.example", "A", f"10.0.0.{i}", set_identifier=str(i),
                   multi_value_answer=True, health_check_id="hc-m" if i == 2 else None)
    assert sorted(ask(lab, vpc.id, "m.example")[1]) == ["10.0.0.1", "10.0.0.3"]


# ------------------------------------------------------------------ DNS64
def e7(lab: Lab) -> tuple[str, str, str]:
    vpc = lab.vpc(ipv6="2600:1f18::/56")
    v6 = lab.subnet(vpc, "10.0.1.0/24", dns64=True)
    plain = lab.subnet(vpc, "10.0.2.0/24")
    z = lab.zone("ipv4only.example", private=False)
    lab.record(z, "ipv4only.example", "A", "192.0.2.33", ttl=120)
    lab.record(z, "aws.ipv4only.example", "A", "34.207.250.62")
    lab.record(z, "both.ipv4only.example", "AAAA", "2600:1f18::1")
    lab.record(z, "both.ipv4only.example", "A", "192.0.2.1")
    return vpc.id, v6.id, plain.id


def test_d64_synthesis_from_a_dns64_subnet(lab: Lab) -> None:
    vpc, v6, plain = e7(lab)
    assert ask(lab, vpc, "ipv4only.example", "AAAA", v6) == ("NOERROR", ["64:ff9b::c000:221"])
    assert ask(lab, vpc, "aws.ipv4only.example", "AAAA", v6)[1] == ["64:ff9b::22cf:fa3e"]
    assert ask(lab, vpc, "both.ipv4only.example", "AAAA", v6)[1] == ["2600:1f18::1"]
    assert ask(lab, vpc, "nope.ipv4only.example", "AAAA", v6)[0] == "NXDOMAIN"
    assert ask(lab, vpc, "ipv4only.example", "AAAA", plain) == ("NOERROR", [])
    assert ask(lab, vpc, "ipv4only.example", "A", v6) == ("NOERROR", ["192.0.2.33"])


def test_d64_ttl_is_min_of_a_ttl_and_soa_minimum(lab: Lab) -> None:
    vpc, v6, _ = e7(lab)
    r = resolver(lab)
    ans = r.resolve(r.origin_vpc(vpc, v6), "ipv4only.example", "AAAA")
    assert ans.records[0].ttl == 120  # SOA minimum is 86400 in the lab zone
