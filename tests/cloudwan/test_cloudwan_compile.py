"""Compilation (cloudwan.md §4-6, E1, E2, E3, E6, the seed article's four steps): attachment
mapping in rule-number order, acceptance, isolation, sharing, filters, static routes and
blackholes, cross-edge routes, drop reasons."""

from __future__ import annotations

import ipaddress
from typing import Any

from cloudwan_lab import att_id, attachment, e1, vpc_network

from localvpc.cloudwan.compile import (
    apply_plan,
    compile_core_network,
    map_attachment,
    plan_attachment,
)
from localvpc.cloudwan.policy import edges_of, parse_policy, segment_infos
from localvpc.model.base import parse_cidr
from localvpc.model.cloudwan import (
    AVAILABLE,
    CREATING,
    PENDING_ATTACHMENT_ACCEPTANCE,
    PENDING_TAG_ACCEPTANCE,
    SITE_TO_SITE_VPN,
    TRANSIT_GATEWAY_ROUTE_TABLE,
    TransitGatewayRegistration,
)
from localvpc.model.network import Network
from localvpc.model.transit import TransitGatewayRoute, TransitGatewayRouteTable


def table(compiled: Any, segment: str, edge: str) -> dict[str, str]:
    return {str(r.destination): r.attachment_id or "blackhole"
            for r in compiled.routes(segment, edge)}


def test_e1_tag_mapping_and_acceptance() -> None:
    p = parse_policy(e1())
    cases = {"prod": (AVAILABLE, "prod"), "dev": (PENDING_ATTACHMENT_ACCEPTANCE, None),
             "Prod": (AVAILABLE, None)}
    for n, (tag, (state, segment)) in enumerate(cases.items(), 1):
        att = attachment(n, tags={"segment": tag}, state=CREATING)
        apply_plan(att, plan_attachment(p, att))
        assert (att.state, att.segment_name) == (state, segment), tag
    pending = attachment(9, tags={"segment": "dev"}, state=CREATING)
    apply_plan(pending, plan_attachment(p, pending))
    assert pending.proposed_segment_change is not None
    assert pending.proposed_segment_change.segment_name == "dev"
    assert pending.proposed_segment_change.rule_number == 100
    apply_plan(pending, plan_attachment(p, pending, accept=True))  # AcceptAttachment
    assert (pending.state, pending.segment_name) == (AVAILABLE, "dev")
    assert pending.proposed_segment_change is None
    untagged = attachment(10, state=CREATING)
    assert map_attachment(p, untagged) is None


def test_e1_routes_shared_but_not_between_listed_segments() -> None:
    p = parse_policy(e1())
    atts = [attachment(1, segment="prod"), attachment(2, segment="dev", region="eu-west-1"),
            attachment(3, segment="shared")]
    net = vpc_network({1: "10.1.0.0/16", 2: "10.2.0.0/16", 3: "10.3.0.0/16"})
    c = compile_core_network(p, atts, net)
    for edge in ("us-east-1", "eu-west-1"):  # SEG-1: every edge of the segment
        assert table(c, "prod", edge) == {"10.1.0.0/16": att_id(1), "10.3.0.0/16": att_id(3)}
        assert table(c, "shared", edge) == {"10.1.0.0/16": att_id(1), "10.2.0.0/16": att_id(2),
                                            "10.3.0.0/16": att_id(3)}
    assert "10.2.0.0/16" not in table(c, "prod", "us-east-1")  # SA-2: prod and dev don't share
    drop = c.forward(att_id(1), "10.2.0.5")
    assert (drop.action, drop.reason) == ("drop", "not-shared")
    assert "does not share" in drop.message
    ok = c.forward(att_id(1), "10.3.0.5")
    assert ok.action == "forward" and ok.route is not None
    assert ok.route.attachment_id == att_id(3)
    shared_route = c.lookup("prod", "eu-west-1", "10.3.1.1")
    assert shared_route is not None and shared_route.segment_name == "shared"
    assert shared_route.edge_location == "us-east-1"  # learned across the core
    api = shared_route.to_api()
    assert api["Type"] == "PROPAGATED" and api["State"] == "ACTIVE"
    assert api["Destinations"][0] == {
        "CoreNetworkAttachmentId": att_id(3), "EdgeLocation": "us-east-1",
        "SegmentName": "shared", "ResourceType": "vpc", "ResourceId": "vpc-00000000000000003"}


