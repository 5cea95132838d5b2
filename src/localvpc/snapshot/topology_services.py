"""Topology sections beyond the VPC core: peering, transit gateways, Site-to-Site VPN, VPC
endpoints, load balancers and target groups, Outposts local gateways and customer-owned IPs.

Called by :mod:`localvpc.snapshot.topology` in dependency order; see ``docs/topology-format.md``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from localvpc.model.aws_prefixes import aws_prefix_records
from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.elb import Listener, LoadBalancer, LoadBalancerZone, Target, TargetGroup
from localvpc.model.endpoints import VpcEndpoint
from localvpc.model.filters import PrefixList
from localvpc.model.gateways import (
    CoipPool,
    LocalGateway,
    LocalGatewayRoute,
    LocalGatewayRouteTable,
    VpnConnection,
    VpnTunnel,
)
from localvpc.model.interfaces import NetworkInterface
from localvpc.model.network import Network
from localvpc.model.peering import VpcPeeringConnection
from localvpc.model.transit import (
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
)
from localvpc.model.vpc import Route, Subnet, TargetType, Vpc
from localvpc.model.zones import ZoneType
from localvpc.snapshot.topology_context import Ctx
from localvpc.snapshot.topology_ids import (
    listener_arn,
    load_balancer_arn,
    load_balancer_dns_name,
    make_id,
    outpost_arn,
    target_group_arn,
)
from localvpc.snapshot.topology_registry import Declared
from localvpc.snapshot.topology_schema import Obj, YNode

PEERING_FIELDS = ("name", "id", "requester", "accepter", "status", "tags")
TGW_FIELDS = ("name", "id", "amazon_side_asn", "attachments", "route_tables", "tags")
TGW_ATTACHMENT_FIELDS = ("name", "id", "vpc", "subnets", "appliance_mode", "peer", "state",
                         "tags")
TGW_TABLE_FIELDS = ("name", "id", "default_association", "default_propagation", "associations",
                    "propagations", "routes", "tags")
TGW_ROUTE_FIELDS = ("destination", "attachment", "blackhole")
VPN_FIELDS = ("name", "id", "customer_gateway", "vpn_gateway", "transit_gateway",
              "static_routes", "static_routes_only", "tunnels", "state", "tags")
TUNNEL_FIELDS = ("outside_ip", "status")
ENDPOINT_FIELDS = ("name", "id", "vpc", "type", "service", "route_tables", "subnets",
                   "security_groups", "private_dns", "state", "tags")
TG_FIELDS = ("name", "id", "vpc", "protocol", "port", "target_type", "targets", "tags")
TARGET_FIELDS = ("instance", "ip", "port")
LB_FIELDS = ("name", "id", "type", "scheme", "subnets", "addresses", "security_groups",
             "cross_zone", "listeners", "tags")
LB_SUBNET_FIELDS = ("subnet", "private_ip", "public_ip")
LISTENER_FIELDS = ("port", "protocol", "targets", "target_group")
LGW_FIELDS = ("name", "id", "outpost", "route_tables", "tags")
LGW_TABLE_FIELDS = ("name", "id", "mode", "vpcs", "routes", "tags")
LGW_ROUTE_FIELDS = ("destination", "network_interface", "vif_group")
COIP_FIELDS = ("name", "id", "local_gateway_route_table", "cidrs", "tags")

PEERING_STATES = ("initiating-request", "pending-acceptance", "provisioning", "active",
                  "rejected", "failed", "expired", "deleting", "deleted")
ATTACHMENT_STATES = ("pending", "pendingAcceptance", "available", "modifying", "deleting",
                     "deleted", "failed", "rejected")
LB_PROTOCOLS = {"application": ("HTTP", "HTTPS"), "network": ("TCP", "UDP", "TLS", "TCP_UDP")}
TG_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "UDP", "TLS", "TCP_UDP")
GATEWAY_SERVICES = ("s3", "dynamodb")
_LB_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?")
_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12",
                                                   "192.168.0.0/16", "100.64.0.0/10"))


def peering_between(net: Network, vpc_a: str, vpc_b: str) -> str | None:
    """The active peering connection between two VPCs, if any."""
    for pcx in net.peering_connections.values():
        if pcx.status == "active" and pcx.peer_of(vpc_a) == vpc_b:
            return pcx.id
    return None


def _tags(obj: Obj, decl: Declared) -> dict[str, str]:
    tags = obj.tags()
    if decl.name is not None:
        if "Name" in tags and tags["Name"] != decl.name:
            obj.err("tags", f"tag Name '{tags['Name']}' contradicts name '{decl.name}'")
        tags["Name"] = decl.name
    return tags


class Services:
    """Declares and builds the service sections of one file."""

    def __init__(self, ctx: Ctx, top: Obj) -> None:
        self.ctx = ctx
        self.net = ctx.net
        self.top = top
        self.decls: dict[str, list[Declared]] = {}
        self.children: dict[str, list[Declared]] = {}  # tgw/lgw id -> attachments, tables
        self.tgw_tables: dict[str, list[Declared] | None] = {}
        self.tgw_by_resource: dict[tuple[str, str], str] = {}
        self.pending_gateway_routes: list[tuple[VpcEndpoint, Obj, str]] = []
        self.lb_zones: list[tuple[LoadBalancerZone, NetworkInterface]] = []

    # ------------------------------------------------------------------ declaring
    def declare(self) -> None:
        reg = self.ctx.reg

        def section(key: str, fields: tuple[str, ...], kind: str, what: str) -> list[Declared]:
            decls = [reg.declare(kind, o) for o in self.top.objs(key, fields, what)]
            self.decls[key] = decls
            return decls

        section("peering_connections", PEERING_FIELDS, "peering-connection",
                "a peering connection")
        for tgw in section("transit_gateways", TGW_FIELDS, "transit-gateway",
                           "a transit gateway"):
            assert tgw.obj is not None
            self.children[tgw.id] = [
                reg.declare("transit-gateway-attachment", o, scope=tgw.id)
                for o in tgw.obj.objs("attachments", TGW_ATTACHMENT_FIELDS,
                                      "a transit gateway attachment")]
            tables = tgw.obj.objs("route_tables", TGW_TABLE_FIELDS,
                                  "a transit gateway route table")
            self.tgw_tables[tgw.id] = (
                [reg.declare("transit-gateway-route-table", o, scope=tgw.id) for o in tables]
                if tgw.obj.present("route_tables") is not None else None)
        section("vpn_connections", VPN_FIELDS, "vpn-connection", "a VPN connection")
        section("vpc_endpoints", ENDPOINT_FIELDS, "vpc-endpoint", "a VPC endpoint")
        for key, fields, kind, what in (
                ("target_groups", TG_FIELDS, "target-group", "a target group"),
                ("load_balancers", LB_FIELDS, "load-balancer", "a load balancer")):
            decls: list[Declared] = []
            for o in self.top.objs(key, fields, what):
                name = o.req_str("name") or o.path
                if kind == "target-group":
                    made = target_group_arn(reg.account, reg.region, name)
                else:
                    lb_type = o.opt_str("type") or "application"
                    made = load_balancer_arn(reg.account, reg.region, lb_type, name)[0]
                decls.append(reg.declare(kind, o, name_required=True, make=made))
            self.decls[key] = decls
        for lgw in section("local_gateways", LGW_FIELDS, "local-gateway", "a local gateway"):
            assert lgw.obj is not None
            self.children[lgw.id] = [
                reg.declare("local-gateway-route-table", o)
                for o in lgw.obj.objs("route_tables", LGW_TABLE_FIELDS,
                                      "a local gateway route table")]
        section("coip_pools", COIP_FIELDS, "coip-pool", "a customer-owned IP pool")

    # ------------------------------------------------------------------ peering
    def peering_connections(self) -> None:
        ctx, net = self.ctx, self.net
        pairs: dict[frozenset[str], Declared] = {}
        for d in self.decls["peering_connections"]:
            o = d.obj
            assert o is not None
            requester = ctx.vpc(o, "requester")
            accepter = ctx.vpc(o, "accepter")
            status = o.str_or("status", "active", PEERING_STATES)
            tags = _tags(o, d)
            if requester is None or accepter is None:
                continue
            if requester.id == accepter.id:
                o.err("accepter", "a VPC cannot be peered with itself")
                continue
            live = status in ("active", "pending-acceptance", "provisioning")
            clash = next(((a, b) for a in requester.all_cidrs for b in accepter.all_cidrs
                          if a.overlaps(b)), None)
            if live and clash is not None:
                o.err("accepter", f"{ctx.label(requester.id)} ({clash[0]}) and "
                                  f"{ctx.label(accepter.id)} ({clash[1]}) have overlapping "
                                  "CIDR blocks: AWS refuses to peer them")
            pair = frozenset((requester.id, accepter.id))
            if live and pair in pairs:
                o.err("accepter", f"these VPCs are already peered by {pairs[pair].label} (line "
                                  f"{pairs[pair].line})")
            elif live:
                pairs[pair] = d
            net.add(VpcPeeringConnection(
                id=d.id, account=requester.account, region=requester.region, tags=tags,
                requester_vpc_id=requester.id, accepter_vpc_id=accepter.id,
                requester_account=requester.account, accepter_account=accepter.account,
                requester_region=requester.region, accepter_region=accepter.region,
                status=status))

    # ------------------------------------------------------------------ transit gateways
    def transit_gateways(self) -> None:
        ctx, net = self.ctx, self.net
        for d in self.decls["transit_gateways"]:
            o = d.obj
            assert o is not None
            net.add(TransitGateway(
                id=d.id, account=ctx.account, region=ctx.region, tags=_tags(o, d),
                amazon_side_asn=o.opt_int("amazon_side_asn", 64512, 4294967294) or 64512,
                owner_id=ctx.account))
        for d in self.decls["transit_gateways"]:
            for a in self.children.get(d.id, []):
                self.tgw_attachment(d, a)

    def tgw_attachment(self, tgw: Declared, d: Declared) -> None:
        ctx, net = self.ctx, self.net
        o = d.obj
        assert o is not None
        key = o.exactly_one(("vpc", "peer"))
        state = o.str_or("state", "available", ATTACHMENT_STATES)
        appliance = o.bool_or("appliance_mode", False)
        tags = _tags(o, d)
        att = TransitGatewayAttachment(id=d.id, account=ctx.account, region=ctx.region,
                                       tags=tags, transit_gateway_id=tgw.id, state=state,
                                       appliance_mode=appliance)
        if key == "vpc":
            vpc = ctx.vpc(o)
            if vpc is None:
                return
            if o.present("subnets") is None:
                o.missing("subnets")
            zones: dict[str, Subnet] = {}
            for subnet, node in ctx.subnets(o, "subnets", vpc.id):
                if subnet.availability_zone in zones:
                    o.err_at(node, f"{ctx.label(zones[subnet.availability_zone].id)} is already "
                                   f"this attachment's subnet in {subnet.availability_zone} "
                                   "(one subnet per zone)")
                    continue
                zones[subnet.availability_zone] = subnet
                att.subnet_ids.append(subnet.id)
            att.resource_type, att.resource_id, att.resource_owner = "vpc", vpc.id, vpc.account
        elif key == "peer":
            if o.present("subnets") is not None:
                o.err("subnets", "subnets apply to VPC attachments only")
            other = ctx.ref(o, "peer", ("transit-gateway",), "transit gateway")
            if other is None:
                return
            if other.id == tgw.id:
                o.err("peer", "a transit gateway cannot peer with itself")
                return
            att.resource_type, att.resource_id = "peering", other.id
            att.peer_transit_gateway_id = other.id
            self.tgw_by_resource.setdefault((other.id, tgw.id), att.id)
        else:
            return
        if (tgw.id, att.resource_id) in self.tgw_by_resource and key == "vpc":
            o.err("vpc", f"{ctx.label(att.resource_id)} is already attached to {tgw.label}")
            return
        self.tgw_by_resource[(tgw.id, att.resource_id)] = att.id
        net.add(att)

    def vpn_connections(self) -> None:
        ctx, net = self.ctx, self.net
        for d in self.decls["vpn_connections"]:
            o = d.obj
            assert o is not None
            cgw = ctx.ref(o, "customer_gateway", ("customer-gateway",), "customer gateway",
                          required=True)
            key = o.exactly_one(("vpn_gateway", "transit_gateway"))
            vgw = ctx.ref(o, "vpn_gateway", ("vpn-gateway",), "VPN gateway") \
                if key == "vpn_gateway" else None
            tgw = ctx.ref(o, "transit_gateway", ("transit-gateway",), "transit gateway") \
                if key == "transit_gateway" else None
            routes = [c for c, _ in o.cidr_items("static_routes")]
            static_only = o.bool_or("static_routes_only", bool(routes))
            if routes and not static_only:
                o.err("static_routes_only", "static routes need static_routes_only: true")
            state = o.str_or("state", "available", ("pending", "available", "deleting",
                                                    "deleted"))
            tags = _tags(o, d)
            tunnels = o.objs("tunnels", TUNNEL_FIELDS, "a VPN tunnel")
            if len(tunnels) > 2:
                o.err("tunnels", f"a VPN connection has two tunnels, not {len(tunnels)}")
            if cgw is None or (vgw is None and tgw is None):
                continue
            vpn = net.add(VpnConnection(
                id=d.id, account=ctx.account, region=ctx.region, tags=tags,
                customer_gateway_id=cgw.id, vpn_gateway_id=vgw.id if vgw else None,
                transit_gateway_id=tgw.id if tgw else None, state=state,
                static_routes_only=static_only, routes=routes))
            for t in [*tunnels, None, None][:2]:  # AWS always builds two tunnels
                tunnel = VpnTunnel(outside_ip=None, status="UP")
                vpn.tunnels.append(tunnel)
                given: IPAddress | None = None
                node: YNode | None = None
                if t is not None:
                    tunnel.status = t.str_or("status", "UP", ("UP", "DOWN"))
                    given, node = t.opt_ip("outside_ip"), t.child("outside_ip")
                if given is not None and node is not None:
                    if ctx.book.claim_public(given, node, d.label):
                        tunnel.outside_ip = given
                else:
                    def assign(ip: IPAddress, tunnel: VpnTunnel = tunnel) -> None:
                        tunnel.outside_ip = ip

                    ctx.book.later_public(d.label, assign)
            if tgw is not None and tgw.id in net.transit_gateways:
                att_id = make_id("transit-gateway-attachment", tgw.id, d.id)
                net.add(TransitGatewayAttachment(
                    id=att_id, account=ctx.account, region=ctx.region, tags=dict(tags),
                    transit_gateway_id=tgw.id, resource_type="vpn", resource_id=d.id,
                    resource_owner=ctx.account))
                ctx.reg.implied("transit-gateway-attachment", att_id, d.name, scope=tgw.id)
                self.tgw_by_resource[(tgw.id, d.id)] = att_id

    def attachment_ref(self, tgw: Declared, text: str, node: YNode) -> (
            TransitGatewayAttachment | None):
        """An attachment of ``tgw``: by its name or id, or by the VPC, VPN connection or peer
        transit gateway it attaches."""
        ctx, net = self.ctx, self.net
        found = ctx.reg.find(("transit-gateway-attachment",), text, scope=tgw.id)
        if found:
            att = net.transit_gateway_attachments.get(found[0].id)
            if att is not None and tgw.id not in (att.transit_gateway_id,
                                                  att.peer_transit_gateway_id):
                ctx.p.add(node.line, node.path, f"{found[0].label} belongs to "
                                                f"{ctx.label(att.transit_gateway_id)}, not "
                                                f"{tgw.label}")
                return None
            return att
        others = ctx.reg.find(("vpc", "vpn-connection", "transit-gateway"), text)
        if len(others) == 1:
            att_id = self.tgw_by_resource.get((tgw.id, others[0].id))
            if att_id is None:
                ctx.p.add(node.line, node.path,
                          f"{others[0].label} has no attachment to {tgw.label}")
                return None
            return net.transit_gateway_attachments.get(att_id)
        ctx.p.add(node.line, node.path,
                  f"'{text}' is not an attachment of {tgw.label} (give an attachment's name or "
                  "id, or the VPC, VPN connection or peer transit gateway it attaches)")
        return None

    def transit_gateway_route_tables(self) -> None:
        net = self.net
        for d in self.decls["transit_gateways"]:
            tgw = net.transit_gateways.get(d.id)
            if tgw is None:
                continue
            mine = [a for a in net.transit_gateway_attachments.values()
                    if tgw.id in (a.transit_gateway_id, a.peer_transit_gateway_id)]
            declared = self.tgw_tables.get(d.id)
            if declared is None:
                # No tables written: the default table with default association and propagation.
                rid = make_id("transit-gateway-route-table", tgw.id, "default")
                table = net.add(TransitGatewayRouteTable(
                    id=rid, account=tgw.account, region=tgw.region, transit_gateway_id=tgw.id,
                    default_association=True, default_propagation=True))
                self.ctx.reg.implied("transit-gateway-route-table", rid)
                tgw.default_association_route_table_id = rid
                tgw.default_propagation_route_table_id = rid
                self.tgw_defaults(tgw, table, table, mine, set())
                continue
            associated: dict[str, tuple[Declared, int]] = {}
            assoc_default: TransitGatewayRouteTable | None = None
            prop_default: TransitGatewayRouteTable | None = None
            for t in declared:
                table = self.tgw_table(d, t, associated)
                if table is None:
                    continue
                assert t.obj is not None
                if table.default_association:
                    if assoc_default is not None:
                        t.obj.err("default_association", "another table of this transit "
                                                         "gateway is already the default "
                                                         "association table")
                    else:
                        assoc_default = table
                        tgw.default_association_route_table_id = table.id
                if table.default_propagation:
                    if prop_default is not None:
                        t.obj.err("default_propagation", "another table of this transit "
                                                         "gateway is already the default "
                                                         "propagation table")
                    else:
                        prop_default = table
                        tgw.default_propagation_route_table_id = table.id
            self.tgw_defaults(tgw, assoc_default, prop_default, mine, set(associated))

    @staticmethod
    def tgw_defaults(tgw: TransitGateway, assoc: TransitGatewayRouteTable | None,
                     prop: TransitGatewayRouteTable | None,
                     attachments: Iterable[TransitGatewayAttachment],
                     associated: set[str]) -> None:
        """Attachments not associated explicitly go to the default association table; every
        attachment but a peering one propagates into the default propagation table."""
        for att in attachments:
            if assoc is not None and att.id not in associated:
                assoc.associated_attachment_ids.append(att.id)
                if att.transit_gateway_id == tgw.id:
                    att.association_route_table_id = assoc.id
            if (prop is not None and att.resource_type != "peering"
                    and att.id not in prop.propagating_attachment_ids):
                prop.propagating_attachment_ids.append(att.id)

    def tgw_table(self, tgw: Declared, d: Declared,
                  associated: dict[str, tuple[Declared, int]]) -> TransitGatewayRouteTable | None:
        o = d.obj
        assert o is not None
        net = self.net
        table = TransitGatewayRouteTable(
            id=d.id, account=self.ctx.account, region=self.ctx.region, tags=_tags(o, d),
            transit_gateway_id=tgw.id,
            default_association=o.bool_or("default_association", False),
            default_propagation=o.bool_or("default_propagation", False))
        for text, node in o.str_items("associations"):
            att = self.attachment_ref(tgw, text, node)
            if att is None:
                continue
            held = associated.get(att.id)
            if held is not None:
                o.err_at(node, f"{self.ctx.label(att.id)} is already associated with "
                               f"{held[0].label} (line {held[1]}); an attachment has one "
                               "association")
                continue
            associated[att.id] = (d, node.line)
            table.associated_attachment_ids.append(att.id)
            if att.transit_gateway_id == tgw.id:
                att.association_route_table_id = table.id
        for text, node in o.str_items("propagations"):
            att = self.attachment_ref(tgw, text, node)
            if att is None:
                continue
            if att.resource_type == "peering":
                o.err_at(node, "peering attachments do not propagate routes: add static routes")
            elif att.id in table.propagating_attachment_ids:
                o.err_at(node, f"{self.ctx.label(att.id)} is listed twice")
            else:
                table.propagating_attachment_ids.append(att.id)
        seen: dict[IPNetwork, int] = {}
        for r in o.objs("routes", TGW_ROUTE_FIELDS, "a transit gateway route"):
            destination = r.req_cidr("destination")
            blackhole = r.bool_or("blackhole", False)
            att_text = r.opt_str("attachment")
            att_node = r.child("attachment")
            att_id: str | None = None
            if blackhole and att_text is not None:
                r.err("attachment", "a blackhole route has no attachment")
                continue
            if not blackhole:
                if att_text is None or att_node is None:
                    r.missing("attachment")
                    continue
                att = self.attachment_ref(tgw, att_text, att_node)
                if att is None:
                    continue
                att_id = att.id
            if destination is None:
                continue
            dest_node = r.child("destination")
            if destination in seen:
                r.err("destination", f"this table already has a route to {destination} "
                                     f"(line {seen[destination]})")
                continue
            seen[destination] = dest_node.line if dest_node is not None else r.line
            table.routes.append(TransitGatewayRoute(
                destination, "static", "blackhole" if blackhole else "active", att_id))
        return net.add(table)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ VPC endpoints
    def vpc_endpoints(self) -> None:
        ctx, net = self.ctx, self.net
        for d in self.decls["vpc_endpoints"]:
            o = d.obj
            assert o is not None
            vpc = ctx.vpc(o)
            service = o.req_str("service")
            default_type = "gateway" if o.present("route_tables") is not None else "interface"
            kind = o.str_or("type", default_type,
                            ("gateway", "interface", "gatewayloadbalancer"))
            state = o.str_or("state", "available")
            private_dns = o.opt_bool("private_dns")
            tags = _tags(o, d)
            if vpc is None or service is None:
                continue
            full = service if "." in service else f"com.amazonaws.{vpc.region}.{service}"
            short = full.rsplit(".", 1)[-1]
            endpoint = VpcEndpoint(
                id=d.id, account=vpc.account, region=vpc.region, tags=tags, vpc_id=vpc.id,
                service_name=full, state=state,
                endpoint_type={"gateway": "Gateway", "interface": "Interface"}.get(
                    kind, "GatewayLoadBalancer"))
            misplaced = {"gateway": ("subnets", "security_groups", "private_dns"),
                         "interface": ("route_tables",),
                         "gatewayloadbalancer": ("route_tables", "security_groups",
                                                 "private_dns")}[kind]
            for key in misplaced:
                if o.present(key) is not None:
                    o.err(key, f"{key} does not apply to {kind} endpoints")
            if kind == "gateway":
                if short not in GATEWAY_SERVICES or not full.startswith("com.amazonaws."):
                    o.err("service", f"gateway endpoints exist for s3 and dynamodb only, not "
                                     f"'{service}'")
                    continue
                pl_id = self.managed_prefix_list(full, short, vpc)
                self.pending_gateway_routes.append((endpoint, o, pl_id))
            else:
                self.endpoint_interfaces(endpoint, o, d, vpc, kind)
                endpoint.private_dns_enabled = kind == "interface" and (
                    private_dns if private_dns is not None else True)
            net.add(endpoint)

    def endpoint_interfaces(self, endpoint: VpcEndpoint, o: Obj, d: Declared, vpc: Vpc,
                            kind: str) -> None:
        ctx = self.ctx
        if o.present("subnets") is None:
            o.missing("subnets")
        groups = ctx.security_groups(o, "security_groups", vpc.id) if kind == "interface" \
            else []
        zones: dict[str, str] = {}
        picked = ctx.subnets(o, "subnets", vpc.id)
        if kind == "gatewayloadbalancer" and len(picked) > 1:
            o.err("subnets", "a Gateway Load Balancer endpoint lives in one subnet")
            picked = picked[:1]
        for subnet, node in picked:
            if subnet.availability_zone in zones:
                o.err_at(node, f"{ctx.label(zones[subnet.availability_zone])} is already this "
                               f"endpoint's subnet in {subnet.availability_zone} (one subnet "
                               "per zone)")
                continue
            zones[subnet.availability_zone] = subnet.id
            eni = ctx.new_eni(
                make_id("network-interface", endpoint.id, subnet.id), subnet,
                interface_type=("vpc_endpoint" if kind == "interface"
                                else "gateway_load_balancer_endpoint"),
                description=f"VPC Endpoint Interface {endpoint.id}",
                security_group_ids=groups)
            ctx.primary_address(eni, subnet, None, d.label, None, node)
            endpoint.subnet_ids.append(subnet.id)
            endpoint.network_interface_ids.append(eni.id)
        endpoint.security_group_ids = groups

    def managed_prefix_list(self, full: str, short: str, vpc: Vpc) -> str:
        """The AWS-managed prefix list of a gateway endpoint service (one declared in the file
        with the same name wins), from the bundled AWS IP ranges of the VPC's region."""
        for pl in self.net.prefix_lists.values():
            if pl.prefix_list_name == full:
                return pl.id
        wanted = short.upper()
        cidrs = sorted({r.prefix for r in aws_prefix_records()
                        if r.service == wanted and r.region == vpc.region
                        and r.prefix.version == 4},
                       key=lambda n: (int(n.network_address), n.prefixlen))
        pl_id = make_id("prefix-list", vpc.region, full)
        self.net.add(PrefixList(id=pl_id, account=vpc.account, region=vpc.region,
                                prefix_list_name=full, cidrs=list(cidrs),
                                max_entries=len(cidrs), owner_id="AWS"))
        self.ctx.reg.implied("prefix-list", pl_id, full)
        return pl_id

    def gateway_endpoint_routes(self) -> None:
        """Gateway endpoints add a prefix-list route to each of their route tables (RT-14)."""
        ctx, net = self.ctx, self.net
        for endpoint, o, pl_id in self.pending_gateway_routes:
            for text, node in o.str_items("route_tables"):
                if text == "main":
                    table = net.main_route_table(endpoint.vpc_id)
                else:
                    decl = ctx.reg.resolve(("route-table",), text, node, "route table")
                    table = net.route_tables.get(decl.id) if decl is not None else None
                    if decl is not None and table is not None and not ctx.in_vpc(
                            node, decl, table.vpc_id, endpoint.vpc_id):
                        continue
                if table is None:
                    continue
                if table.id in endpoint.route_table_ids:
                    ctx.p.add(node.line, node.path, f"{ctx.label(table.id)} is listed twice")
                    continue
                if any(r.prefix_list_id == pl_id for r in table.routes):
                    ctx.p.add(node.line, node.path, f"{ctx.label(table.id)} already routes "
                                                    f"{endpoint.service_name}")
                    continue
                endpoint.route_table_ids.append(table.id)
                table.routes.append(Route(None, TargetType.GATEWAY_ENDPOINT, endpoint.id,
                                          prefix_list_id=pl_id))

    # ------------------------------------------------------------------ load balancing
    def targets(self, o: Obj, key: str, vpc: Vpc, default_port: int | None
                ) -> tuple[str | None, list[Target]]:
        """Targets written as ``name``, ``name:port``, ``10.0.0.5:80`` or ``{instance|ip,
        port}``; returns the target type (instance or ip) and the targets."""
        ctx, net = self.ctx, self.net
        kinds: set[str] = set()
        out: list[Target] = []
        for item in o.items(key):
            ref: str | None = None
            port = default_port
            where: YNode = item
            if isinstance(item.value, str):
                ref, _, tail = item.value.rpartition(":")
                if not ref or not tail.isdigit():
                    ref, tail = item.value, ""
                if tail:
                    port = int(tail)
            elif isinstance(item.value, dict):
                t = Obj(ctx.p, item, TARGET_FIELDS, "a target")
                field = t.exactly_one(("instance", "ip"))
                if field is None:
                    continue
                ref = t.opt_str(field)
                where = t.child(field) or where
                port = t.opt_int("port", 1, 65535) or default_port
            else:
                ctx.p.add(item.line, item.path, "expected a target like wordpress:80 or "
                                                "{instance: wordpress, port: 80}")
                continue
            if ref is None:
                continue
            if port is not None and not 1 <= port <= 65535:
                ctx.p.add(item.line, item.path, f"port {port} is out of range 1..65535")
                continue
            try:
                ip = ipaddress.ip_address(ref)
            except ValueError:
                ip = None
            if ip is None:
                decl = ctx.reg.resolve(("instance",), ref, where, "instance")
                instance = net.instances.get(decl.id) if decl is not None else None
                if decl is None or instance is None:
                    continue
                if not ctx.in_vpc(where, decl, instance.vpc_id, vpc.id):
                    continue
                kinds.add("instance")
                out.append(Target(instance.id, port, availability_zone=instance.availability_zone))
            else:
                zone = next((s.availability_zone for s in net.subnets_of(vpc.id)
                             if any(ip in c for c in s.all_cidrs)), None)
                if zone is None and not any(ip in n for n in _RFC1918):
                    ctx.p.add(where.line, where.path, f"IP target {ip} is neither in "
                                                      f"{ctx.label(vpc.id)} nor a private "
                                                      "address")
                    continue
                kinds.add("ip")
                out.append(Target(str(ip), port, availability_zone=zone or "all"))
        if len(kinds) > 1:
            node = o.child(key)
            if node is not None:
                ctx.p.add(node.line, node.path,
                          "a target group holds instances or IP addresses, not both")
            return None, []
        return (kinds.pop() if kinds else None), out

    def target_groups(self) -> None:
        ctx, net = self.ctx, self.net
        for d in self.decls["target_groups"]:
            o = d.obj
            assert o is not None
            vpc = ctx.vpc(o)
            protocol = o.str_or("protocol", "HTTP", TG_PROTOCOLS)
            port = o.opt_int("port", 1, 65535)
            declared_type = o.str_or("target_type", "instance", ("instance", "ip"))
            tags = _tags(o, d)
            if vpc is None:
                continue
            found, targets = self.targets(o, "targets", vpc, port)
            if found is not None and found != declared_type:
                o.err("targets", f"target_type is {declared_type} but the targets are "
                                 f"{'instances' if found == 'instance' else 'IP addresses'}")
            net.add(TargetGroup(id=d.id, account=vpc.account, region=vpc.region, tags=tags,
                                name_=d.name or "", protocol=protocol, port=port,
                                target_type=declared_type, vpc_id=vpc.id, targets=targets))

    def lb_subnets(self, o: Obj) -> list[tuple[Subnet, YNode, Obj | None]]:
        """``subnets``: names/ids, or ``{subnet, private_ip, public_ip}`` mappings."""
        ctx = self.ctx
        out: list[tuple[Subnet, YNode, Obj | None]] = []
        for item in o.items("subnets", single_ok=True):
            mapping: Obj | None = None
            if isinstance(item.value, dict):
                mapping = Obj(ctx.p, item, LB_SUBNET_FIELDS, "a load balancer subnet")
                decl = ctx.ref(mapping, "subnet", ("subnet",), "subnet", required=True)
                node = mapping.child("subnet") or item
            elif isinstance(item.value, str):
                decl = ctx.reg.resolve(("subnet",), item.value, item, "subnet")
                node = item
            else:
                ctx.p.add(item.line, item.path, "expected a subnet name or id, or a mapping "
                                                "{subnet, private_ip, public_ip}")
                continue
            subnet = self.net.subnets.get(decl.id) if decl is not None else None
            if subnet is not None:
                out.append((subnet, node, mapping))
        return out

    def load_balancers(self) -> None:
        for d in self.decls["load_balancers"]:
            self.load_balancer(d)

    def load_balancer(self, d: Declared) -> None:
        ctx, net = self.ctx, self.net
        o = d.obj
        assert o is not None
        name = d.name or ""
        if d.name is not None and (not _LB_NAME.fullmatch(name) or name.startswith("internal-")):
            o.err("name", f"'{name}' is not a load balancer name (1-32 letters, digits and "
                          "hyphens, not starting or ending with a hyphen or with 'internal-')")
        lb_type = o.str_or("type", "application", ("application", "network"))
        scheme = o.str_or("scheme", "internet-facing", ("internet-facing", "internal"))
        cross_zone = o.bool_or("cross_zone", lb_type == "application")
        tags = _tags(o, d)
        if o.present("subnets") is None:
            o.missing("subnets")
        picked = self.lb_subnets(o)
        if not picked:
            o.objs("listeners", LISTENER_FIELDS, "a listener")  # still check their fields
            return
        vpc_id = picked[0][0].vpc_id
        vpc = net.vpcs[vpc_id]
        zones: dict[str, Subnet] = {}
        chosen: list[tuple[Subnet, YNode, Obj | None]] = []
        for subnet, node, mapping in picked:
            if subnet.vpc_id != vpc_id:
                ctx.p.add(node.line, node.path, f"{ctx.label(subnet.id)} is in "
                                                f"{ctx.label(subnet.vpc_id)}, but the load "
                                                f"balancer's first subnet is in "
                                                f"{ctx.label(vpc_id)}")
            elif subnet.availability_zone in zones:
                ctx.p.add(node.line, node.path,
                          f"{ctx.label(zones[subnet.availability_zone].id)} is already in "
                          f"{subnet.availability_zone}: one subnet per zone")
            else:
                zones[subnet.availability_zone] = subnet
                chosen.append((subnet, node, mapping))
        kinds = {z.zone_type for n in zones if (z := net.zones.get(n)) is not None}
        if len(kinds) > 1:
            o.err("subnets", "a load balancer's zones must all be of one type (availability "
                             "zones, or Local Zones)")
        elif lb_type == "application" and kinds == {ZoneType.AVAILABILITY_ZONE} and \
                len(zones) < 2:
            o.err("subnets", "an Application Load Balancer needs subnets in at least two "
                             "availability zones (in Local Zones one subnet is enough)")
        if scheme == "internet-facing" and net.internet_gateway_of(vpc_id) is None:
            o.err("scheme", f"an internet-facing load balancer needs an internet gateway "
                            f"attached to {ctx.label(vpc_id)}")
        groups = ctx.security_groups(o, "security_groups", vpc_id,
                                     default=lb_type == "application")
        arn = d.id
        short = arn.split(":loadbalancer/", 1)[-1]
        lb = LoadBalancer(
            id=arn, account=vpc.account, region=vpc.region, tags=tags, lb_name=name,
            lb_type=lb_type, scheme=scheme, vpc_id=vpc_id,
            dns_name=load_balancer_dns_name(name, vpc.region, scheme, vpc.account),
            cross_zone=cross_zone, security_group_ids=groups)
        given = self.lb_addresses(o, [s for s, _, _ in chosen])
        for subnet, node, mapping in chosen:
            zone = LoadBalancerZone(zone_name=subnet.availability_zone, subnet_id=subnet.id)
            lb.zones.append(zone)
            eni = ctx.new_eni(
                make_id("network-interface", arn, subnet.id), subnet,
                interface_type="network_load_balancer" if lb_type == "network" else "interface",
                description=f"ELB {short}", security_group_ids=groups,
                requester_id="amazon-elb")
            self.lb_zones.append((zone, eni))
            private, private_node = given.get(subnet.id, (None, None))
            public, public_node = None, None
            if mapping is not None:
                if mapping.present("private_ip") is not None:
                    private, private_node = mapping.opt_ip("private_ip"), mapping.child(
                        "private_ip")
                public, public_node = mapping.opt_ip("public_ip"), mapping.child("public_ip")
            primary = ctx.primary_address(eni, subnet, private_node, d.label, private, node)
            if scheme == "internet-facing":
                ctx.public_address(primary, public, public_node, d.label, allocate=True)
            elif public_node is not None and mapping is not None:
                mapping.err("public_ip", "an internal load balancer has no public IP")
        self.listeners(lb, o, vpc)
        net.add(lb)

    def lb_addresses(self, o: Obj, subnets: list[Subnet]
                     ) -> dict[str, tuple[IPAddress | None, YNode | None]]:
        """``addresses``: one private IP per zone, matched to the subnet that holds it."""
        out: dict[str, tuple[IPAddress | None, YNode | None]] = {}
        for ip, node in o.ip_items("addresses"):
            subnet = next((s for s in subnets if any(ip in c for c in s.all_cidrs)), None)
            if subnet is None:
                o.err_at(node, f"{ip} is in none of the load balancer's subnets")
            elif subnet.id in out:
                o.err_at(node, f"{self.ctx.label(subnet.id)} already has the address "
                               f"{out[subnet.id][0]}")
            else:
                out[subnet.id] = (ip, node)
        return out

    def listeners(self, lb: LoadBalancer, o: Obj, vpc: Vpc) -> None:
        ctx, net = self.ctx, self.net
        protocols = LB_PROTOCOLS[lb.lb_type]
        ports: dict[int, int] = {}
        for li in o.objs("listeners", LISTENER_FIELDS, "a listener"):
            port = li.req_int("port", 1, 65535)
            protocol = li.str_or("protocol", protocols[0], protocols)
            key = li.exactly_one(("targets", "target_group"))
            if port is None:
                continue
            if port in ports:
                li.err("port", f"port {port} already has a listener (line {ports[port]})")
                continue
            ports[port] = li.line
            listener = Listener(port=port, protocol=protocol, arn=listener_arn(lb.id, port))
            lb.listeners.append(listener)
            if key == "targets":
                kind, targets = self.targets(li, "targets", vpc, port)
                tg_name = f"{lb.lb_name}-{port}"[:32]
                tg_arn = target_group_arn(lb.account, lb.region, tg_name)
                tg_protocol = "HTTP" if protocol in ("HTTP", "HTTPS") else protocol
                net.add(TargetGroup(
                    id=tg_arn, account=lb.account, region=lb.region, name_=tg_name,
                    protocol=tg_protocol, port=targets[0].port if targets else port,
                    target_type=kind or "instance", vpc_id=vpc.id, targets=targets,
                    load_balancer_arns=[lb.id]))
                ctx.reg.implied("target-group", tg_arn)
                listener.target_group_arns.append(tg_arn)
            elif key == "target_group":
                decl = ctx.ref(li, "target_group", ("target-group",), "target group")
                tg = net.target_groups.get(decl.id) if decl is not None else None
                node = li.child("target_group")
                if decl is None or tg is None or node is None:
                    continue
                if ctx.in_vpc(node, decl, tg.vpc_id, vpc.id):
                    tg.load_balancer_arns.append(lb.id)
                    listener.target_group_arns.append(tg.id)

    # ------------------------------------------------------------------ local gateways
    def local_gateways(self) -> None:
        ctx, net = self.ctx, self.net
        for d in self.decls["local_gateways"]:
            o = d.obj
            assert o is not None
            text = o.req_str("outpost")
            arn = ""
            if text is not None:
                known = net.outposts.get(text)
                if known is not None:
                    arn = known.arn
                elif text.startswith("arn:aws:outposts:"):
                    arn = text
                elif re.fullmatch(r"op-[0-9a-z]+", text):
                    arn = outpost_arn(ctx.account, ctx.region, text)
                else:
                    o.err("outpost", f"'{text}' is neither an Outpost id (op-...) nor an "
                                     "Outpost ARN")
            net.add(LocalGateway(id=d.id, account=ctx.account, region=ctx.region,
                                 tags=_tags(o, d), outpost_arn=arn))
            for t in self.children.get(d.id, []):
                self.local_gateway_table(d, t, arn)
        self.coip_pools()

    def local_gateway_table(self, lgw: Declared, d: Declared, arn: str) -> None:
        ctx, net = self.ctx, self.net
        o = d.obj
        assert o is not None
        mode = o.str_or("mode", "direct-vpc-routing", ("direct-vpc-routing", "coip"))
        table = LocalGatewayRouteTable(
            id=d.id, account=ctx.account, region=ctx.region, tags=_tags(o, d),
            local_gateway_id=lgw.id, outpost_arn=arn, mode=mode,
            vpc_ids=[decl.id for decl, _ in ctx.refs(o, "vpcs", ("vpc",), "VPC")])
        seen: dict[IPNetwork, int] = {}
        for r in o.objs("routes", LGW_ROUTE_FIELDS, "a local gateway route"):
            destination = r.req_cidr("destination")
            key = r.exactly_one(("network_interface", "vif_group"))
            route = LocalGatewayRoute(destination or ipaddress.ip_network("0.0.0.0/0"))
            if key == "network_interface":
                decl = ctx.ref(r, key, ("network-interface", "instance"), "network interface")
                if decl is None:
                    continue
                instance = net.instances.get(decl.id)
                route.network_interface_id = instance.primary_eni_id if instance else decl.id
            elif key == "vif_group":
                vif = r.opt_str(key)
                if vif is not None and not re.fullmatch(r"lgw-vif-grp-[0-9a-z]+", vif):
                    r.err(key, f"'{vif}' is not a VIF group id (lgw-vif-grp-...)")
                    continue
                route.vif_group_id = vif
            if destination is None or key is None:
                continue
            if destination in seen:
                r.err("destination", f"this table already has a route to {destination} "
                                     f"(line {seen[destination]})")
                continue
            dest_node = r.child("destination")
            seen[destination] = dest_node.line if dest_node is not None else r.line
            table.routes.append(route)
        net.add(table)

    def coip_pools(self) -> None:
        ctx, net = self.ctx, self.net
        taken: list[tuple[IPNetwork, Declared]] = []
        for d in self.decls["coip_pools"]:
            o = d.obj
            assert o is not None
            decl = ctx.ref(o, "local_gateway_route_table", ("local-gateway-route-table",),
                           "local gateway route table", required=True)
            if o.present("cidrs") is None:
                o.missing("cidrs")
            cidrs: list[IPNetwork] = []
            for cidr, node in o.cidr_items("cidrs"):
                clash = next((other for other in taken if other[0].overlaps(cidr)), None)
                if cidr.version != 4:
                    o.err_at(node, f"{cidr} is not IPv4: customer-owned IP pools are IPv4")
                elif clash is not None:
                    o.err_at(node, f"{cidr} overlaps {clash[0]} of {clash[1].label}")
                else:
                    taken.append((cidr, d))
                    cidrs.append(cidr)
            tags = _tags(o, d)
            table = net.local_gateway_route_tables.get(decl.id) if decl is not None else None
            if table is None:
                continue
            if table.mode != "coip":
                o.err("local_gateway_route_table", f"{ctx.label(table.id)} is in "
                                                   f"{table.mode} mode; customer-owned IP "
                                                   "pools need a table in coip mode")
            net.add(CoipPool(id=d.id, account=ctx.account, region=ctx.region, tags=tags,
                             local_gateway_route_table_id=table.id, cidrs=cidrs))
            # Pool CIDRs propagate into the table, so on-premises traffic to a CoIP arrives.
            table.routes.extend(LocalGatewayRoute(c, route_type="propagated", coip_pool_id=d.id)
                                for c in cidrs)

    # ------------------------------------------------------------------ finishing
    def finish(self) -> None:
        """After allocation: each load balancer zone lists its node's private addresses."""
        for zone, eni in self.lb_zones:
            zone.addresses = eni.addresses()
