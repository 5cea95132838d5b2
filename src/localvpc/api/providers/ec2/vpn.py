"""Site-to-Site VPN: virtual private gateways, customer gateways, VPN connections, static
VPN routes and VGW route propagation into VPC route tables (RT-15).

The data plane derives the propagated VPC routes from ``RouteTable.propagating_vgws`` and the
static routes of the VGW's available VPN connections; a VPN connection on a transit gateway
gets a ``vpn`` attachment that propagates those routes into the TGW's tables (TG-5).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import string
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_tag_specs,
    cidr_param,
    describe,
    error,
    new_id,
    owned,
    persist_new,
    scoped,
    tags_list,
)
from localvpc.api.providers.ec2.encryption_controls import refuse_if_enforced
from localvpc.api.providers.ec2.routing import refresh_route_states
from localvpc.api.providers.ec2.transit import (
    auto_attach,
    detach_everywhere,
    owned_tgw,
    private_asn,
)
from localvpc.model.base import IPAddress
from localvpc.model.gateways import CustomerGateway, VpnConnection, VpnGateway, VpnTunnel
from localvpc.model.network import Network
from localvpc.model.transit import TransitGatewayAttachment

GATEWAY_TYPE = "ipsec.1"
# Tunnel outside addresses come from the documentation ranges (RFC 5737), from the top of
# 192.0.2.0/24 down, so they never collide with the public IPs handed out bottom-up.
TUNNEL_POOLS = ("192.0.2.0/24", "198.51.100.0/24")


def vgw_view(g: VpnGateway) -> dict[str, Any]:
    return {"VpnGatewayId": g.id, "State": g.state, "Type": GATEWAY_TYPE,
            "AmazonSideAsn": g.amazon_side_asn if g.amazon_side_asn is not None else 64512,
            "VpcAttachments": [{"VpcId": v, "State": "attached"} for v in g.vpc_ids],
            "Tags": tags_list(g.tags)}


def cgw_view(c: CustomerGateway) -> dict[str, Any]:
    asn = c.bgp_asn if c.bgp_asn is not None else 65000
    return {"CustomerGatewayId": c.id, "State": c.state, "Type": GATEWAY_TYPE,
            "IpAddress": str(c.ip_address) if c.ip_address is not None else None,
            "BgpAsn": str(asn), "BgpAsnExtended": str(asn) if asn > 65535 else None,
            "Tags": tags_list(c.tags)}


# Inside /30s AWS keeps for itself (Site-to-Site VPN guide, tunnel options).
RESERVED_INSIDE = tuple(ipaddress.ip_network(c) for c in (
    "169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30",
    "169.254.4.0/30", "169.254.5.0/30", "169.254.169.252/30"))
PSK_ALPHABET = string.ascii_letters + string.digits + "._"


def inside_cidr(v: VpnConnection, index: int) -> str:
    """The tunnel's inside /30: set, or (a snapshot without it) derived from the ids."""
    tunnel = v.tunnels[index]
    if tunnel.inside_cidr:
        return tunnel.inside_cidr
    start = int(hashlib.sha256(f"{v.id}/{index}".encode()).hexdigest(), 16)
    for n in range(256 * 64):
        k = (start + n) % (256 * 64)
        block = ipaddress.ip_network(f"169.254.{k // 64}.{(k % 64) * 4}/30")
        if not any(block.overlaps(r) for r in RESERVED_INSIDE):
            break
    return str(block)


def pre_shared_key(v: VpnConnection, index: int) -> str:
    """The tunnel's key: set, or derived (32 characters of AWS's alphabet, not 0 first)."""
    tunnel = v.tunnels[index]
    if tunnel.pre_shared_key:
        return tunnel.pre_shared_key
    digest = hashlib.sha256(f"psk/{v.id}/{index}".encode()).digest()
    return "".join(PSK_ALPHABET[b % len(PSK_ALPHABET)] for b in digest).lstrip("0")[:32]


