"""Change sets (CS-3, E1, E5): what a new policy version changes, and generation errors."""

from __future__ import annotations

from cloudwan_lab import att_id, attachment, e1, vpc_network

from localvpc.cloudwan.changes import (
    CoreNetworkChange,
    change_events,
    change_set,
    generation_errors,
)
from localvpc.cloudwan.policy import edges_of, parse_policy


def kinds(changes: list[CoreNetworkChange]) -> set[tuple[str, str, str]]:
    return {(c.type, c.action, c.identifier_path) for c in changes}


def test_e1_first_version_adds_edges_and_segments_per_edge() -> None:
    changes = change_set(None, parse_policy(e1()), [])
    got = kinds(changes)
    assert {("CORE_NETWORK_EDGE", "ADD", "CORE_NETWORK_EDGE/us-east-1"),
            ("CORE_NETWORK_EDGE", "ADD", "CORE_NETWORK_EDGE/eu-west-1")} <= got
    segs = {p for t, a, p in got if t == "CORE_NETWORK_SEGMENT" and a == "ADD"}
    assert segs == {f"CORE_NETWORK_SEGMENT/{e}/{s}" for e in ("us-east-1", "eu-west-1")
                    for s in ("prod", "dev", "shared")}
    edge = next(c for c in changes if c.identifier == "us-east-1")
    assert edge.to_api() == {"Type": "CORE_NETWORK_EDGE", "Action": "ADD",
                             "Identifier": "us-east-1",
                             "IdentifierPath": "CORE_NETWORK_EDGE/us-east-1",
                             "NewValues": {"EdgeLocations": ["us-east-1"], "Asn": 64512,
                                           "InsideCidrBlocks": []}}
    seg = next(c for c in changes if c.identifier_path == "CORE_NETWORK_SEGMENT/us-east-1/shared")
    assert seg.identifier == "shared"
    assert seg.new == {"SegmentName": "shared", "EdgeLocations": ["us-east-1"],
                       "SharedSegments": ["dev", "prod"]}


def test_e5_removing_a_segment_remaps_attachments_and_withdraws_routes() -> None:
    v1 = parse_policy(e1())
    doc = e1()
    doc["segments"] = [s for s in doc["segments"] if s["name"] != "dev"]
    doc["segment-actions"][0]["share-with"] = ["prod"]
    v2 = parse_policy(doc)
    atts = [attachment(1, tags={"segment": "dev"}, segment="dev"),
            attachment(2, tags={"segment": "prod"}, segment="prod")]
    net = vpc_network({1: "10.1.0.0/16", 2: "10.2.0.0/16"})
    changes = change_set(v1, v2, atts, net)
    got = kinds(changes)
    assert ("CORE_NETWORK_SEGMENT", "REMOVE", "CORE_NETWORK_SEGMENT/us-east-1/dev") in got
    assert ("CORE_NETWORK_SEGMENT", "MODIFY", "CORE_NETWORK_SEGMENT/eu-west-1/shared") in got
    mapping = [c for c in changes if c.type == "ATTACHMENT_MAPPING"]
    assert [(c.action, c.identifier, c.previous) for c in mapping] == [
        ("REMOVE", att_id(1), {"SegmentName": "dev", "AttachmentId": att_id(1)})]
    withdrawn = {c.identifier_path for c in changes
                 if c.type == "ATTACHMENT_ROUTE_PROPAGATION" and c.action == "REMOVE"}
    assert f"ATTACHMENT_ROUTE_PROPAGATION/us-east-1/dev/10.1.0.0/16/{att_id(1)}" in withdrawn
    assert f"ATTACHMENT_ROUTE_PROPAGATION/eu-west-1/shared/10.1.0.0/16/{att_id(1)}" in withdrawn
    assert ("SEGMENTS_CONFIGURATION", "MODIFY", "SEGMENTS_CONFIGURATION") in got
    assert not any(c.type == "CORE_NETWORK_EDGE" for c in changes)  # edges unchanged
    assert atts[0].segment_name == "dev"  # the change set does not touch the attachments
    events = change_events(changes, 1700000000.0)
    ev = next(e for e in events if e["Type"] == "ATTACHMENT_MAPPING")
    assert ev["Values"] == {"SegmentName": "dev", "AttachmentId": att_id(1)}
    assert ev["Status"] == "COMPLETE" and ev["EventTime"] == 1700000000.0


def test_static_route_added_and_an_edge_added() -> None:
    v1 = parse_policy(e1())
    doc = e1()
    doc["core-network-configuration"]["edge-locations"].append({"location": "us-west-2"})
    doc["segment-actions"].append({"action": "create-route", "segment": "prod",
                                   "destination-cidr-blocks": ["0.0.0.0/0"],
                                   "destinations": [att_id(2)]})
    v2 = parse_policy(doc)
    atts = [attachment(2, tags={"segment": "prod"}, segment="prod")]
    changes = change_set(v1, v2, atts, vpc_network({2: "10.2.0.0/16"}),
                         previous_edges=edges_of(v1))
    got = kinds(changes)
    assert ("CORE_NETWORK_EDGE", "ADD", "CORE_NETWORK_EDGE/us-west-2") in got
    new_edge = next(c for c in changes if c.identifier == "us-west-2")
    assert new_edge.new is not None and new_edge.new["Asn"] == 64514  # 64512/3 are taken
    static = {c.identifier_path: c.new for c in changes if c.type == "ATTACHMENT_ROUTE_STATIC"}
    assert set(static) == {f"ATTACHMENT_ROUTE_STATIC/{e}/prod/0.0.0.0/0/{att_id(2)}"
                           for e in ("us-east-1", "eu-west-1", "us-west-2")}
    assert ("SEGMENT_ACTIONS_CONFIGURATION", "MODIFY", "SEGMENT_ACTIONS_CONFIGURATION") in got


def test_generation_errors_need_the_running_network() -> None:
    v1 = parse_policy(e1())
    old_edges = edges_of(v1)
    doc = e1()
    doc["core-network-configuration"]["edge-locations"] = [{"location": "us-east-1",
                                                            "asn": 65000}]
    doc["segment-actions"].append({"action": "create-route", "segment": "prod",
                                   "destination-cidr-blocks": ["0.0.0.0/0"],
                                   "destinations": [att_id(1), att_id(3), att_id(4)]})
    atts = [attachment(1, segment="prod"), attachment(2, segment="dev", region="eu-west-1"),
            attachment(3, segment="prod")]
    errors = {(e.code, e.path) for e in generation_errors(old_edges, parse_policy(doc), atts)}
    assert errors == {
        ("CONFLICT", "$.core-network-configuration.edge-locations"),  # eu-west-1 in use
        ("CONFLICT", "$.core-network-configuration.edge-locations[0].asn"),  # 64512 -> 65000
        ("CONFLICT", "$.segment-actions[1].destinations[1]"),  # two in us-east-1
        ("UNKNOWN_REFERENCE", "$.segment-actions[1].destinations[2]"),
    }
    assert generation_errors(old_edges, v1, atts) == []
