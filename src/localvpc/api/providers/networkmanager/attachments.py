"""Core network attachments (VPC, Site-to-Site VPN, Connect, transit gateway route table)
and core network <-> transit gateway peerings (cloudwan.md §5, AP-1..AP-8).

An attachment's segment comes from the LIVE policy's attachment policies, evaluated on the
attachment's own tags (``cloudwan.compile.plan_attachment``); acceptance moves it on. AWS
creates attachments and peerings asynchronously: Create answers ``CREATING`` and the next
Get shows where the attachment landed (``AVAILABLE`` or ``PENDING_ATTACHMENT_ACCEPTANCE``).
The core network's own account attaches, and so does an account the owner shares the core
network with through RAM (``common.attachable_core_network``).
"""

from __future__ import annotations

from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.transit_policy import (
    core_peering_attachment,
    forget_core_peering_attachment,
)
from localvpc.api.providers.networkmanager.common import (
    Params,
    attachable_core_network,
    attachment,
    attachment_arn,
    conflict,
    core_network,
    delete,
    new_id,
    not_found,
    now,
    paginate,
    parse_arn,
    peering,
    save,
    tags_list,
    tags_param,
    validation,
)
from localvpc.api.providers.networkmanager.networks import live_policy
from localvpc.cloudwan.compile import apply_plan, plan_attachment
from localvpc.cloudwan.policy import Policy
from localvpc.model.cloudwan import (
    AVAILABLE,
    CONNECT,
    CREATING,
    DELETING,
    DIRECT_CONNECT_GATEWAY,
    PENDING_ATTACHMENT_ACCEPTANCE,
    PENDING_TAG_ACCEPTANCE,
    REJECTED,
    SITE_TO_SITE_VPN,
    TRANSIT_GATEWAY_ROUTE_TABLE,
    VPC,
    CoreNetwork,
    CoreNetworkAttachment,
    CoreNetworkPeering,
)
from localvpc.model.vpc import Subnet

VPC_OPTIONS = ("Ipv6Support", "ApplianceModeSupport", "DnsSupport",
               "SecurityGroupReferencingSupport")


# ------------------------------------------------------------------ views
def attachment_view(att: CoreNetworkAttachment, cn: CoreNetwork | None,
                    state: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "CoreNetworkId": att.core_network_id,
        "CoreNetworkArn": cn.arn if cn is not None else None,
        "AttachmentId": att.id, "OwnerAccountId": att.account,
        "AttachmentType": att.attachment_type, "State": state or att.state,
        "EdgeLocation": None if att.edge_locations else att.region,
        "EdgeLocations": list(att.edge_locations) or None, "ResourceArn": att.resource_arn,
        "AttachmentPolicyRuleNumber": att.attachment_policy_rule_number,
        "SegmentName": att.segment_name,
        "NetworkFunctionGroupName": att.network_function_group_name,
        "Tags": tags_list(att.tags), "CreatedAt": att.created, "UpdatedAt": att.updated}
    p = att.proposed_segment_change
    if p is not None and p.segment_name is not None:
        out["ProposedSegmentChange"] = {"Tags": tags_list(p.tags), "SegmentName": p.segment_name,
                                        "AttachmentPolicyRuleNumber": p.rule_number}
    if p is not None and p.network_function_group_name is not None:
        out["ProposedNetworkFunctionGroupChange"] = {
            "Tags": tags_list(p.tags), "NetworkFunctionGroupName": p.network_function_group_name,
            "AttachmentPolicyRuleNumber": p.rule_number}
    return out


def vpc_attachment_view(att: CoreNetworkAttachment, cn: CoreNetwork | None,
                        state: str | None = None) -> dict[str, Any]:
    return {"Attachment": attachment_view(att, cn, state), "SubnetArns": att.subnet_arns,
            "Options": {k: att.options.get(k, k == "DnsSupport") for k in VPC_OPTIONS}}


