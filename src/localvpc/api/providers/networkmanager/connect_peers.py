"""Connect peers on core network Connect attachments: GRE tunnels and tunnel-less
(NO_ENCAP) BGP peers to an appliance in the transport VPC.

AWS validates a Connect peer in two stages, and so does this module. Input that is wrong on
its face (not an address, options of the other protocol, mixed address families, no peer
ASN) is a ``ValidationException`` and creates nothing. Checks against the network itself
fail the peer after creation: it is stored ``FAILED`` with ``LastModificationErrors`` whose
codes are botocore's ``ConnectPeerErrorCode`` (the edge has no inside CIDR block for the
address family, every address is taken, a duplicate peer, a bad BGP inside CIDR, a subnet
that is not in the transport VPC, a peer address outside that subnet). Create answers
``CREATING``, as for attachments; the next Get shows ``AVAILABLE`` or ``FAILED``.

Addressing (AWS's Connect peer guide): a GRE peer's core network address is the first free
address of the edge's inside CIDR blocks (or the one given, which must lie in them); its BGP
inside CIDR is a /29 of 169.254.0.0/16 (and optionally a /125 of fd00::/8) whose first host
is the appliance's BGP address and the next two the core network's two BGP addresses. A
NO_ENCAP peer's two core network BGP addresses are the first free hosts of its subnet.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.networkmanager.common import (
    Params,
    attachment,
    check_advertised,
    delete,
    global_network,
    new_id,
    not_found,
    now,
    paginate,
    parse_arn,
    save,
    tags_list,
    tags_param,
    validation,
)
from localvpc.model.base import IPAddress, IPNetwork, first_free_block
from localvpc.model.cloudwan import (
    CONNECT,
    DELETING,
    FAILED,
    REJECTED,
    ConnectPeer,
    ConnectPeerBgpConfiguration,
    ConnectPeerError,
    CoreNetwork,
    CoreNetworkAttachment,
)
from localvpc.model.vpc import Subnet

GRE, NO_ENCAP = "GRE", "NO_ENCAP"
BGP_V4 = ipaddress.ip_network("169.254.0.0/16")
BGP_V6 = ipaddress.ip_network("fd00::/8")
# The /29s AWS keeps for itself (as for transit gateway Connect peers).
RESERVED_V4 = tuple(ipaddress.ip_network(c) for c in (
    "169.254.0.0/29", "169.254.1.0/29", "169.254.2.0/29", "169.254.3.0/29",
    "169.254.4.0/29", "169.254.5.0/29", "169.254.169.248/29"))


class PeerFailed(Exception):
    """A network check failed: the peer is kept FAILED with this ``ConnectPeerErrorCode``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ------------------------------------------------------------------ views
def connect_peer_view(p: ConnectPeer, state: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "CoreNetworkId": p.core_network_id, "ConnectAttachmentId": p.connect_attachment_id,
        "ConnectPeerId": p.id, "EdgeLocation": p.region, "State": state or p.state,
        "CreatedAt": p.created,
        "Configuration": {
            "CoreNetworkAddress": p.core_network_address, "PeerAddress": p.peer_address,
            "InsideCidrBlocks": p.inside_cidr_blocks, "Protocol": p.protocol,
            "BgpConfigurations": [
                {"CoreNetworkAsn": b.core_network_asn, "PeerAsn": b.peer_asn,
                 "CoreNetworkAddress": b.core_network_address, "PeerAddress": b.peer_address}
                for b in p.bgp_configurations]},
        "Tags": tags_list(p.tags), "SubnetArn": p.subnet_arn}
    if p.errors:
        out["LastModificationErrors"] = [{"Code": e.code, "Message": e.message}
                                         for e in p.errors]
    return out


def summary_view(p: ConnectPeer) -> dict[str, Any]:
    return {"CoreNetworkId": p.core_network_id, "ConnectAttachmentId": p.connect_attachment_id,
            "ConnectPeerId": p.id, "EdgeLocation": p.region, "ConnectPeerState": p.state,
            "CreatedAt": p.created, "Tags": tags_list(p.tags), "SubnetArn": p.subnet_arn}


# ------------------------------------------------------------------ input checks
def _address(value: Any, field: str) -> IPAddress:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        raise validation(f"{value} is not a valid IP address.", field) from None


