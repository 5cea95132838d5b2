"""Transit gateway peering attachments: request, accept, reject, delete, describe.

A peering attachment joins two transit gateways, in the same or another Region and account.
It is one resource (one id) stored on the requester's side: ``transit_gateway_id`` is the
requester's gateway, ``peer_transit_gateway_id``/``resource_owner``/``peer_region`` the
accepter's. The requester sees it in its Region, the accepter in the peer Region
(``transit.visible_attachments``). Lifecycle: ``pendingAcceptance`` until the accepter accepts
(``available``) or rejects (``rejected``); deletion by either side removes it and turns static
routes to it into blackholes (TG-7). Peering attachments are never associated or propagated by
default, and never propagate at all (TG-5): each side associates it with one of its tables and
adds static routes to it, and the data plane carries traffic only while it is ``available``.
"""

from __future__ import annotations

import re
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_tag_specs,
    error,
    new_id,
    tags_list,
)
from localvpc.api.providers.ec2.routing import refresh_route_states
from localvpc.api.providers.ec2.transit import (
    ENABLE,
    accepter_side,
    attachment_of_type,
    core_network_of,
    delete_attachment,
    describe_attachments,
    tgw_owner,
)
from localvpc.model.network import Network
from localvpc.model.transit import TransitGateway, TransitGatewayAttachment

ACCOUNT_ID = re.compile(r"\d{12}")
REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
# Peering attachments that still hold the pair of gateways (a rejected one does not).
HOLDING = ("initiatingRequest", "pendingAcceptance", "pending", "available", "modifying")


def _tgw_info(net: Network, tgw_id: str, owner: str, region: str) -> dict[str, Any]:
    tgw = net.transit_gateways.get(tgw_id)
    return {"TransitGatewayId": tgw_id, "OwnerId": tgw_owner(tgw) if tgw else owner,
            "Region": tgw.region if tgw else region}


def peering_view(a: TransitGatewayAttachment, net: Network, state: str | None = None
                 ) -> dict[str, Any]:
    state = state or a.state
    core = core_network_of(a)
    accepter = {"CoreNetworkId": core, "OwnerId": a.resource_owner or a.account,
                "Region": a.region} if core else _tgw_info(
        net, a.peer_transit_gateway_id or a.resource_id, a.resource_owner or a.account,
        a.peer_region or a.region)
    return {
        "TransitGatewayAttachmentId": a.id,
        "RequesterTgwInfo": _tgw_info(net, a.transit_gateway_id, a.account, a.region),
        "AccepterTgwInfo": accepter,
        "Options": {"DynamicRouting": a.options.get("DynamicRouting", "disable")},
        "Status": {"Code": state, "Message": _MESSAGES.get(state, state)},
        "State": state, "Tags": tags_list(a.tags)}


_MESSAGES = {
    "initiatingRequest": "Initiating Request", "pendingAcceptance": "Pending Acceptance",
    "pending": "Pending", "available": "Available", "rejecting": "Rejecting",
    "rejected": "Rejected", "deleting": "Deleting", "deleted": "Deleted",
}


def _filters(ctx: RequestContext) -> dict[str, Any]:
    """AWS's filters; ``transit-gateway-id`` matches either side, ``local-owner-id`` and
    ``remote-owner-id`` are relative to the caller."""
    def remote(a: TransitGatewayAttachment) -> list[str]:
        return [a.account if accepter_side(a, ctx.account, ctx.region)
                else a.resource_owner or a.account]
    return {
        "transit-gateway-attachment-id": lambda a: [a.id],
        "transit-gateway-id": lambda a: [a.transit_gateway_id,
                                         a.peer_transit_gateway_id or a.resource_id],
        "local-owner-id": lambda a: [ctx.account], "remote-owner-id": remote,
        "state": lambda a: [a.state],
    }


