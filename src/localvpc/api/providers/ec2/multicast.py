"""Transit gateway multicast: domains, subnet associations, static group members/sources.

A domain belongs to a transit gateway created with ``MulticastSupport=enable``. Subnets join
it through a VPC attachment of that gateway (each subnet must be one of the attachment's, and
a subnet is in at most one domain). Group membership is per network interface in an
associated subnet; registering *sources* needs the domain's ``StaticSourcesSupport``.

Cross-account: AWS shares a multicast domain itself through RAM. localvpc's RAM shares
transit gateways, not domains, so an account that sees a shared transit gateway also sees
its domains and may associate its own attachments with them; such an association waits in
``pendingAcceptance`` until the domain owner accepts (or rejects) it, unless the domain has
``AutoAcceptSharedAssociations=enable``.

Out of scope: the data plane does not carry multicast, so ``localvpc trace`` and the
Reachability Analyzer do not follow packets to group addresses; IGMP joins are not
modelled (only static registrations exist).
"""

from __future__ import annotations

import ipaddress
import time
from datetime import UTC, datetime
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
from localvpc.api.providers.ec2.transit import (
    tgw_options,
    tgw_owner,
    visible_attachments,
    visible_tgws,
)
from localvpc.model.base import IPAddress
from localvpc.model.interfaces import NetworkInterface
from localvpc.model.network import Network
from localvpc.model.transit import (
    MulticastDomainAssociation,
    MulticastGroupRegistration,
    TransitGatewayAttachment,
    TransitGatewayMulticastDomain,
)

DOMAIN_DEFAULTS = {"Igmpv2Support": "disable", "StaticSourcesSupport": "disable",
                   "AutoAcceptSharedAssociations": "disable"}
NOT_FOUND = "InvalidTransitGatewayMulticastDomainId.NotFound"
LIVE = ("associated", "pendingAcceptance")
MULTICAST_V4 = ipaddress.ip_network("224.0.0.0/4")
MULTICAST_V6 = ipaddress.ip_network("ff00::/8")


def domain_view(d: TransitGatewayMulticastDomain, state: str | None = None) -> dict[str, Any]:
    return {"TransitGatewayMulticastDomainId": d.id, "TransitGatewayId": d.transit_gateway_id,
            "TransitGatewayMulticastDomainArn":
                f"arn:aws:ec2:{d.region}:{d.account}:transit-gateway-multicast-domain/{d.id}",
            "OwnerId": d.account, "Options": {**DOMAIN_DEFAULTS, **d.options},
            "State": state or d.state,
            "CreationTime": datetime.fromtimestamp(d.created, tz=UTC),
            "Tags": tags_list(d.tags)}


DOMAIN_FILTERS = {
    "state": lambda d: [d.state],
    "transit-gateway-id": lambda d: [d.transit_gateway_id],
    "transit-gateway-multicast-domain-id": lambda d: [d.id],
}


def _owner_of(att: TransitGatewayAttachment) -> str:
    return att.resource_owner or att.account


def _association_rows(net: Network, d: TransitGatewayMulticastDomain, account: str
                      ) -> list[dict[str, Any]]:
    """One row per associated subnet; another account sees only its own attachments'."""
    rows = []
    for a in d.associations:
        att = net.transit_gateway_attachments.get(a.attachment_id)
        owner = _owner_of(att) if att is not None else d.account
        if account not in (d.account, owner):
            continue
        rows.append({"TransitGatewayAttachmentId": a.attachment_id,
                     "ResourceId": att.resource_id if att is not None else None,
                     "ResourceType": att.resource_type if att is not None else "vpc",
                     "ResourceOwnerId": owner,
                     "Subnet": {"SubnetId": a.subnet_id, "State": a.state}})
    return rows


ASSOCIATION_FILTERS = {
    "resource-id": lambda r: [r["ResourceId"]] if r["ResourceId"] else [],
    "resource-type": lambda r: [r["ResourceType"]],
    "state": lambda r: [r["Subnet"]["State"]],
    "subnet-id": lambda r: [r["Subnet"]["SubnetId"]],
    "transit-gateway-attachment-id": lambda r: [r["TransitGatewayAttachmentId"]],
}