def new_tunnel_secrets(net: Network, count: int = 2) -> list[tuple[str, str]]:
    """Fresh inside /30s (unused by any VPN) and keys for a new connection's tunnels."""
    used = {t.inside_cidr for v in net.vpn_connections.values() for t in v.tunnels}
    out: list[tuple[str, str]] = []
    while len(out) < count:
        block = ipaddress.ip_network(
            f"169.254.{secrets.randbelow(256)}.{secrets.randbelow(64) * 4}/30")
        if str(block) in used or any(block.overlaps(r) for r in RESERVED_INSIDE):
            continue
        used.add(str(block))
        key = secrets.choice(string.ascii_letters) + "".join(
            secrets.choice(PSK_ALPHABET) for _ in range(31))
        out.append((str(block), key))
    return out


def tunnel_option_view(v: VpnConnection, index: int) -> dict[str, Any]:
    t = v.tunnels[index]
    out: dict[str, Any] = {"OutsideIpAddress": str(t.outside_ip),
                           "TunnelInsideCidr": inside_cidr(v, index),
                           "PreSharedKey": pre_shared_key(v, index)}
    if t.inside_ipv6_cidr:
        out["TunnelInsideIpv6Cidr"] = t.inside_ipv6_cidr
    out.update(t.numbers)
    out.update(t.words)
    out.update({k: [{"Value": int(x) if "DHGroup" in k else x} for x in values]
                for k, values in t.lists.items()})
    return out


def vpn_view(v: VpnConnection, state: str | None = None,
             association: str = "associated") -> dict[str, Any]:
    tunnels = [i for i, t in enumerate(v.tunnels) if t.outside_ip is not None]
    options = {"StaticRoutesOnly": v.static_routes_only, "EnableAcceleration": False,
               "TunnelInsideIpVersion": "ipv4", "OutsideIpAddressType": "PublicIpv4",
               "LocalIpv4NetworkCidr": "0.0.0.0/0", "RemoteIpv4NetworkCidr": "0.0.0.0/0",
               "TunnelBandwidth": "standard", **v.options,
               "TunnelOptions": [tunnel_option_view(v, i) for i in tunnels]}
    tunnel_ips = [v.tunnels[i] for i in tunnels]
    return {
        "VpnConnectionId": v.id, "State": state or v.state, "Type": GATEWAY_TYPE,
        "Category": "VPN", "CustomerGatewayId": v.customer_gateway_id,
        "VpnGatewayId": v.vpn_gateway_id, "TransitGatewayId": v.transit_gateway_id,
        "GatewayAssociationState": association, "Options": options,
        "Routes": [{"DestinationCidrBlock": str(r), "Source": "Static", "State": "available"}
                   for r in v.routes],
        "VgwTelemetry": [{"OutsideIpAddress": str(t.outside_ip), "Status": t.status,
                          "StatusMessage": "", "AcceptedRouteCount": len(v.routes)}
                         for t in tunnel_ips],
        "Tags": tags_list(v.tags),
    }


VGW_FILTERS = {
    "vpn-gateway-id": lambda g: [g.id], "state": lambda g: [g.state],
    "type": lambda g: [GATEWAY_TYPE],
    "amazon-side-asn": lambda g: [g.amazon_side_asn if g.amazon_side_asn is not None
                                  else 64512],
    "attachment.vpc-id": lambda g: list(g.vpc_ids),
    "attachment.state": lambda g: ["attached"] if g.vpc_ids else [],
}
CGW_FILTERS = {
    "customer-gateway-id": lambda c: [c.id], "state": lambda c: [c.state],
    "type": lambda c: [GATEWAY_TYPE],
    "ip-address": lambda c: [str(c.ip_address)] if c.ip_address is not None else [],
    "bgp-asn": lambda c: [c.bgp_asn if c.bgp_asn is not None else 65000],
}


