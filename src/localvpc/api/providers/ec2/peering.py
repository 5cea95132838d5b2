"""VPC peering connections: request, accept, reject, delete, describe, options (PX-1..PX-9).

One ``VpcPeeringConnection`` serves both sides: the requester sees it in its account and
Region, the accepter in its own. Only ``active`` connections carry traffic, and routes that
target a connection follow its status (ST-2): ``active`` while it is active, else
``blackhole``.
"""

from __future__ import annotations

from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    error,
    new_id,
    paginate,
    persist_new,
    select_ids,
    tags_list,
)
from localvpc.api.providers.ec2.encryption_controls import refuse_if_any_enforced
from localvpc.api.providers.ec2.routing import refresh_route_states
from localvpc.model.network import Network
from localvpc.model.peering import VpcPeeringConnection
from localvpc.model.vpc import Vpc

# Statuses that still hold the pair of VPCs (PX-4: at most one per pair).
LIVE = ("initiating-request", "pending-acceptance", "provisioning", "active")
FAILED_MESSAGE = "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"


# ------------------------------------------------------------------ sides
def requester_account(p: VpcPeeringConnection) -> str:
    return p.requester_account or p.account


def requester_region(p: VpcPeeringConnection) -> str:
    return p.requester_region or p.region


def accepter_account(p: VpcPeeringConnection, net: Network) -> str:
    if p.accepter_account:
        return p.accepter_account
    vpc = net.vpcs.get(p.accepter_vpc_id)
    return vpc.account if vpc is not None else p.account


def accepter_region(p: VpcPeeringConnection, net: Network) -> str:
    if p.accepter_region:
        return p.accepter_region
    vpc = net.vpcs.get(p.accepter_vpc_id)
    return vpc.region if vpc is not None else p.region


def is_requester(ctx: RequestContext, p: VpcPeeringConnection) -> bool:
    return (requester_account(p), requester_region(p)) == (ctx.account, ctx.region)


def is_accepter(ctx: RequestContext, p: VpcPeeringConnection) -> bool:
    net = ctx.state.network
    return (accepter_account(p, net), accepter_region(p, net)) == (ctx.account, ctx.region)


def visible(ctx: RequestContext) -> dict[str, VpcPeeringConnection]:
    """The connections the caller sees: those it requested or was asked to accept, in the
    Region of its side."""
    return {k: p for k, p in ctx.state.network.peering_connections.items()
            if is_requester(ctx, p) or is_accepter(ctx, p)}


def status_message(p: VpcPeeringConnection, net: Network, code: str | None = None) -> str:
    code = code or p.status
    return {
        "initiating-request": f"Initiating Request to {accepter_account(p, net)}",
        "pending-acceptance": f"Pending Acceptance by {accepter_account(p, net)}",
        "provisioning": "Provisioning",
        "active": "Active",
        "failed": FAILED_MESSAGE,
        "rejected": "Rejected",
        "expired": "Expired",
        "deleting": "Deleting",
        "deleted": "Deleted",
    }.get(code, code)


def _vpc_info(vpc_id: str, account: str, region: str, vpc: Vpc | None, show_cidrs: bool,
              allow_dns: bool | None) -> dict[str, Any]:
    info: dict[str, Any] = {"VpcId": vpc_id, "OwnerId": account, "Region": region}
    if vpc is not None and show_cidrs:
        v4 = [c for c in vpc.cidrs if c.version == 4]
        info["CidrBlock"] = str(v4[0]) if v4 else None
        info["CidrBlockSet"] = [{"CidrBlock": str(c)} for c in v4]
        info["Ipv6CidrBlockSet"] = [{"Ipv6CidrBlock": str(c)} for c in vpc.ipv6_cidrs]
    if allow_dns is not None:
        info["PeeringOptions"] = {"AllowDnsResolutionFromRemoteVpc": allow_dns,
                                  "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
                                  "AllowEgressFromLocalVpcToRemoteClassicLink": False}
    return info


def peering_view(p: VpcPeeringConnection, net: Network, status: str | None = None
                 ) -> dict[str, Any]:
    """As AWS shows it: the requester's CIDRs always, the accepter's once it is active, and
    the peering options only on an active connection."""
    active = p.status == "active"
    code = status or p.status
    return {
        "VpcPeeringConnectionId": p.id,
        "Status": {"Code": code, "Message": status_message(p, net, code)},
        "RequesterVpcInfo": _vpc_info(p.requester_vpc_id, requester_account(p),
                                      requester_region(p), net.vpcs.get(p.requester_vpc_id),
                                      True, p.requester_allow_dns if active else None),
        "AccepterVpcInfo": _vpc_info(p.accepter_vpc_id, accepter_account(p, net),
                                     accepter_region(p, net), net.vpcs.get(p.accepter_vpc_id),
                                     active, p.accepter_allow_dns if active else None),
        "Tags": tags_list(p.tags),
    }


def _cidrs(p: VpcPeeringConnection, net: Network, side: str) -> list[str]:
    vpc = net.vpcs.get(p.requester_vpc_id if side == "requester" else p.accepter_vpc_id)
    if vpc is None or (side == "accepter" and p.status != "active"):
        return []
    return [str(c) for c in vpc.cidrs]