def _peer_asn(params: Params) -> int:
    asn = (params.get("BgpOptions") or {}).get("PeerAsn")
    if asn is None:
        # ASSUMED: AWS's guide asks for the peer ASN of every BGP session it sets up.
        raise validation("BgpOptions.PeerAsn is required.", "BgpOptions")
    if not 1 <= int(asn) <= 4294967295:
        raise validation(f"Peer ASN {asn} is not in 1-4294967295.", "BgpOptions")
    return int(asn)


def _visible(ctx: RequestContext, p: ConnectPeer) -> bool:
    """The peer's owner and the core network's owner see it (as for attachments)."""
    if p.account == ctx.account:
        return True
    cn = ctx.state.network.core_networks.get(p.core_network_id)
    return cn is not None and cn.account == ctx.account


def _peer(ctx: RequestContext, rid: str) -> ConnectPeer:
    p = ctx.state.network.core_network_connect_peers.get(rid)
    if p is None or not _visible(ctx, p):
        raise not_found(rid, "connect-peer")
    return p


def _others(ctx: RequestContext, edge: str, core_id: str) -> list[ConnectPeer]:
    """The working peers of the same core network at ``edge``."""
    return [p for p in ctx.state.network.core_network_connect_peers.values()
            if p.core_network_id == core_id and p.region == edge and p.state != FAILED]


# ------------------------------------------------------------------ network checks
def _gre_core_address(ctx: RequestContext, cn: CoreNetwork, att: CoreNetworkAttachment,
                      given: IPAddress | None, peer: IPAddress) -> str:
    edge = next((e for e in cn.edges if e.location == att.region), None)
    blocks = [ipaddress.ip_network(c, strict=False) for c in (edge.inside_cidr_blocks
                                                                if edge else [])]
    blocks = [b for b in blocks if b.version == peer.version]
    if not blocks:
        raise PeerFailed("NO_ASSOCIATED_CIDR_BLOCK", f"The core network edge in {att.region} "
                         f"has no IPv{peer.version} inside CIDR block.")
    used = {p.core_network_address for p in _others(ctx, att.region, cn.id)}
    if given is not None:
        if not any(given in b for b in blocks):
            raise PeerFailed("NO_ASSOCIATED_CIDR_BLOCK", f"{given} is not in an inside CIDR "
                             f"block of the core network edge in {att.region}.")
        if str(given) in used:
            # ASSUMED: one peer per core network address at an edge.
            raise PeerFailed("EDGE_LOCATION_PEER_DUPLICATE", f"Core network address {given} "
                             f"is already used by a Connect peer in {att.region}.")
        return str(given)
    for block in blocks:
        for host in block.hosts():
            if str(host) not in used:
                return str(host)
    raise PeerFailed("EDGE_LOCATION_NO_FREE_IPS", f"The inside CIDR blocks of the core network "
                     f"edge in {att.region} have no free address.")


def _inside_cidrs(ctx: RequestContext, att: CoreNetworkAttachment, given: list[IPNetwork]
                  ) -> list[IPNetwork]:
    taken = [ipaddress.ip_network(c) for p in _others(ctx, att.region, att.core_network_id)
             for c in p.inside_cidr_blocks]
    if not given:
        # ASSUMED: AWS's console asks for the /29; without one, the first free one is used.
        free = first_free_block([BGP_V4], 29, [*RESERVED_V4, *taken])
        if free is not None:
            return [free]
        raise PeerFailed("INVALID_INSIDE_CIDR_BLOCK", "No free /29 is left in 169.254.0.0/16.")
    if len({n.version for n in given}) != len(given):
        raise PeerFailed("INVALID_INSIDE_CIDR_BLOCK", "At most one IPv4 and one IPv6 inside "
                         "CIDR block may be given.")
    for n in given:
        if n.version == 4 and not (n.prefixlen == 29 and n.subnet_of(BGP_V4)):  # type: ignore[arg-type]
            raise PeerFailed("INVALID_INSIDE_CIDR_BLOCK", f"The IPv4 inside CIDR block {n} must "
                             "be a /29 of 169.254.0.0/16.")
        if n.version == 6 and not (n.prefixlen == 125 and n.subnet_of(BGP_V6)):  # type: ignore[arg-type]
            raise PeerFailed("INVALID_INSIDE_CIDR_BLOCK", f"The IPv6 inside CIDR block {n} must "
                             "be a /125 of fd00::/8.")
        if n.version == 4 and any(n.overlaps(r) for r in RESERVED_V4):
            raise PeerFailed("INVALID_INSIDE_CIDR_BLOCK", f"The inside CIDR block {n} is "
                             "reserved by AWS.")
        if any(n.overlaps(t) for t in taken if t.version == n.version):
            # ASSUMED: inside CIDR blocks are unique per edge, as per transit gateway.
            raise PeerFailed("INVALID_INSIDE_CIDR_BLOCK", f"The inside CIDR block {n} overlaps "
                             f"one of another Connect peer in {att.region}.")
    return given