GROUP_FILTERS = {
    "group-ip-address": lambda r: [r["GroupIpAddress"]],
    "is-group-member": lambda r: [r["GroupMember"]],
    "is-group-source": lambda r: [r["GroupSource"]],
    "member-type": lambda r: [r["MemberType"]] if r.get("MemberType") else [],
    "source-type": lambda r: [r["SourceType"]] if r.get("SourceType") else [],
    "resource-id": lambda r: [r["ResourceId"]],
    "resource-type": lambda r: [r["ResourceType"]],
    "subnet-id": lambda r: [r["SubnetId"]],
    "transit-gateway-attachment-id": lambda r: [r["TransitGatewayAttachmentId"]],
}


def _associations_view(d: TransitGatewayMulticastDomain, att: TransitGatewayAttachment,
                       subnets: list[tuple[str, str]]) -> dict[str, Any]:
    return {"Associations": {
        "TransitGatewayMulticastDomainId": d.id, "TransitGatewayAttachmentId": att.id,
        "ResourceId": att.resource_id, "ResourceType": att.resource_type,
        "ResourceOwnerId": _owner_of(att),
        "Subnets": [{"SubnetId": s, "State": state} for s, state in subnets]}}


def _group_ip(text: str | None) -> IPAddress:
    if not text:
        raise error("MissingParameter", "The request must contain the parameter "
                    "GroupIpAddress")
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        ip = None
    if ip is None or ip not in (MULTICAST_V4 if ip.version == 4 else MULTICAST_V6):
        raise error("InvalidParameterValue", f"Value ({text}) for parameter groupIpAddress "
                    "is invalid. It must be an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) "
                    "multicast address.")
    return ip