def test_e2_first_matching_rule_wins() -> None:
    doc = e1()
    doc["segments"] = [{"name": n, "require-attachment-acceptance": False}
                       for n in ("hybrid", "prod", "quarantine")]
    doc["segment-actions"] = []
    doc["attachment-policies"] = [
        {"rule-number": 30, "conditions": [{"type": "any"}],
         "action": {"association-method": "constant", "segment": "quarantine"}},
        {"rule-number": 10, "conditions": [{"type": "attachment-type", "operator": "equals",
                                            "value": "site-to-site-vpn"}],
         "action": {"association-method": "constant", "segment": "hybrid"}},
        {"rule-number": 20, "condition-logic": "and", "conditions": [
            {"type": "account-id", "operator": "equals", "value": "111122223333"},
            {"type": "region", "operator": "equals", "value": "us-east-1"}],
         "action": {"association-method": "constant", "segment": "prod"}},
    ]
    p = parse_policy(doc)
    vpn = attachment(1, kind=SITE_TO_SITE_VPN, resource_id="vpn-1")
    vpc_us = attachment(2)
    vpc_eu = attachment(3, region="eu-west-1")
    other = attachment(4, account="444455556666")
    got = {a.id: map_attachment(p, a) for a in (vpn, vpc_us, vpc_eu, other)}
    assert {k: (m.rule_number, m.segment) for k, m in got.items() if m} == {
        att_id(1): (10, "hybrid"), att_id(2): (20, "prod"), att_id(3): (30, "quarantine"),
        att_id(4): (30, "quarantine")}
    doc["attachment-policies"][2]["condition-logic"] = "or"
    assert map_attachment(parse_policy(doc), vpc_eu).segment == "prod"  # type: ignore[union-attr]


def test_condition_operators_on_tags_and_resource_ids() -> None:
    doc = e1()
    doc["attachment-policies"] = [
        {"rule-number": 1, "conditions": [{"type": "tag-value", "key": "env",
                                           "operator": "begins-with", "value": "pro"}],
         "action": {"association-method": "constant", "segment": "prod"}},
        {"rule-number": 2, "conditions": [{"type": "tag-value", "key": "env",
                                           "operator": "contains", "value": "shar"}],
         "action": {"association-method": "constant", "segment": "shared"}},
        {"rule-number": 3, "conditions": [{"type": "resource-id", "operator": "not-equals",
                                           "value": "vpc-00000000000000005"}],
         "action": {"association-method": "constant", "segment": "dev"}},
    ]
    p = parse_policy(doc)
    seg = {n: (m.segment if (m := map_attachment(p, attachment(n, tags=t))) else None)
           for n, t in {1: {"env": "production"}, 2: {"env": "allshared"}, 3: {"env": "x"},
                        5: {}}.items()}
    assert seg == {1: "prod", 2: "shared", 3: "dev", 5: None}


def test_tag_change_waits_for_acceptance_and_keeps_routing() -> None:
    p = parse_policy(e1())
    att = attachment(1, tags={"segment": "prod"}, segment="prod")
    att.tags["segment"] = "dev"  # dev requires acceptance
    apply_plan(att, plan_attachment(p, att))
    assert (att.state, att.segment_name) == (PENDING_TAG_ACCEPTANCE, "prod")
    c = compile_core_network(p, [att], vpc_network({1: "10.1.0.0/16"}))
    assert c.segment_of(att.id) == "prod"  # still routes in its old segment
    apply_plan(att, plan_attachment(p, att, accept=True))
    assert (att.state, att.segment_name) == (AVAILABLE, "dev")
    att.tags["segment"] = "shared"  # no acceptance: moves at once
    apply_plan(att, plan_attachment(p, att))
    assert (att.state, att.segment_name) == (AVAILABLE, "shared")