def _subnet(ctx: RequestContext, att: CoreNetworkAttachment, arn: str) -> Subnet:
    """The NO_ENCAP peer's subnet: in the transport attachment's VPC."""
    parts = parse_arn(arn)
    subnet = ctx.state.network.subnets.get(parts["id"]) if parts else None
    transport = ctx.state.network.core_network_attachments.get(
        att.transport_attachment_id or "")
    if subnet is None or transport is None or subnet.vpc_id != transport.resource_id \
            or subnet.region != att.region:
        raise PeerFailed("SUBNET_NOT_FOUND", f"Subnet {arn} is not a subnet of the transport "
                         f"VPC in {att.region}.")
    return subnet


def _subnet_addresses(ctx: RequestContext, subnet: Subnet, core_id: str, peer: IPAddress
                      ) -> list[str]:
    """Two free hosts of the subnet (after AWS's four reserved, not used by an interface,
    the peer or another peer) for the core network's BGP sessions."""
    assert subnet.cidr is not None
    used = {str(peer)}
    for eni in ctx.state.network.network_interfaces.values():
        if eni.subnet_id == subnet.id:
            used.update(str(ip.address) for ip in eni.private_ips)
    for p in _others(ctx, subnet.region, core_id):
        used.update(b.core_network_address for b in p.bgp_configurations)
    hosts = [str(h) for h in list(subnet.cidr.hosts())[3:] if str(h) not in used]
    if len(hosts) < 2:
        raise PeerFailed("EDGE_LOCATION_NO_FREE_IPS", f"Subnet {subnet.id} has no two free "
                         "addresses for the core network's BGP peers.")
    return hosts[:2]


def _configure(ctx: RequestContext, cn: CoreNetwork, att: CoreNetworkAttachment,
               p: ConnectPeer, asn: int, given_core: IPAddress | None,
               peer: IPAddress, inside: list[IPNetwork]) -> None:
    """Fill in the peer's addresses and BGP sessions, or raise :class:`PeerFailed`."""
    edge_asn = next((e.asn for e in cn.edges if e.location == att.region), 0)
    if any(o.peer_address == p.peer_address and o.connect_attachment_id == att.id
           for o in _others(ctx, att.region, cn.id)):
        raise PeerFailed("EDGE_LOCATION_PEER_DUPLICATE", f"Connect attachment {att.id} already "
                         f"has a Connect peer with peer address {p.peer_address}.")
    if p.protocol == GRE:
        p.core_network_address = _gre_core_address(ctx, cn, att, given_core, peer)
        blocks = _inside_cidrs(ctx, att, inside)
        p.inside_cidr_blocks = [str(b) for b in blocks]
        for block in blocks:
            first, second, third = (str(block.network_address + i) for i in (1, 2, 3))
            p.bgp_configurations += [ConnectPeerBgpConfiguration(edge_asn, asn, a, first)
                                     for a in (second, third)]
        return
    subnet = _subnet(ctx, att, p.subnet_arn or "")
    if subnet.cidr is None or peer not in subnet.cidr:
        raise PeerFailed("IP_OUTSIDE_SUBNET_CIDR_RANGE", f"Peer address {peer} is not in "
                         f"subnet {subnet.id} ({subnet.cidr}).")
    addresses = _subnet_addresses(ctx, subnet, cn.id, peer)
    p.core_network_address = addresses[0]
    p.bgp_configurations = [ConnectPeerBgpConfiguration(edge_asn, asn, a, str(peer))
                            for a in addresses]