def _filters(net: Network) -> dict[str, Any]:
    return {
        "vpc-peering-connection-id": lambda p: [p.id],
        "status-code": lambda p: [p.status],
        "status-message": lambda p: [status_message(p, net)],
        "requester-vpc-info.vpc-id": lambda p: [p.requester_vpc_id],
        "requester-vpc-info.owner-id": lambda p: [requester_account(p)],
        "requester-vpc-info.cidr-block": lambda p: _cidrs(p, net, "requester"),
        "accepter-vpc-info.vpc-id": lambda p: [p.accepter_vpc_id],
        "accepter-vpc-info.owner-id": lambda p: [accepter_account(p, net)],
        "accepter-vpc-info.cidr-block": lambda p: _cidrs(p, net, "accepter"),
    }


def _overlap(a: Vpc, b: Vpc) -> bool:
    """PX-3: any IPv4 block of one overlaps any IPv4 block of the other, or any IPv6 ones."""
    return any(x.version == y.version and x.overlaps(y)
               for x in a.all_cidrs for y in b.all_cidrs)


class PeeringOperations:
    def _pcx(self, ctx: RequestContext, pcx_id: str) -> VpcPeeringConnection:
        pcx = visible(ctx).get(pcx_id)
        if pcx is None:
            raise error("InvalidVpcPeeringConnectionID.NotFound",
                        f"The vpcPeeringConnection ID '{pcx_id}' does not exist")
        return pcx

    def CreateVpcPeeringConnection(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        net = ctx.state.network
        vpc_id, peer_id = params.get("VpcId"), params.get("PeerVpcId")
        if not vpc_id:
            raise error("MissingParameter", "The request must contain the parameter vpcId")
        if not peer_id:
            raise error("MissingParameter", "The request must contain the parameter "
                        "peerVpcId")
        vpc = net.vpcs.get(vpc_id)
        if vpc is None or (vpc.account, vpc.region) != (ctx.account, ctx.region):
            raise error("InvalidVpcID.NotFound", f"The vpc ID '{vpc_id}' does not exist")
        peer_account = params.get("PeerOwnerId") or ctx.account
        peer_region = params.get("PeerRegion") or ctx.region
        if peer_id == vpc_id and (peer_account, peer_region) == (ctx.account, ctx.region):
            raise error("InvalidParameterValue", f"The requested VPC peering connection "
                        f"between {vpc_id} and {peer_id} is not valid: a VPC cannot be peered "
                        "with itself (PX-4).")
        peer = net.vpcs.get(peer_id)
        if peer is not None and (peer.account, peer.region) != (peer_account, peer_region):
            peer = None
        local_peer = (peer_account, peer_region) == (ctx.account, ctx.region)
        if peer is None and local_peer:
            raise error("InvalidVpcID.NotFound", f"The vpc ID '{peer_id}' does not exist")
        pair = {vpc_id, peer_id}
        for other in net.peering_connections.values():
            if peer is not None and other.status in LIVE and {other.requester_vpc_id,
                                         other.accepter_vpc_id} == pair:  # PX-4
                raise error("VpcPeeringConnectionAlreadyExists", f"A VPC peering connection "
                            f"between {vpc_id} and {peer_id} already exists: {other.id} "
                            f"({other.status}).")
        refuse_if_any_enforced(net, (vpc_id, peer_id), "VpcPeering")
        # A peer VPC that does not exist in another account or Region, or overlapping
        # blocks (PX-3), give a connection in the failed state rather than an error.
        failed = peer is None or _overlap(vpc, peer)
        pcx = VpcPeeringConnection(
            new_id("pcx"), ctx.account, ctx.region, requester_vpc_id=vpc_id,
            accepter_vpc_id=peer_id, requester_account=ctx.account,
            accepter_account=peer_account, requester_region=ctx.region,
            accepter_region=peer_region,
            status="failed" if failed else "pending-acceptance")
        apply_tag_specs(pcx, params, "vpc-peering-connection")
        persist_new(ctx, pcx)
        # AWS answers before the request reaches the peer, so the answer says
        # initiating-request; DescribeVpcPeeringConnections shows where it went.
        return {"VpcPeeringConnection": peering_view(pcx, net, status="initiating-request")}

    def AcceptVpcPeeringConnection(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        net = ctx.state.network
        pcx = self._pcx(ctx, params["VpcPeeringConnectionId"])
        if not is_accepter(ctx, pcx):  # PX-2
            raise error("OperationNotPermitted", f"User {ctx.account} cannot accept peering "
                        f"{pcx.id}: only the owner of {pcx.accepter_vpc_id} can, in "
                        f"{accepter_region(pcx, net)}.")
        if pcx.status != "pending-acceptance":
            raise error("InvalidStateTransition", f"Invalid state transition for "
                        f"pcx {pcx.id}, attempted to transition from {pcx.status} to active")
        refuse_if_any_enforced(net, (pcx.requester_vpc_id, pcx.accepter_vpc_id), "VpcPeering")
        with ctx.state.write() as w:
            pcx.status = "active"
            w.save(pcx)
            refresh_route_states(net, w)
        return {"VpcPeeringConnection": peering_view(pcx, net)}

    def RejectVpcPeeringConnection(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        net = ctx.state.network
        pcx = self._pcx(ctx, params["VpcPeeringConnectionId"])
        if not is_accepter(ctx, pcx):
            raise error("OperationNotPermitted", f"User {ctx.account} cannot reject peering "
                        f"{pcx.id}: only the owner of {pcx.accepter_vpc_id} can.")
        if pcx.status != "pending-acceptance":
            raise error("InvalidStateTransition", f"Invalid state transition for "
                        f"pcx {pcx.id}, attempted to transition from {pcx.status} to "
                        "rejected")
        with ctx.state.write() as w:
            pcx.status = "rejected"
            w.save(pcx)
            refresh_route_states(net, w)
        return {"Return": True}

    def DeleteVpcPeeringConnection(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        net = ctx.state.network
        pcx = self._pcx(ctx, params["VpcPeeringConnectionId"])
        if pcx.status == "pending-acceptance" and not is_requester(ctx, pcx):  # PX-2
            raise error("OperationNotPermitted", f"Only the requester can delete the pending "
                        f"peering request {pcx.id}; reject it instead.")
        if pcx.status not in ("pending-acceptance", "active", "provisioning"):
            raise error("InvalidStateTransition", f"Invalid state transition for "
                        f"pcx {pcx.id}, attempted to transition from {pcx.status} to deleted")
        with ctx.state.write() as w:
            pcx.status = "deleted"  # PX-1: the record stays visible as deleted
            w.save(pcx)
            refresh_route_states(net, w)
        return {"Return": True}

    def DescribeVpcPeeringConnections(self, ctx: RequestContext, params: dict[str, Any]
                                      ) -> dict[str, Any]:
        net = ctx.state.network
        found = select_ids(visible(ctx), params.get("VpcPeeringConnectionIds"),
                           "vpcPeeringConnection", "InvalidVpcPeeringConnectionID.NotFound")
        found = apply_filters(found, params.get("Filters"), _filters(net))
        page, token = paginate(found, params, lambda p: p.id)
        return {"VpcPeeringConnections": [peering_view(p, net) for p in page],
                "NextToken": token}

    def ModifyVpcPeeringConnectionOptions(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        net = ctx.state.network
        pcx = self._pcx(ctx, params["VpcPeeringConnectionId"])
        requester = params.get("RequesterPeeringConnectionOptions")
        accepter = params.get("AccepterPeeringConnectionOptions")
        if requester is None and accepter is None:
            raise error("MissingParameter", "The request must contain "
                        "requesterPeeringConnectionOptions or "
                        "accepterPeeringConnectionOptions")
        if pcx.status != "active":  # PX-9
            raise error("InvalidStateTransition", f"Peering connection {pcx.id} is "
                        f"{pcx.status}; its options can be changed only while it is active.")
        for side, given, mine in (("requester", requester, is_requester(ctx, pcx)),
                                  ("accepter", accepter, is_accepter(ctx, pcx))):
            if given is not None and not mine:  # each owner sets only its own side
                raise error("OperationNotPermitted", f"User {ctx.account} cannot modify the "
                            f"{side} options of peering {pcx.id}: only the {side} VPC's "
                            "owner can, in its Region.")
        wants_dns = any((o or {}).get("AllowDnsResolutionFromRemoteVpc")
                        for o in (requester, accepter))
        if wants_dns:
            for vid in (pcx.requester_vpc_id, pcx.accepter_vpc_id):
                vpc = net.vpcs.get(vid)
                if vpc is None or not (vpc.enable_dns_hostnames and vpc.enable_dns_support):
                    raise error("InvalidVpcPeeringConnectionState.DnsHostnamesDisabled",
                                f"Peering {pcx.id}: DNS hostnames and DNS support must be "
                                f"enabled on {vid} to allow DNS resolution from the remote "
                                "VPC.")
        out: dict[str, Any] = {}
        with ctx.state.write() as w:
            if requester is not None:
                value = requester.get("AllowDnsResolutionFromRemoteVpc")
                if value is not None:
                    pcx.requester_allow_dns = bool(value)
                out["RequesterPeeringConnectionOptions"] = self._pcx_options(
                    pcx.requester_allow_dns)
            if accepter is not None:
                value = accepter.get("AllowDnsResolutionFromRemoteVpc")
                if value is not None:
                    pcx.accepter_allow_dns = bool(value)
                out["AccepterPeeringConnectionOptions"] = self._pcx_options(pcx.accepter_allow_dns)
            w.save(pcx)
        return out

    @staticmethod
    def _pcx_options(allow_dns: bool) -> dict[str, bool]:
        return {"AllowDnsResolutionFromRemoteVpc": allow_dns,
                "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
                "AllowEgressFromLocalVpcToRemoteClassicLink": False}