def _vpn_filters(net: Network) -> dict[str, Any]:
    def asn(v: VpnConnection) -> list[Any]:
        cgw = net.customer_gateways.get(v.customer_gateway_id)
        return [cgw.bgp_asn] if cgw is not None and cgw.bgp_asn is not None else []
    return {
        "vpn-connection-id": lambda v: [v.id], "state": lambda v: [v.state],
        "type": lambda v: [GATEWAY_TYPE],
        "customer-gateway-id": lambda v: [v.customer_gateway_id],
        "vpn-gateway-id": lambda v: [v.vpn_gateway_id] if v.vpn_gateway_id else [],
        "transit-gateway-id": lambda v: [v.transit_gateway_id] if v.transit_gateway_id else [],
        "option.static-routes-only": lambda v: [v.static_routes_only],
        "route.destination-cidr-block": lambda v: [str(r) for r in v.routes],
        "bgp-asn": asn,
    }


def tunnel_addresses(net: Network, count: int = 2) -> list[IPAddress]:
    taken: set[IPAddress] = {t.outside_ip for v in net.vpn_connections.values()
                             for t in v.tunnels if t.outside_ip is not None}
    taken |= {p.public_ip for e in net.network_interfaces.values() for p in e.private_ips
              if p.public_ip is not None}
    taken |= {a.public_ip for a in net.elastic_ips.values() if a.public_ip is not None}
    taken |= {c.ip_address for c in net.customer_gateways.values() if c.ip_address is not None}
    taken |= {a.public_ip for n in net.nat_gateways.values() for a in n.addresses
              if a.public_ip is not None}
    found: list[IPAddress] = []
    for pool in TUNNEL_POOLS:
        block = ipaddress.ip_network(pool)
        for n in range(block.num_addresses - 2, 0, -1):
            candidate = block.network_address + n
            if candidate not in taken:
                found.append(candidate)
                if len(found) == count:
                    return found
    raise error("VpnConnectionLimitExceeded", "localvpc has no more documentation-range "
                "addresses for VPN tunnels")