def test_e6_isolated_segment() -> None:
    doc = e1()
    doc["segments"][0]["isolate-attachments"] = True
    p = parse_policy(doc)
    atts = [attachment(1, segment="prod"), attachment(2, segment="prod", region="eu-west-1"),
            attachment(3, segment="shared")]
    c = compile_core_network(p, atts, vpc_network({1: "10.1.0.0/16", 2: "10.2.0.0/16",
                                                   3: "10.3.0.0/16"}))
    assert table(c, "prod", "us-east-1") == {"10.3.0.0/16": att_id(3)}
    drop = c.forward(att_id(1), "10.2.0.1")
    assert (drop.reason, drop.segment) == ("isolated", "prod")
    assert c.forward(att_id(1), "10.3.0.1").action == "forward"
    # the shared segment still reaches both isolated attachments
    assert set(table(c, "shared", "eu-west-1")) == {"10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"}


def test_sharing_is_not_transitive_and_star_and_except() -> None:
    doc = e1()
    doc["segments"] = [{"name": n} for n in ("a", "b", "c", "d")]
    doc["segment-actions"] = [
        {"action": "share", "mode": "attachment-route", "segment": "a", "share-with": ["b"]},
        {"action": "share", "mode": "attachment-route", "segment": "b", "share-with": ["c"]},
        {"action": "share", "mode": "attachment-route", "segment": "d",
         "share-with": {"except": ["c"]}},
    ]
    p = parse_policy(doc)
    atts = [attachment(i, segment=s) for i, s in enumerate("abcd", 1)]
    c = compile_core_network(p, atts, vpc_network({i: f"10.{i}.0.0/16" for i in range(1, 5)}))
    learned = {s: sorted(r.segment_name for r in c.routes(s, "us-east-1")) for s in "abcd"}
    assert learned == {"a": ["a", "b", "d"], "b": ["a", "b", "c", "d"], "c": ["b", "c"],
                       "d": ["a", "b", "d"]}
    doc["segment-actions"] = [{"action": "share", "mode": "attachment-route", "segment": "a",
                               "share-with": "*"}]
    c = compile_core_network(parse_policy(doc), atts,
                             vpc_network({i: f"10.{i}.0.0/16" for i in range(1, 5)}))
    assert len(c.routes("a", "us-east-1")) == 4 and len(c.routes("b", "us-east-1")) == 2


def test_allow_and_deny_filters_apply_after_share() -> None:
    doc = e1()
    doc["segments"] = [{"name": "hub"}, {"name": "x", "deny-filter": ["hub"]},
                       {"name": "y", "allow-filter": ["x"]}]
    doc["segment-actions"] = [{"action": "share", "mode": "attachment-route", "segment": "hub",
                               "share-with": "*"}]
    p = parse_policy(doc)
    atts = [attachment(1, segment="hub"), attachment(2, segment="x"),
            attachment(3, segment="y")]
    c = compile_core_network(p, atts, vpc_network({1: "10.1.0.0/16", 2: "10.2.0.0/16",
                                                   3: "10.3.0.0/16"}))
    assert set(table(c, "x", "us-east-1")) == {"10.2.0.0/16"}  # hub denied
    assert set(table(c, "y", "us-east-1")) == {"10.3.0.0/16"}  # only x allowed, x not shared
    assert set(table(c, "hub", "us-east-1")) == {"10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"}
    drop = c.forward(att_id(2), "10.1.0.1")
    assert drop.reason == "not-shared" and "deny-filter" in drop.message


def test_e3_static_routes_and_blackholes() -> None:
    doc = e1()
    doc["segment-actions"] += [
        {"action": "create-route", "segment": "prod", "destination-cidr-blocks": ["0.0.0.0/0"],
         "destinations": [att_id(7), att_id(8)]},
        {"action": "create-route", "segment": "prod",
         "destination-cidr-blocks": ["10.66.0.0/16"], "destinations": ["blackhole"]},
    ]
    p = parse_policy(doc)
    atts = [attachment(1, segment="prod"), attachment(7, segment="shared"),
            attachment(8, segment="shared", region="eu-west-1"),
            attachment(9, segment="prod", region="eu-west-1")]
    net = vpc_network({1: "10.1.0.0/16", 7: "0.0.0.0/0", 8: "10.8.0.0/16", 9: "10.66.0.0/16"})
    c = compile_core_network(p, atts, net)
    us = c.lookup("prod", "us-east-1", "8.8.8.8")
    eu = c.lookup("prod", "eu-west-1", "8.8.8.8")
    assert us is not None and eu is not None
    assert (us.type, us.attachment_id) == ("STATIC", att_id(7))  # static beats shared 0/0
    assert eu.attachment_id == att_id(8)  # SA-5: the destination in the edge's own Region
    hole = c.decide("prod", "us-east-1", "10.66.1.1")  # blackhole beats the propagated /16
    assert (hole.action, hole.reason) == ("drop", "blackhole")
    assert hole.route is not None and hole.route.to_api()["State"] == "BLACKHOLE"
    assert "10.66.0.0/16" in table(c, "shared", "us-east-1")  # blackhole is not shared (SA-4)
    assert c.decide("prod", "us-east-1", "10.1.2.3").route.attachment_id == att_id(1)  # type: ignore[union-attr]


