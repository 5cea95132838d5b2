"""Hops of the trace engine described as AWS's ``PathComponent`` and ``Explanation`` shapes.

Reachability Analyzer (``api/providers/ec2/insights.py``) and Network Access Analyzer
(``analysis/access_scope.py``) both show a trace the way AWS does: each hop becomes a component
with its subnet and VPC, and the rules the engine named in the hop's detail (security group,
network ACL and route table entries) become components of their own. The engine writes those
details as text (``dataplane/filters.py``, ``routes.py``, ``engine.py``); they are read back
into structure here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from localvpc.dataplane.compiled import ForwardingPlane
from localvpc.dataplane.engine import AWS_SERVICES, BACKBONE, INTERNET
from localvpc.dataplane.flow import Flow, Hop
from localvpc.model.network import Network

# Nodes of the engine that are not AWS resources: never a component.
PSEUDO_NODES = (INTERNET, BACKBONE, AWS_SERVICES)

# The resource type in an EC2 ARN, by id prefix (the longest prefix that matches wins).
_ARN_TYPES = {
    "vpc": "vpc", "subnet": "subnet", "rtb": "route-table", "igw": "internet-gateway",
    "eigw": "egress-only-internet-gateway", "nat": "natgateway", "eni": "network-interface",
    "i": "instance", "sg": "security-group", "acl": "network-acl", "pl": "prefix-list",
    "pcx": "vpc-peering-connection", "tgw": "transit-gateway",
    "tgw-attach": "transit-gateway-attachment", "tgw-rtb": "transit-gateway-route-table",
    "vgw": "vpn-gateway", "vpn": "vpn-connection", "cgw": "customer-gateway",
    "vpce": "vpc-endpoint", "lgw": "local-gateway", "cagw": "carrier-gateway",
}


def arn_resource_type(resource_id: str) -> str:
    """``network-interface`` for ``eni-0123``: the type part of the resource's EC2 ARN."""
    prefix = resource_id.rsplit("-", 1)[0]
    return _ARN_TYPES.get(prefix, prefix)


# The engine's hop details (filters.py, routes.py, engine.py), read back into structure.
_ID = r"[A-Za-z0-9][A-Za-z0-9-]*"
_SG_ALLOW = re.compile(rf"security group ({_ID}) (inbound|outbound) rule allows \((.+)\)$")
_SG_DENY = re.compile(r"no (inbound|outbound) rule of security groups \[(.*)\] allows")
_ACL = re.compile(rf"network ACL ({_ID}) (inbound|outbound)(?: rule (\d+) (allows|denies)|: "
                  r"no rule matches)")
_ROUTE = re.compile(rf"route (\S+)(?: \(prefix list ({_ID})\))? -> ({_ID})( propagated)? in "
                    rf"(rtb-{_ID})")
_TGW_ROUTE = re.compile(rf"transit gateway route (\S+) -> ({_ID}) \((\w+)\) in ({_ID})")
_ENI = re.compile(rf"^(from|on) (eni-{_ID})")
_ROUTE_TARGET_FIELDS = (
    ("igw-", "GatewayId"), ("vgw-", "GatewayId"), ("vpce-", "GatewayId"),
    ("nat-", "NatGatewayId"), ("i-", "InstanceId"), ("eni-", "NetworkInterfaceId"),
    ("pcx-", "VpcPeeringConnectionId"), ("tgw-", "TransitGatewayId"),
    ("eigw-", "EgressOnlyInternetGatewayId"), ("cagw-", "CarrierGatewayId"),
    ("lgw-", "LocalGatewayId"),
)


def _port_range(lo: int | None, hi: int | None) -> dict[str, int] | None:
    if lo is None:
        return None
    return {"From": lo, "To": hi if hi is not None else lo}


