"""Site-to-Site VPN, continued: moving a connection to another gateway, connection and tunnel
options, and device sample configurations.

ModifyVpnConnection moves a connection between a virtual private gateway and a transit
gateway (or changes its customer gateway): leaving a transit gateway removes the ``vpn``
attachment (static TGW routes to it become blackholes, TG-7), arriving on one creates a new
attachment with the default association and propagation (TG-2). Sample configurations are
generated from the connection's own tunnels; localvpc ships generic device types only.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import error, new_id, owned, paginate
from localvpc.api.providers.ec2.routing import refresh_route_states
from localvpc.api.providers.ec2.transit import auto_attach, detach_everywhere, owned_tgw
from localvpc.api.providers.ec2.vpn import (
    RESERVED_INSIDE,
    inside_cidr,
    pre_shared_key,
    vpn_view,
)
from localvpc.model.gateways import CustomerGateway, VpnConnection, VpnTunnel
from localvpc.model.network import Network
from localvpc.model.transit import TransitGatewayAttachment

PSK = re.compile(r"[A-Za-z1-9._][A-Za-z0-9._]{7,63}")
# ModifyVpnTunnelOptions numbers: request name -> (answer name, lowest, highest).
NUMBERS = {
    "Phase1LifetimeSeconds": ("Phase1LifetimeSeconds", 900, 28800),
    "Phase2LifetimeSeconds": ("Phase2LifetimeSeconds", 900, 3600),
    "RekeyMarginTimeSeconds": ("RekeyMarginTimeSeconds", 60, 1800),
    "RekeyFuzzPercentage": ("RekeyFuzzPercentage", 0, 100),
    "ReplayWindowSize": ("ReplayWindowSize", 64, 2048),
    "DPDTimeoutSeconds": ("DpdTimeoutSeconds", 30, 2**31 - 1),
}
WORDS = {"DPDTimeoutAction": ("DpdTimeoutAction", ("clear", "none", "restart")),
         "StartupAction": ("StartupAction", ("add", "start"))}
_CIPHERS = ("AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16")
_HASHES = ("SHA1", "SHA2-256", "SHA2-384", "SHA2-512")
_GROUPS = tuple(str(g) for g in (2, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24))
LISTS = {
    "Phase1EncryptionAlgorithms": ("Phase1EncryptionAlgorithms", _CIPHERS),
    "Phase2EncryptionAlgorithms": ("Phase2EncryptionAlgorithms", _CIPHERS),
    "Phase1IntegrityAlgorithms": ("Phase1IntegrityAlgorithms", _HASHES),
    "Phase2IntegrityAlgorithms": ("Phase2IntegrityAlgorithms", _HASHES),
    "Phase1DHGroupNumbers": ("Phase1DHGroupNumbers", _GROUPS),
    "Phase2DHGroupNumbers": ("Phase2DHGroupNumbers", ("5", *_GROUPS)),
    "IKEVersions": ("IkeVersions", ("ikev1", "ikev2")),
}


@dataclass(frozen=True, slots=True)
class DeviceType:
    vendor: str
    platform: str
    software: str
    style: str  # generic | swanctl

    @property
    def id(self) -> str:
        text = f"{self.vendor}/{self.platform}/{self.software}"
        return hashlib.sha256(text.encode()).hexdigest()[:8]


DEVICE_TYPES = (
    DeviceType("Generic", "Generic", "Vendor Agnostic", "generic"),
    DeviceType("strongSwan", "Linux", "strongSwan 5.8+ (swanctl)", "swanctl"),
)


def _tunnel_facts(net: Network, vpn: VpnConnection, index: int, ike: str
                  ) -> dict[str, str]:
    """What both ends of one tunnel need: addresses, key, IKE choice, BGP."""
    tunnel = vpn.tunnels[index]
    block = ipaddress.ip_network(inside_cidr(vpn, index))
    cgw = net.customer_gateways.get(vpn.customer_gateway_id)
    vgw = net.vpn_gateways.get(vpn.vpn_gateway_id or "")
    tgw = net.transit_gateways.get(vpn.transit_gateway_id or "")
    aws_asn = (vgw.amazon_side_asn if vgw is not None and vgw.amazon_side_asn else
               tgw.amazon_side_asn if tgw is not None else 64512)
    return {
        "number": str(index + 1), "aws_outside": str(tunnel.outside_ip),
        "customer_outside": str(cgw.ip_address) if cgw and cgw.ip_address else "",
        "aws_inside": f"{block.network_address + 1}/{block.prefixlen}",
        "customer_inside": f"{block.network_address + 2}/{block.prefixlen}",
        "aws_inside_ip": str(block.network_address + 1), "key": pre_shared_key(vpn, index),
        "ike": ike, "customer_asn": str(cgw.bgp_asn if cgw and cgw.bgp_asn else 65000),
        "aws_asn": str(aws_asn),
        "phase1_cipher": (tunnel.lists.get("Phase1EncryptionAlgorithms") or ["AES128"])[0],
        "phase1_hash": (tunnel.lists.get("Phase1IntegrityAlgorithms") or ["SHA1"])[0],
        "phase1_group": (tunnel.lists.get("Phase1DHGroupNumbers") or ["2"])[0],
        "phase2_cipher": (tunnel.lists.get("Phase2EncryptionAlgorithms") or ["AES128"])[0],
        "phase2_hash": (tunnel.lists.get("Phase2IntegrityAlgorithms") or ["SHA1"])[0],
        "phase2_group": (tunnel.lists.get("Phase2DHGroupNumbers") or ["2"])[0],
        "phase1_life": str(tunnel.numbers.get("Phase1LifetimeSeconds", 28800)),
        "phase2_life": str(tunnel.numbers.get("Phase2LifetimeSeconds", 3600)),
        "dpd": str(tunnel.numbers.get("DpdTimeoutSeconds", 30)),
    }


def sample_configuration(net: Network, vpn: VpnConnection, device: DeviceType, ike: str
                         ) -> str:
    tunnels = [_tunnel_facts(net, vpn, i, ike) for i, t in enumerate(vpn.tunnels)
               if t.outside_ip is not None]
    routing = ("static routes: " + (", ".join(str(r) for r in vpn.routes) or "none yet")
               if vpn.static_routes_only else "dynamic (BGP)")
    target = vpn.vpn_gateway_id or vpn.transit_gateway_id or ""
    lines = [f"# {vpn.id}: Site-to-Site VPN between {target} and {vpn.customer_gateway_id}",
             f"# device: {device.vendor} {device.platform} {device.software}; {ike}; "
             f"routing: {routing}", "# generated by localvpc from this connection's tunnels", ""]
    if device.style == "swanctl":
        lines += ["connections {"]
        for t in tunnels:
            lines += [f"  {vpn.id}-tunnel{t['number']} {{",
                      f"    version = {t['ike'][-1]}",
                      f"    local_addrs = {t['customer_outside']}",
                      f"    remote_addrs = {t['aws_outside']}",
                      f"    proposals = {_swan(t, 'phase1')}",
                      f"    rekey_time = {t['phase1_life']}s", f"    dpd_delay = {t['dpd']}s",
                      "    local { auth = psk }", "    remote { auth = psk }",
                      "    children {", f"      tunnel{t['number']} {{",
                      "        local_ts = 0.0.0.0/0", "        remote_ts = 0.0.0.0/0",
                      f"        esp_proposals = {_swan(t, 'phase2')}",
                      f"        rekey_time = {t['phase2_life']}s",
                      f"        mark_in = {t['number']}00", f"        mark_out = {t['number']}00",
                      "        start_action = start", "      }", "    }", "  }"]
        lines += ["}", "", "secrets {"]
        for t in tunnels:
            lines += [f"  ike-tunnel{t['number']} {{", f"    id = {t['aws_outside']}",
                      f"    secret = \"{t['key']}\"", "  }"]
        lines += ["}", "", "# tunnel interfaces (VTI, inside addresses):"]
        for t in tunnels:
            lines.append(f"#   ip link add vti{t['number']} type vti local "
                         f"{t['customer_outside']} remote {t['aws_outside']} key "
                         f"{t['number']}00; ip addr add {t['customer_inside']} dev "
                         f"vti{t['number']}")
        return "\n".join(lines) + "\n"
    for t in tunnels:
        lines += [f"[tunnel {t['number']}]",
                  f"aws_outside_address        = {t['aws_outside']}",
                  f"customer_outside_address   = {t['customer_outside']}",
                  f"aws_inside_address         = {t['aws_inside']}",
                  f"customer_inside_address    = {t['customer_inside']}",
                  f"pre_shared_key             = {t['key']}",
                  f"ike_version                = {t['ike']}",
                  f"phase1                     = {t['phase1_cipher']} / {t['phase1_hash']} / "
                  f"DH group {t['phase1_group']} / lifetime {t['phase1_life']}s",
                  f"phase2                     = {t['phase2_cipher']} / {t['phase2_hash']} / "
                  f"PFS group {t['phase2_group']} / lifetime {t['phase2_life']}s",
                  f"dead_peer_detection        = {t['dpd']}s",
                  "tcp_mss_adjust             = 1379", "mtu                        = 1436"]
        if not vpn.static_routes_only:
            lines += [f"bgp_customer_asn           = {t['customer_asn']}",
                      f"bgp_aws_asn                = {t['aws_asn']}",
                      f"bgp_neighbor               = {t['aws_inside_ip']}",
                      "bgp_hold_time              = 30"]
        lines.append("")
    return "\n".join(lines)


def _swan(t: dict[str, str], phase: str) -> str:
    cipher = t[f"{phase}_cipher"].lower().replace("-gcm-16", "gcm16")
    digest = t[f"{phase}_hash"].lower().replace("sha2-", "sha")
    group = {"2": "modp1024", "5": "modp1536", "14": "modp2048", "15": "modp3072",
             "16": "modp4096", "17": "modp6144", "18": "modp8192", "19": "ecp256",
             "20": "ecp384", "21": "ecp521", "22": "modp1024s160", "23": "modp2048s224",
             "24": "modp2048s256"}[t[f"{phase}_group"]]
    return f"{cipher}-{digest}-{group}"


class VpnOptionsOperations:
    def _vpn_of(self, ctx: RequestContext, vpn_id: str) -> VpnConnection:
        vpn: VpnConnection = owned(ctx, "vpn_connections", vpn_id,
                                   "InvalidVpnConnectionID.NotFound", "vpnConnection")
        return vpn

    # ------------------------------------------------------------------ target gateway
    def ModifyVpnConnection(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        net = ctx.state.network
        vpn = self._vpn_of(ctx, params["VpnConnectionId"])
        vgw_id, tgw_id = params.get("VpnGatewayId"), params.get("TransitGatewayId")
        cgw_id = params.get("CustomerGatewayId")
        if vgw_id and tgw_id:
            raise error("InvalidParameterCombination", "Specify either VpnGatewayId or "
                        "TransitGatewayId, not both.")
        if not (vgw_id or tgw_id or cgw_id):
            raise error("MissingParameter", "The request must contain the parameter "
                        "VpnGatewayId, TransitGatewayId or CustomerGatewayId")
        if vpn.state != "available":
            raise error("IncorrectState", f"The VPN connection {vpn.id} is {vpn.state}.")
        if (vgw_id and vgw_id == vpn.vpn_gateway_id) or (
                tgw_id and tgw_id == vpn.transit_gateway_id):
            raise error("InvalidParameterValue", f"The VPN connection {vpn.id} already uses "
                        f"{vgw_id or tgw_id}.")
        cgw: CustomerGateway = owned(
            ctx, "customer_gateways", cgw_id or vpn.customer_gateway_id,
            "InvalidCustomerGatewayID.NotFound", "customerGateway")
        if cgw.state != "available":
            raise error("IncorrectState", f"The customer gateway {cgw.id} is {cgw.state}.")
        new_vgw, new_tgw = vpn.vpn_gateway_id, vpn.transit_gateway_id
        if vgw_id:
            vgw = owned(ctx, "vpn_gateways", vgw_id, "InvalidVpnGatewayID.NotFound",
                        "virtual private gateway")
            if vgw.state != "available":
                raise error("InvalidVpnGatewayState", f"The virtual private gateway {vgw.id} "
                            f"is {vgw.state}.")
            new_vgw, new_tgw = vgw.id, None
        if tgw_id:
            owned_tgw(ctx, tgw_id)
            new_vgw, new_tgw = None, tgw_id
        vgw_now = net.vpn_gateways.get(new_vgw or "")
        if vgw_now is not None and vgw_now.amazon_side_asn == cgw.bgp_asn:
            raise error("AsnConflict", f"The ASN of {cgw.id} and {vgw_now.id} are the same "
                        f"({cgw.bgp_asn}).")
        for other in net.vpn_connections.values():
            if other.id != vpn.id and other.customer_gateway_id == cgw.id and \
                    other.state == "available" and (
                        (new_vgw and other.vpn_gateway_id == new_vgw)
                        or (new_tgw and other.transit_gateway_id == new_tgw)):
                raise error("InvalidOption.Conflict", f"A VPN connection between "
                            f"{new_vgw or new_tgw} and {cgw.id} already exists: {other.id}.")
        with ctx.state.write() as w:
            if new_tgw != vpn.transit_gateway_id:
                for att in [a for a in net.transit_gateway_attachments.values()
                            if a.resource_type == "vpn" and a.resource_id == vpn.id]:
                    detach_everywhere(net, att.id, w)
                    del net.transit_gateway_attachments[att.id]
                    w.deleted.append(("transit_gateway_attachments", att.id))
                tgw = net.transit_gateways.get(new_tgw or "")
                if tgw is not None:
                    att = TransitGatewayAttachment(
                        new_id("tgw-attach"), ctx.account, ctx.region,
                        transit_gateway_id=tgw.id, resource_type="vpn", resource_id=vpn.id,
                        resource_owner=ctx.account)
                    net.add(att)
                    auto_attach(net, tgw, att, w)
                    w.save(att)
            vpn.vpn_gateway_id, vpn.transit_gateway_id = new_vgw, new_tgw
            vpn.customer_gateway_id = cgw.id
            w.save(vpn)
            refresh_route_states(net, w)
        return {"VpnConnection": vpn_view(vpn, association="associating")}

    # ------------------------------------------------------------------ options
    def ModifyVpnConnectionOptions(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        vpn = self._vpn_of(ctx, params["VpnConnectionId"])
        version = vpn.options.get("TunnelInsideIpVersion", "ipv4")
        changes: dict[str, str] = {}
        for key, family in (("LocalIpv4NetworkCidr", 4), ("RemoteIpv4NetworkCidr", 4),
                            ("LocalIpv6NetworkCidr", 6), ("RemoteIpv6NetworkCidr", 6)):
            text = params.get(key)
            if text is None:
                continue
            try:
                block = ipaddress.ip_network(text)
            except ValueError:
                raise error("InvalidParameterValue", f"Value ({text}) for parameter {key} is "
                            "invalid. This is not a valid CIDR block.") from None
            if block.version != family or version != f"ipv{family}":
                raise error("InvalidParameterValue", f"{key} does not apply to a VPN "
                            f"connection whose tunnels carry {version}.")
            changes[key] = str(block)
        bandwidth = params.get("TunnelBandwidth")
        if bandwidth is not None:
            if bandwidth == "large" and not vpn.transit_gateway_id:
                raise error("InvalidParameterValue", "Large bandwidth tunnels are only "
                            "available on a transit gateway VPN connection.")
            changes["TunnelBandwidth"] = bandwidth
        if not changes:
            raise error("MissingParameter", "The request must contain at least one option "
                        "to modify")
        with ctx.state.write() as w:
            vpn.options.update(changes)
            w.save(vpn)
        return {"VpnConnection": vpn_view(vpn)}

    def ModifyVpnTunnelOptions(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        net = ctx.state.network
        vpn = self._vpn_of(ctx, params["VpnConnectionId"])
        outside = params["VpnTunnelOutsideIpAddress"]
        index = next((i for i, t in enumerate(vpn.tunnels) if str(t.outside_ip) == outside),
                     None)
        if index is None:
            raise error("InvalidParameterValue", f"The VPN connection {vpn.id} has no tunnel "
                        f"with outside address {outside}.")
        given = params.get("TunnelOptions") or {}
        tunnel = vpn.tunnels[index]
        staged = VpnTunnel(tunnel.outside_ip, tunnel.status, tunnel.inside_cidr,
                           tunnel.inside_ipv6_cidr, tunnel.pre_shared_key,
                           dict(tunnel.numbers), dict(tunnel.words),
                           {k: list(v) for k, v in tunnel.lists.items()})
        if given.get("TunnelInsideCidr") is not None:
            staged.inside_cidr = self._inside(net, vpn, index, given["TunnelInsideCidr"])
        if given.get("PreSharedKey") is not None:
            key = given["PreSharedKey"]
            if not PSK.fullmatch(key):
                raise error("InvalidParameterValue", "The pre-shared key must be 8-64 "
                            "letters, digits, periods and underscores, and cannot start "
                            "with zero.")
            staged.pre_shared_key = key
        for name, (out, lo, hi) in NUMBERS.items():
            if given.get(name) is not None:
                if not lo <= int(given[name]) <= hi:
                    raise error("InvalidParameterValue", f"Value ({given[name]}) for "
                                f"parameter {name} is invalid. Expecting {lo}-{hi}.")
                staged.numbers[out] = int(given[name])
        for name, (out, allowed) in WORDS.items():
            if given.get(name) is not None:
                if given[name] not in allowed:
                    raise error("InvalidParameterValue", f"Value ({given[name]}) for "
                                f"parameter {name} is invalid. Valid values: "
                                f"{', '.join(allowed)}.")
                staged.words[out] = given[name]
        for name, (out, choices) in LISTS.items():
            if given.get(name) is not None:
                values = [str(v.get("Value")) for v in given[name]]
                bad = [v for v in values if v not in choices]
                if bad or not values:
                    raise error("InvalidParameterValue", f"Value ({', '.join(bad)}) for "
                                f"parameter {name} is invalid. Valid values: "
                                f"{', '.join(choices)}.")
                staged.lists[out] = values
        p1 = staged.numbers.get("Phase1LifetimeSeconds", 28800)
        p2 = staged.numbers.get("Phase2LifetimeSeconds", 3600)
        if p2 > p1:
            raise error("InvalidParameterValue", "Phase2LifetimeSeconds must be less than or "
                        "equal to Phase1LifetimeSeconds.")
        if staged.numbers.get("RekeyMarginTimeSeconds", 540) > p2 // 2:
            raise error("InvalidParameterValue", "RekeyMarginTimeSeconds must be at most "
                        "half of Phase2LifetimeSeconds.")
        with ctx.state.write() as w:
            vpn.tunnels[index] = staged
            w.save(vpn)
        return {"VpnConnection": vpn_view(vpn)}

    @staticmethod
    def _inside(net: Network, vpn: VpnConnection, index: int, text: str) -> str:
        """A /30 from 169.254.0.0/16, not reserved, used by no other tunnel of the same
        gateway."""
        try:
            block = ipaddress.ip_network(text)
        except ValueError:
            raise error("InvalidParameterValue", f"Value ({text}) for parameter "
                        "TunnelInsideCidr is invalid.") from None
        if not isinstance(block, ipaddress.IPv4Network) or block.prefixlen != 30 or \
                not block.subnet_of(ipaddress.IPv4Network("169.254.0.0/16")):
            raise error("InvalidParameterValue", f"The tunnel inside CIDR {text} must be a "
                        "/30 from 169.254.0.0/16.")
        if any(block.overlaps(r) for r in RESERVED_INSIDE):
            raise error("InvalidParameterValue", f"The tunnel inside CIDR {text} is reserved.")
        gateway = vpn.vpn_gateway_id or vpn.transit_gateway_id
        for other in net.vpn_connections.values():
            if (other.vpn_gateway_id or other.transit_gateway_id) != gateway:
                continue
            for i in range(len(other.tunnels)):
                if (other.id, i) != (vpn.id, index) and inside_cidr(other, i) == str(block):
                    raise error("InvalidParameterValue", f"The tunnel inside CIDR {text} is "
                                f"already used by {other.id} on {gateway}.")
        return str(block)

    # ------------------------------------------------------------------ device configs
    def GetVpnConnectionDeviceTypes(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        rows = [{"VpnConnectionDeviceTypeId": d.id, "Vendor": d.vendor,
                 "Platform": d.platform, "Software": d.software} for d in DEVICE_TYPES]
        page, token = paginate(rows, params, lambda r: r["VpnConnectionDeviceTypeId"],
                               minimum=200, maximum=1000)
        return {"VpnConnectionDeviceTypes": page, "NextToken": token}

    def GetVpnConnectionDeviceSampleConfiguration(self, ctx: RequestContext,
                                                  params: dict[str, Any]) -> dict[str, Any]:
        vpn = self._vpn_of(ctx, params["VpnConnectionId"])
        device = next((d for d in DEVICE_TYPES
                       if d.id == params["VpnConnectionDeviceTypeId"]), None)
        if device is None:
            raise error("InvalidParameterValue", f"Value "
                        f"({params['VpnConnectionDeviceTypeId']}) for parameter "
                        "VpnConnectionDeviceTypeId is invalid; see "
                        "GetVpnConnectionDeviceTypes.")
        ike = params.get("InternetKeyExchangeVersion") or "ikev1"
        if ike not in ("ikev1", "ikev2"):
            raise error("InvalidParameterValue", f"Value ({ike}) for parameter "
                        "InternetKeyExchangeVersion is invalid. Valid values: ikev1, ikev2.")
        text = sample_configuration(ctx.state.network, vpn, device, ike)
        return {"VpnConnectionDeviceSampleConfiguration": text}