class TransitGatewayPeeringOperations:
    def _peering(self, ctx: RequestContext, att_id: str) -> TransitGatewayAttachment:
        return attachment_of_type(ctx, att_id, "peering")

    def CreateTransitGatewayPeeringAttachment(self, ctx: RequestContext,
                                              params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        tgw_id, peer_id = params["TransitGatewayId"], params["PeerTransitGatewayId"]
        peer_account, peer_region = params["PeerAccountId"], params["PeerRegion"]
        tgw = net.transit_gateways.get(tgw_id)
        if tgw is None or tgw.region != ctx.region or tgw_owner(tgw) != ctx.account:
            raise error("InvalidTransitGatewayID.NotFound", f"Transit Gateway {tgw_id} was "
                        "deleted or does not exist.")
        if not ACCOUNT_ID.fullmatch(peer_account):
            raise error("InvalidParameterValue", f"Value ({peer_account}) for parameter "
                        "PeerAccountId is invalid. An account ID is 12 digits.")
        if not REGION.fullmatch(peer_region):
            raise error("InvalidParameterValue", f"Value ({peer_region}) for parameter "
                        "PeerRegion is invalid. It is not a known Region.")
        if peer_id == tgw_id:
            raise error("InvalidParameterValue", f"Transit Gateway {tgw_id} cannot peer with "
                        "itself.")
        peer = net.transit_gateways.get(peer_id)
        if peer is None or peer.region != peer_region or tgw_owner(peer) != peer_account:
            # The peer must exist where the request says it is (account and Region).
            raise error("InvalidTransitGatewayID.NotFound", f"Transit Gateway {peer_id} was "
                        f"deleted or does not exist in account {peer_account}, Region "
                        f"{peer_region}.")
        for g in (tgw, peer):
            if g.state != "available":
                raise error("IncorrectState", f"Transit Gateway {g.id} is {g.state}.")
        pair = {tgw.id, peer.id}
        for other in net.transit_gateway_attachments.values():
            if other.resource_type == "peering" and other.state in HOLDING and \
                    {other.transit_gateway_id, other.peer_transit_gateway_id} == pair:
                raise error("DuplicateTransitGatewayAttachment", f"A peering attachment "
                            f"between {tgw.id} and {peer.id} already exists: {other.id}.")
        dynamic = (params.get("Options") or {}).get("DynamicRouting") or "disable"
        if dynamic not in ENABLE:
            raise error("InvalidParameterValue", f"Value ({dynamic}) for parameter "
                        "DynamicRouting is invalid.")
        att = TransitGatewayAttachment(
            new_id("tgw-attach"), ctx.account, ctx.region, transit_gateway_id=tgw.id,
            resource_type="peering", resource_id=peer.id, resource_owner=peer_account,
            state="pendingAcceptance", peer_transit_gateway_id=peer.id,
            peer_region=peer_region, options={"DynamicRouting": dynamic})
        apply_tag_specs(att, params, "transit-gateway-attachment")
        with ctx.state.write() as w:
            net.add(att)
            w.save(att)
        return {"TransitGatewayPeeringAttachment": peering_view(att, net, "initiatingRequest")}

    def _pending_for_accepter(self, ctx: RequestContext, params: dict[str, Any], verb: str
                              ) -> tuple[TransitGateway | None, TransitGatewayAttachment]:
        net = ctx.state.network
        att = self._peering(ctx, params["TransitGatewayAttachmentId"])
        # The peer gateway's owner in the peer Region (with both gateways in one account and
        # Region, that account accepts its own request).
        if att.resource_owner != ctx.account or (att.peer_region or att.region) != ctx.region:
            raise error("OperationNotPermitted", f"Account {ctx.account} in {ctx.region} "
                        f"cannot {verb} {att.id}: only the owner of "
                        f"{att.peer_transit_gateway_id}, in {att.peer_region or att.region}, "
                        "can.")
        if att.state != "pendingAcceptance":
            raise error("IncorrectState", f"Transit Gateway Attachment {att.id} is in "
                        f"{att.state} state; only a pendingAcceptance attachment can be "
                        f"{verb}ed.")
        return net.transit_gateways.get(att.peer_transit_gateway_id or ""), att

    def AcceptTransitGatewayPeeringAttachment(self, ctx: RequestContext,
                                              params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        _, att = self._pending_for_accepter(ctx, params, "accept")
        with ctx.state.write() as w:
            att.state = "available"
            w.save(att)
            refresh_route_states(net, w)
        return {"TransitGatewayPeeringAttachment": peering_view(att, net, "pending")}

    def RejectTransitGatewayPeeringAttachment(self, ctx: RequestContext,
                                              params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        _, att = self._pending_for_accepter(ctx, params, "reject")
        with ctx.state.write() as w:
            att.state = "rejected"
            w.save(att)
        return {"TransitGatewayPeeringAttachment": peering_view(att, net, "rejecting")}

    def DeleteTransitGatewayPeeringAttachment(self, ctx: RequestContext,
                                              params: dict[str, Any]) -> dict[str, Any]:
        """Either side may delete it, in any state (the requester withdraws a pending
        request this way)."""
        net = ctx.state.network
        att = self._peering(ctx, params["TransitGatewayAttachmentId"])
        core = core_network_of(att)
        if core is not None:  # ASSUMED: Network Manager owns it (DeletePeering removes it)
            raise error("OperationNotPermitted", f"{att.id} peers with core network {core}; "
                        "delete the Cloud WAN peering instead.")
        view = peering_view(att, net, "deleting")
        delete_attachment(ctx, att)
        return {"TransitGatewayPeeringAttachment": view}

    def DescribeTransitGatewayPeeringAttachments(self, ctx: RequestContext,
                                                 params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        page, token = describe_attachments(ctx, params, "peering", _filters(ctx))
        return {"TransitGatewayPeeringAttachments": [peering_view(a, net) for a in page],
                "NextToken": token}