class Describer:
    """Turns hops into ``PathComponent`` and ``Explanation`` dicts for one account/region."""

    def __init__(self, net: Network, fp: ForwardingPlane, account: str, region: str,
                 arn_type: Callable[[str], str] | None = None) -> None:
        self.net = net
        self.fp = fp
        self.account = account
        self.region = region
        self.arn_type = arn_type or arn_resource_type
        self.lbs = {n.name: n for n in fp.lb_by_eni.values()}

    def ref(self, resource_id: str) -> dict[str, str]:
        """An ``AnalysisComponent``: id, ARN and Name tag."""
        lb = self.lbs.get(resource_id)
        if lb is not None:
            return {"Id": lb.lb.id, "Arn": lb.lb.id, "Name": lb.lb.lb_name}
        if resource_id in PSEUDO_NODES:
            return {"Id": resource_id}
        resource = self.net.find(resource_id)
        account = getattr(resource, "account", self.account)
        region = getattr(resource, "region", self.region)
        out = {"Id": resource_id, "Arn": f"arn:aws:ec2:{region}:{account}:"
               f"{self.arn_type(resource_id)}/{resource_id}"}
        name = getattr(resource, "tags", {}).get("Name")
        if name:
            out["Name"] = name
        return out

    # -------------------------------------------------------------- where a hop sits
    def _eni(self, hop: Hop) -> str | None:
        m = _ENI.match(hop.detail)
        if m is not None:
            return m.group(2)
        if hop.node in self.fp.devices:
            return hop.node
        return None

    def place(self, hop: Hop) -> dict[str, Any]:
        """Subnet and VPC of the hop, where it has them."""
        subnet_id: str | None = None
        vpc_id: str | None = None
        if hop.type == "subnet" and hop.node in self.fp.subnets:
            subnet_id = hop.node
            vpc_id = self.fp.subnets[hop.node].vpc_id
        elif hop.type == "vpc":
            vpc_id = hop.node
        else:
            eni = self._eni(hop)
            device = self.fp.devices.get(eni) if eni else None
            if device is None and hop.type == "nat-gateway":
                nat = self.net.nat_gateways.get(hop.node)
                if nat is not None:
                    subnet_id, vpc_id = nat.subnet_id, nat.vpc_id
            elif device is not None:
                subnet_id, vpc_id = device.subnet_id, device.vpc_id
        out: dict[str, Any] = {}
        if subnet_id:
            out["Subnet"] = self.ref(subnet_id)
        if vpc_id:
            out["Vpc"] = self.ref(vpc_id)
        return out

    # -------------------------------------------------------------- rules named in details
    def _acl_rule(self, m: re.Match[str]) -> dict[str, Any]:
        acl_id, direction, number = m.group(1), m.group(2), m.group(3)
        egress = direction == "outbound"
        if number is None:
            return {"Egress": egress, "RuleNumber": 32767, "RuleAction": "deny",
                    "Protocol": "-1", "Cidr": "0.0.0.0/0"}
        acl = self.net.network_acls.get(acl_id)
        entry = next((e for e in acl.entries if e.rule_number == int(number)
                      and e.egress == egress), None) if acl is not None else None
        if entry is None:
            return {"Egress": egress, "RuleNumber": int(number),
                    "RuleAction": "allow" if m.group(4) == "allows" else "deny"}
        rule: dict[str, Any] = {"Cidr": str(entry.cidr), "Egress": egress,
                                "Protocol": entry.protocol, "RuleAction": entry.action.lower(),
                                "RuleNumber": entry.rule_number}
        ports = _port_range(entry.from_port, entry.to_port)
        if ports is not None:
            rule["PortRange"] = ports
        return rule

    @staticmethod
    def _sg_rule(direction: str, text: str) -> dict[str, Any]:
        """The rule from its text (``tcp 22 10.0.0.0/16``); a referenced group is the
        rule's ``SecurityGroupId``, the rule's own group is the component."""
        parts = text.split(" ")
        proto = "-1" if parts[0] == "all" else parts[0]
        rule: dict[str, Any] = {"Protocol": proto,
                                "Direction": "egress" if direction == "outbound"
                                else "ingress"}
        if len(parts) == 3:
            lo, _, hi = parts[1].partition("-")
            rule["PortRange"] = {"From": int(lo), "To": int(hi or lo)}
        peer = parts[-1]
        if peer.startswith("pl-"):
            rule["PrefixListId"] = peer
        elif peer.startswith("sg-"):
            rule["SecurityGroupId"] = peer
        elif len(parts) > 1:
            rule["Cidr"] = peer
        return rule

    def _route(self, m: re.Match[str]) -> dict[str, Any]:
        prefix, plist, target, _, table_id = m.groups()
        route: dict[str, Any] = ({"DestinationPrefixListId": plist} if plist
                                 else {"DestinationCidr": prefix})
        if target == "local":
            route["GatewayId"] = "local"
        else:
            fieldname = next((f for p, f in _ROUTE_TARGET_FIELDS if target.startswith(p)),
                             "GatewayId")
            route[fieldname] = target
        table = self.net.route_tables.get(table_id)
        model = next((r for r in table.routes if r.target_id == target
                      and (r.prefix_list_id == plist if plist
                           else r.destination_text == prefix)), None) if table else None
        route["Origin"] = str(model.origin.value) if model is not None else "CreateRoute"
        route["State"] = model.state if model is not None else "active"
        return route

    def _tgw_route(self, m: re.Match[str]) -> dict[str, Any]:
        prefix, target, origin, _ = m.groups()
        route: dict[str, Any] = {"DestinationCidr": prefix, "RouteOrigin": origin,
                                 "State": "blackhole" if target == "blackhole" else "active"}
        if target != "blackhole":
            route["AttachmentId"] = target
            att = self.net.transit_gateway_attachments.get(target)
            if att is not None:
                route["ResourceId"] = att.resource_id
                route["ResourceType"] = att.resource_type
        return route

    # -------------------------------------------------------------- components
    def components(self, hops: Iterable[Hop]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for hop in hops:
            out.extend(self._hop_components(hop))
        for i, comp in enumerate(out, start=1):
            comp["SequenceNumber"] = i
        return out

    def _hop_components(self, hop: Hop) -> list[dict[str, Any]]:
        if hop.node in PSEUDO_NODES:
            return []
        place = self.place(hop)
        main: dict[str, Any] = {"Component": self.ref(hop.node), **place}
        if hop.type == "subnet":
            main.pop("Subnet", None)
        if hop.type == "vpc":
            main.pop("Vpc", None)
        if hop.type == "transit-gateway":
            main["TransitGateway"] = self.ref(hop.node)
        rules: list[dict[str, Any]] = []
        for note in hop.detail.split("; "):
            m = _SG_ALLOW.search(note)
            if m is not None:
                rules.append({"Component": self.ref(m.group(1)), **place,
                              "SecurityGroupRule": self._sg_rule(m.group(2), m.group(3))})
                continue
            m = _ACL.search(note)
            if m is not None and (m.group(4) == "allows"):
                rules.append({"Component": self.ref(m.group(1)), **place,
                              "AclRule": self._acl_rule(m)})
                continue
            m = _ROUTE.search(note)
            if m is not None:
                rules.append({"Component": self.ref(m.group(5)), **place,
                              "RouteTableRoute": self._route(m)})
                continue
            m = _TGW_ROUTE.search(note)
            if m is not None:
                rules.append({"Component": self.ref(m.group(4)),
                              "TransitGateway": self.ref(hop.node),
                              "TransitGatewayRouteTableRoute": self._tgw_route(m)})
        eni = self._eni(hop)
        group = [main]
        if eni is not None and eni != hop.node:
            group.append({"Component": self.ref(eni), "AttachedTo": self.ref(hop.node),
                          **place})
        if hop.detail.startswith("on "):  # arriving: filters, then interface, then device
            return rules + group[::-1]
        return group + rules

    # -------------------------------------------------------------- explanations
    def explain(self, hop: Hop, code: str, destination: str | None) -> dict[str, Any]:
        exp: dict[str, Any] = {"ExplanationCode": code, "Component": self.ref(hop.node),
                               **self.place(hop)}
        eni = self._eni(hop)
        if eni is not None:
            exp["NetworkInterface"] = self.ref(eni)
        detail = hop.detail
        m_sg = _SG_DENY.search(detail)
        if m_sg is not None:
            groups = [g for g in m_sg.group(2).split(", ") if g and g != "none"]
            exp["Direction"] = "egress" if m_sg.group(1) == "outbound" else "ingress"
            exp["SecurityGroups"] = [self.ref(g) for g in groups]
            if groups:
                exp["SecurityGroup"] = self.ref(groups[0])
                exp["Component"] = self.ref(groups[0])
        m_acl = None
        for m in _ACL.finditer(detail):
            m_acl = m
        if code == "SUBNET_ACL_RESTRICTION" and m_acl is not None:
            exp["Acl"] = self.ref(m_acl.group(1))
            exp["AclRule"] = self._acl_rule(m_acl)
            exp["Direction"] = "egress" if m_acl.group(2) == "outbound" else "ingress"
            exp["Component"] = self.ref(m_acl.group(1))
        if code in ("NO_ROUTE_TO_DESTINATION", "BAD_STATE_ROUTE", "CANNOT_ROUTE"):
            routes = list(_ROUTE.finditer(detail))
            route = routes[-1] if routes else None
            table = route.group(5) if route is not None else None
            if table is None:
                m_tab = re.search(rf"\b(rtb-{_ID})", detail)
                table = m_tab.group(1) if m_tab else None
            if table is None and hop.node in self.fp.subnet_table:
                table = self.fp.subnet_table[hop.node].id
            if table is not None:
                exp["RouteTable"] = self.ref(table)
                exp["Component"] = self.ref(table)
            if route is not None:
                exp["RouteTableRoute"] = self._route(route)
            if destination:
                exp["Destination"] = self.ref(destination)
        if code.startswith("TGW_") or hop.type == "transit-gateway":
            exp["TransitGateway"] = self.ref(hop.node)
            m_rtb = re.search(rf"\b(tgw-rtb-{_ID})", detail)
            if m_rtb is not None:
                exp["TransitGatewayRouteTable"] = self.ref(m_rtb.group(1))
            m_att = re.search(rf"\b(tgw-attach-{_ID})", detail)
            if m_att is not None:
                exp["TransitGatewayAttachment"] = self.ref(m_att.group(1))
        if hop.type == "internet-gateway":
            exp["InternetGateway"] = self.ref(hop.node)
        if hop.type == "nat-gateway":
            exp["NatGateway"] = self.ref(hop.node)
        if hop.type == "vpn-gateway":
            exp["VpnGateway"] = self.ref(hop.node)
        m_pcx = re.search(rf"\b(pcx-{_ID})", detail)
        if m_pcx is not None:
            exp["VpcPeeringConnection"] = self.ref(m_pcx.group(1))
        lb = self.lbs.get(hop.node)
        if lb is not None:
            exp["LoadBalancerArn"] = lb.lb.id
            m_port = re.search(r"port (\d+)", detail)
            if m_port is not None:
                exp["LoadBalancerListenerPort"] = int(m_port.group(1))
        return exp


def header(flow: Flow) -> dict[str, Any]:
    """An ``AnalysisPacketHeader`` for one concrete packet."""
    out: dict[str, Any] = {"Protocol": str(flow.protocol),
                           "SourceAddresses": [str(flow.src_ip)],
                           "DestinationAddresses": [str(flow.dst_ip)]}
    if flow.has_ports:
        out["SourcePortRanges"] = [_port_range(flow.src_port, flow.src_port)]
        out["DestinationPortRanges"] = [_port_range(flow.dst_port, flow.dst_port)]
    return out
