"""Routes localvpc cannot learn over BGP, stated by the user (``localvpc:advertise``): a
Direct Connect gateway attachment placed at several edges, and a Connect attachment's peers;
CR-1 propagation, CR-4 choice, CN-4 for a multi-edge attachment."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
from cloudwan_lab import att_id, attachment, e1, vpc_network

from localvpc.cloudwan.advertised import (
    ADVERTISE_TAG,
    AdvertisedInvalid,
    advertised,
    parse_advertised,
)
from localvpc.cloudwan.changes import generation_errors
from localvpc.cloudwan.compile import compile_core_network, map_attachment
from localvpc.cloudwan.policy import edges_of, parse_policy
from localvpc.model.cloudwan import (
    CONNECT,
    DIRECT_CONNECT_GATEWAY,
    FAILED,
    ConnectPeer,
    CoreNetworkAttachment,
)

DXGW = "6a5b4c3d-1111-2222-3333-444455556666"


def dx(n: int, edges: list[str], advertise: str | None = None, segment: str = "prod",
       **tags: str) -> CoreNetworkAttachment:
    att = attachment(n, region=edges[0], segment=segment, kind=DIRECT_CONNECT_GATEWAY,
                     resource_id=DXGW, tags=tags)
    att.edge_locations = list(edges)
    if advertise is not None:
        att.tags[ADVERTISE_TAG] = advertise
    return att


def routes(compiled: Any, segment: str, edge: str) -> dict[str, tuple[str, str | None]]:
    return {str(r.destination): (r.attachment_id or "blackhole", r.edge_location)
            for r in compiled.routes(segment, edge)}


def test_parse_advertised_accepts_cidr_lists_and_names_bad_entries() -> None:
    assert parse_advertised(" 10.50.0.0/16,2001:db8:50::/48 ,, 10.50.0.0/16") == [
        ipaddress.ip_network("10.50.0.0/16"), ipaddress.ip_network("2001:db8:50::/48")]
    assert parse_advertised("") == []
    with pytest.raises(AdvertisedInvalid, match=r"10\.50\.0\.1/16 has host bits set "
                                                r"\(did you mean 10\.50\.0\.0/16\?\)"):
        parse_advertised("10.60.0.0/16,10.50.0.1/16")
    with pytest.raises(AdvertisedInvalid, match=re.escape("'10.0.0.0' is not a CIDR block")):
        parse_advertised("10.0.0.0")
    too_long = re.escape("'10.0.0.0/33' is not a valid CIDR block")
    with pytest.raises(AdvertisedInvalid, match=too_long):
        parse_advertised("10.0.0.0/33")
    assert advertised({"Name": "x"}) == ([], None)
    found, problem = advertised({ADVERTISE_TAG: "nope/8"})
    assert found == [] and problem is not None and "nope/8" in problem


def test_dx_attachment_maps_by_type_and_by_any_of_its_edges() -> None:
    doc = e1()
    doc["segments"].append({"name": "hybrid", "require-attachment-acceptance": False,
                            "edge-locations": ["eu-west-1"]})
    doc["attachment-policies"] = [
        {"rule-number": 10, "conditions": [{"type": "attachment-type", "operator": "equals",
                                            "value": "direct-connect-gateway"},
                                           {"type": "region", "operator": "equals",
                                            "value": "eu-west-1"}],
         "condition-logic": "and",
         "action": {"association-method": "constant", "segment": "hybrid"}},
        {"rule-number": 20, "conditions": [{"type": "resource-id", "operator": "equals",
                                            "value": DXGW}],
         "action": {"association-method": "constant", "segment": "prod"}}]
    p = parse_policy(doc)
    both = dx(1, ["us-east-1", "eu-west-1"])  # eu-west-1 is its second edge
    m = map_attachment(p, both)
    assert m is not None and (m.rule_number, m.segment) == (10, "hybrid")
    us_only = dx(2, ["us-east-1"])
    m = map_attachment(p, us_only)
    assert m is not None and (m.rule_number, m.segment) == (20, "prod")
    # hybrid exists only in eu-west-1: an attachment with no edge there is not taken.
    doc["attachment-policies"][0]["conditions"] = [{"type": "any"}]
    m = map_attachment(parse_policy(doc), us_only)
    assert m is not None and m.segment is None and "no edge location" in (m.problem or "")


def test_dx_routes_are_local_at_each_of_its_edges_and_only_when_stated() -> None:
    p = parse_policy(e1())
    net = vpc_network({1: "10.1.0.0/16"})
    silent = compile_core_network(p, [attachment(1, segment="prod"),
                                      dx(2, ["us-east-1", "eu-west-1"])], net)
    assert routes(silent, "prod", "us-east-1") == {"10.1.0.0/16": (att_id(1), "us-east-1")}

    stated = [attachment(1, segment="prod"),
              dx(2, ["us-east-1", "eu-west-1"], "172.16.0.0/12, 2001:db8:77::/48")]
    c = compile_core_network(p, stated, net)
    for edge in ("us-east-1", "eu-west-1"):
        assert routes(c, "prod", edge)["172.16.0.0/12"] == (att_id(2), edge)
        assert routes(c, "prod", edge)["2001:db8:77::/48"] == (att_id(2), edge)
        assert routes(c, "shared", edge)["172.16.0.0/12"] == (att_id(2), edge)  # E1 share
    assert "172.16.0.0/12" not in routes(c, "dev", "us-east-1")
    route = c.lookup("prod", "eu-west-1", "172.20.1.1")
    assert route is not None
    assert route.to_api()["Destinations"][0] == {
        "CoreNetworkAttachmentId": att_id(2), "EdgeLocation": "eu-west-1", "SegmentName": "prod",
        "ResourceType": "direct-connect-gateway", "ResourceId": DXGW}
    ok = c.forward(att_id(1), "172.16.9.9")
    assert ok.action == "forward" and ok.route is not None
    assert (ok.route.attachment_id, ok.route.edge_location) == (att_id(2), "us-east-1")

    # Placed only in us-east-1: eu-west-1 reaches it across the core.
    one = compile_core_network(p, [dx(3, ["us-east-1"], "172.16.0.0/12")], net)
    assert routes(one, "prod", "eu-west-1") == {"172.16.0.0/12": (att_id(3), "us-east-1")}


def test_static_route_to_a_dx_attachment_picks_the_local_edge() -> None:
    doc = e1()
    doc["segment-actions"].append({"action": "create-route", "segment": "prod",
                                   "destination-cidr-blocks": ["0.0.0.0/0"],
                                   "destinations": [att_id(2)]})
    c = compile_core_network(parse_policy(doc), [dx(2, ["us-east-1", "eu-west-1"])])
    for edge in ("us-east-1", "eu-west-1"):
        r = c.lookup("prod", edge, "8.8.8.8")
        assert r is not None and (r.type, r.attachment_id, r.edge_location) == (
            "STATIC", att_id(2), edge)


def peer(n: int, attachment_id: str, advertise: str | None, state: str = "AVAILABLE"
         ) -> ConnectPeer:
    tags = {} if advertise is None else {ADVERTISE_TAG: advertise}
    return ConnectPeer(id=f"connect-peer-{n:017x}", account="111122223333", region="us-east-1",
                       tags=tags, connect_attachment_id=attachment_id,
                       core_network_id="core-network-0123456789abcdef0", state=state)


def test_connect_peers_advertise_into_the_connect_attachments_segment() -> None:
    p = parse_policy(e1())
    net = vpc_network({1: "10.1.0.0/16", 2: "10.2.0.0/16"})
    vpc_att = attachment(1, segment="prod")
    connect = attachment(3, segment="prod", kind=CONNECT, resource_id=att_id(2))
    for peer_ in (peer(1, att_id(3), "192.168.0.0/16,10.1.0.0/16"),
                  peer(2, att_id(3), "192.168.0.0/16, 10.99.0.0/16"),
                  peer(3, att_id(3), "10.66.0.0/16", state=FAILED),  # failed: no BGP
                  peer(4, att_id(9), "10.77.0.0/16")):  # another attachment's peer
        net.add(peer_)
    c = compile_core_network(p, [vpc_att, connect], net)
    table = routes(c, "prod", "us-east-1")
    assert table["192.168.0.0/16"] == (att_id(3), "us-east-1")
    assert table["10.99.0.0/16"] == (att_id(3), "us-east-1")
    assert "10.66.0.0/16" not in table and "10.77.0.0/16" not in table
    # CR-4: for the same prefix in the same Region the VPC beats the Connect attachment.
    assert table["10.1.0.0/16"] == (att_id(1), "us-east-1")
    assert c.prefixes_of(att_id(3)) == [ipaddress.ip_network(x) for x in
                                         ("192.168.0.0/16", "10.1.0.0/16", "10.99.0.0/16")]
    assert c.problems == []

    # A tag that slipped past the API (an old store) advertises nothing and is reported.
    net.core_network_connect_peers[f"connect-peer-{1:017x}"].tags[ADVERTISE_TAG] = "10.0.0.1/8"
    bad = compile_core_network(p, [vpc_att, connect], net)
    assert "192.168.0.0/16" in routes(bad, "prod", "us-east-1")  # still from peer 2
    assert any("has host bits set" in problem for problem in bad.problems)


def test_an_edge_used_by_a_dx_attachment_cannot_be_removed() -> None:
    v1 = parse_policy(e1())
    doc = e1()
    doc["core-network-configuration"]["edge-locations"] = [{"location": "us-east-1"}]
    errors = generation_errors(edges_of(v1), parse_policy(doc),
                               [dx(1, ["us-east-1", "eu-west-1"])])
    assert [(e.code, e.path) for e in errors] == [
        ("CONFLICT", "$.core-network-configuration.edge-locations")]
    assert att_id(1) in errors[0].message
    assert generation_errors(edges_of(v1), parse_policy(doc), [dx(1, ["us-east-1"])]) == []