class ConnectPeerOperations:
    def CreateConnectPeer(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        att = attachment(ctx, params["ConnectAttachmentId"])
        if att.attachment_type != CONNECT:
            raise not_found(att.id, "attachment")
        if att.state in (REJECTED, FAILED, DELETING):
            raise validation(f"Connect attachment {att.id} is {att.state}.",
                             "ConnectAttachmentId")
        cn = ctx.state.network.core_networks.get(att.core_network_id)
        if cn is None:
            raise not_found(att.core_network_id, "core-network")
        protocol = att.protocol or GRE
        peer = _address(params["PeerAddress"], "PeerAddress")
        given_core = (_address(params["CoreNetworkAddress"], "CoreNetworkAddress")
                      if params.get("CoreNetworkAddress") else None)
        inside: list[IPNetwork] = []
        for c in params.get("InsideCidrBlocks") or []:
            try:
                inside.append(ipaddress.ip_network(c))
            except ValueError:
                raise validation(f"{c} is not a valid CIDR block.", "InsideCidrBlocks") from None
        asn = _peer_asn(params)
        if protocol == GRE:
            if params.get("SubnetArn"):
                raise validation("SubnetArn applies only to NO_ENCAP Connect peers.",
                                 "SubnetArn")
            if given_core is not None and given_core.version != peer.version:
                raise validation("The peer address and the core network address must be of "
                                 "the same IP address family.", "CoreNetworkAddress")
        else:
            if not params.get("SubnetArn"):
                raise validation("SubnetArn is required for NO_ENCAP Connect peers.",
                                 "SubnetArn")
            for name in ("CoreNetworkAddress", "InsideCidrBlocks"):
                if params.get(name):
                    raise validation(f"{name} applies only to GRE Connect peers.", name)
        tags = tags_param(params)
        check_advertised(tags)  # what the appliance advertises over BGP (cloudwan.advertised)
        p = ConnectPeer(id=new_id("connect-peer"), account=ctx.account, region=att.region,
                        tags=tags, connect_attachment_id=att.id,
                        core_network_id=cn.id, protocol=protocol, peer_address=str(peer),
                        subnet_arn=params.get("SubnetArn"), created=now())
        try:
            _configure(ctx, cn, att, p, asn, given_core, peer, inside)
        except PeerFailed as failure:
            p.state = FAILED
            p.errors = [ConnectPeerError(failure.code, failure.message)]
            p.bgp_configurations = []
        save(ctx, p, new=True)
        return {"ConnectPeer": connect_peer_view(p, "CREATING")}

    def GetConnectPeer(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        return {"ConnectPeer": connect_peer_view(_peer(ctx, params["ConnectPeerId"]))}

    def ListConnectPeers(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        items = [p for p in ctx.state.network.core_network_connect_peers.values()
                 if _visible(ctx, p)
                 and params.get("CoreNetworkId") in (None, p.core_network_id)
                 and params.get("ConnectAttachmentId") in (None, p.connect_attachment_id)]
        page, token = paginate(items, params, lambda p: p.id)
        return {"ConnectPeers": [summary_view(p) for p in page], "NextToken": token}

    def DeleteConnectPeer(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        p = _peer(ctx, params["ConnectPeerId"])
        delete(ctx, ("core_network_connect_peers", p.id))
        return {"ConnectPeer": connect_peer_view(p, DELETING)}

    def GetConnectPeerAssociations(self, ctx: RequestContext, params: Params
                                   ) -> dict[str, Any]:
        """Associations of Connect peers with on-premises devices and links. Devices and
        links are not modelled, so there are none; the global network and every named peer
        must still exist (AWS's not-found errors)."""
        gn = global_network(ctx, params["GlobalNetworkId"])
        for rid in params.get("ConnectPeerIds") or []:
            p = _peer(ctx, rid)
            cn = ctx.state.network.core_networks.get(p.core_network_id)
            if cn is None or cn.global_network_id != gn.id:
                raise not_found(rid, "connect-peer")
        return {"ConnectPeerAssociations": [], "NextToken": None}
