"""TGW peering attachments (TG-5) and prefix-list references (TG-6) in the trace engine.

Two transit gateways in two Regions, each with one VPC; a peering attachment joins them and
each side routes the other VPC's block to it with a static route.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab import Lab

from localvpc.dataplane import Disposition
from localvpc.model.base import parse_cidr
from localvpc.model.interfaces import Instance
from localvpc.model.transit import (
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayPrefixListReference,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
)
from localvpc.model.vpc import TargetType


@dataclass
class Peered:
    east: TransitGateway
    west: TransitGateway
    east_table: TransitGatewayRouteTable
    west_table: TransitGatewayRouteTable
    peering: TransitGatewayAttachment
    x: Instance
    y: Instance


def peered(lab: Lab, state: str = "available") -> Peered:
    east, west = lab.tgw(), lab.tgw()
    west.region = "eu-west-1"
    te, tw = lab.tgw_table(east), lab.tgw_table(west)
    a, b = lab.vpc("10.0.0.0/16"), lab.vpc("10.1.0.0/16")
    sa, sb = lab.subnet(a, "10.0.1.0/24"), lab.subnet(b, "10.1.1.0/24", "eu-west-1a")
    lab.attach(east, a, [sa], te, [te])
    lab.attach(west, b, [sb], tw, [tw])
    lab.route(lab.main_table(a), "10.1.0.0/16", TargetType.TRANSIT_GATEWAY, east.id)
    lab.route(lab.main_table(b), "10.0.0.0/16", TargetType.TRANSIT_GATEWAY, west.id)
    pcx = lab.net.add(TransitGatewayAttachment(
        "tgw-attach-0000000000000feed", transit_gateway_id=east.id, resource_type="peering",
        resource_id=west.id, peer_transit_gateway_id=west.id, peer_region="eu-west-1",
        state=state))
    te.associated_attachment_ids.append(pcx.id)
    tw.associated_attachment_ids.append(pcx.id)
    te.routes.append(TransitGatewayRoute(parse_cidr("10.1.0.0/16"), "static", "active", pcx.id))
    tw.routes.append(TransitGatewayRoute(parse_cidr("10.0.0.0/16"), "static", "active", pcx.id))
    x = lab.instance(sa, "10.0.1.10")
    y = lab.instance(sb, "10.1.1.10", sgs=[lab.sg(b, ingress=[("-1", None, None,
                                                                "10.0.0.0/8")])])
    return Peered(east, west, te, tw, pcx, x, y)


def test_traffic_crosses_the_peering_both_ways(lab: Lab) -> None:
    p = peered(lab)
    t = lab.trace(p.x, "10.1.1.10", both=True)
    assert t.disposition == Disposition.ACCEPTED
    nodes = lab.nodes(t)
    assert nodes.index(p.east.id) < nodes.index(p.west.id) < nodes.index(p.y.id)
    assert f"over peering attachment {p.peering.id}" in t.hops[nodes.index(p.west.id)].detail
    # The reply leaves the accepter's side over the same attachment, back to the requester.
    assert t.return_trace is not None
    assert t.return_trace.disposition == Disposition.ACCEPTED
    back = lab.nodes(t.return_trace)
    assert back.index(p.west.id) < back.index(p.east.id) < back.index(p.x.id)


def test_a_peering_attachment_not_accepted_carries_nothing(lab: Lab) -> None:
    p = peered(lab, state="pendingAcceptance")
    t = lab.trace(p.x, "10.1.1.10")
    assert t.disposition == Disposition.NULL_ROUTED
    assert t.hops[-1].node == p.east.id and t.hops[-1].code == "BAD_STATE_ATTACHMENT"
    assert "pendingAcceptance" in t.reason
    p.peering.state = "rejected"
    assert lab.trace(p.x, "10.1.1.10").hops[-1].code == "BAD_STATE_ATTACHMENT"


def test_prefix_list_reference_routes_its_entries_below_static_routes(lab: Lab) -> None:
    p = peered(lab)
    p.east_table.routes.clear()
    plist = lab.prefix_list("10.1.1.0/24")
    t = lab.trace(p.x, "10.1.1.10")
    assert t.disposition == Disposition.NO_ROUTE  # nothing routes 10.1.0.0/16 any more
    p.east_table.prefix_list_references.append(
        TransitGatewayPrefixListReference(plist.id, p.peering.id))
    t = lab.trace(p.x, "10.1.1.10")
    assert t.disposition == Disposition.ACCEPTED
    assert "10.1.1.0/24" in t.hops[lab.nodes(t).index(p.east.id)].detail
    # A static route for the same prefix wins over the reference (TG-6).
    p.east_table.routes.append(TransitGatewayRoute(parse_cidr("10.1.1.0/24"), "static",
                                                   "blackhole"))
    assert lab.trace(p.x, "10.1.1.10").disposition == Disposition.NULL_ROUTED
    p.east_table.routes.clear()
    # A blackhole reference drops what its entries cover.
    p.east_table.prefix_list_references[0] = TransitGatewayPrefixListReference(
        plist.id, None, blackhole=True)
    t = lab.trace(p.x, "10.1.1.10")
    assert t.disposition == Disposition.NULL_ROUTED
    assert t.hops[-1].code == "TGW_RTB_BAD_STATE_ROUTE"