class MulticastOperations:
    # ------------------------------------------------------------------ lookups
    def _domains(self, ctx: RequestContext) -> dict[str, TransitGatewayMulticastDomain]:
        """Domains of the transit gateways the caller sees (its own, or shared with it)."""
        tgws = visible_tgws(ctx)
        return {k: d for k, d in ctx.state.network.transit_gateway_multicast_domains.items()
                if d.transit_gateway_id in tgws and d.region == ctx.region}

    def _domain(self, ctx: RequestContext, domain_id: str | None, owner_only: bool = False
                ) -> TransitGatewayMulticastDomain:
        if not domain_id:
            raise error("MissingParameter", "The request must contain the parameter "
                        "TransitGatewayMulticastDomainId")
        d = self._domains(ctx).get(domain_id)
        if d is None:
            raise error(NOT_FOUND, f"Transit Gateway Multicast Domain {domain_id} was "
                        "deleted or does not exist.")
        if owner_only and d.account != ctx.account:
            raise error("OperationNotPermitted", f"Account {ctx.account} cannot change "
                        f"{d.id}: only its owner {d.account} can.")
        return d

    def _domain_attachment(self, ctx: RequestContext, d: TransitGatewayMulticastDomain,
                           att_id: str | None) -> TransitGatewayAttachment:
        if not att_id:
            raise error("MissingParameter", "The request must contain the parameter "
                        "TransitGatewayAttachmentId")
        att = visible_attachments(ctx).get(att_id)
        if att is None:
            raise error("InvalidTransitGatewayAttachmentID.NotFound",
                        f"Transit Gateway Attachment {att_id} was deleted or does not exist.")
        if att.transit_gateway_id != d.transit_gateway_id:
            raise error("InvalidParameterValue", f"Transit Gateway Attachment {att.id} does "
                        f"not belong to {d.transit_gateway_id}, the transit gateway of "
                        f"{d.id}.")
        return att

    @staticmethod
    def _subnet_ids(params: dict[str, Any]) -> list[str]:
        ids = list(dict.fromkeys(params.get("SubnetIds") or []))
        if not ids:
            raise error("MissingParameter", "The request must contain the parameter "
                        "SubnetIds")
        return ids

    # ------------------------------------------------------------------ domains
    def CreateTransitGatewayMulticastDomain(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        tgw_id = params["TransitGatewayId"]
        tgw = visible_tgws(ctx).get(tgw_id)
        if tgw is None or tgw_owner(tgw) != ctx.account:
            raise error("InvalidTransitGatewayID.NotFound", f"Transit Gateway {tgw_id} was "
                        "deleted or does not exist.")
        if tgw_options(tgw).get("MulticastSupport") != "enable":
            # AWS's code for this case is not documented; the gateway's option is the
            # parameter at fault.
            raise error("InvalidParameterValue", f"Multicast support is not enabled on "
                        f"{tgw.id}: create the transit gateway with MulticastSupport=enable.")
        if tgw.state != "available":
            raise error("IncorrectState", f"Transit Gateway {tgw.id} is {tgw.state}.")
        options = dict(DOMAIN_DEFAULTS)
        for key, value in (params.get("Options") or {}).items():
            if key in DOMAIN_DEFAULTS:
                if value not in ("enable", "disable"):
                    raise error("InvalidParameterValue", f"Value ({value}) for parameter "
                                f"{key} is invalid. Valid values: enable, disable.")
                options[key] = value
        d = TransitGatewayMulticastDomain(new_id("tgw-mcast-domain"), ctx.account, ctx.region,
                                          transit_gateway_id=tgw.id, options=options,
                                          created=time.time())
        apply_tag_specs(d, params, "transit-gateway-multicast-domain")
        persist_new(ctx, d)
        return {"TransitGatewayMulticastDomain": domain_view(d, state="pending")}

    def DescribeTransitGatewayMulticastDomains(self, ctx: RequestContext,
                                               params: dict[str, Any]) -> dict[str, Any]:
        found = select_ids(self._domains(ctx), params.get("TransitGatewayMulticastDomainIds"),
                           "transitGatewayMulticastDomain", NOT_FOUND)
        found = apply_filters(found, params.get("Filters"), DOMAIN_FILTERS)
        page, token = paginate(found, params, lambda d: d.id, minimum=5, maximum=1000)
        return {"TransitGatewayMulticastDomains": [domain_view(d) for d in page],
                "NextToken": token}

    def DeleteTransitGatewayMulticastDomain(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        d = self._domain(ctx, params["TransitGatewayMulticastDomainId"], owner_only=True)
        live = sorted({a.subnet_id for a in d.associations if a.state in LIVE})
        if live:
            raise error("DependencyViolation", f"{d.id} has associated subnets "
                        f"({', '.join(live)}); disassociate them first.")
        with ctx.state.write() as w:
            del ctx.state.network.transit_gateway_multicast_domains[d.id]
            w.deleted.append(("transit_gateway_multicast_domains", d.id))
        return {"TransitGatewayMulticastDomain": domain_view(d, state="deleting")}

    # ------------------------------------------------------------------ associations
    def AssociateTransitGatewayMulticastDomain(self, ctx: RequestContext,
                                               params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        d = self._domain(ctx, params["TransitGatewayMulticastDomainId"])
        att = self._domain_attachment(ctx, d, params["TransitGatewayAttachmentId"])
        if ctx.account not in (d.account, _owner_of(att)):
            raise error("OperationNotPermitted", f"Account {ctx.account} cannot associate "
                        f"{att.id}: it owns neither {d.id} nor the attachment's VPC.")
        if att.resource_type != "vpc":
            raise error("InvalidParameterValue", f"{att.id} is a {att.resource_type} "
                        "attachment; only VPC attachments join multicast domains.")
        if att.state != "available":  # AWS: the attachment must be available
            raise error("IncorrectState", f"Transit Gateway Attachment {att.id} is in "
                        f"{att.state} state.")
        subnets = self._subnet_ids(params)
        for sid in subnets:
            if sid not in att.subnet_ids:
                raise error("InvalidParameterValue", f"Subnet {sid} is not a subnet of "
                            f"{att.id}.")
            other = next((o for o in net.transit_gateway_multicast_domains.values()
                          if o.id != d.id and any(a.subnet_id == sid and a.state in LIVE
                                                  for a in o.associations)), None)
            if other is not None:  # a subnet can be in only one multicast domain
                raise error("InvalidParameterValue", f"Subnet {sid} is already associated "
                            f"with multicast domain {other.id}.")
        shared = _owner_of(att) != d.account
        auto = {**DOMAIN_DEFAULTS, **d.options}["AutoAcceptSharedAssociations"] == "enable"
        state = "pendingAcceptance" if shared and not auto else "associated"
        shown: list[tuple[str, str]] = []
        with ctx.state.write() as w:
            for sid in subnets:
                current = next((a for a in d.associations if a.subnet_id == sid
                                and a.attachment_id == att.id), None)
                if current is not None and current.state in LIVE:
                    shown.append((sid, current.state))  # already there: unchanged
                    continue
                if current is not None:  # a rejected association is asked for again
                    d.associations.remove(current)
                d.associations.append(MulticastDomainAssociation(att.id, sid, state))
                shown.append((sid, "associating" if state == "associated" else state))
            w.save(d)
        return _associations_view(d, att, shown)

    def DisassociateTransitGatewayMulticastDomain(self, ctx: RequestContext,
                                                  params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        d = self._domain(ctx, params["TransitGatewayMulticastDomainId"])
        att = self._domain_attachment(ctx, d, params["TransitGatewayAttachmentId"])
        if ctx.account not in (d.account, _owner_of(att)):
            raise error("OperationNotPermitted", f"Account {ctx.account} cannot disassociate "
                        f"{att.id} from {d.id}.")
        subnets = self._subnet_ids(params)
        gone = []
        for sid in subnets:
            a = next((a for a in d.associations if a.subnet_id == sid
                      and a.attachment_id == att.id), None)
            if a is None:
                raise error("InvalidParameterValue", f"Subnet {sid} of {att.id} is not "
                            f"associated with {d.id}.")
            gone.append(a)
        with ctx.state.write() as w:
            for a in gone:
                d.associations.remove(a)
            # Group registrations of interfaces in those subnets go with them.
            left = {a.subnet_id for a in gone}
            d.registrations = [r for r in d.registrations
                               if (e := net.network_interfaces.get(r.network_interface_id))
                               is not None and e.subnet_id not in left]
            w.save(d)
        return _associations_view(d, att, [(a.subnet_id, "disassociating") for a in gone])

    def GetTransitGatewayMulticastDomainAssociations(self, ctx: RequestContext,
                                                     params: dict[str, Any]) -> dict[str, Any]:
        d = self._domain(ctx, params["TransitGatewayMulticastDomainId"])
        rows = apply_filters(_association_rows(ctx.state.network, d, ctx.account),
                             params.get("Filters"), ASSOCIATION_FILTERS)
        page, token = paginate(rows, params, lambda r: (r["TransitGatewayAttachmentId"] + "/"
                                                        + r["Subnet"]["SubnetId"]),
                               minimum=5, maximum=1000)
        return {"MulticastDomainAssociations": page, "NextToken": token}

    def _decide(self, ctx: RequestContext, params: dict[str, Any], accept: bool
                ) -> dict[str, Any]:
        d = self._domain(ctx, params.get("TransitGatewayMulticastDomainId"), owner_only=True)
        att = self._domain_attachment(ctx, d, params.get("TransitGatewayAttachmentId"))
        subnets = self._subnet_ids(params)
        pending = []
        for sid in subnets:
            a = next((a for a in d.associations if a.subnet_id == sid
                      and a.attachment_id == att.id), None)
            if a is None or a.state != "pendingAcceptance":
                raise error("IncorrectState", f"The association of subnet {sid} of {att.id} "
                            f"with {d.id} is not pending acceptance.")
            pending.append(a)
        with ctx.state.write() as w:
            for a in pending:
                a.state = "associated" if accept else "rejected"
            w.save(d)
        state = "associating" if accept else "rejected"
        return _associations_view(d, att, [(a.subnet_id, state) for a in pending])

    def AcceptTransitGatewayMulticastDomainAssociations(self, ctx: RequestContext,
                                                        params: dict[str, Any]
                                                        ) -> dict[str, Any]:
        return self._decide(ctx, params, accept=True)

    def RejectTransitGatewayMulticastDomainAssociations(self, ctx: RequestContext,
                                                        params: dict[str, Any]
                                                        ) -> dict[str, Any]:
        return self._decide(ctx, params, accept=False)

    # ------------------------------------------------------------------ group members
    def _register(self, ctx: RequestContext, params: dict[str, Any], role: str
                  ) -> dict[str, Any]:
        net = ctx.state.network
        d = self._domain(ctx, params["TransitGatewayMulticastDomainId"])
        group = _group_ip(params.get("GroupIpAddress"))
        if role == "source" and \
                {**DOMAIN_DEFAULTS, **d.options}["StaticSourcesSupport"] != "enable":
            raise error("InvalidParameterValue", f"Static sources support is disabled on "
                        f"{d.id}: sources cannot be registered.")
        associated = {a.subnet_id for a in d.associations if a.state == "associated"}
        enis: list[NetworkInterface] = []
        for eni_id in dict.fromkeys(params.get("NetworkInterfaceIds") or []):
            eni = net.network_interfaces.get(eni_id)
            if eni is None or eni.account != ctx.account or eni.region != ctx.region:
                raise error("InvalidNetworkInterfaceID.NotFound", f"The networkInterface ID "
                            f"'{eni_id}' does not exist")
            if eni.subnet_id not in associated:
                raise error("InvalidParameterValue", f"The subnet {eni.subnet_id} of "
                            f"{eni.id} is not associated with {d.id}.")
            enis.append(eni)
        if not enis:
            raise error("MissingParameter", "The request must contain the parameter "
                        "NetworkInterfaceIds")
        with ctx.state.write() as w:
            for eni in enis:
                if not any(r.group_ip == group and r.network_interface_id == eni.id
                           and r.role == role for r in d.registrations):
                    d.registrations.append(MulticastGroupRegistration(group, eni.id, role))
            w.save(d)
        key = "RegisteredMulticastGroupMembers" if role == "member" else \
            "RegisteredMulticastGroupSources"
        return {key: {"TransitGatewayMulticastDomainId": d.id,
                      "RegisteredNetworkInterfaceIds": [e.id for e in enis],
                      "GroupIpAddress": str(group)}}

    def _deregister(self, ctx: RequestContext, params: dict[str, Any], role: str
                    ) -> dict[str, Any]:
        d = self._domain(ctx, params.get("TransitGatewayMulticastDomainId"))
        group = _group_ip(params.get("GroupIpAddress"))
        wanted = list(dict.fromkeys(params.get("NetworkInterfaceIds") or []))
        if not wanted:
            raise error("MissingParameter", "The request must contain the parameter "
                        "NetworkInterfaceIds")
        gone = [r for r in d.registrations if r.group_ip == group and r.role == role
                and r.network_interface_id in wanted]
        with ctx.state.write() as w:
            for r in gone:
                d.registrations.remove(r)
            w.save(d)
        key = "DeregisteredMulticastGroupMembers" if role == "member" else \
            "DeregisteredMulticastGroupSources"
        return {key: {"TransitGatewayMulticastDomainId": d.id,
                      "DeregisteredNetworkInterfaceIds": [r.network_interface_id
                                                          for r in gone],
                      "GroupIpAddress": str(group)}}

    def RegisterTransitGatewayMulticastGroupMembers(self, ctx: RequestContext,
                                                    params: dict[str, Any]) -> dict[str, Any]:
        return self._register(ctx, params, "member")

    def RegisterTransitGatewayMulticastGroupSources(self, ctx: RequestContext,
                                                    params: dict[str, Any]) -> dict[str, Any]:
        return self._register(ctx, params, "source")

    def DeregisterTransitGatewayMulticastGroupMembers(self, ctx: RequestContext,
                                                      params: dict[str, Any]
                                                      ) -> dict[str, Any]:
        return self._deregister(ctx, params, "member")

    def DeregisterTransitGatewayMulticastGroupSources(self, ctx: RequestContext,
                                                      params: dict[str, Any]
                                                      ) -> dict[str, Any]:
        return self._deregister(ctx, params, "source")

    def SearchTransitGatewayMulticastGroups(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        """One row per registration (an interface both member and source has two), for
        interfaces that still exist in a subnet still associated with the domain."""
        net = ctx.state.network
        d = self._domain(ctx, params["TransitGatewayMulticastDomainId"])
        attachment_of = {a.subnet_id: a.attachment_id for a in d.associations
                         if a.state == "associated"}
        rows = []
        for r in d.registrations:
            eni = net.network_interfaces.get(r.network_interface_id)
            if eni is None or eni.subnet_id not in attachment_of:
                continue
            att = net.transit_gateway_attachments.get(attachment_of[eni.subnet_id])
            member = r.role == "member"
            row: dict[str, Any] = {
                "GroupIpAddress": str(r.group_ip),
                "TransitGatewayAttachmentId": attachment_of[eni.subnet_id],
                "SubnetId": eni.subnet_id, "ResourceId": eni.vpc_id, "ResourceType": "vpc",
                "ResourceOwnerId": _owner_of(att) if att is not None else eni.account,
                "NetworkInterfaceId": eni.id, "GroupMember": member,
                "GroupSource": not member}
            row["MemberType" if member else "SourceType"] = "static"
            rows.append(row)
        rows = apply_filters(rows, params.get("Filters"), GROUP_FILTERS)
        page, token = paginate(rows, params, lambda r: "/".join(
            (r["GroupIpAddress"], r["NetworkInterfaceId"], str(r["GroupSource"]))),
                               minimum=5, maximum=1000)
        return {"MulticastGroups": page, "NextToken": token}