def test_same_prefix_prefers_local_edge_then_lowest_id() -> None:
    p = parse_policy(e1())
    atts = [attachment(5, segment="prod", region="eu-west-1"), attachment(6, segment="prod"),
            attachment(4, segment="prod", region="eu-west-1")]
    c = compile_core_network(p, atts, vpc_network({4: "10.0.0.0/16", 5: "10.0.0.0/16",
                                                   6: "10.0.0.0/16"}))
    assert c.lookup("prod", "us-east-1", "10.0.0.1").attachment_id == att_id(6)  # type: ignore[union-attr]
    assert c.lookup("prod", "eu-west-1", "10.0.0.1").attachment_id == att_id(4)  # type: ignore[union-attr]


def test_unassociated_source_and_no_route() -> None:
    p = parse_policy(e1())
    c = compile_core_network(p, [attachment(1, segment="prod"), attachment(2)],
                             vpc_network({1: "10.1.0.0/16", 2: "10.2.0.0/16"}))
    assert c.forward(att_id(2), "10.1.0.1").reason == "unassociated"
    assert c.forward(att_id(1), "192.0.2.1").reason == "no-route"
    assert c.segment_of(att_id(2)) is None


def test_seed_article_four_steps() -> None:
    """The article: (1) a core network with an ASN range, edge locations and a default segment
    enabled in every edge; (2) the policy attached; (3) segments and segment actions, routes by
    segment and edge; (4) an existing transit gateway registered and peered."""
    edges = ["us-east-1", "eu-west-1", "ap-southeast-2"]
    step1 = {"version": "2021.12",
             "core-network-configuration": {"asn-ranges": ["64512-64555"],
                                            "edge-locations": [{"location": e} for e in edges]},
             "segments": [{"name": "default", "description": "default segment"}]}
    p1 = parse_policy(step1)
    assert [(e.location, e.asn) for e in edges_of(p1)] == list(zip(edges, [64512, 64513, 64514],
                                                                    strict=True))
    assert [(s.name, s.edge_locations) for s in segment_infos(p1)] == [("default", edges)]

    step3 = dict(step1, segments=[
        {"name": "default"},
        {"name": "retail", "isolate-attachments": True, "require-attachment-acceptance": False},
        {"name": "corporate", "require-attachment-acceptance": False},
        {"name": "sharedservices", "require-attachment-acceptance": False}],
        **{"segment-actions": [{"action": "share", "mode": "attachment-route",
                                "segment": "sharedservices", "share-with": "*"}],
           "attachment-policies": [
               {"rule-number": 100, "conditions": [{"type": "tag-exists", "key": "segment"}],
                "action": {"association-method": "tag", "tag-value-of-key": "segment"}}]})
    p3 = parse_policy(step3)
    net = vpc_network({1: "10.10.0.0/16", 2: "10.20.0.0/16", 3: "10.30.0.0/16",
                       4: "10.40.0.0/16"})
    atts = [attachment(1, tags={"segment": "retail"}, state=CREATING),
            attachment(2, tags={"segment": "retail"}, region="eu-west-1", state=CREATING),
            attachment(3, tags={"segment": "corporate"}, region="ap-southeast-2",
                       state=CREATING),
            attachment(4, tags={"segment": "sharedservices"}, state=CREATING)]
    for a in atts:
        apply_plan(a, plan_attachment(p3, a))
    assert [a.segment_name for a in atts] == ["retail", "retail", "corporate", "sharedservices"]

    # Step 4: the existing transit gateway, registered and peered at us-east-1; its route
    # table attachment brings the TGW's routes into the corporate segment.
    net.add(TransitGatewayRegistration(id="global-network-1|arn:tgw", transit_gateway_arn="arn"))
    net.add(TransitGatewayRouteTable(id="tgw-rtb-1", routes=[
        TransitGatewayRoute(parse_cidr("172.16.0.0/12"), "propagated", "active", "tgw-attach-1"),
        TransitGatewayRoute(parse_cidr("192.168.0.0/16"), "static", "blackhole", None)]))
    tgw = attachment(5, kind=TRANSIT_GATEWAY_ROUTE_TABLE, resource_id="tgw-rtb-1",
                     segment="corporate")
    c = compile_core_network(p3, [*atts, tgw], net)
    assert set(c.segments) == {"default", "retail", "corporate", "sharedservices"}
    assert c.edges == edges
    assert table(c, "retail", "eu-west-1") == {"10.40.0.0/16": att_id(4)}  # isolated + shared
    assert table(c, "corporate", "eu-west-1") == {
        "10.30.0.0/16": att_id(3), "10.40.0.0/16": att_id(4), "172.16.0.0/12": att_id(5)}
    assert len(c.routes("sharedservices", "ap-southeast-2")) == 5
    assert table(c, "default", "us-east-1") == {"10.40.0.0/16": att_id(4)}  # share "*"
    retail = c.forward(att_id(1), "10.20.0.1")
    corp = c.forward(att_id(1), "10.30.0.1")
    assert (retail.reason, corp.reason) == ("isolated", "not-shared")
    r = c.forward(att_id(3), "172.16.5.5").route
    assert r is not None and r.resource_type == "transit-gateway-route-table"