class VpnOperations:
    # ------------------------------------------------------------------ lookups
    def _vgw(self, ctx: RequestContext, vgw_id: str) -> VpnGateway:
        vgw: VpnGateway = owned(
            ctx, "vpn_gateways", vgw_id, "InvalidVpnGatewayID.NotFound", "virtual private gateway")
        return vgw

    def _cgw(self, ctx: RequestContext, cgw_id: str) -> CustomerGateway:
        cgw: CustomerGateway = owned(
            ctx, "customer_gateways", cgw_id, "InvalidCustomerGatewayID.NotFound",
            "customerGateway")
        return cgw

    def _vpn(self, ctx: RequestContext, vpn_id: str) -> VpnConnection:
        vpn: VpnConnection = owned(
            ctx, "vpn_connections", vpn_id, "InvalidVpnConnectionID.NotFound", "vpnConnection")
        return vpn

    @staticmethod
    def _vpn_type(params: dict[str, Any]) -> None:
        if params.get("Type") != GATEWAY_TYPE:
            raise error("InvalidParameterValue", f"Value ({params.get('Type')}) for parameter "
                        f"type is invalid. Only {GATEWAY_TYPE} is supported.")

    # ------------------------------------------------------------------ VPN gateways
    def CreateVpnGateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._vpn_type(params)
        asn = int(params.get("AmazonSideAsn") or 64512)
        if not private_asn(asn):
            raise error("InvalidParameterValue", f"The amazon side ASN {asn} is not valid: "
                        "use a private ASN, 64512-65534 or 4200000000-4294967294.")
        vgw = VpnGateway(new_id("vgw"), ctx.account, ctx.region, amazon_side_asn=asn)
        apply_tag_specs(vgw, params, "vpn-gateway")
        persist_new(ctx, vgw)
        return {"VpnGateway": vgw_view(vgw)}

    def DescribeVpnGateways(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        found, _ = describe(ctx, "vpn_gateways", params, "VpnGatewayIds",
                            "virtual private gateway", "InvalidVpnGatewayID.NotFound",
                            VGW_FILTERS)
        return {"VpnGateways": [vgw_view(g) for g in found]}

    def AttachVpnGateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        vgw = self._vgw(ctx, params["VpnGatewayId"])
        vpc_id = params["VpcId"]
        owned(ctx, "vpcs", vpc_id, "InvalidVpcID.NotFound", "vpc")
        if vgw.state != "available":
            raise error("InvalidVpnGatewayState", f"The virtual private gateway {vgw.id} is "
                        f"{vgw.state}.")
        if vgw.vpc_ids:
            raise error("VpnGatewayAttachmentLimitExceeded", f"{vgw.id} is already attached "
                        f"to {vgw.vpc_ids[0]}; a virtual private gateway attaches to one VPC.")
        other = next((g.id for g in net.vpn_gateways.values() if vpc_id in g.vpc_ids), None)
        if other is not None:
            raise error("InvalidVpcState", f"The VPC {vpc_id} already has a virtual private "
                        f"gateway attached to it ({other}).")
        refuse_if_enforced(net, vpc_id, kind="VirtualPrivateGateway")
        with ctx.state.write() as w:
            vgw.vpc_ids.append(vpc_id)
            w.save(vgw)
            refresh_route_states(net, w)
        return {"VpcAttachment": {"VpcId": vpc_id, "State": "attaching"}}

    def DetachVpnGateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        vgw = self._vgw(ctx, params["VpnGatewayId"])
        vpc_id = params["VpcId"]
        if vpc_id not in vgw.vpc_ids:
            raise error("InvalidVpnGatewayAttachment.NotFound", f"The attachment with VPN "
                        f"gateway ID '{vgw.id}' and VPC ID '{vpc_id}' does not exist")
        with ctx.state.write() as w:
            vgw.vpc_ids.remove(vpc_id)
            w.save(vgw)
            for rt in net.route_tables.values():  # propagation ends with the attachment
                if rt.vpc_id == vpc_id and vgw.id in rt.propagating_vgws:
                    rt.propagating_vgws.remove(vgw.id)
                    w.save(rt)
            refresh_route_states(net, w)
        return {}

    def DeleteVpnGateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        vgw = self._vgw(ctx, params["VpnGatewayId"])
        if vgw.vpc_ids:
            raise error("IncorrectState", f"The virtual private gateway {vgw.id} is attached "
                        f"to {vgw.vpc_ids[0]}; detach it first.")
        users = [v.id for v in net.vpn_connections.values() if v.vpn_gateway_id == vgw.id]
        if users:
            raise error("IncorrectState", f"The virtual private gateway {vgw.id} is used by "
                        f"VPN connection {users[0]}; delete it first.")
        with ctx.state.write() as w:
            del net.vpn_gateways[vgw.id]
            w.deleted.append(("vpn_gateways", vgw.id))
            for rt in net.route_tables.values():
                if vgw.id in rt.propagating_vgws:
                    rt.propagating_vgws.remove(vgw.id)
                    w.save(rt)
            refresh_route_states(net, w)
        return {}

    # ------------------------------------------------------------------ customer gateways
    def CreateCustomerGateway(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        net = ctx.state.network
        self._vpn_type(params)
        text = params.get("IpAddress") or params.get("PublicIp")
        if not text:
            raise error("MissingParameter", "The request must contain the parameter "
                        "ipAddress")
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            raise error("InvalidParameterValue", f"Value ({text}) for parameter ipAddress is "
                        "invalid. Invalid Format.") from None
        if ip.version != 4:
            raise error("InvalidParameterValue", f"Value ({text}) for parameter ipAddress is "
                        "invalid. The customer gateway address must be IPv4.")
        asn = int(params.get("BgpAsnExtended") or params.get("BgpAsn") or 65000)
        if not 1 <= asn <= 4294967294:
            raise error("InvalidParameterValue", f"Value ({asn}) for parameter bgpAsn is "
                        "invalid.")
        for c in scoped(net.customer_gateways, ctx.account, ctx.region).values():
            if c.ip_address == ip and c.bgp_asn == asn and c.state == "available":
                return {"CustomerGateway": cgw_view(c)}  # an identical request: the same one
        cgw = CustomerGateway(new_id("cgw"), ctx.account, ctx.region, ip_address=ip,
                              bgp_asn=asn)
        apply_tag_specs(cgw, params, "customer-gateway")
        persist_new(ctx, cgw)
        return {"CustomerGateway": cgw_view(cgw)}

    def DescribeCustomerGateways(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        found, _ = describe(ctx, "customer_gateways", params, "CustomerGatewayIds",
                            "customerGateway", "InvalidCustomerGatewayID.NotFound",
                            CGW_FILTERS)
        return {"CustomerGateways": [cgw_view(c) for c in found]}

    def DeleteCustomerGateway(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        net = ctx.state.network
        cgw = self._cgw(ctx, params["CustomerGatewayId"])
        users = [v.id for v in net.vpn_connections.values() if v.customer_gateway_id == cgw.id]
        if users:
            raise error("IncorrectState", f"The customer gateway {cgw.id} is used by VPN "
                        f"connection {users[0]}; delete it first.")
        with ctx.state.write() as w:
            del net.customer_gateways[cgw.id]
            w.deleted.append(("customer_gateways", cgw.id))
        return {}

    # ------------------------------------------------------------------ VPN connections
    def CreateVpnConnection(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        net = ctx.state.network
        self._vpn_type(params)
        cgw = self._cgw(ctx, params["CustomerGatewayId"])
        vgw_id, tgw_id = params.get("VpnGatewayId"), params.get("TransitGatewayId")
        if vgw_id and tgw_id:
            raise error("InvalidParameterCombination", "Specify either VpnGatewayId or "
                        "TransitGatewayId, not both.")
        if not vgw_id and not tgw_id:
            raise error("MissingParameter", "The request must contain the parameter "
                        "VpnGatewayId or TransitGatewayId")
        tgw = None
        if vgw_id:
            vgw = self._vgw(ctx, vgw_id)
            if vgw.state != "available":
                raise error("InvalidVpnGatewayState", f"The virtual private gateway {vgw.id} "
                            f"is {vgw.state}.")
            if vgw.amazon_side_asn == cgw.bgp_asn:
                raise error("AsnConflict", f"The ASN of {cgw.id} and {vgw.id} are the same "
                            f"({cgw.bgp_asn}).")
        else:
            tgw = owned_tgw(ctx, tgw_id or "")
        for other in net.vpn_connections.values():
            if other.customer_gateway_id == cgw.id and other.state == "available" and (
                    (vgw_id and other.vpn_gateway_id == vgw_id)
                    or (tgw_id and other.transit_gateway_id == tgw_id)):
                raise error("InvalidOption.Conflict", f"A VPN connection between "
                            f"{vgw_id or tgw_id} and {cgw.id} already exists: {other.id}.")
        static = bool((params.get("Options") or {}).get("StaticRoutesOnly"))
        vpn = VpnConnection(new_id("vpn"), ctx.account, ctx.region,
                            customer_gateway_id=cgw.id, vpn_gateway_id=vgw_id,
                            transit_gateway_id=tgw_id, static_routes_only=static,
                            tunnels=[VpnTunnel(ip, inside_cidr=cidr, pre_shared_key=key)
                                     for ip, (cidr, key) in zip(tunnel_addresses(net),
                                                                new_tunnel_secrets(net),
                                                                strict=True)])
        apply_tag_specs(vpn, params, "vpn-connection")
        with ctx.state.write() as w:
            net.add(vpn)
            w.save(vpn)
            if tgw is not None:
                att = TransitGatewayAttachment(new_id("tgw-attach"), ctx.account, ctx.region,
                                               transit_gateway_id=tgw.id, resource_type="vpn",
                                               resource_id=vpn.id, resource_owner=ctx.account)
                net.add(att)
                auto_attach(net, tgw, att, w)
                w.save(att)
        return {"VpnConnection": vpn_view(vpn, state="pending")}

    def DescribeVpnConnections(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        found, _ = describe(ctx, "vpn_connections", params, "VpnConnectionIds",
                            "vpnConnection", "InvalidVpnConnectionID.NotFound",
                            _vpn_filters(ctx.state.network))
        return {"VpnConnections": [vpn_view(v) for v in found]}

    def DeleteVpnConnection(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        net = ctx.state.network
        vpn = self._vpn(ctx, params["VpnConnectionId"])
        with ctx.state.write() as w:
            for att in [a for a in net.transit_gateway_attachments.values()
                        if a.resource_type == "vpn" and a.resource_id == vpn.id]:
                detach_everywhere(net, att.id, w)
                del net.transit_gateway_attachments[att.id]
                w.deleted.append(("transit_gateway_attachments", att.id))
            del net.vpn_connections[vpn.id]
            w.deleted.append(("vpn_connections", vpn.id))
        return {}

    def _vpn_static(self, ctx: RequestContext, params: dict[str, Any]) -> VpnConnection:
        vpn = self._vpn(ctx, params["VpnConnectionId"])
        if vpn.transit_gateway_id or not vpn.static_routes_only:
            raise error("InvalidVpnConnection.InvalidType", f"The VPN connection {vpn.id} "
                        "does not support static routes"
                        + (" (on a transit gateway, use CreateTransitGatewayRoute)."
                           if vpn.transit_gateway_id else
                           " (it was created without StaticRoutesOnly)."))
        return vpn

    def CreateVpnConnectionRoute(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        vpn = self._vpn_static(ctx, params)
        cidr = cidr_param(params["DestinationCidrBlock"])
        if cidr in vpn.routes:
            raise error("RouteAlreadyExists", f"The route {cidr} already exists for "
                        f"{vpn.id}.")
        with ctx.state.write() as w:
            vpn.routes.append(cidr)
            w.save(vpn)
        return {}

    def DeleteVpnConnectionRoute(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        vpn = self._vpn(ctx, params["VpnConnectionId"])
        cidr = cidr_param(params["DestinationCidrBlock"])
        if cidr not in vpn.routes:
            raise error("InvalidRoute.NotFound", f"The route {cidr} does not exist for "
                        f"{vpn.id}.")
        with ctx.state.write() as w:
            vpn.routes.remove(cidr)
            w.save(vpn)
        return {}

    # ------------------------------------------------------------------ propagation
    def _vgw_propagation_target(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> tuple[Any, VpnGateway]:
        rt = scoped(ctx.state.network.route_tables, ctx.account, ctx.region).get(
            params["RouteTableId"])
        if rt is None:
            raise error("InvalidRouteTableID.NotFound",
                        f"The routeTable ID '{params['RouteTableId']}' does not exist")
        return rt, self._vgw(ctx, params["GatewayId"])

    def EnableVgwRoutePropagation(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        rt, vgw = self._vgw_propagation_target(ctx, params)
        if rt.vpc_id not in vgw.vpc_ids:
            raise error("Gateway.NotAttached", f"resource {vgw.id} is not attached to network "
                        f"{rt.vpc_id}")
        if rt.gateway_ids:  # GW-4
            raise error("InvalidParameterValue", f"Route table {rt.id} is a gateway route "
                        "table; it cannot have route propagation.")
        if vgw.id not in rt.propagating_vgws:
            with ctx.state.write() as w:
                rt.propagating_vgws.append(vgw.id)
                w.save(rt)
        return {}

    def DisableVgwRoutePropagation(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        rt, vgw = self._vgw_propagation_target(ctx, params)
        if vgw.id in rt.propagating_vgws:
            with ctx.state.write() as w:
                rt.propagating_vgws.remove(vgw.id)
                w.save(rt)
        return {}