def typed_view(att: CoreNetworkAttachment, cn: CoreNetwork | None, state: str | None = None
               ) -> dict[str, Any]:
    """The attachment in the shape of its type's Get/Create answer."""
    if att.attachment_type == VPC:
        return {"VpcAttachment": vpc_attachment_view(att, cn, state)}
    base = attachment_view(att, cn, state)
    if att.attachment_type == SITE_TO_SITE_VPN:
        return {"SiteToSiteVpnAttachment": {"Attachment": base,
                                            "VpnConnectionArn": att.resource_arn}}
    if att.attachment_type == CONNECT:
        return {"ConnectAttachment": {"Attachment": base,
                                      "TransportAttachmentId": att.transport_attachment_id,
                                      "Options": {"Protocol": att.protocol}}}
    if att.attachment_type == DIRECT_CONNECT_GATEWAY:
        return {"DirectConnectGatewayAttachment": {"Attachment": base,
                                                   "DirectConnectGatewayArn": att.resource_arn}}
    return {"TransitGatewayRouteTableAttachment": {"Attachment": base,
                                                   "PeeringId": att.peering_id,
                                                   "TransitGatewayRouteTableArn":
                                                   att.resource_arn}}


def peering_view(p: CoreNetworkPeering, cn: CoreNetwork | None, state: str | None = None
                 ) -> dict[str, Any]:
    return {"CoreNetworkId": p.core_network_id, "CoreNetworkArn": cn.arn if cn else None,
            "PeeringId": p.id, "OwnerAccountId": p.account, "PeeringType": p.peering_type,
            "State": state or p.state, "EdgeLocation": p.region,
            "ResourceArn": p.transit_gateway_arn, "Tags": tags_list(p.tags),
            "CreatedAt": p.created}


def tgw_peering_view(p: CoreNetworkPeering, cn: CoreNetwork | None, state: str | None = None
                     ) -> dict[str, Any]:
    return {"TransitGatewayPeering": {
        "Peering": peering_view(p, cn, state), "TransitGatewayArn": p.transit_gateway_arn,
        "TransitGatewayPeeringAttachmentId": p.transit_gateway_peering_attachment_id}}


# ------------------------------------------------------------------ helpers
def _core_with_policy(ctx: RequestContext, core_id: str) -> tuple[CoreNetwork, Policy]:
    cn = attachable_core_network(ctx, core_id)
    policy = live_policy(cn)
    if policy is None:
        raise validation(f"Core network {cn.id} has no LIVE policy: execute a policy version "
                         "before attaching to it.", "CoreNetworkId")
    return cn, policy


def _edge(cn: CoreNetwork, region: str, field: str) -> None:
    if region not in {e.location for e in cn.edges}:
        raise validation(f"{region} is not an edge location of core network {cn.id}.", field)


def _ec2_resource(ctx: RequestContext, arn: str, kind: str, table: str, field: str) -> Any:
    parts = parse_arn(arn)
    if parts is None or parts["service"] != "ec2" or parts["kind"] != kind:
        raise validation(f"Invalid {kind} ARN {arn}.", field)
    resource = getattr(ctx.state.network, table).get(parts["id"])
    if resource is None or resource.account != ctx.account or resource.region != parts["region"]:
        raise not_found(parts["id"], kind)
    return resource


def _subnets(ctx: RequestContext, arns: list[str], vpc_id: str, field: str) -> list[Subnet]:
    subnets: list[Subnet] = [_ec2_resource(ctx, a, "subnet", "subnets", field) for a in arns]
    zones: set[str] = set()
    for s in subnets:
        if s.vpc_id != vpc_id:
            raise validation(f"Subnet {s.id} is not in {vpc_id}.", field)
        if s.availability_zone in zones:
            raise validation(f"Only one subnet per Availability Zone may be given "
                             f"({s.availability_zone}).", field)
        zones.add(s.availability_zone)
    return subnets


def _attach(ctx: RequestContext, cn: CoreNetwork, policy: Policy, att: CoreNetworkAttachment
            ) -> None:
    """Evaluate the new attachment under the LIVE policy and store it."""
    for other in ctx.state.network.core_network_attachments.values():
        if (other.core_network_id == cn.id and other.resource_arn == att.resource_arn
                and att.attachment_type != CONNECT and other.state not in (REJECTED, DELETING)):
            raise conflict(f"{att.resource_id} is already attached to core network {cn.id} "
                           f"({other.id}).", other.id, "attachment")
    att.created = att.updated = now()
    apply_plan(att, plan_attachment(policy, att))
    save(ctx, att, new=True)