def test_vpc_ipv6_prefixes_need_ipv6_support_and_overrides() -> None:
    p = parse_policy(e1())
    net = Network()
    from localvpc.model.vpc import Vpc
    net.add(Vpc(id="vpc-00000000000000001", cidrs=[parse_cidr("10.1.0.0/16")],
                ipv6_cidrs=[ipaddress.ip_network("2600:1f18::/56")]))
    a = attachment(1, segment="prod")
    assert len(compile_core_network(p, [a], net).routes("prod", "us-east-1")) == 1
    a.options["Ipv6Support"] = True
    c = compile_core_network(p, [a], net)
    assert [str(r.destination) for r in c.routes("prod", "us-east-1")] == [
        "10.1.0.0/16", "2600:1f18::/56"]
    vpn = attachment(2, kind=SITE_TO_SITE_VPN, segment="prod", resource_id="vpn-1")
    c = compile_core_network(p, [vpn], net, prefixes={vpn.id: [parse_cidr("192.168.0.0/16")]})
    assert table(c, "prod", "eu-west-1") == {"192.168.0.0/16": vpn.id}


def test_send_via_and_send_to_through_network_function_group() -> None:
    doc = e1()
    doc["network-function-groups"] = [{"name": "inspection",
                                       "require-attachment-acceptance": False}]
    doc["segment-actions"] = [
        {"action": "send-via", "segment": "prod", "mode": "single-hop",
         "when-sent-to": {"segments": ["dev"]},
         "via": {"network-function-groups": ["inspection"]}},
        {"action": "send-to", "segment": "dev",
         "via": {"network-function-groups": ["inspection"]}}]
    doc["attachment-policies"].insert(0, {
        "rule-number": 10, "conditions": [{"type": "tag-value", "key": "role",
                                           "operator": "equals", "value": "firewall"}],
        "action": {"association-method": "constant",
                   "add-to-network-function-group": "inspection"}})
    p = parse_policy(doc)
    fw = attachment(9, tags={"role": "firewall"}, state=CREATING)
    apply_plan(fw, plan_attachment(p, fw))
    assert (fw.state, fw.network_function_group_name, fw.segment_name) == (
        AVAILABLE, "inspection", None)
    atts = [attachment(1, segment="prod"), attachment(2, segment="dev"), fw]
    c = compile_core_network(p, atts, vpc_network({1: "10.1.0.0/16", 2: "10.2.0.0/16",
                                                   9: "10.9.0.0/16"}))
    r = c.forward(att_id(1), "10.2.0.1").route
    assert r is not None and (r.attachment_id, r.network_function_group) == (fw.id,
                                                                            "inspection")
    egress = c.forward(att_id(2), "8.8.8.8").route
    assert egress is not None and egress.attachment_id == fw.id
    assert egress.to_api()["Destinations"][0]["NetworkFunctionGroupName"] == "inspection"
