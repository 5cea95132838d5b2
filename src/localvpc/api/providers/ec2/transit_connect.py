"""Transit Gateway Connect: GRE attachments over a VPC (or Direct Connect) transport
attachment, and their Connect peers (one GRE tunnel with two BGP sessions each).

A Connect attachment is a ``TransitGatewayAttachment`` of type ``connect`` whose
``transport_attachment_id`` names the transport; like any attachment it is associated with and
propagates into the default tables (TG-2). What it would propagate is learned over BGP from
the appliance, which localvpc does not run: it propagates nothing, and its peers' BGP status
is ``down`` until something models the appliance's side.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    error,
    new_id,
    paginate,
    select_ids,
    tags_list,
)
from localvpc.api.providers.ec2.transit import (
    attachment_of_type,
    auto_attach,
    delete_attachment,
    describe_attachments,
    tgw_owner,
    visible_attachments,
)
from localvpc.model.base import IPNetwork
from localvpc.model.network import Network
from localvpc.model.transit import (
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayConnectPeer,
)

TRANSPORTS = ("vpc", "direct-connect-gateway")
PEERS_PER_CONNECT = 4
LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")
ULA = ipaddress.IPv6Network("fd00::/8")
# Inside CIDRs AWS keeps for itself (Transit Gateway guide, "Connect peers").
RESERVED_INSIDE = tuple(ipaddress.ip_network(c) for c in (
    "169.254.0.0/29", "169.254.1.0/29", "169.254.2.0/29", "169.254.3.0/29",
    "169.254.4.0/29", "169.254.5.0/29", "169.254.169.248/29"))


def connect_view(a: TransitGatewayAttachment, state: str | None = None) -> dict[str, Any]:
    return {"TransitGatewayAttachmentId": a.id,
            "TransportTransitGatewayAttachmentId": a.transport_attachment_id,
            "TransitGatewayId": a.transit_gateway_id, "State": state or a.state,
            "Options": {"Protocol": a.options.get("Protocol", "gre")},
            "Tags": tags_list(a.tags)}


def _bgp_addresses(block: IPNetwork) -> tuple[str, list[str]]:
    """The appliance takes the first address of an inside block, the transit gateway the
    second and third (its two BGP sessions)."""
    first = block.network_address + 1
    return str(first), [str(first + 1), str(first + 2)]


def peer_view(p: TransitGatewayConnectPeer, state: str | None = None) -> dict[str, Any]:
    sessions = []
    for text in p.inside_cidrs:
        peer_ip, tgw_ips = _bgp_addresses(ipaddress.ip_network(text))
        sessions += [{"TransitGatewayAsn": p.transit_gateway_asn, "PeerAsn": p.peer_asn,
                      "TransitGatewayAddress": ip, "PeerAddress": peer_ip,
                      "BgpStatus": "down"} for ip in tgw_ips]
    return {"TransitGatewayAttachmentId": p.attachment_id,
            "TransitGatewayConnectPeerId": p.id, "State": state or p.state,
            "ConnectPeerConfiguration": {
                "TransitGatewayAddress": p.transit_gateway_address,
                "PeerAddress": p.peer_address, "InsideCidrBlocks": list(p.inside_cidrs),
                "Protocol": "gre", "BgpConfigurations": sessions},
            "Tags": tags_list(p.tags)}


CONNECT_FILTERS = {
    "options.protocol": lambda a: [a.options.get("Protocol", "gre")],
    "state": lambda a: [a.state],
    "transit-gateway-attachment-id": lambda a: [a.id],
    "transit-gateway-id": lambda a: [a.transit_gateway_id],
    "transport-transit-gateway-attachment-id": lambda a: [a.transport_attachment_id or ""],
}
PEER_FILTERS = {
    "state": lambda p: [p.state],
    "transit-gateway-attachment-id": lambda p: [p.attachment_id],
    "transit-gateway-connect-peer-id": lambda p: [p.id],
}


def _inside_cidrs(net: Network, tgw_id: str, given: list[str]) -> list[str]:
    """One IPv4 /29 from 169.254.0.0/16 (not reserved), optionally one IPv6 /125 from
    fd00::/8, neither used by another Connect peer of the same transit gateway."""
    blocks: list[IPNetwork] = []
    for text in given:
        try:
            block = ipaddress.ip_network(text.strip())
        except ValueError:
            raise error("InvalidParameterValue", f"Value ({text}) for parameter "
                        "InsideCidrBlocks is invalid. This is not a valid CIDR block.") from None
        if isinstance(block, ipaddress.IPv4Network) and (
                block.prefixlen != 29 or not block.subnet_of(LINK_LOCAL)):
            raise error("InvalidParameterValue", f"The inside CIDR block {text} must be a /29 "
                        "from 169.254.0.0/16.")
        if isinstance(block, ipaddress.IPv6Network) and (
                block.prefixlen != 125 or not block.subnet_of(ULA)):
            raise error("InvalidParameterValue", f"The inside CIDR block {text} must be a "
                        "/125 from fd00::/8.")
        if any(block.overlaps(r) for r in RESERVED_INSIDE):
            raise error("InvalidParameterValue", f"The inside CIDR block {text} is reserved "
                        "by AWS.")
        blocks.append(block)
    versions = [b.version for b in blocks]
    if versions.count(4) != 1 or versions.count(6) > 1:
        raise error("InvalidParameterValue", "InsideCidrBlocks takes exactly one IPv4 /29 "
                    "and at most one IPv6 /125.")
    used = {ipaddress.ip_network(c) for p in net.transit_gateway_connect_peers.values()
            if (a := net.transit_gateway_attachments.get(p.attachment_id)) is not None
            and a.transit_gateway_id == tgw_id for c in p.inside_cidrs}
    for block in blocks:
        if any(block.overlaps(u) for u in used):
            raise error("InvalidParameterValue", f"The inside CIDR block {block} is already "
                        f"used by another Connect peer of {tgw_id}.")
    return [str(b) for b in blocks]


def _tgw_address(net: Network, tgw: TransitGateway, given: str | None, family: int) -> str:
    """The GRE address on the transit gateway's side: from one of its CIDR blocks, by
    default the first one free."""
    blocks = [ipaddress.ip_network(c) for c in
              (tgw.options.get("TransitGatewayCidrBlocks") or "").split(",") if c]
    if not blocks:
        raise error("InvalidParameterValue", f"Transit Gateway {tgw.id} has no transit "
                    "gateway CIDR block to take the Connect peer's address from; add one "
                    "with ModifyTransitGateway or CreateTransitGateway.")
    taken = {p.transit_gateway_address for p in net.transit_gateway_connect_peers.values()}
    if given:
        try:
            address = ipaddress.ip_address(given)
        except ValueError:
            raise error("InvalidParameterValue", f"Value ({given}) for parameter "
                        "TransitGatewayAddress is invalid.") from None
        if not any(address in b for b in blocks):
            raise error("InvalidParameterValue", f"The transit gateway address {given} is not "
                        f"in a CIDR block of {tgw.id}.")
        if str(address) in taken:
            raise error("InvalidParameterValue", f"The transit gateway address {given} is "
                        "already in use.")
        return str(address)
    for block in blocks:
        if block.version != family:
            continue
        for offset in range(min(block.num_addresses, 65536)):
            candidate = str(block.network_address + offset)
            if candidate not in taken:
                return candidate
    raise error("InsufficientCidrBlocks", f"Transit Gateway {tgw.id} has no free address "
                "of that family in its CIDR blocks.")


class TransitGatewayConnectOperations:
    def _connect(self, ctx: RequestContext, att_id: str) -> TransitGatewayAttachment:
        return attachment_of_type(ctx, att_id, "connect")

    def CreateTransitGatewayConnect(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        net = ctx.state.network
        transport_id = params["TransportTransitGatewayAttachmentId"]
        transport = visible_attachments(ctx).get(transport_id)
        if transport is None:
            raise error("InvalidTransitGatewayAttachmentID.NotFound", f"Transit Gateway "
                        f"Attachment {transport_id} was deleted or does not exist.")
        if transport.resource_type not in TRANSPORTS:
            raise error("InvalidParameterValue", f"{transport_id} is a "
                        f"{transport.resource_type} attachment; a Connect attachment runs "
                        "over a VPC or Direct Connect gateway attachment.")
        if transport.state != "available":
            raise error("IncorrectState", f"Transit Gateway Attachment {transport_id} is in "
                        f"{transport.state} state.")
        tgw = net.transit_gateways.get(transport.transit_gateway_id)
        if tgw is None or tgw_owner(tgw) != ctx.account:
            raise error("OperationNotPermitted", f"Only the owner of "
                        f"{transport.transit_gateway_id} can create Connect attachments.")
        protocol = (params.get("Options") or {}).get("Protocol")
        if protocol != "gre":
            raise error("InvalidParameterValue", f"Value ({protocol}) for parameter "
                        "Options.Protocol is invalid. Valid value: gre.")
        att = TransitGatewayAttachment(
            new_id("tgw-attach"), ctx.account, ctx.region, transit_gateway_id=tgw.id,
            resource_type="connect", resource_id=transport.id, resource_owner=ctx.account,
            transport_attachment_id=transport.id, options={"Protocol": "gre"})
        apply_tag_specs(att, params, "transit-gateway-attachment")
        with ctx.state.write() as w:
            net.add(att)
            auto_attach(net, tgw, att, w)
            w.save(att)
        return {"TransitGatewayConnect": connect_view(att, state="pending")}

    def DescribeTransitGatewayConnects(self, ctx: RequestContext, params: dict[str, Any]
                                       ) -> dict[str, Any]:
        page, token = describe_attachments(ctx, params, "connect", CONNECT_FILTERS)
        return {"TransitGatewayConnects": [connect_view(a) for a in page],
                "NextToken": token}

    def DeleteTransitGatewayConnect(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        net = ctx.state.network
        att = self._connect(ctx, params["TransitGatewayAttachmentId"])
        peers = sorted(p.id for p in net.transit_gateway_connect_peers.values()
                       if p.attachment_id == att.id)
        if peers:
            raise error("DependencyViolation", f"{att.id} has Connect peers "
                        f"({', '.join(peers)}); delete them first.")
        view = connect_view(att, state="deleting")
        delete_attachment(ctx, att)
        return {"TransitGatewayConnect": view}

    # ------------------------------------------------------------------ Connect peers
    def CreateTransitGatewayConnectPeer(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        net = ctx.state.network
        att = self._connect(ctx, params["TransitGatewayAttachmentId"])
        tgw = net.transit_gateways[att.transit_gateway_id]
        if sum(1 for p in net.transit_gateway_connect_peers.values()
               if p.attachment_id == att.id) >= PEERS_PER_CONNECT:
            raise error("TransitGatewayConnectPeerLimitExceeded", f"{att.id} already has "
                        f"{PEERS_PER_CONNECT} Connect peers.")
        try:
            peer_ip = ipaddress.ip_address(params["PeerAddress"])
        except ValueError:
            raise error("InvalidParameterValue", f"Value ({params['PeerAddress']}) for "
                        "parameter PeerAddress is invalid.") from None
        inside = _inside_cidrs(net, tgw.id, list(params.get("InsideCidrBlocks") or []))
        tgw_ip = _tgw_address(net, tgw, params.get("TransitGatewayAddress"), peer_ip.version)
        if ipaddress.ip_address(tgw_ip).version != peer_ip.version:
            raise error("InvalidParameterValue", "The peer address and the transit gateway "
                        "address must be of the same IP address family.")
        asn = (params.get("BgpOptions") or {}).get("PeerAsn")
        asn = tgw.amazon_side_asn if asn is None else int(asn)
        if not 1 <= asn <= 4294967294:
            raise error("InvalidParameterValue", f"Value ({asn}) for parameter PeerAsn is "
                        "invalid. An ASN is 1-4294967294.")
        peer = TransitGatewayConnectPeer(
            new_id("tgw-connect-peer"), ctx.account, ctx.region, attachment_id=att.id,
            transit_gateway_address=tgw_ip, peer_address=str(peer_ip), inside_cidrs=inside,
            peer_asn=asn, transit_gateway_asn=tgw.amazon_side_asn)
        apply_tag_specs(peer, params, "transit-gateway-connect-peer")
        with ctx.state.write() as w:
            net.add(peer)
            w.save(peer)
        return {"TransitGatewayConnectPeer": peer_view(peer, state="pending")}

    def _connect_peers(self, ctx: RequestContext) -> dict[str, TransitGatewayConnectPeer]:
        seen = visible_attachments(ctx)
        return {k: p for k, p in ctx.state.network.transit_gateway_connect_peers.items()
                if p.attachment_id in seen}

    def DescribeTransitGatewayConnectPeers(self, ctx: RequestContext, params: dict[str, Any]
                                           ) -> dict[str, Any]:
        found = select_ids(self._connect_peers(ctx), params.get("TransitGatewayConnectPeerIds"),
                           "transitGatewayConnectPeer",
                           "InvalidTransitGatewayConnectPeerID.NotFound")
        found = apply_filters(found, params.get("Filters"), PEER_FILTERS)
        page, token = paginate(found, params, lambda p: p.id)
        return {"TransitGatewayConnectPeers": [peer_view(p) for p in page],
                "NextToken": token}

    def DeleteTransitGatewayConnectPeer(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        net = ctx.state.network
        peer_id = params["TransitGatewayConnectPeerId"]
        peer = self._connect_peers(ctx).get(peer_id)
        if peer is None:
            raise error("InvalidTransitGatewayConnectPeerID.NotFound", f"Transit Gateway "
                        f"Connect Peer {peer_id} was deleted or does not exist.")
        view = peer_view(peer, state="deleting")
        with ctx.state.write() as w:
            del net.transit_gateway_connect_peers[peer.id]
            w.deleted.append(("transit_gateway_connect_peers", peer.id))
        return {"TransitGatewayConnectPeer": view}