def _new(ctx: RequestContext, cn: CoreNetwork, params: Params, kind: str, edge: str,
         resource_arn: str, resource_id: str) -> CoreNetworkAttachment:
    return CoreNetworkAttachment(id=new_id("attachment"), account=ctx.account, region=edge,
                                 tags=tags_param(params), core_network_id=cn.id,
                                 attachment_type=kind, resource_arn=resource_arn,
                                 resource_id=resource_id, state=CREATING)


def _core_of(ctx: RequestContext, att: CoreNetworkAttachment) -> CoreNetwork | None:
    return ctx.state.network.core_networks.get(att.core_network_id)


def _typed(ctx: RequestContext, rid: str, kind: str) -> CoreNetworkAttachment:
    att = attachment(ctx, rid)
    if att.attachment_type != kind:
        raise not_found(rid, "attachment")
    return att


def _wanted(params: Params, **values: str) -> bool:
    """Each list filter given in ``params`` equals the resource's value."""
    return all(params.get(k) in (None, v) for k, v in values.items())


class AttachmentOperations:
    # ------------------------------------------------------------------ create
    def CreateVpcAttachment(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        cn, policy = _core_with_policy(ctx, params["CoreNetworkId"])
        vpc = _ec2_resource(ctx, params["VpcArn"], "vpc", "vpcs", "VpcArn")
        _edge(cn, vpc.region, "VpcArn")
        arns = list(params.get("SubnetArns") or [])
        if not arns:
            raise validation("At least one subnet ARN is required.", "SubnetArns")
        _subnets(ctx, arns, vpc.id, "SubnetArns")
        att = _new(ctx, cn, params, VPC, vpc.region, params["VpcArn"], vpc.id)
        att.subnet_arns = arns
        att.options = {k: bool(v) for k, v in (params.get("Options") or {}).items()
                       if k in VPC_OPTIONS}
        _attach(ctx, cn, policy, att)
        return {"VpcAttachment": vpc_attachment_view(att, cn, CREATING)}

    def CreateSiteToSiteVpnAttachment(self, ctx: RequestContext, params: Params
                                      ) -> dict[str, Any]:
        cn, policy = _core_with_policy(ctx, params["CoreNetworkId"])
        arn = params["VpnConnectionArn"]
        vpn = _ec2_resource(ctx, arn, "vpn-connection", "vpn_connections", "VpnConnectionArn")
        if vpn.vpn_gateway_id or vpn.transit_gateway_id:
            raise validation(f"VPN connection {vpn.id} is already associated with a gateway "
                             "(VPN_EXISTING_ASSOCIATIONS).", "VpnConnectionArn")
        _edge(cn, vpn.region, "VpnConnectionArn")
        att = _new(ctx, cn, params, SITE_TO_SITE_VPN, vpn.region, arn, vpn.id)
        _attach(ctx, cn, policy, att)
        return typed_view(att, cn, CREATING)

    def CreateTransitGatewayRouteTableAttachment(self, ctx: RequestContext, params: Params
                                                 ) -> dict[str, Any]:
        p = peering(ctx, params["PeeringId"])
        cn, policy = _core_with_policy(ctx, p.core_network_id)
        arn = params["TransitGatewayRouteTableArn"]
        table = _ec2_resource(ctx, arn, "transit-gateway-route-table",
                              "transit_gateway_route_tables", "TransitGatewayRouteTableArn")
        tgw = parse_arn(p.transit_gateway_arn)
        if tgw is None or table.transit_gateway_id != tgw["id"]:
            raise validation(f"Route table {table.id} is not a table of the peered transit "
                             "gateway.", "TransitGatewayRouteTableArn")
        att = _new(ctx, cn, params, TRANSIT_GATEWAY_ROUTE_TABLE, p.region, arn, table.id)
        att.peering_id = p.id
        _attach(ctx, cn, policy, att)
        return typed_view(att, cn, CREATING)

    def CreateConnectAttachment(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        cn, policy = _core_with_policy(ctx, params["CoreNetworkId"])
        edge = params["EdgeLocation"]
        _edge(cn, edge, "EdgeLocation")
        transport = attachment(ctx, params["TransportAttachmentId"])
        if transport.core_network_id != cn.id or transport.attachment_type != VPC \
                or transport.region != edge:
            raise validation(f"Transport attachment {transport.id} must be a VPC attachment of "
                             f"core network {cn.id} in {edge}.", "TransportAttachmentId")
        att = _new(ctx, cn, params, CONNECT, edge, attachment_arn(transport), transport.id)
        att.transport_attachment_id = transport.id
        att.protocol = (params.get("Options") or {}).get("Protocol") or "GRE"
        _attach(ctx, cn, policy, att)
        return typed_view(att, cn, CREATING)

    # ------------------------------------------------------------------ read
    def GetVpcAttachment(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        att = _typed(ctx, params["AttachmentId"], VPC)
        return typed_view(att, _core_of(ctx, att))

    def GetSiteToSiteVpnAttachment(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        att = _typed(ctx, params["AttachmentId"], SITE_TO_SITE_VPN)
        return typed_view(att, _core_of(ctx, att))

    def GetConnectAttachment(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        att = _typed(ctx, params["AttachmentId"], CONNECT)
        return typed_view(att, _core_of(ctx, att))

    def GetTransitGatewayRouteTableAttachment(self, ctx: RequestContext, params: Params
                                              ) -> dict[str, Any]:
        att = _typed(ctx, params["AttachmentId"], TRANSIT_GATEWAY_ROUTE_TABLE)
        return typed_view(att, _core_of(ctx, att))

    def ListAttachments(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        net = ctx.state.network
        mine_cores = {c.id for c in net.core_networks.values() if c.account == ctx.account}
        items = [a for a in net.core_network_attachments.values()
                 if (a.account == ctx.account or a.core_network_id in mine_cores)
                 and _wanted(params, CoreNetworkId=a.core_network_id,
                             AttachmentType=a.attachment_type, State=a.state)
                 and params.get("EdgeLocation") in (None, *a.edges)]
        page, token = paginate(items, params, lambda a: a.id)
        return {"Attachments": [attachment_view(a, _core_of(ctx, a)) for a in page],
                "NextToken": token}

    # ------------------------------------------------------------------ change
    def AcceptAttachment(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        att = attachment(ctx, params["AttachmentId"])
        cn = core_network(ctx, att.core_network_id)  # only the core network owner accepts
        if att.state not in (PENDING_ATTACHMENT_ACCEPTANCE, PENDING_TAG_ACCEPTANCE):
            raise validation(f"Attachment {att.id} is {att.state}; only an attachment pending "
                             "acceptance can be accepted.", "AttachmentId")
        policy = live_policy(cn)
        if policy is not None:
            apply_plan(att, plan_attachment(policy, att, accept=True))
        att.updated = now()
        save(ctx, att)
        return {"Attachment": attachment_view(att, cn)}

    def RejectAttachment(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        att = attachment(ctx, params["AttachmentId"])
        cn = core_network(ctx, att.core_network_id)
        if att.state == PENDING_ATTACHMENT_ACCEPTANCE:
            att.state = REJECTED
        elif att.state == PENDING_TAG_ACCEPTANCE:
            # ASSUMED: a rejected tag change leaves the attachment where it was.
            att.state = AVAILABLE
        else:
            raise validation(f"Attachment {att.id} is {att.state}; only an attachment pending "
                             "acceptance can be rejected.", "AttachmentId")
        att.proposed_segment_change = None
        att.updated = now()
        save(ctx, att)
        return {"Attachment": attachment_view(att, cn)}

    def DeleteAttachment(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        att = attachment(ctx, params["AttachmentId"])
        users = [a.id for a in ctx.state.network.core_network_attachments.values()
                 if a.transport_attachment_id == att.id]
        if users:
            raise conflict(f"Attachment {att.id} is the transport of Connect attachment "
                           f"{users[0]}; delete that first.", att.id, "attachment")
        peers = [p.id for p in ctx.state.network.core_network_connect_peers.values()
                 if p.connect_attachment_id == att.id]
        if peers:
            raise conflict(f"Connect attachment {att.id} still has Connect peer {peers[0]}; "
                           "delete it first.", att.id, "attachment")
        delete(ctx, ("core_network_attachments", att.id))
        return {"Attachment": attachment_view(att, _core_of(ctx, att), DELETING)}

    def UpdateVpcAttachment(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        att = _typed(ctx, params["AttachmentId"], VPC)
        arns = [a for a in att.subnet_arns if a not in (params.get("RemoveSubnetArns") or [])]
        arns += [a for a in params.get("AddSubnetArns") or [] if a not in arns]
        if not arns:
            raise validation("A VPC attachment needs at least one subnet.", "RemoveSubnetArns")
        _subnets(ctx, arns, att.resource_id, "AddSubnetArns")
        att.subnet_arns = arns
        for k, v in (params.get("Options") or {}).items():
            if k in VPC_OPTIONS:
                att.options[k] = bool(v)
        att.updated = now()
        save(ctx, att)
        return typed_view(att, _core_of(ctx, att))

    # ------------------------------------------------------------------ peerings
    def CreateTransitGatewayPeering(self, ctx: RequestContext, params: Params
                                    ) -> dict[str, Any]:
        cn = core_network(ctx, params["CoreNetworkId"])
        arn = params["TransitGatewayArn"]
        tgw = _ec2_resource(ctx, arn, "transit-gateway", "transit_gateways", "TransitGatewayArn")
        _edge(cn, tgw.region, "TransitGatewayArn")
        edge = next(e for e in cn.edges if e.location == tgw.region)
        if edge.asn == tgw.amazon_side_asn:
            raise validation(f"Transit gateway {tgw.id} has the ASN {tgw.amazon_side_asn} of "
                             f"the core network edge in {tgw.region} (CN-2).", "TransitGatewayArn")
        for other in ctx.state.network.core_network_peerings.values():
            if other.core_network_id == cn.id and other.transit_gateway_arn == arn:
                raise conflict(f"Transit gateway {tgw.id} is already peered with core network "
                               f"{cn.id} ({other.id}).", other.id, "peering")
        p = CoreNetworkPeering(id=new_id("peering"), account=ctx.account, region=tgw.region,
                               tags=tags_param(params), core_network_id=cn.id,
                               transit_gateway_arn=arn, created=now(),
                               transit_gateway_peering_attachment_id=new_id("tgw-attach"))
        save(ctx, p, core_peering_attachment(p, tgw, cn), new=True)
        return tgw_peering_view(p, cn, "CREATING")

    def GetTransitGatewayPeering(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        p = peering(ctx, params["PeeringId"])
        return tgw_peering_view(p, ctx.state.network.core_networks.get(p.core_network_id))

    def DeletePeering(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        p = peering(ctx, params["PeeringId"])
        users = [a.id for a in ctx.state.network.core_network_attachments.values()
                 if a.peering_id == p.id]
        if users:
            raise conflict(f"Peering {p.id} still carries transit gateway route table "
                           f"attachment {users[0]}.", p.id, "peering")
        forget_core_peering_attachment(ctx, p)
        delete(ctx, ("core_network_peerings", p.id))
        cn = ctx.state.network.core_networks.get(p.core_network_id)
        return {"Peering": peering_view(p, cn, DELETING)}

    def ListPeerings(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        items = [p for p in ctx.state.network.core_network_peerings.values()
                 if p.account == ctx.account
                 and _wanted(params, CoreNetworkId=p.core_network_id, PeeringType=p.peering_type,
                             EdgeLocation=p.region, State=p.state)]
        page, token = paginate(items, params, lambda p: p.id)
        nets = ctx.state.network.core_networks
        return {"Peerings": [peering_view(p, nets.get(p.core_network_id)) for p in page],
                "NextToken": token}

