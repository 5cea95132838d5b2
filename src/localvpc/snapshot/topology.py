"""Hand-written topology YAML: a network described by people, built into a :class:`Network`.

The format is documented in ``docs/topology-format.md``. In short: top-level sections list
resources (``vpcs``, ``subnets``, ``route_tables``, ``instances``, ...); every resource may have
a ``name`` and an ``id``; a missing id is generated from the name, deterministically and in the
shape AWS uses (``vpc-`` + 17 hex digits); a reference is a name or an id. What AWS creates on
its own is created here too: each VPC's main route table, default network ACL and default
security group, local routes, the interfaces of instances, NAT gateways, load balancers and
interface endpoints, and their addresses.

Everything is checked before anything is returned; every problem names the file, the line and
the field path, and all of them are raised together as one :class:`TopologyValidationError`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from localvpc.model.base import DEFAULT_ACCOUNT, DEFAULT_REGION, IPAddress, IPNetwork
from localvpc.model.errors import TopologyError
from localvpc.model.filters import NaclEntry, NetworkAcl, PrefixList, SecurityGroup, SgRule
from localvpc.model.gateways import (
    CarrierGateway,
    CustomerGateway,
    EgressOnlyInternetGateway,
    InternetGateway,
    NatAddress,
    NatGateway,
    VpnGateway,
)
from localvpc.model.interfaces import Instance
from localvpc.model.network import Network
from localvpc.model.vpc import Route, RouteOrigin, RouteTable, Subnet, TargetType, Vpc
from localvpc.model.zones import Outpost, Zone, ZoneType
from localvpc.snapshot import topology_services as services
from localvpc.snapshot.topology_context import UNSET_IP, Ctx
from localvpc.snapshot.topology_ids import guess_zone_id, make_id, outpost_arn
from localvpc.snapshot.topology_registry import Declared
from localvpc.snapshot.topology_schema import (
    Obj,
    Problems,
    TopologyValidationError,
    YNode,
    compose,
    parse_ports,
    parse_protocol,
    type_name,
)

__all__ = ["TopologyValidationError", "load_topology", "parse_topology"]

# ------------------------------------------------------------------------------ fields
TOP_FIELDS = (
    "account", "region", "description", "zones", "vpcs", "subnets", "route_tables",
    "internet_gateways", "egress_only_internet_gateways", "carrier_gateways", "nat_gateways",
    "security_groups", "network_acls", "instances", "network_interfaces", "load_balancers",
    "target_groups", "peering_connections", "transit_gateways", "vpn_gateways",
    "customer_gateways", "vpn_connections", "vpc_endpoints", "prefix_lists", "local_gateways",
    "coip_pools",
)
ZONE_FIELDS = ("name", "zone_id", "type", "group", "network_border_group", "parent_zone",
               "parent_zone_id", "opt_in_status", "region")
VPC_FIELDS = ("name", "id", "cidr", "cidrs", "ipv6_cidrs", "enable_dns_support",
              "enable_dns_hostnames", "account", "region", "subnets", "tags")
SUBNET_FIELDS = ("name", "id", "cidr", "ipv6_cidr", "zone", "map_public_ip_on_launch",
                 "assign_ipv6_address_on_creation", "enable_dns64", "outpost", "tags")
TOP_SUBNET_FIELDS = ("vpc", *SUBNET_FIELDS)
GATEWAY_FIELDS = ("name", "id", "vpc", "tags")
VGW_FIELDS = ("name", "id", "vpc", "amazon_side_asn", "tags")
CGW_FIELDS = ("name", "id", "ip_address", "bgp_asn", "tags")
PREFIX_LIST_FIELDS = ("name", "id", "cidrs", "max_entries", "tags")
SG_FIELDS = ("name", "id", "vpc", "description", "ingress", "egress", "tags")
SG_RULE_FIELDS = ("protocol", "ports", "icmp_type", "icmp_code", "cidr", "ipv6_cidr", "group",
                  "prefix_list", "description")
NACL_FIELDS = ("name", "id", "vpc", "subnets", "ingress", "egress", "tags")
NACL_ENTRY_FIELDS = ("rule", "action", "protocol", "cidr", "ipv6_cidr", "ports", "icmp_type",
                     "icmp_code")
INSTANCE_FIELDS = ("name", "id", "subnet", "private_ip", "secondary_ips", "ipv6_addresses",
                   "public_ip", "customer_owned_ip", "security_groups", "source_dest_check",
                   "nat", "instance_type", "state", "image_id", "tags")
ENI_FIELDS = ("name", "id", "subnet", "private_ip", "secondary_ips", "ipv6_addresses",
              "public_ip", "security_groups", "source_dest_check", "attached_to",
              "device_index", "description", "tags")
NAT_FIELDS = ("name", "id", "subnet", "connectivity_type", "private_ip", "public_ip", "state",
              "tags")
ROUTE_TABLE_FIELDS = ("name", "id", "vpc", "main", "subnets", "gateway", "propagating_vgws",
                      "routes", "tags")
ROUTE_FIELDS = ("destination", "prefix_list", "target", "blackhole")

INSTANCE_STATES = ("pending", "running", "stopping", "stopped", "shutting-down", "terminated")
NAT_STATES = ("pending", "available", "failed", "deleting", "deleted")
_PROTOCOL_TEXT = {-1: "-1", 1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}

# What a route ``target`` may name, and the route target type each kind gives.
ROUTE_TARGETS: dict[str, TargetType] = {
    "internet-gateway": TargetType.INTERNET_GATEWAY,
    "egress-only-internet-gateway": TargetType.EGRESS_ONLY_INTERNET_GATEWAY,
    "nat-gateway": TargetType.NAT_GATEWAY,
    "instance": TargetType.INSTANCE,
    "network-interface": TargetType.NETWORK_INTERFACE,
    "peering-connection": TargetType.VPC_PEERING,
    "transit-gateway": TargetType.TRANSIT_GATEWAY,
    "vpn-gateway": TargetType.VPN_GATEWAY,
    "local-gateway": TargetType.LOCAL_GATEWAY,
    "carrier-gateway": TargetType.CARRIER_GATEWAY,
    "vpc-endpoint": TargetType.GATEWAY_ENDPOINT,
}
_TARGET_WHAT = ("route target (internet gateway, egress-only internet gateway, NAT gateway, "
                "instance, network interface, peering connection, transit gateway, VPN gateway, "
                "local gateway, carrier gateway or VPC endpoint)")
_RESERVED_DESTINATIONS = (ipaddress.ip_network("169.254.168.0/22"),
                          ipaddress.ip_network("fd00:ec2::/32"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")


# ------------------------------------------------------------------------------ entry points
def load_topology(path: str | Path) -> Network:
    """Build the network a topology YAML file describes (raises :class:`TopologyError`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TopologyError(f"{p}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise TopologyError(f"{p}: cannot read the topology file: {exc.strerror or exc}") from exc
    return parse_topology(text, str(p))


def parse_topology(text: str, source: str = "<string>") -> Network:
    """Build the network described by topology YAML ``text``; ``source`` names it in errors."""
    problems = Problems(source)
    root = compose(text, problems)
    if root is None:
        problems.raise_if_any()
        raise TopologyError(f"{source}: unreadable YAML")  # pragma: no cover - compose reports
    if not isinstance(root.value, dict):
        problems.add(root.line, "", "the top level must be a mapping of sections (vpcs:, "
                                    f"subnets:, ...), got {type_name(root.value)}")
        problems.raise_if_any()
    network = _Builder(problems, root).build()
    problems.raise_if_any()
    return network


# ------------------------------------------------------------------------------ helpers
def tags_of(obj: Obj, decl: Declared | None = None) -> dict[str, str]:
    """``tags`` plus the ``name`` as the Name tag (as consoles show names)."""
    tags = obj.tags()
    name = decl.name if decl is not None else None
    if name is not None:
        if "Name" in tags and tags["Name"] != name:
            obj.err("tags", f"tag Name '{tags['Name']}' contradicts name '{name}'")
        tags["Name"] = name
    return tags


def protocol_of(obj: Obj, key: str = "protocol") -> str | None:
    """A rule's protocol as the model stores it (``tcp``, ``icmp``, ``-1``, ``"50"``)."""
    node = obj.present(key)
    if node is None:
        obj.missing(key)
        return None
    try:
        number = parse_protocol(node.value)
    except ValueError as exc:
        obj.err_at(node, f"{type_name(node.value)} is not a protocol: {exc}")
        return None
    return _PROTOCOL_TEXT.get(number, str(number))


@dataclass(slots=True)
class PortSpec:
    """Ports (TCP/UDP) or ICMP type and code of a rule; None means all."""

    from_port: int | None = None
    to_port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None


def ports_of(obj: Obj, protocol: str | None) -> PortSpec:
    """``ports`` for TCP/UDP (all when absent), ``icmp_type``/``icmp_code`` for ICMP."""
    spec = PortSpec()
    if protocol is None:
        return spec
    icmp = protocol in ("icmp", "icmpv6")
    if protocol in ("tcp", "udp"):
        spec.from_port, spec.to_port = 0, 65535
        node = obj.present("ports")
        if node is not None:
            try:
                ports = parse_ports(node.value)
            except ValueError as exc:
                obj.err_at(node, f"{type_name(node.value)} is not a port range: {exc}")
                ports = None
            if ports is not None:
                spec.from_port, spec.to_port = ports
    elif obj.present("ports") is not None:
        hint = ("use icmp_type and icmp_code" if icmp
                else f"protocol {protocol} covers all ports")
        obj.err("ports", f"ports apply to tcp and udp only ({hint})")
    if icmp:
        spec.icmp_type = obj.opt_int("icmp_type", -1, 255)
        spec.icmp_code = obj.opt_int("icmp_code", -1, 255)
    else:
        for key in ("icmp_type", "icmp_code"):
            if obj.present(key) is not None:
                obj.err(key, f"{key} applies to icmp and icmpv6 only")
    return spec


def local_routes(vpc: Vpc) -> list[Route]:
    """RT-5: one local route per VPC CIDR block, in every table of the VPC."""
    return [Route(cidr, TargetType.LOCAL, "local", origin=RouteOrigin.CREATE_ROUTE_TABLE)
            for cidr in vpc.all_cidrs]


def default_nacl_entries(vpc: Vpc) -> list[NaclEntry]:
    """NA-1: allow all then deny all, both ways; the same for ::/0 if the VPC has IPv6."""
    blocks: list[tuple[int, int, IPNetwork]] = [(100, 32767, ipaddress.ip_network("0.0.0.0/0"))]
    if vpc.ipv6_cidrs:
        blocks.append((101, 32768, ipaddress.ip_network("::/0")))
    entries: list[NaclEntry] = []
    for egress in (False, True):
        for allow, deny, everything in blocks:
            entries.append(NaclEntry(allow, "-1", "allow", egress, everything))
            entries.append(NaclEntry(deny, "-1", "deny", egress, everything))
    return entries


def all_egress(rule_id: str, ipv6: bool) -> list[SgRule]:
    rules = [SgRule("-1", cidr=ipaddress.ip_network("0.0.0.0/0"), rule_id=rule_id)]
    if ipv6:
        rules.append(SgRule("-1", cidr=ipaddress.ip_network("::/0"), rule_id=rule_id + "6"))
    return rules


# ------------------------------------------------------------------------------ the builder
class _Builder:
    """Declares every resource of the file, then builds them in dependency order."""

    def __init__(self, problems: Problems, root: YNode) -> None:
        self.p = problems
        self.top = Obj(problems, root, TOP_FIELDS, "the topology file")
        account = self.top.opt_account("account") or DEFAULT_ACCOUNT
        region = self.region_of(self.top) or DEFAULT_REGION
        self.top.opt_str("description")
        self.ctx = Ctx(problems, account, region)
        self.net = self.ctx.net
        self.decls: dict[str, list[Declared]] = {}
        self.subnet_parent: dict[str, Declared] = {}
        self.coip_claims: list[tuple[IPAddress, YNode, str]] = []
        self.svc = services.Services(self.ctx, self.top)

    def region_of(self, obj: Obj) -> str | None:
        region = obj.opt_str("region")
        if region is not None and not _REGION_RE.fullmatch(region):
            obj.err("region", f"'{region}' is not a region name like us-east-1")
            return None
        return region

    # ------------------------------------------------------------------ orchestration
    def build(self) -> Network:
        self.declare()
        self.zones()
        self.prefix_lists()
        self.vpcs()
        self.subnets()
        self.gateways()
        svc = self.svc
        svc.peering_connections()
        self.security_groups()
        self.instances()
        self.network_interfaces()
        self.nat_gateways()
        svc.transit_gateways()
        svc.vpn_connections()
        svc.transit_gateway_route_tables()
        svc.vpc_endpoints()
        svc.target_groups()
        svc.load_balancers()
        svc.local_gateways()
        self.route_tables()
        svc.gateway_endpoint_routes()
        self.network_acls()
        self.ctx.book.allocate_all()
        svc.finish()
        self.finish()
        return self.net

    def declare(self) -> None:
        """Pass 1: every name and id, so references may point anywhere in the file."""
        reg = self.ctx.reg

        def section(key: str, fields: tuple[str, ...], kind: str, what: str,
                    name_required: bool = False) -> list[Declared]:
            decls = [reg.declare(kind, o, name_required=name_required)
                     for o in self.top.objs(key, fields, what)]
            self.decls[key] = decls
            return decls

        for vpc in section("vpcs", VPC_FIELDS, "vpc", "a VPC"):
            assert vpc.obj is not None
            for o in vpc.obj.objs("subnets", SUBNET_FIELDS, "a subnet"):
                subnet = reg.declare("subnet", o)
                self.subnet_parent[subnet.id] = vpc
                self.decls.setdefault("nested_subnets", []).append(subnet)
        section("subnets", TOP_SUBNET_FIELDS, "subnet", "a subnet")
        section("prefix_lists", PREFIX_LIST_FIELDS, "prefix-list", "a prefix list", True)
        section("internet_gateways", GATEWAY_FIELDS, "internet-gateway", "an internet gateway")
        section("egress_only_internet_gateways", GATEWAY_FIELDS, "egress-only-internet-gateway",
                "an egress-only internet gateway")
        section("carrier_gateways", GATEWAY_FIELDS, "carrier-gateway", "a carrier gateway")
        section("vpn_gateways", VGW_FIELDS, "vpn-gateway", "a VPN gateway")
        section("customer_gateways", CGW_FIELDS, "customer-gateway", "a customer gateway")
        section("security_groups", SG_FIELDS, "security-group", "a security group", True)
        section("network_acls", NACL_FIELDS, "network-acl", "a network ACL")
        section("instances", INSTANCE_FIELDS, "instance", "an instance")
        section("network_interfaces", ENI_FIELDS, "network-interface", "a network interface")
        section("nat_gateways", NAT_FIELDS, "nat-gateway", "a NAT gateway")
        section("route_tables", ROUTE_TABLE_FIELDS, "route-table", "a route table")
        self.svc.declare()

    # ------------------------------------------------------------------ zones
    def zones(self) -> None:
        ctx, net = self.ctx, self.net
        by_id: dict[str, tuple[str, int]] = {}
        parents: list[tuple[Zone, Obj]] = []
        for o in self.top.objs("zones", ZONE_FIELDS, "a zone"):
            name = o.req_str("name")
            region = self.region_of(o) or ctx.region
            if name is None:
                continue
            if name in net.zones:
                o.err("name", f"zone '{name}' is declared twice")
                continue
            if re.fullmatch(re.escape(region) + r"-wl\d+-[a-z]+-wlz-\d+", name):
                guessed = ZoneType.WAVELENGTH_ZONE
            elif re.fullmatch(re.escape(region) + r"-[a-z]+-\d+[a-z]", name):
                guessed = ZoneType.LOCAL_ZONE
            else:
                guessed = ZoneType.AVAILABILITY_ZONE
            ztype = ZoneType(o.str_or("type", guessed.value, [t.value for t in ZoneType]))
            zone_id = o.opt_str("zone_id") or guess_zone_id(region, name)
            if zone_id is None:
                o.err("zone_id", f"cannot guess the zone id of '{name}': give zone_id")
                continue
            first = by_id.get(zone_id)
            if first is not None:
                o.err("zone_id", f"zone id '{zone_id}' is also zone '{first[0]}' "
                                 f"(line {first[1]})")
            by_id[zone_id] = (name, o.line)
            if ztype == ZoneType.AVAILABILITY_ZONE:
                group, border = region, region
                opt_in = "opt-in-not-required"
                for key in ("parent_zone", "parent_zone_id"):
                    if o.present(key) is not None:
                        o.err(key, "only Local Zones and Wavelength Zones have a parent zone")
            else:
                match = re.fullmatch(r"(.*-wl\d+)-.*|(.*-\d+)[a-z]", name)
                group = (match.group(1) or match.group(2)) if match else name
                border = name if ztype == ZoneType.WAVELENGTH_ZONE else group
                opt_in = "opted-in"
            zone = Zone(
                name=name, zone_id=zone_id, region=region, zone_type=ztype,
                group_name=o.str_or("group", group),
                network_border_group=o.str_or("network_border_group", border),
                parent_zone_name=o.opt_str("parent_zone"),
                parent_zone_id=o.opt_str("parent_zone_id"),
                opt_in_status=o.str_or("opt_in_status", opt_in,
                                       ["opted-in", "not-opted-in", "opt-in-not-required"]),
            )
            net.add(zone)
            if zone.parent_zone_name is not None:
                parents.append((zone, o))
        for zone, o in parents:
            parent_name = zone.parent_zone_name or ""
            parent = net.zones.get(parent_name)
            if parent is None:
                if re.fullmatch(re.escape(zone.region) + r"[a-z]", parent_name):
                    if zone.parent_zone_id is None:
                        zone.parent_zone_id = guess_zone_id(zone.region, parent_name)
                else:
                    o.err("parent_zone", f"'{parent_name}' is not an availability zone of "
                                         f"{zone.region}")
            elif parent.zone_type != ZoneType.AVAILABILITY_ZONE:
                o.err("parent_zone", f"'{parent_name}' is a {parent.zone_type.value}; a parent "
                                     "zone must be an availability zone")
            elif zone.parent_zone_id is None:
                zone.parent_zone_id = parent.zone_id

    def zone_for(self, o: Obj, vpc: Vpc) -> Zone | None:
        """The zone a subnet names (an undeclared ``<region><letter>`` AZ is created)."""
        net = self.net
        text = o.opt_str("zone")
        if text is None:
            text = f"{vpc.region}a"
        zone = net.zones.get(text) or next(
            (z for z in net.zones.values() if z.zone_id == text), None)
        if zone is None:
            if re.fullmatch(re.escape(vpc.region) + r"[a-z]", text):
                zone_id = guess_zone_id(vpc.region, text) or text
                zone = net.add(Zone(name=text, zone_id=zone_id, region=vpc.region,
                                    group_name=vpc.region, network_border_group=vpc.region))
            else:
                o.err("zone", f"unknown zone '{text}': declare it under zones (only the "
                              f"availability zones of {vpc.region}, like {vpc.region}a, may be "
                              "used without declaring them)")
                return None
        if zone.region != vpc.region:
            o.err("zone", f"zone '{zone.name}' is in {zone.region}, but "
                          f"{self.ctx.label(vpc.id)} is in {vpc.region}")
            return None
        if zone.opt_in_status == "not-opted-in":
            o.err("zone", f"zone '{zone.name}' is not opted in (opt_in_status: not-opted-in); "
                          "AWS refuses subnets there until the zone group is enabled")
        return zone

    # ------------------------------------------------------------------ prefix lists
    def prefix_lists(self) -> None:
        for d in self.decls["prefix_lists"]:
            o = d.obj
            assert o is not None
            cidrs = o.cidr_items("cidrs")
            if o.present("cidrs") is None:
                o.missing("cidrs")
            versions = {c.version for c, _ in cidrs}
            if len(versions) > 1:
                o.err("cidrs", "a prefix list holds IPv4 or IPv6 CIDRs, not both")
            max_entries = o.opt_int("max_entries", 1, 1000)
            if max_entries is not None and max_entries < len(cidrs):
                o.err("max_entries", f"max_entries {max_entries} is less than the "
                                     f"{len(cidrs)} CIDRs listed")
            self.net.add(PrefixList(
                id=d.id, account=self.ctx.account, region=self.ctx.region, tags=tags_of(o, d),
                prefix_list_name=d.name or d.id, cidrs=[c for c, _ in cidrs],
                max_entries=max_entries if max_entries is not None else len(cidrs),
                owner_id=self.ctx.account,
                address_family="IPv6" if versions == {6} else "IPv4",
            ))

    # ------------------------------------------------------------------ VPCs and subnets
    def vpcs(self) -> None:
        ctx, net = self.ctx, self.net
        for d in self.decls["vpcs"]:
            o = d.obj
            assert o is not None
            account = o.opt_account("account") or ctx.account
            region = self.region_of(o) or ctx.region
            key = o.exactly_one(("cidr", "cidrs"))
            cidrs: list[IPNetwork] = []
            for cidr, node in o.cidr_items(key) if key else []:
                if cidr.version != 4:
                    o.err_at(node, f"{cidr} is IPv6: list IPv6 blocks under ipv6_cidrs")
                elif not 16 <= cidr.prefixlen <= 28:
                    o.err_at(node, f"{cidr} is a /{cidr.prefixlen}: VPC blocks are /16 to /28")
                elif any(cidr.overlaps(c) for c in cidrs):
                    o.err_at(node, f"{cidr} overlaps another CIDR block of this VPC")
                else:
                    cidrs.append(cidr)
            ipv6: list[IPNetwork] = []
            for cidr, node in o.cidr_items("ipv6_cidrs"):
                if cidr.version != 6:
                    o.err_at(node, f"{cidr} is not an IPv6 block")
                elif any(cidr.overlaps(c) for c in ipv6):
                    o.err_at(node, f"{cidr} overlaps another IPv6 block of this VPC")
                else:
                    ipv6.append(cidr)
            dns_support = o.bool_or("enable_dns_support", True)
            dns_hostnames = o.bool_or("enable_dns_hostnames", False)
            tags = tags_of(o, d)
            if not cidrs:
                continue  # reported above; its subnets are not checked against nothing
            vpc = net.add(Vpc(id=d.id, account=account, region=region, tags=tags, cidrs=cidrs,
                              ipv6_cidrs=ipv6, enable_dns_support=dns_support,
                              enable_dns_hostnames=dns_hostnames))
            ctx.set_env(vpc.id, account, region)
            self.vpc_defaults(vpc)

    def vpc_defaults(self, vpc: Vpc) -> None:
        """SG-2 default security group and NA-1 default network ACL of a new VPC."""
        sg_id = self.ctx.default_sg_id(vpc.id)
        sg = SecurityGroup(
            id=sg_id, account=vpc.account, region=vpc.region, vpc_id=vpc.id,
            group_name="default", description="default VPC security group",
            ingress=[SgRule("-1", group_id=sg_id, rule_id=make_id("security-group-rule",
                                                                    sg_id, "ingress"))],
            egress=all_egress(make_id("security-group-rule", sg_id, "egress"),
                              bool(vpc.ipv6_cidrs)),
        )
        self.net.add(sg)
        self.ctx.reg.implied("security-group", sg_id, "default", scope=vpc.id)
        acl_id = make_id("network-acl", vpc.id, "default")
        self.net.add(NetworkAcl(id=acl_id, account=vpc.account, region=vpc.region,
                                vpc_id=vpc.id, is_default=True,
                                entries=default_nacl_entries(vpc)))
        self.ctx.reg.implied("network-acl", acl_id)

    def subnets(self) -> None:
        ctx, net = self.ctx, self.net
        seen: dict[str, list[tuple[IPNetwork, Declared, int]]] = {}
        for d in [*self.decls.get("nested_subnets", []), *self.decls["subnets"]]:
            o = d.obj
            assert o is not None
            parent = self.subnet_parent.get(d.id)
            vpc = net.vpcs.get(parent.id) if parent is not None else ctx.vpc(o)
            cidr = o.req_cidr("cidr")
            ipv6 = o.opt_cidr("ipv6_cidr")
            tags = tags_of(o, d)
            public_on_launch = o.bool_or("map_public_ip_on_launch", False)
            ipv6_on_creation = o.bool_or("assign_ipv6_address_on_creation", False)
            dns64 = o.bool_or("enable_dns64", False)
            if vpc is None:
                continue
            zone = self.zone_for(o, vpc)
            cidr_node, ipv6_node = o.child("cidr"), o.child("ipv6_cidr")
            ok = cidr is not None and cidr_node is not None and self.subnet_block(
                o, cidr, cidr_node, vpc, vpc.cidrs, (16, 28), d, seen)
            if ipv6 is not None and ipv6_node is not None and not self.subnet_block(
                    o, ipv6, ipv6_node, vpc, vpc.ipv6_cidrs, (44, 64), d, seen):
                ipv6 = None
            if not ok or cidr is None or zone is None:
                continue
            outpost = self.outpost_of(o, zone)
            subnet = net.add(Subnet(
                id=d.id, account=vpc.account, region=vpc.region, tags=tags, vpc_id=vpc.id,
                cidr=cidr, ipv6_cidrs=[ipv6] if ipv6 is not None else [],
                availability_zone=zone.name, availability_zone_id=zone.zone_id,
                outpost_arn=outpost.arn if outpost is not None else None,
                map_public_ip_on_launch=public_on_launch,
                assign_ipv6_address_on_creation=ipv6_on_creation, enable_dns64=dns64))
            ctx.book.add_subnet(subnet, d.label)

    def subnet_block(self, o: Obj, cidr: IPNetwork, node: YNode, vpc: Vpc,
                     blocks: list[IPNetwork], sizes: tuple[int, int], d: Declared,
                     seen: dict[str, list[tuple[IPNetwork, Declared, int]]]) -> bool:
        """A subnet block: right family and size, inside the VPC, overlapping no sibling."""
        family = "IPv4" if sizes[0] == 16 else "IPv6"
        if cidr.version != (4 if family == "IPv4" else 6):
            hint = "ipv6_cidr" if family == "IPv4" else "cidr"
            o.err_at(node, f"{cidr} is not {family} (give it as {hint})")
            return False
        if not sizes[0] <= cidr.prefixlen <= sizes[1]:
            o.err_at(node, f"{cidr} is a /{cidr.prefixlen}: {family} subnet blocks are "
                           f"/{sizes[0]} to /{sizes[1]}")
            return False
        if not any(cidr.subnet_of(b) for b in blocks):  # type: ignore[arg-type]
            shown = ", ".join(str(b) for b in blocks) or f"no {family} block"
            o.err_at(node, f"{cidr} is not inside the CIDR blocks of "
                           f"{self.ctx.label(vpc.id)} ({shown})")
            return False
        siblings = seen.setdefault(vpc.id, [])
        for other, other_decl, line in siblings:
            if other.version == cidr.version and other.overlaps(cidr):
                o.err_at(node, f"{cidr} overlaps {other_decl.label} ({other}, line {line})")
                return False
        siblings.append((cidr, d, node.line))
        return True

    def outpost_of(self, o: Obj, zone: Zone) -> Outpost | None:
        text = o.opt_str("outpost")
        if text is None:
            return None
        account, region = self.ctx.account, zone.region
        match = re.fullmatch(r"(arn:aws:outposts:([a-z0-9-]+):(\d{12}):outpost/)?(op-[0-9a-z]+)",
                             text)
        if match is None:
            o.err("outpost", f"'{text}' is neither an Outpost id (op-...) nor an Outpost ARN")
            return None
        if match.group(1):
            region, account = match.group(2), match.group(3)
        if zone.zone_type != ZoneType.AVAILABILITY_ZONE:
            o.err("outpost", f"an Outpost is anchored to an availability zone, and "
                             f"'{zone.name}' is a {zone.zone_type.value}")
            return None
        outpost_id = match.group(4)
        existing = self.net.outposts.get(outpost_id)
        if existing is not None:
            if existing.availability_zone != zone.name:
                o.err("zone", f"Outpost {outpost_id} is anchored to "
                              f"{existing.availability_zone}, not {zone.name}")
            return existing
        outpost: Outpost = self.net.add(Outpost(
            id=outpost_id, arn=outpost_arn(account, region, outpost_id),
            availability_zone=zone.name, availability_zone_id=zone.zone_id,
            account=account, region=region))
        return outpost

    # ------------------------------------------------------------------ edge gateways
    def gateways(self) -> None:
        ctx, net = self.ctx, self.net
        attached: dict[tuple[str, str], Declared] = {}

        def attach(o: Obj, d: Declared, kind: str, *, required: bool) -> str | None:
            vpc = ctx.vpc(o, required=required)
            if vpc is None:
                return None
            first = attached.get((kind, vpc.id))
            if first is not None:
                o.err("vpc", f"{ctx.label(vpc.id)} already has {first.label} (line "
                             f"{first.line}); a VPC has at most one")
            attached[(kind, vpc.id)] = d
            return vpc.id

        for d in self.decls["internet_gateways"]:
            assert d.obj is not None
            vpc_id = attach(d.obj, d, d.kind, required=False)
            account, region = ctx.env(vpc_id)
            net.add(InternetGateway(id=d.id, account=account, region=region,
                                    tags=tags_of(d.obj, d), vpc_id=vpc_id))
        for d in self.decls["egress_only_internet_gateways"]:
            assert d.obj is not None
            vpc_id = attach(d.obj, d, d.kind, required=True)
            account, region = ctx.env(vpc_id)
            net.add(EgressOnlyInternetGateway(id=d.id, account=account, region=region,
                                              tags=tags_of(d.obj, d), vpc_id=vpc_id))
        for d in self.decls["carrier_gateways"]:
            assert d.obj is not None
            vpc = ctx.vpc(d.obj)
            tags = tags_of(d.obj, d)
            if vpc is not None:
                net.add(CarrierGateway(id=d.id, account=vpc.account, region=vpc.region,
                                       tags=tags, vpc_id=vpc.id))
        for d in self.decls["vpn_gateways"]:
            assert d.obj is not None
            vpc_id = attach(d.obj, d, d.kind, required=False)
            account, region = ctx.env(vpc_id)
            net.add(VpnGateway(id=d.id, account=account, region=region,
                               tags=tags_of(d.obj, d), vpc_ids=[vpc_id] if vpc_id else [],
                               amazon_side_asn=d.obj.opt_int("amazon_side_asn", 1,
                                                             4294967294) or 64512))
        for d in self.decls["customer_gateways"]:
            o = d.obj
            assert o is not None
            ip = None
            node = o.present("ip_address")
            if node is None:
                o.missing("ip_address")
            else:
                ip = o.ip_of(node)
                if ip is not None and ip.version != 4:
                    o.err_at(node, f"{ip} is not IPv4: a customer gateway's address is IPv4")
                    ip = None
                elif ip is not None:
                    ctx.book.reserve_public(ip, d.label, node.line)
            net.add(CustomerGateway(id=d.id, account=ctx.account, region=ctx.region,
                                    tags=tags_of(o, d), ip_address=ip,
                                    bgp_asn=o.opt_int("bgp_asn", 1, 4294967294) or 65000))

    # ------------------------------------------------------------------ security groups
    def security_groups(self) -> None:
        ctx, net = self.ctx, self.net
        built: list[tuple[SecurityGroup, Declared]] = []
        for d in self.decls["security_groups"]:
            o = d.obj
            assert o is not None
            vpc = ctx.vpc(o)
            if d.name == "default":
                o.err("name", "the name 'default' is reserved for each VPC's default security "
                              "group, which is created automatically (SG-1)")
            elif d.name is not None and d.name.startswith("sg-"):
                o.err("name", "a security group name may not start with 'sg-' (SG-1)")
            description = o.str_or("description", d.name or "")
            tags = tags_of(o, d)
            if vpc is None:
                # Still check the rules; a group outside any VPC is not added.
                unplaced = SecurityGroup(id=d.id)
                self.sg_rules(unplaced, o, "ingress")
                self.sg_rules(unplaced, o, "egress")
                continue
            sg = net.add(SecurityGroup(id=d.id, account=vpc.account, region=vpc.region,
                                       tags=tags, vpc_id=vpc.id, group_name=d.name or d.id,
                                       description=description))
            built.append((sg, d))
        for sg, d in built:
            assert d.obj is not None
            sg.ingress = self.sg_rules(sg, d.obj, "ingress")
            if d.obj.child("egress") is None:
                # SG-3: a new group has one outbound rule, everything to 0.0.0.0/0.
                sg.egress = all_egress(make_id("security-group-rule", sg.id, "egress"), False)
            else:
                sg.egress = self.sg_rules(sg, d.obj, "egress")

    def sg_rules(self, sg: SecurityGroup, o: Obj, direction: str) -> list[SgRule]:
        ctx = self.ctx
        rules: list[SgRule] = []
        for i, r in enumerate(o.objs(direction, SG_RULE_FIELDS, "a security group rule")):
            protocol = protocol_of(r)
            ports = ports_of(r, protocol)
            if protocol in ("icmp", "icmpv6"):
                low, high = ports.icmp_type, ports.icmp_code
            else:
                low, high = ports.from_port, ports.to_port
            peer = r.exactly_one(("cidr", "ipv6_cidr", "group", "prefix_list"))
            description = r.str_or("description", "")
            peers: list[SgRule] = []
            if peer in ("cidr", "ipv6_cidr"):
                version = 4 if peer == "cidr" else 6
                for cidr, node in r.cidr_items(peer):
                    if cidr.version != version:
                        other = "ipv6_cidr" if version == 4 else "cidr"
                        r.err_at(node, f"{cidr} is IPv{cidr.version}: give it as {other}")
                    else:
                        peers.append(SgRule("", cidr=cidr))
            elif peer == "group":
                decl = ctx.ref(r, "group", ("security-group",), "security group",
                               scope=sg.vpc_id)
                peer_sg = self.net.security_groups.get(decl.id) if decl else None
                group_node = r.child("group")
                if decl is not None and peer_sg is not None and group_node is not None:
                    pcx = None
                    if sg.vpc_id and peer_sg.vpc_id != sg.vpc_id:
                        pcx = services.peering_between(self.net, sg.vpc_id, peer_sg.vpc_id)
                        if pcx is None:
                            r.err_at(group_node,
                                     f"{decl.label} is in {ctx.label(peer_sg.vpc_id)}, which "
                                     f"is not peered with {ctx.label(sg.vpc_id)} (SG-9)")
                    peers.append(SgRule("", group_id=decl.id, peering_connection_id=pcx))
            elif peer == "prefix_list":
                decl = ctx.ref(r, "prefix_list", ("prefix-list",), "prefix list")
                if decl is not None:
                    peers.append(SgRule("", prefix_list_id=decl.id))
            if protocol is None:
                continue
            for j, rule in enumerate(peers):
                rule.protocol = protocol
                rule.from_port, rule.to_port = low, high
                rule.description = description
                rule.rule_id = make_id("security-group-rule", sg.id, direction, str(i), str(j))
                rules.append(rule)
        return rules

    # ------------------------------------------------------------------ instances and ENIs
    def instances(self) -> None:
        ctx, net = self.ctx, self.net
        for d in self.decls["instances"]:
            o = d.obj
            assert o is not None
            subnet = ctx.subnet(o)
            nat = o.bool_or("nat", False)
            check = o.opt_bool("source_dest_check")
            if nat and check is True:
                o.err("source_dest_check", "a NAT instance forwards other hosts' traffic, so "
                                           "it needs source_dest_check: false")
            source_dest_check = (not nat) if check is None else check
            state = o.str_or("state", "running", INSTANCE_STATES)
            instance_type = o.str_or("instance_type", "t3.micro")
            image_id = o.opt_str("image_id")
            tags = tags_of(o, d)
            coip = o.opt_ip("customer_owned_ip")
            if subnet is None:
                ctx.check_interface_fields(o)
                continue
            groups = ctx.security_groups(o, "security_groups", subnet.vpc_id)
            eni_id = make_id("network-interface", d.id, "eth0")
            net.add(Instance(
                id=d.id, account=subnet.account, region=subnet.region, tags=tags,
                subnet_id=subnet.id, vpc_id=subnet.vpc_id,
                availability_zone=subnet.availability_zone, instance_type=instance_type,
                state=state, network_interface_ids=[eni_id], security_group_ids=groups,
                source_dest_check=source_dest_check, image_id=image_id, masquerade=nat))
            eni = ctx.new_eni(eni_id, subnet, security_group_ids=groups,
                              source_dest_check=source_dest_check, instance_id=d.id,
                              device_index=0, description="Primary network interface")
            ctx.interface_addresses(o, eni, subnet, d.label,
                                    auto_public=subnet.map_public_ip_on_launch)
            node = o.child("customer_owned_ip")
            if coip is not None and node is not None:
                eni.private_ips[0].customer_owned_ip = coip
                self.coip_claims.append((coip, node, d.label))

    def network_interfaces(self) -> None:
        ctx, net = self.ctx, self.net
        for d in self.decls["network_interfaces"]:
            o = d.obj
            assert o is not None
            subnet = ctx.subnet(o)
            check = o.bool_or("source_dest_check", True)
            description = o.str_or("description", "")
            tags = tags_of(o, d)
            owner = ctx.ref(o, "attached_to", ("instance",), "instance")
            instance = net.instances.get(owner.id) if owner is not None else None
            index = o.opt_int("device_index", 1, 31)
            if subnet is None:
                ctx.check_interface_fields(o)
                continue
            groups = ctx.security_groups(o, "security_groups", subnet.vpc_id)
            if instance is not None:
                taken = {net.network_interfaces[e].device_index
                         for e in instance.network_interface_ids
                         if e in net.network_interfaces}
                if instance.availability_zone != subnet.availability_zone:
                    o.err("attached_to", f"{ctx.label(instance.id)} is in "
                                         f"{instance.availability_zone} and this interface in "
                                         f"{subnet.availability_zone}: an interface attaches "
                                         "only to an instance of its own zone")
                    instance = None
                elif index is not None and index in taken:
                    o.err("device_index", f"{ctx.label(instance.id)} already has an interface "
                                          f"at device index {index}")
                    instance = None
                elif index is None:
                    index = max((i for i in taken if i is not None), default=0) + 1
            eni = ctx.new_eni(d.id, subnet, description=description, security_group_ids=groups,
                              source_dest_check=check,
                              instance_id=instance.id if instance is not None else None,
                              device_index=index if instance is not None else None, tags=tags)
            ctx.interface_addresses(o, eni, subnet, d.label, auto_public=False)
            if instance is not None:
                instance.network_interface_ids.append(eni.id)

    def nat_gateways(self) -> None:
        ctx, net = self.ctx, self.net
        for d in self.decls["nat_gateways"]:
            o = d.obj
            assert o is not None
            subnet = ctx.subnet(o)
            kind = o.str_or("connectivity_type", "public", ["public", "private"])
            state = o.str_or("state", "available", NAT_STATES)
            tags = tags_of(o, d)
            public_node = o.child("public_ip")
            if kind == "private" and o.present("public_ip") is not None:
                o.err("public_ip", "a private NAT gateway has no public IP (NG-1)")
            if subnet is None:
                o.opt_ip("private_ip")
                o.opt_ip("public_ip")
                continue
            if kind == "public" and net.internet_gateway_of(subnet.vpc_id) is None:
                o.err("connectivity_type", f"a public NAT gateway needs an internet gateway "
                                           f"attached to {ctx.label(subnet.vpc_id)}")
            eni = ctx.new_eni(make_id("network-interface", d.id), subnet,
                              interface_type="nat_gateway",
                              description=f"Interface for NAT Gateway {d.id}",
                              source_dest_check=False)
            primary = ctx.primary_address(eni, subnet, o.child("private_ip"), d.label,
                                          o.opt_ip("private_ip"), o.node)
            if kind == "public":
                ctx.public_address(primary, o.opt_ip("public_ip"), public_node, d.label,
                                   allocate=True)
            net.add(NatGateway(
                id=d.id, account=subnet.account, region=subnet.region, tags=tags,
                vpc_id=subnet.vpc_id, subnet_id=subnet.id, connectivity_type=kind, state=state,
                addresses=[NatAddress(
                    private_ip=UNSET_IP, network_interface_id=eni.id,
                    allocation_id=make_id("elastic-ip", d.id) if kind == "public" else None)]))

    # ------------------------------------------------------------------ route tables
    def route_tables(self) -> None:
        ctx, net = self.ctx, self.net
        mains: dict[str, Declared] = {}
        subnet_owner: dict[str, tuple[Declared, int]] = {}
        gateway_owner: dict[str, tuple[Declared, int]] = {}
        for d in self.decls["route_tables"]:
            o = d.obj
            assert o is not None
            vpc = ctx.vpc(o)
            main = o.bool_or("main", False)
            tags = tags_of(o, d)
            if vpc is None:
                self.check_routes_only(o)
                continue
            table = RouteTable(id=d.id, account=vpc.account, region=vpc.region, tags=tags,
                               vpc_id=vpc.id, routes=local_routes(vpc), main=main)
            if main:
                first = mains.get(vpc.id)
                if first is not None:
                    o.err("main", f"{ctx.label(vpc.id)} already has a main route table "
                                  f"({first.label}, line {first.line})")
                    table.main = False
                mains.setdefault(vpc.id, d)
            for subnet, node in ctx.subnets(o, "subnets", vpc.id):
                held = subnet_owner.get(subnet.id)
                if held is not None:
                    o.err_at(node, f"{ctx.label(subnet.id)} is already associated with "
                                   f"{held[0].label} (line {held[1]}); a subnet has one "
                                   "route table (RT-2)")
                    continue
                subnet_owner[subnet.id] = (d, node.line)
                table.subnet_ids.append(subnet.id)
            for decl, node in ctx.refs(o, "gateway", ("internet-gateway", "vpn-gateway"),
                                       "internet gateway or VPN gateway"):
                if not self.gateway_in_vpc(decl, node, vpc.id):
                    continue
                held = gateway_owner.get(decl.id)
                if held is not None:
                    o.err_at(node, f"{decl.label} is already associated with "
                                   f"{held[0].label} (line {held[1]})")
                    continue
                gateway_owner[decl.id] = (d, node.line)
                table.gateway_ids.append(decl.id)
            for decl, node in ctx.refs(o, "propagating_vgws", ("vpn-gateway",), "VPN gateway"):
                if self.gateway_in_vpc(decl, node, vpc.id):
                    table.propagating_vgws.append(decl.id)
            seen: dict[str, int] = {str(r.destination): 0 for r in table.routes}
            for r in o.objs("routes", ROUTE_FIELDS, "a route"):
                route = self.route(r, vpc, seen)
                if route is not None:
                    table.routes.append(route)
            net.add(table)
        for vpc in net.vpcs.values():
            if vpc.id not in mains:
                rid = make_id("route-table", vpc.id, "main")
                net.add(RouteTable(id=rid, account=vpc.account, region=vpc.region,
                                   vpc_id=vpc.id, routes=local_routes(vpc), main=True))
                ctx.reg.implied("route-table", rid)

    def check_routes_only(self, o: Obj) -> None:
        """Check the references and routes of a table whose VPC is unknown."""
        ctx = self.ctx
        ctx.refs(o, "subnets", ("subnet",), "subnet")
        ctx.refs(o, "gateway", ("internet-gateway", "vpn-gateway"),
                 "internet gateway or VPN gateway")
        ctx.refs(o, "propagating_vgws", ("vpn-gateway",), "VPN gateway")
        for r in o.objs("routes", ROUTE_FIELDS, "a route"):
            r.exactly_one(("destination", "prefix_list"))
            r.opt_cidr("destination")
            ctx.ref(r, "prefix_list", ("prefix-list",), "prefix list")
            r.opt_bool("blackhole")
            text, node = r.opt_str("target"), r.child("target")
            if text is not None and text != "local" and node is not None:
                ctx.reg.resolve(tuple(ROUTE_TARGETS), text, node, _TARGET_WHAT)

    def gateway_in_vpc(self, decl: Declared, node: YNode, vpc_id: str) -> bool:
        igw = self.net.internet_gateways.get(decl.id)
        if igw is not None:
            return self.ctx.in_vpc(node, decl, igw.vpc_id, vpc_id)
        vgw = self.net.vpn_gateways.get(decl.id)
        if vgw is not None:
            return self.ctx.in_vpc(node, decl, vpc_id if vpc_id in vgw.vpc_ids else (
                vgw.vpc_ids[0] if vgw.vpc_ids else None), vpc_id)
        return False

    def route(self, r: Obj, vpc: Vpc, seen: dict[str, int]) -> Route | None:
        ctx = self.ctx
        key = r.exactly_one(("destination", "prefix_list"))
        destination: IPNetwork | None = None
        prefix_list_id: str | None = None
        dest_node = r.child(key) if key else None
        if key == "destination":
            destination = r.opt_cidr("destination")
            if destination is not None and dest_node is not None and any(
                    destination.version == z.version and destination.subnet_of(z)  # type: ignore[arg-type]
                    for z in _RESERVED_DESTINATIONS):
                r.err_at(dest_node, f"{destination} is reserved for AWS services and cannot "
                                    "be routed (RT-11)")
                destination = None
        elif key == "prefix_list":
            decl = ctx.ref(r, "prefix_list", ("prefix-list",), "prefix list")
            prefix_list_id = decl.id if decl is not None else None
        blackhole = r.bool_or("blackhole", False)
        text = r.opt_str("target") if blackhole else r.req_str("target")
        target_node = r.child("target")
        if (destination is None and prefix_list_id is None) or dest_node is None:
            return None
        if text == "local" and target_node is not None:
            if destination is None or destination not in vpc.all_cidrs:
                r.err_at(target_node, "'local' routes exist only for the VPC's own CIDR blocks ("
                         + ", ".join(str(c) for c in vpc.all_cidrs)
                         + "), and are added automatically (RT-5)")
            return None
        target: tuple[TargetType, str, str | None] | None = (TargetType.UNKNOWN, "", None)
        if text is not None and target_node is not None:
            decl = ctx.reg.resolve(tuple(ROUTE_TARGETS), text, target_node, _TARGET_WHAT)
            target = self.route_target(decl, target_node, vpc, destination) if decl else None
        elif not blackhole:
            return None
        shown = str(destination) if destination is not None else str(prefix_list_id)
        if shown in seen:
            line = seen[shown]
            r.err_at(dest_node, f"this table already has a route to {shown}"
                     + (f" (line {line})" if line else " (the local route)") + " (RT-9)")
            return None
        seen[shown] = dest_node.line
        if target is None:
            return None
        kind, target_id, eni_id = target
        if destination is not None and not self.more_specific_ok(r, dest_node, destination, vpc,
                                                                 kind):
            return None
        return Route(destination, kind, target_id, prefix_list_id=prefix_list_id,
                     state="blackhole" if blackhole else "active",
                     origin=RouteOrigin.CREATE_ROUTE, network_interface_id=eni_id)

    def more_specific_ok(self, r: Obj, node: YNode, destination: IPNetwork, vpc: Vpc,
                         kind: TargetType) -> bool:
        """RT-13: a route inside a VPC block must cover exactly one subnet and point at a NAT
        gateway, a network interface (or an instance's) or a GWLB endpoint."""
        inside = next((c for c in vpc.all_cidrs if c.version == destination.version
                       and destination != c and destination.subnet_of(c)),  # type: ignore[arg-type]
                      None)
        if inside is None:
            return True
        whole = any(destination in s.all_cidrs for s in self.net.subnets_of(vpc.id))
        allowed = (TargetType.NAT_GATEWAY, TargetType.NETWORK_INTERFACE, TargetType.INSTANCE,
                   TargetType.GWLB_ENDPOINT)
        if whole and kind in allowed:
            return True
        r.err_at(node, f"{destination} is inside the VPC block {inside}: a route more specific "
                       "than the local route must equal a subnet's CIDR and point at a NAT "
                       "gateway, network interface or Gateway Load Balancer endpoint (RT-13)")
        return False

    def route_target(self, decl: Declared, node: YNode, vpc: Vpc,
                     destination: IPNetwork | None) -> tuple[TargetType, str, str | None] | None:
        """The route target a reference resolves to, checked against the table's VPC."""
        ctx, net = self.ctx, self.net
        kind = ROUTE_TARGETS[decl.kind]
        where: str | None
        ipv4 = destination is not None and destination.version == 4
        if decl.kind in ("internet-gateway", "egress-only-internet-gateway"):
            gw = (net.internet_gateways.get(decl.id) or
                  net.egress_only_internet_gateways.get(decl.id))
            if gw is None or not ctx.in_vpc(node, decl, gw.vpc_id, vpc.id):
                return None
            if kind == TargetType.EGRESS_ONLY_INTERNET_GATEWAY and ipv4:
                self.p.add(node.line, node.path, f"{decl.label} carries IPv6 only, and "
                                                 f"{destination} is IPv4")
                return None
        elif decl.kind == "nat-gateway":
            nat = net.nat_gateways.get(decl.id)
            if nat is None or not ctx.in_vpc(node, decl, nat.vpc_id, vpc.id):
                return None
            if destination is not None and destination.version == 6 and not destination.subnet_of(
                    _NAT64):  # type: ignore[arg-type]
                self.p.add(node.line, node.path, f"a NAT gateway takes IPv6 traffic only for "
                                                 f"NAT64 (64:ff9b::/96), not {destination}")
                return None
        elif decl.kind == "instance":
            instance = net.instances.get(decl.id)
            if instance is None or not ctx.in_vpc(node, decl, instance.vpc_id, vpc.id):
                return None
            if len(instance.network_interface_ids) != 1:
                self.p.add(node.line, node.path,
                           f"{decl.label} has {len(instance.network_interface_ids)} network "
                           "interfaces: route to one of them instead (an instance target "
                           "needs exactly one)")
                return None
            return kind, decl.id, instance.primary_eni_id
        elif decl.kind == "network-interface":
            eni = net.network_interfaces.get(decl.id)
            if eni is None or not ctx.in_vpc(node, decl, eni.vpc_id, vpc.id):
                return None
            return kind, decl.id, decl.id
        elif decl.kind == "peering-connection":
            pcx = net.peering_connections.get(decl.id)
            if pcx is None:
                return None
            if pcx.peer_of(vpc.id) is None:
                self.p.add(node.line, node.path,
                           f"{decl.label} does not connect {ctx.label(vpc.id)}")
                return None
        elif decl.kind == "transit-gateway":
            if not any(a.transit_gateway_id == decl.id and a.resource_type == "vpc"
                       and a.resource_id == vpc.id
                       for a in net.transit_gateway_attachments.values()):
                self.p.add(node.line, node.path, f"{ctx.label(vpc.id)} has no attachment to "
                                                 f"{decl.label}")
                return None
        elif decl.kind == "vpn-gateway":
            vgw = net.vpn_gateways.get(decl.id)
            if vgw is None:
                return None
            where = vpc.id if vpc.id in vgw.vpc_ids else (vgw.vpc_ids[0] if vgw.vpc_ids
                                                           else None)
            if not ctx.in_vpc(node, decl, where, vpc.id):
                return None
        elif decl.kind == "carrier-gateway":
            cagw = net.carrier_gateways.get(decl.id)
            if cagw is None or not ctx.in_vpc(node, decl, cagw.vpc_id, vpc.id):
                return None
            if destination is not None and destination.version != 4:
                self.p.add(node.line, node.path, "a carrier gateway carries IPv4 only")
                return None
        elif decl.kind == "vpc-endpoint":
            endpoint = net.vpc_endpoints.get(decl.id)
            if endpoint is None or not ctx.in_vpc(node, decl, endpoint.vpc_id, vpc.id):
                return None
            if endpoint.endpoint_type == "Gateway":
                self.p.add(node.line, node.path,
                           f"{decl.label} is a gateway endpoint: its routes are added for you; "
                           "list this route table under the endpoint's route_tables instead")
                return None
            if endpoint.endpoint_type == "Interface":
                self.p.add(node.line, node.path, f"{decl.label} is an interface endpoint, "
                                                 "which cannot be a route target")
                return None
            kind = TargetType.GWLB_ENDPOINT
        return kind, decl.id, None

    # ------------------------------------------------------------------ network ACLs
    def network_acls(self) -> None:
        ctx, net = self.ctx, self.net
        owner: dict[str, tuple[Declared, int]] = {}
        for d in self.decls["network_acls"]:
            o = d.obj
            assert o is not None
            vpc = ctx.vpc(o)
            tags = tags_of(o, d)
            entries: list[NaclEntry] = []
            for direction in ("ingress", "egress"):
                numbers: dict[int, int] = {}
                for e in o.objs(direction, NACL_ENTRY_FIELDS, "a network ACL entry"):
                    entry = self.nacl_entry(e, direction == "egress", numbers)
                    if entry is not None:
                        entries.append(entry)
            if vpc is None:
                continue
            acl = net.add(NetworkAcl(id=d.id, account=vpc.account, region=vpc.region, tags=tags,
                                     vpc_id=vpc.id, entries=entries))
            for subnet, node in ctx.subnets(o, "subnets", vpc.id):
                held = owner.get(subnet.id)
                if held is not None:
                    o.err_at(node, f"{ctx.label(subnet.id)} is already associated with "
                                   f"{held[0].label} (line {held[1]}); a subnet has one "
                                   "network ACL (NA-3)")
                    continue
                owner[subnet.id] = (d, node.line)
                acl.subnet_ids.append(subnet.id)
        # NA-3: every other subnet is associated with its VPC's default network ACL.
        defaults = {a.vpc_id: a for a in net.network_acls.values() if a.is_default}
        for subnet in net.subnets.values():
            if subnet.id not in owner and subnet.vpc_id in defaults:
                defaults[subnet.vpc_id].subnet_ids.append(subnet.id)

    def nacl_entry(self, e: Obj, egress: bool, numbers: dict[int, int]) -> NaclEntry | None:
        number = e.req_int("rule", 1, 32766)
        action = e.req_str("action", ["allow", "deny"])
        protocol = protocol_of(e)
        ports = ports_of(e, protocol)
        peer = e.exactly_one(("cidr", "ipv6_cidr"))
        cidr = e.opt_cidr(peer) if peer else None
        node = e.child(peer) if peer else None
        if cidr is not None and node is not None and cidr.version != (4 if peer == "cidr" else 6):
            other = "ipv6_cidr" if peer == "cidr" else "cidr"
            e.err_at(node, f"{cidr} is IPv{cidr.version}: give it as {other}")
            cidr = None
        if number is not None:
            rule_node = e.child("rule")
            first = numbers.get(number)
            if first is not None and rule_node is not None:
                e.err_at(rule_node, f"rule number {number} is used twice in "
                                    f"{'egress' if egress else 'ingress'} (first at line "
                                    f"{first}) (NA-5)")
                return None
            numbers[number] = rule_node.line if rule_node is not None else e.line
        if number is None or action is None or protocol is None or cidr is None:
            return None
        return NaclEntry(number, protocol, action, egress, cidr,
                         from_port=ports.from_port if protocol in ("tcp", "udp") else None,
                         to_port=ports.to_port if protocol in ("tcp", "udp") else None,
                         icmp_type=ports.icmp_type, icmp_code=ports.icmp_code)

    # ------------------------------------------------------------------ finishing
    def finish(self) -> None:
        """After allocation: NAT gateway addresses follow their interfaces; CoIPs checked."""
        net = self.net
        for nat in net.nat_gateways.values():
            for address in nat.addresses:
                eni = net.network_interfaces.get(address.network_interface_id or "")
                if eni is not None and eni.private_ips:
                    address.private_ip = eni.private_ips[0].address
                    address.public_ip = eni.private_ips[0].public_ip
        owners: dict[IPAddress, tuple[str, int]] = {}
        for ip, node, label in self.coip_claims:
            if not any(ip in c for pool in net.coip_pools.values() for c in pool.cidrs):
                self.p.add(node.line, node.path,
                           f"{ip} is in no customer-owned IP pool (coip_pools) of this file")
            elif ip in owners:
                self.p.add(node.line, node.path, f"customer-owned IP {ip} is already used by "
                                                 f"{owners[ip][0]} (line {owners[ip][1]})")
            else:
                owners[ip] = (label, node.line)
