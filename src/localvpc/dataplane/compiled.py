"""Compile a ``Network`` once into the indexes the trace engine reads (Batfish's data plane).

Everything here is built in one linear pass over the model: address owners, subnet tries,
compiled route tables, filters, transit gateway tables, load balancer nodes.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from localvpc.dataplane.core_network import CoreRouter
from localvpc.dataplane.filters import (
    CompiledNacl,
    CompiledSecurityGroup,
    compile_nacl,
    compile_security_group,
)
from localvpc.dataplane.lpm import PrefixTable
from localvpc.dataplane.routes import (
    CompiledLgwRouteTable,
    CompiledRouteTable,
    CompiledTgwRouteTable,
)
from localvpc.model.aws_prefixes import aws_prefixes, aws_service_prefixes
from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.cloudwan import VPC, CoreNetworkAttachment
from localvpc.model.elb import LoadBalancer, LoadBalancerZone
from localvpc.model.interfaces import NetworkInterface
from localvpc.model.network import Network
from localvpc.model.transit import (
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
)
from localvpc.model.vpc import Route, RouteOrigin, Subnet, TargetType

# What kind of device an ENI belongs to, which decides how a packet arriving there is handled.
KIND_INSTANCE = "instance"
KIND_NAT = "nat-gateway"
KIND_LB = "load-balancer"
KIND_ENDPOINT = "vpc-endpoint"
KIND_OTHER = "network-interface"


@dataclass(slots=True)
class Device:
    """An ENI as the data plane sees it: where it sits and what owns it."""

    eni: NetworkInterface
    kind: str
    node: str  # the hop name: instance id, nat id, "<zone>-<lb dns>", vpce id or eni id
    subnet_id: str
    vpc_id: str
    groups: tuple[CompiledSecurityGroup, ...]
    source_dest_check: bool
    running: bool = True
    masquerade: bool = False
    owner_id: str | None = None  # instance id, nat id, LB arn or endpoint id


@dataclass(slots=True)
class LbNode:
    lb: LoadBalancer
    zone: LoadBalancerZone
    name: str


@dataclass(slots=True)
class VpcView:
    id: str
    cidrs: list[IPNetwork]
    subnets: PrefixTable[str] = field(default_factory=PrefixTable)
    owners: dict[IPAddress, str] = field(default_factory=dict)  # private address -> ENI id
    dns_ip: IPAddress | None = None

    def contains(self, address: IPAddress) -> bool:
        return any(address in c for c in self.cidrs if c.version == address.version)


RESERVED_V4 = ipaddress.ip_network("169.254.168.0/22")
RESERVED_V6 = ipaddress.ip_network("fd00:ec2::/32")
# EX-1..EX-6: answered by the hypervisor, never filtered, never routed.
LINK_LOCAL_SERVICES = {
    ipaddress.ip_address("169.254.169.253"): "Amazon DNS (Route 53 Resolver)",
    ipaddress.ip_address("169.254.169.254"): "instance metadata service",
    ipaddress.ip_address("169.254.169.123"): "Amazon Time Sync Service",
    ipaddress.ip_address("169.254.169.250"): "Windows license activation (KMS)",
    ipaddress.ip_address("169.254.169.251"): "Windows license activation (KMS)",
    ipaddress.ip_address("169.254.170.2"): "ECS task metadata",
    ipaddress.ip_address("fd00:ec2::253"): "Amazon DNS (Route 53 Resolver)",
    ipaddress.ip_address("fd00:ec2::254"): "instance metadata service",
    ipaddress.ip_address("fd00:ec2::123"): "Amazon Time Sync Service",
}
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
PRIVATE_SPACE = tuple(ipaddress.ip_network(n) for n in
                      ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


class ForwardingPlane:
    """The compiled network. Build with ``compile_network``; ask with ``trace``.
    ``core_networks``: each Cloud WAN core network's routing, by core network id."""

    def __init__(self, network: Network,
                 core_networks: Mapping[str, CoreRouter] | None = None) -> None:
        self.network = network
        self.core_networks: dict[str, CoreRouter] = dict(core_networks or {})
        net = network
        self._pl_cache: dict[str, list[IPNetwork]] = {}
        self.sgs: dict[str, CompiledSecurityGroup] = {
            sg.id: compile_security_group(sg, self.prefix_list) for sg in
            net.security_groups.values()}
        self.sg_members: dict[str, set[IPAddress]] = defaultdict(set)
        self.vpcs: dict[str, VpcView] = {}
        for vpc in net.vpcs.values():
            view = VpcView(vpc.id, list(vpc.all_cidrs))
            if vpc.cidrs:
                view.dns_ip = vpc.cidrs[0].network_address + 2
            self.vpcs[vpc.id] = view
        self.subnets: dict[str, Subnet] = dict(net.subnets)
        for s in net.subnets.values():
            view_or_none = self.vpcs.get(s.vpc_id)
            if view_or_none is None:
                continue
            for cidr in s.all_cidrs:
                view_or_none.subnets.insert(cidr, s.id)
        self._compile_devices()
        self._compile_routing()
        self._compile_transit()
        self._compile_core_attachments()
        self._compile_edges()

    # ------------------------------------------------------------------ helpers
    def prefix_list(self, pl_id: str) -> list[IPNetwork]:
        cached = self._pl_cache.get(pl_id)
        if cached is None:
            pl = self.network.prefix_lists.get(pl_id)
            cached = list(pl.cidrs) if pl is not None else []
            self._pl_cache[pl_id] = cached
        return cached

    def is_member(self, group_id: str, address: IPAddress) -> bool:
        """SG-9: the address is a private IP of an ENI that has the referenced group."""
        members = self.sg_members.get(group_id)
        return members is not None and address in members

    def groups(self, ids: Sequence[str]) -> tuple[CompiledSecurityGroup, ...]:
        return tuple(self.sgs[i] for i in ids if i in self.sgs)

    # ------------------------------------------------------------------ devices
    def _compile_devices(self) -> None:
        net = self.network
        self.devices: dict[str, Device] = {}
        self.public_ips: dict[IPAddress, tuple[str, IPAddress]] = {}
        self.private_to_public: dict[tuple[str, IPAddress], IPAddress] = {}
        self.coip_owner: dict[IPAddress, tuple[str, IPAddress]] = {}
        self.lb_nodes: dict[str, LbNode] = {}
        nat_by_eni = {n.network_interface_id: n for n in net.nat_gateways.values()
                      if n.network_interface_id}
        nat_by_ip = {(n.vpc_id, n.private_ip): n for n in net.nat_gateways.values()
                     if n.private_ip is not None}
        endpoint_by_eni = {eni: ep for ep in net.vpc_endpoints.values()
                           for eni in ep.network_interface_ids}
        lb_by_eni: dict[str, LbNode] = {}
        # By (VPC, address): VPCs may overlap (PrivateLink consumers often do).
        lb_by_ip: dict[tuple[str, IPAddress], LbNode] = {}
        for lb in net.load_balancers.values():
            for zone in lb.zones:
                lb_zone = LbNode(lb, zone, f"{zone.zone_name}-{lb.dns_name or lb.lb_name}")
                for ip in zone.addresses:
                    lb_by_ip[(lb.vpc_id, ip)] = lb_zone
        for eni in net.network_interfaces.values():
            kind, node, owner = KIND_OTHER, eni.id, None
            running, masquerade = True, False
            sdc = eni.source_dest_check
            instance = net.instances.get(eni.instance_id) if eni.instance_id else None
            nat = nat_by_eni.get(eni.id)
            if nat is None and eni.primary_ip is not None:
                nat = nat_by_ip.get((eni.vpc_id, eni.primary_ip))
            lb_node = next((lb_by_ip[(eni.vpc_id, ip)] for ip in eni.addresses()
                            if (eni.vpc_id, ip) in lb_by_ip), None)
            if instance is not None:
                kind, node, owner = KIND_INSTANCE, instance.id, instance.id
                running = instance.state in ("running", "pending")
                masquerade = instance.masquerade
            elif nat is not None:
                kind, node, owner = KIND_NAT, nat.id, nat.id
            elif lb_node is not None:
                kind, node, owner = KIND_LB, lb_node.name, lb_node.lb.id
                lb_by_eni[eni.id] = lb_node
            elif eni.id in endpoint_by_eni:
                ep = endpoint_by_eni[eni.id]
                kind, node, owner = KIND_ENDPOINT, ep.id, ep.id
            device = Device(eni, kind, node, eni.subnet_id, eni.vpc_id,
                            self.groups(eni.security_group_ids), sdc, running, masquerade,
                            owner)
            self.devices[eni.id] = device
            view = self.vpcs.get(eni.vpc_id)
            for pip in eni.private_ips:
                if view is not None:
                    view.owners[pip.address] = eni.id
                if pip.public_ip is not None:
                    self.public_ips[pip.public_ip] = (eni.id, pip.address)
                    self.private_to_public[(eni.vpc_id, pip.address)] = pip.public_ip
                if pip.customer_owned_ip is not None:
                    self.coip_owner[pip.customer_owned_ip] = (eni.id, pip.address)
            for addr in [*eni.ipv6_addresses, *eni.prefix_addresses()]:
                if view is not None:
                    view.owners[addr] = eni.id
            for sg_id in eni.security_group_ids:
                self.sg_members[sg_id].update(eni.addresses())
        # NAT gateways whose ENI is not in the snapshot still own their address.
        for nat in net.nat_gateways.values():
            for a in nat.addresses:
                view = self.vpcs.get(nat.vpc_id)
                if view is None:
                    continue
                eni_id = view.owners.get(a.private_ip)
                if eni_id is None:
                    eni_id = a.network_interface_id or f"{nat.id}-eni"
                    synthetic = NetworkInterface(id=eni_id, subnet_id=nat.subnet_id,
                                                 vpc_id=nat.vpc_id,
                                                 interface_type="nat_gateway")
                    self.devices[eni_id] = Device(synthetic, KIND_NAT, nat.id, nat.subnet_id,
                                                  nat.vpc_id, (), False, True, False, nat.id)
                    view.owners[a.private_ip] = eni_id
                if a.public_ip is not None:
                    self.public_ips[a.public_ip] = (eni_id, a.private_ip)
                    self.private_to_public[(nat.vpc_id, a.private_ip)] = a.public_ip
        self.lb_by_eni = lb_by_eni
        # PrivateLink: endpoint services by name, and each load balancer's node per zone
        self.endpoint_services = {s.service_name: s for s in net.vpc_endpoint_services.values()}
        self.lb_zone_eni = {(node.lb.id, node.zone.zone_name): eni_id
                            for eni_id, node in lb_by_eni.items()}
        self.instance_enis: dict[str, list[str]] = defaultdict(list)
        for inst in net.instances.values():
            for eni_id in inst.network_interface_ids:
                if eni_id in self.devices:
                    self.instance_enis[inst.id].append(eni_id)

    # ------------------------------------------------------------------ routing
    def _propagated_vgw_routes(self, vgw_ids: Sequence[str]) -> list[Route]:
        routes: list[Route] = []
        for vpn in self.network.vpn_connections.values():
            if vpn.vpn_gateway_id is not None and vpn.vpn_gateway_id in vgw_ids \
                    and vpn.state == "available":
                for cidr in vpn.routes:
                    routes.append(Route(cidr, TargetType.VPN_GATEWAY, vpn.vpn_gateway_id,
                                        origin=RouteOrigin.PROPAGATED))
        return routes

    def _compile_routing(self) -> None:
        net = self.network
        self.route_tables: dict[str, CompiledRouteTable] = {}
        self.subnet_table: dict[str, CompiledRouteTable] = {}
        self.main_table: dict[str, CompiledRouteTable] = {}
        self.gateway_table: dict[str, CompiledRouteTable] = {}
        for rt in net.route_tables.values():
            compiled = CompiledRouteTable(rt, self.prefix_list,
                                          self._propagated_vgw_routes(rt.propagating_vgws))
            self.route_tables[rt.id] = compiled
            if rt.main:
                self.main_table[rt.vpc_id] = compiled
            for sid in rt.subnet_ids:
                self.subnet_table[sid] = compiled
            for gid in rt.gateway_ids:
                self.gateway_table[gid] = compiled
        for s in net.subnets.values():
            if s.id not in self.subnet_table and s.vpc_id in self.main_table:
                self.subnet_table[s.id] = self.main_table[s.vpc_id]
        self.nacls: dict[str, CompiledNacl] = {}
        default_nacl: dict[str, CompiledNacl] = {}
        for acl in net.network_acls.values():
            compiled_acl = compile_nacl(acl)
            for sid in acl.subnet_ids:
                self.nacls[sid] = compiled_acl
            if acl.is_default:
                default_nacl[acl.vpc_id] = compiled_acl
        for s in net.subnets.values():
            if s.id not in self.nacls and s.vpc_id in default_nacl:
                self.nacls[s.id] = default_nacl[s.vpc_id]

    # ------------------------------------------------------------------ transit
    def _compile_transit(self) -> None:
        net = self.network
        self.tgw_vpc_attachment: dict[tuple[str, str], TransitGatewayAttachment] = {}
        self.attachment_zones: dict[str, set[str]] = {}
        for att in net.transit_gateway_attachments.values():
            if att.state not in ("available", "modifying", "pendingAcceptance"):
                continue
            if att.resource_type == "vpc":
                self.tgw_vpc_attachment[(att.transit_gateway_id, att.resource_id)] = att
                self.attachment_zones[att.id] = {
                    self.subnets[s].availability_zone for s in att.subnet_ids
                    if s in self.subnets}
        # Association per (tgw, attachment): a peering attachment is associated on both sides.
        self.tgw_association: dict[tuple[str, str], str] = {}
        for att in net.transit_gateway_attachments.values():
            if att.association_route_table_id:
                self.tgw_association[(att.transit_gateway_id, att.id)] = (
                    att.association_route_table_id)
        for table in net.transit_gateway_route_tables.values():
            for att_id in table.associated_attachment_ids:
                self.tgw_association[(table.transit_gateway_id, att_id)] = table.id
        self.tgw_tables: dict[str, CompiledTgwRouteTable] = {}
        for table in net.transit_gateway_route_tables.values():
            propagated: list[tuple[str, TransitGatewayRoute]] = []
            for att_id in table.propagating_attachment_ids:
                source = net.transit_gateway_attachments.get(att_id)
                if source is None or source.state not in ("available", "modifying"):
                    continue
                for cidr in self._attachment_prefixes(source):
                    propagated.append((source.resource_type, TransitGatewayRoute(
                        cidr, "propagated", "active", source.id)))
            static = [r if r.attachment_id is None or r.attachment_id in
                      net.transit_gateway_attachments or r.state == "blackhole"
                      else TransitGatewayRoute(r.destination, r.route_type, "blackhole", None)
                      for r in table.routes]
            self.tgw_tables[table.id] = CompiledTgwRouteTable(
                table.id, static, propagated, self._prefix_list_routes(table))

    def _prefix_list_routes(self, table: TransitGatewayRouteTable
                            ) -> list[TransitGatewayRoute]:
        """Each entry of a referenced prefix list routes to the reference's attachment, or
        is a blackhole (also when that attachment is gone)."""
        routes: list[TransitGatewayRoute] = []
        for ref in table.prefix_list_references:
            plist = self.network.prefix_lists.get(ref.prefix_list_id)
            target = ref.attachment_id
            live = (not ref.blackhole and target is not None
                    and target in self.network.transit_gateway_attachments)
            for cidr in plist.cidrs if plist is not None else []:
                routes.append(TransitGatewayRoute(cidr, "static", "active" if live else
                                                  "blackhole", target if live else None))
        return routes

    def _attachment_prefixes(self, att: TransitGatewayAttachment) -> list[IPNetwork]:
        if att.resource_type == "vpc":
            vpc = self.network.vpcs.get(att.resource_id)
            return list(vpc.all_cidrs) if vpc is not None else []
        if att.resource_type == "vpn":
            vpn = self.network.vpn_connections.get(att.resource_id)
            return list(vpn.routes) if vpn is not None else []
        return []

    def _compile_core_attachments(self) -> None:
        """Each VPC's attachment to each core network (a routing one first) and the
        subnets it has, which a route to the core network leaves by (CR-5)."""
        self.core_vpc_attachment: dict[tuple[str, str], CoreNetworkAttachment] = {}
        self.core_attachment_subnets: dict[str, list[str]] = {}
        for att in self.network.core_network_attachments.values():
            if att.attachment_type != VPC:
                continue
            key = (att.core_network_id, att.resource_id)
            current = self.core_vpc_attachment.get(key)
            if current is None or (att.routes_traffic and not current.routes_traffic):
                self.core_vpc_attachment[key] = att
            self.core_attachment_subnets[att.id] = [
                s for s in (a.rsplit("/", 1)[-1] for a in att.subnet_arns) if s in self.subnets]

    # ------------------------------------------------------------------ edges
    def _compile_edges(self) -> None:
        net = self.network
        self.igw_of_vpc = {igw.vpc_id: igw.id for igw in net.internet_gateways.values()
                           if igw.vpc_id}
        self.eigw_of_vpc = {g.vpc_id: g.id for g in net.egress_only_internet_gateways.values()
                            if g.vpc_id}
        self.vgw_outside_ips: dict[IPAddress, str] = {}
        for vpn in net.vpn_connections.values():
            if vpn.vpn_gateway_id and vpn.state == "available":
                for tunnel in vpn.tunnels:
                    if tunnel.outside_ip is not None:
                        self.vgw_outside_ips[tunnel.outside_ip] = vpn.vpn_gateway_id
        self.lgw_tables: dict[str, CompiledLgwRouteTable] = {}
        self.lgw_table_of: dict[str, CompiledLgwRouteTable] = {}
        for t in net.local_gateway_route_tables.values():
            compiled = CompiledLgwRouteTable(t)
            self.lgw_tables[t.id] = compiled
            self.lgw_table_of.setdefault(t.local_gateway_id, compiled)
        self.aws_service_prefixes: PrefixTable[bool] = PrefixTable()
        for p in aws_service_prefixes():
            self.aws_service_prefixes.insert(p, True)
        self.aws_prefixes: PrefixTable[bool] = PrefixTable()
        for p in aws_prefixes():
            self.aws_prefixes.insert(p, True)

    # ------------------------------------------------------------------ queries
    def subnet_of(self, vpc_id: str, address: IPAddress) -> str | None:
        view = self.vpcs.get(vpc_id)
        return view.subnets.value_at(address) if view is not None else None

    def owner(self, vpc_id: str, address: IPAddress) -> Device | None:
        view = self.vpcs.get(vpc_id)
        if view is None:
            return None
        eni_id = view.owners.get(address)
        return self.devices.get(eni_id) if eni_id is not None else None


def compile_network(network: Network,
                    core_networks: Mapping[str, CoreRouter] | None = None) -> ForwardingPlane:
    """Compile once; then trace as many flows as you like. ``core_networks`` (built above
    the data plane, by ``cloudwan.live.compile_live``) lets traces cross Cloud WAN."""
    return ForwardingPlane(network, core_networks)
