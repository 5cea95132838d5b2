"""Generated networks for the benchmarks, built straight into the typed model (no YAML).

``generate_network(vpcs, subnets_per_vpc, enis_per_subnet)`` builds a hub-and-spoke estate:

* VPC ``i`` is ``10.i.0.0/16`` (then ``172.16-31.0.0/16`` and ``100.64-127.0.0/16`` past 250
  VPCs); subnet ``j`` is its ``j``-th ``/24``, in zone ``j % 3`` of three zones.
* Each subnet holds ``enis_per_subnet`` instances with one ENI each (``.10`` upwards). About
  1% of the instances are stopped.
* Every VPC has a main route table (local route, ``0.0.0.0/0`` to the transit gateway, a few
  redundant ``/16`` routes to the gateway, and in every third VPC a blackhole route). Every
  25th VPC (VPC 0 first) is an *egress* VPC: its last subnet is public (own route table,
  ``0.0.0.0/0`` to an internet gateway, a NAT gateway, public IPs on two thirds of its
  instances) and its main table sends ``0.0.0.0/0`` to the NAT gateway. Every tenth VPC
  (from 5) has an *isolated* subnet whose route table has only the local route.
* NACLs: the default one (allow all) everywhere, and a *restricted* NACL of 24 entries
  (denies for telnet, RDP, 9000-9999, the neighbouring VPC, SMTP and ICMP out, DNS to
  8.8.8.8, fillers) on every subnet ``j`` with ``j % 4 == 3``.
* Security groups: per VPC a default group and one group per role (web, app, db, cache,
  mgmt), each with 20 to 60 rules mixing CIDR peers, security-group peers and port ranges.
  Database groups only allow egress inside their VPC. An instance has its role's group, and
  every tenth one the mgmt group too.
* One transit gateway hub: an attachment per VPC in the first subnet of each zone (every
  7th VPC, from 3, misses zone c, so that zone cannot reach the gateway), one route table
  associated with and propagated from every attachment, and static routes: ``0.0.0.0/0`` to
  VPC 0 (central egress), blackholes for ``192.168.0.0/16`` and for the last subnet of the
  last VPC, a misroute of VPC 1's first subnet to VPC 2 (a loop), and some static
  overrides of propagated routes.

``sample_flows`` draws a reproducible mix of instance-to-instance, internet and corner-case
flows over such a network.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Sequence
from dataclasses import dataclass

from localvpc.dataplane.flow import Flow
from localvpc.model.base import IPNetwork
from localvpc.model.filters import NaclEntry, NetworkAcl, SecurityGroup, SgRule
from localvpc.model.gateways import InternetGateway, NatAddress, NatGateway
from localvpc.model.interfaces import Instance, NetworkInterface, PrivateIp
from localvpc.model.network import Network
from localvpc.model.transit import (
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
)
from localvpc.model.vpc import Route, RouteOrigin, RouteTable, Subnet, TargetType, Vpc

#: name -> (VPCs, subnets per VPC, ENIs per subnet); each size has ~10x the ENIs of the last.
SIZES: dict[str, tuple[int, int, int]] = {
    "small": (5, 10, 20),  # 1,000 ENIs
    "medium": (20, 20, 25),  # 10,000 ENIs
    "large": (100, 20, 50),  # 100,000 ENIs
}

ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
ZONE_IDS = ("use1-az1", "use1-az2", "use1-az4")
ROLES = ("web", "app", "db", "cache")
#: The port each role serves (what most generated flows ask for).
ROLE_PORT = {"web": 443, "app": 8080, "db": 5432, "cache": 6379, "mgmt": 22, "default": 80}
TGW_ID = "tgw-0000000000000001"
TGW_TABLE_ID = "tgw-rtb-0000000000000001"
FIRST_HOST = 10  # ENI k of a subnet has host address .(10 + k)
UNUSED_HOST = 250  # never assigned: flows to it find no interface
MAX_ENIS_PER_SUBNET = UNUSED_HOST - FIRST_HOST
MAX_VPCS = 250 + 16 + 64
EGRESS_EVERY = 25
PUBLIC_IP_BASE = int(ipaddress.IPv4Address("198.18.0.10"))  # RFC 2544 space, not AWS's

ANY = ipaddress.IPv4Network("0.0.0.0/0")
TEN = ipaddress.IPv4Network("10.0.0.0/8")
PRIVATE_ROUTES = tuple(ipaddress.IPv4Network(n) for n in
                       ("10.0.0.0/8", "172.16.0.0/12", "100.64.0.0/10"))
ONPREM = ipaddress.IPv4Network("192.168.0.0/16")
RETIRED = ipaddress.IPv4Network("192.168.100.0/24")
PARTNERS = tuple(ipaddress.IPv4Network(n) for n in
                 ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
#: Internet destinations: public resolvers and CDNs (not AWS), an S3 address (an AWS
#: service) and an EC2 address nothing in the network owns.
INTERNET_DESTINATIONS = tuple(ipaddress.IPv4Address(a) for a in (
    "8.8.8.8", "1.1.1.1", "9.9.9.9", "208.67.222.222", "151.101.1.69", "52.216.0.1",
    "44.192.0.1"))
UNALLOCATED = ipaddress.IPv4Address("10.254.0.5")


# ---------------------------------------------------------------------------- layout helpers
def vpc_cidr(i: int) -> ipaddress.IPv4Network:
    """The /16 of VPC ``i``: 10.i, then 172.16-31, then 100.64-127."""
    if i < 0 or i >= MAX_VPCS:
        raise ValueError(f"VPC index {i} out of range 0..{MAX_VPCS - 1}")
    if i < 250:
        first, second = 10, i
    elif i < 266:
        first, second = 172, 16 + i - 250
    else:
        first, second = 100, 64 + i - 266
    return ipaddress.IPv4Network((first << 24 | second << 16, 16))


def subnet_cidr(i: int, j: int) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network((int(vpc_cidr(i).network_address) + (j << 8), 24))


def is_egress_vpc(i: int) -> bool:
    return i % EGRESS_EVERY == 0


def misses_zone_c(i: int) -> bool:
    """Whether VPC ``i``'s transit gateway attachment has no subnet in the third zone."""
    return i % 7 == 3 and not is_egress_vpc(i)


def has_isolated_subnet(i: int) -> bool:
    return i % 10 == 5 and not is_egress_vpc(i)


def is_public_subnet(i: int, j: int, subnets_per_vpc: int) -> bool:
    return is_egress_vpc(i) and j == subnets_per_vpc - 1


def is_restricted_subnet(i: int, j: int, subnets_per_vpc: int) -> bool:
    return j % 4 == 3 and not is_public_subnet(i, j, subnets_per_vpc)


def vpc_id(i: int) -> str:
    return f"vpc-{i:04d}"


def subnet_id(i: int, j: int) -> str:
    return f"subnet-{i:04d}{j:03d}"


def attachment_id(i: int) -> str:
    return f"tgw-attach-{i:04d}"


# ---------------------------------------------------------------------------- rules
def _tcp(port: int, hi: int | None = None) -> tuple[str, int, int]:
    return "tcp", port, port if hi is None else hi


def _security_groups(i: int, vpcs: int, subnets_per_vpc: int,
                     rng: random.Random) -> list[SecurityGroup]:
    """The default group and one group per role of VPC ``i``, 20 to 60 rules each."""
    own = vpc_cidr(i)
    ids = {role: f"sg-{i:04d}{role}" for role in (*ROLES, "mgmt", "default")}
    ref_ids = list(ids.values())

    def cidr_rule(proto_ports: tuple[str, int, int], cidr: IPNetwork) -> SgRule:
        proto, lo, hi = proto_ports
        return SgRule(proto, lo, hi, cidr=cidr)

    def ref_rule(proto_ports: tuple[str, int, int], group: str) -> SgRule:
        proto, lo, hi = proto_ports
        return SgRule(proto, lo, hi, group_id=group)

    base_in: dict[str, list[SgRule]] = {
        "web": [cidr_rule(_tcp(80), ANY), cidr_rule(_tcp(443), ANY),
                ref_rule(_tcp(22), ids["mgmt"]), SgRule("icmp", -1, -1, cidr=TEN)],
        "app": [ref_rule(_tcp(8080, 8089), ids["web"]), cidr_rule(_tcp(8080), TEN),
                ref_rule(_tcp(22), ids["mgmt"]), cidr_rule(_tcp(9443), own)],
        "db": [ref_rule(_tcp(5432), ids["app"]), cidr_rule(_tcp(3306), own),
               ref_rule(_tcp(22), ids["mgmt"])],
        "cache": [ref_rule(_tcp(6379), ids["app"]), ref_rule(_tcp(6379), ids["web"]),
                  SgRule("udp", 53, 53, cidr=TEN)],
        "mgmt": [cidr_rule(_tcp(22), TEN), SgRule("icmp", -1, -1, cidr=TEN),
                 ref_rule(("tcp", 0, 65535), ids["mgmt"])],
        "default": [SgRule("-1", group_id=ids["default"])],
    }
    base_out: dict[str, list[SgRule]] = {
        role: [SgRule("-1", cidr=ANY)] for role in base_in}
    base_out["db"] = [cidr_rule(("tcp", 0, 65535), own), SgRule("udp", 53, 53, cidr=own)]

    def filler_in() -> SgRule:
        kind = rng.random()
        if kind < 0.35:  # a partner host or small range on one high port
            net = rng.choice(PARTNERS)
            host = int(net.network_address) + rng.randrange(0, 256, 8)
            return cidr_rule(_tcp(rng.randrange(1024, 65000)),
                             ipaddress.IPv4Network((host, rng.choice((29, 32)))))
        if kind < 0.6:  # a subnet of another VPC on a service port
            other = subnet_cidr(rng.randrange(vpcs), rng.randrange(subnets_per_vpc))
            return cidr_rule(_tcp(rng.choice((80, 443, 8080, 8443, 9000, 9200))), other)
        if kind < 0.8:  # another group of the VPC on a port range
            lo = rng.randrange(1024, 60000)
            return ref_rule(_tcp(lo, lo + rng.randrange(0, 100)), rng.choice(ref_ids))
        if kind < 0.9:
            lo = rng.randrange(30000, 40000)
            return SgRule("udp", lo, lo + 100, cidr=TEN)
        return SgRule("icmp", 3, 4, cidr=ANY)  # path MTU discovery

    def filler_out() -> SgRule:
        net = rng.choice(PARTNERS)
        host = int(net.network_address) + rng.randrange(256)
        return cidr_rule(_tcp(rng.choice((443, 8443, 5671))), ipaddress.IPv4Network((host, 32)))

    groups: list[SecurityGroup] = []
    for role, gid in ids.items():
        ingress, egress = list(base_in[role]), list(base_out[role])
        extra = max(0, rng.randint(20, 60) - len(ingress) - len(egress))
        n_out = extra // 5
        ingress += [filler_in() for _ in range(extra - n_out)]
        egress += [filler_out() for _ in range(n_out)]
        rng.shuffle(ingress)
        rng.shuffle(egress)
        groups.append(SecurityGroup(id=gid, vpc_id=vpc_id(i), group_name=role,
                                    description=f"{role} tier of {vpc_id(i)}",
                                    ingress=ingress, egress=egress))
    return groups


def _default_nacl(i: int) -> NetworkAcl:
    entries = [NaclEntry(100, "-1", "allow", egress, ANY) for egress in (False, True)]
    entries += [NaclEntry(32767, "-1", "deny", egress, ANY) for egress in (False, True)]
    return NetworkAcl(id=f"acl-{i:04d}dflt", vpc_id=vpc_id(i), is_default=True,
                      entries=entries)


def _restricted_nacl(i: int, vpcs: int, subnets: list[str], rng: random.Random) -> NetworkAcl:
    """24 entries, stored out of rule-number order (evaluation must sort them)."""
    neighbour = vpc_cidr((i + 1) % vpcs)
    entries = [
        NaclEntry(10, "6", "deny", False, ANY, 23, 23),
        NaclEntry(20, "-1", "deny", False, neighbour) if vpcs > 1 else
        NaclEntry(20, "6", "deny", False, ANY, 2049, 2049),
        NaclEntry(30, "6", "deny", False, ANY, 3389, 3389),
        NaclEntry(200, "6", "deny", False, ANY, 9000, 9999),
        NaclEntry(300, "-1", "allow", False, ANY),
        NaclEntry(32767, "-1", "deny", False, ANY),
        NaclEntry(10, "6", "deny", True, ANY, 25, 25),
        NaclEntry(20, "17", "deny", True, ipaddress.IPv4Network("8.8.8.8/32"), 53, 53),
        NaclEntry(30, "1", "deny", True, ANY, icmp_type=-1, icmp_code=-1),
        NaclEntry(300, "-1", "allow", True, ANY),
        NaclEntry(32767, "-1", "deny", True, ANY),
    ]
    for n in range(10):  # fillers: narrow denies and allows from partners and other VPCs
        peer = (rng.choice(PARTNERS) if n % 2 else
                subnet_cidr(rng.randrange(vpcs), rng.randrange(4)))
        lo = rng.randrange(1024, 60000)
        entries.append(NaclEntry(40 + 10 * n, rng.choice(("6", "17")),
                                 rng.choice(("allow", "deny")), False, peer, lo, lo + 10))
    for n in range(3):
        lo = rng.randrange(1024, 60000)
        entries.append(NaclEntry(40 + 10 * n, "6", "deny", True, rng.choice(PARTNERS),
                                 lo, lo + 10))
    rng.shuffle(entries)
    return NetworkAcl(id=f"acl-{i:04d}rstr", vpc_id=vpc_id(i), is_default=False,
                      entries=entries, subnet_ids=subnets)


# ---------------------------------------------------------------------------- the network
def generate_network(vpcs: int, subnets_per_vpc: int, enis_per_subnet: int,
                     seed: int = 0) -> Network:
    """A hub-and-spoke network of ``vpcs * subnets_per_vpc * enis_per_subnet`` instances."""
    if not 1 <= vpcs <= MAX_VPCS:
        raise ValueError(f"vpcs must be 1..{MAX_VPCS}")
    if not 4 <= subnets_per_vpc <= 256:
        raise ValueError("subnets_per_vpc must be 4..256")
    if not 1 <= enis_per_subnet <= MAX_ENIS_PER_SUBNET:
        raise ValueError(f"enis_per_subnet must be 1..{MAX_ENIS_PER_SUBNET}")
    rng = random.Random(seed)
    net = Network()
    spv = subnets_per_vpc
    net.add(TransitGateway(id=TGW_ID, default_association_route_table_id=TGW_TABLE_ID,
                           default_propagation_route_table_id=TGW_TABLE_ID))
    tgw_table = TransitGatewayRouteTable(id=TGW_TABLE_ID, transit_gateway_id=TGW_ID,
                                         default_association=True, default_propagation=True)
    net.add(tgw_table)
    eni_counter = 0
    public_counter = 0
    tgw_route = TargetType.TRANSIT_GATEWAY
    for i in range(vpcs):
        vid = vpc_id(i)
        cidr = vpc_cidr(i)
        net.add(Vpc(id=vid, cidrs=[cidr], tags={"Name": f"spoke-{i}"}))
        egress = is_egress_vpc(i)
        # --- route tables
        local = Route(cidr, TargetType.LOCAL, "local", origin=RouteOrigin.CREATE_ROUTE_TABLE)
        main = RouteTable(id=f"rtb-{i:04d}main", vpc_id=vid, main=True, routes=[local])
        igw_id, nat_id = f"igw-{i:04d}", f"nat-{i:04d}"
        if egress:
            main.routes += [Route(n, tgw_route, TGW_ID) for n in PRIVATE_ROUTES]
            main.routes.append(Route(ANY, TargetType.NAT_GATEWAY, nat_id))
            public = RouteTable(id=f"rtb-{i:04d}pub", vpc_id=vid, routes=[
                Route(cidr, TargetType.LOCAL, "local", origin=RouteOrigin.CREATE_ROUTE_TABLE),
                *(Route(n, tgw_route, TGW_ID) for n in PRIVATE_ROUTES),
                Route(ANY, TargetType.INTERNET_GATEWAY, igw_id)],
                subnet_ids=[subnet_id(i, spv - 1)])
            net.add(public)
            net.add(InternetGateway(id=igw_id, vpc_id=vid))
        else:
            main.routes.append(Route(ANY, tgw_route, TGW_ID))
        for d in (1, 2, 3):  # redundant, more specific routes to other spokes
            if vpcs > d:
                main.routes.append(Route(vpc_cidr((i + d) % vpcs), tgw_route, TGW_ID))
        if i % 3 == 0:
            main.routes.append(Route(RETIRED, TargetType.NAT_GATEWAY, f"nat-{i:04d}dead",
                                     state="blackhole"))
        net.add(main)
        if has_isolated_subnet(i):
            net.add(RouteTable(id=f"rtb-{i:04d}iso", vpc_id=vid, subnet_ids=[
                subnet_id(i, spv - 2)], routes=[Route(
                    cidr, TargetType.LOCAL, "local", origin=RouteOrigin.CREATE_ROUTE_TABLE)]))
        # --- filters
        net.add(_default_nacl(i))
        restricted = [subnet_id(i, j) for j in range(spv) if is_restricted_subnet(i, j, spv)]
        if restricted:
            net.add(_restricted_nacl(i, vpcs, restricted, rng))
        for sg in _security_groups(i, vpcs, spv, rng):
            net.add(sg)
        role_groups = [[f"sg-{i:04d}{role}"] for role in ROLES]
        mgmt = f"sg-{i:04d}mgmt"
        # --- subnets and instances
        for j in range(spv):
            sid = subnet_id(i, j)
            scidr = subnet_cidr(i, j)
            zone = ZONES[j % 3]
            public_subnet = is_public_subnet(i, j, spv)
            net.add(Subnet(id=sid, vpc_id=vid, cidr=scidr, availability_zone=zone,
                           availability_zone_id=ZONE_IDS[j % 3],
                           map_public_ip_on_launch=public_subnet))
            base = int(scidr.network_address)
            for k in range(enis_per_subnet):
                n = eni_counter
                eni_counter += 1
                eni_id, inst_id = f"eni-{n:08x}", f"i-{n:08x}"
                groups = role_groups[0] if public_subnet else role_groups[k % 4]
                if k % 10 == 0:
                    groups = [*groups, mgmt]
                pip = PrivateIp(ipaddress.IPv4Address(base + FIRST_HOST + k), primary=True)
                if public_subnet and k % 3 != 2:
                    pip.public_ip = ipaddress.IPv4Address(PUBLIC_IP_BASE + public_counter)
                    public_counter += 1
                net.network_interfaces[eni_id] = NetworkInterface(
                    id=eni_id, subnet_id=sid, vpc_id=vid, availability_zone=zone,
                    private_ips=[pip], security_group_ids=groups, instance_id=inst_id,
                    device_index=0)
                net.instances[inst_id] = Instance(
                    id=inst_id, subnet_id=sid, vpc_id=vid, availability_zone=zone,
                    instance_type="m5.large", state="stopped" if n % 97 == 50 else "running",
                    network_interface_ids=[eni_id], security_group_ids=groups)
            if public_subnet:
                nat_ip = ipaddress.IPv4Address(base + 5)
                nat_public = ipaddress.IPv4Address(PUBLIC_IP_BASE + 60000 + i)
                nat_eni = f"eni-nat{i:04d}"
                net.add(NetworkInterface(
                    id=nat_eni, subnet_id=sid, vpc_id=vid, availability_zone=zone,
                    private_ips=[PrivateIp(nat_ip, primary=True, public_ip=nat_public)],
                    interface_type="nat_gateway", source_dest_check=False,
                    description=f"Interface for NAT Gateway {nat_id}"))
                net.add(NatGateway(id=nat_id, vpc_id=vid, subnet_id=sid, addresses=[
                    NatAddress(nat_ip, nat_public, f"eipalloc-{i:04d}", nat_eni)]))
        # --- transit gateway attachment: the first subnet of each zone
        att_id = attachment_id(i)
        zones = 2 if misses_zone_c(i) else 3
        net.add(TransitGatewayAttachment(
            id=att_id, transit_gateway_id=TGW_ID, resource_type="vpc", resource_id=vid,
            association_route_table_id=TGW_TABLE_ID,
            subnet_ids=[subnet_id(i, j) for j in range(zones)]))
        tgw_table.associated_attachment_ids.append(att_id)
        tgw_table.propagating_attachment_ids.append(att_id)
    # --- static transit gateway routes
    statics = [
        TransitGatewayRoute(ANY, "static", "active", attachment_id(0)),
        TransitGatewayRoute(ONPREM, "static", "blackhole", None),
        TransitGatewayRoute(subnet_cidr(vpcs - 1, spv - 1), "static", "blackhole", None),
    ]
    if vpcs >= 3:  # VPC 1's first subnet sent to VPC 2, which sends it back: a loop
        statics.append(TransitGatewayRoute(subnet_cidr(1, 0), "static", "active",
                                           attachment_id(2)))
    statics += [TransitGatewayRoute(vpc_cidr(k), "static", "active", attachment_id(k))
                for k in range(4, vpcs, 10)]
    tgw_table.routes = statics
    return net


def rule_counts(network: Network) -> tuple[int, int]:
    """(security group rules, NACL entries) of a network."""
    sg = sum(len(g.ingress) + len(g.egress) for g in network.security_groups.values())
    nacl = sum(len(a.entries) for a in network.network_acls.values())
    return sg, nacl


# ---------------------------------------------------------------------------- flows
@dataclass(frozen=True, slots=True)
class FlowCase:
    """One benchmark query: trace ``flow`` from instance ``node``."""

    category: str
    node: str
    flow: Flow


#: (weight, category) of the flow mix.
CATEGORIES: tuple[tuple[float, str], ...] = (
    (0.18, "same-subnet"),
    (0.20, "cross-subnet"),
    (0.32, "cross-vpc"),
    (0.18, "internet"),
    (0.12, "corner"),
)
#: Services asked for when not the destination's own: some allowed, most denied somewhere.
OTHER_SERVICES: tuple[tuple[int, int | None], ...] = (
    (6, 22), (6, 23), (6, 80), (6, 3306), (6, 3389), (6, 9443), (6, 9999), (17, 53), (1, None))
INTERNET_SERVICES: tuple[tuple[int, int | None], ...] = (
    (6, 443), (6, 443), (6, 80), (17, 53), (1, None), (6, 25))


@dataclass(slots=True)
class _Catalog:
    """What the flow sampler picks from (built once; not used by either evaluator)."""

    subnets: dict[str, list[Subnet]]  # per VPC, in order
    enis: dict[str, list[NetworkInterface]]  # instance ENIs per subnet
    roles: dict[str, str]  # security group id -> role
    vpc_ids: list[str]
    egress_vpc_ids: list[str]


def _catalog(network: Network) -> _Catalog:
    subnets: dict[str, list[Subnet]] = {v: [] for v in network.vpcs}
    for s in network.subnets.values():
        subnets[s.vpc_id].append(s)
    enis: dict[str, list[NetworkInterface]] = {s: [] for s in network.subnets}
    for eni in network.network_interfaces.values():
        if eni.instance_id is not None:
            enis[eni.subnet_id].append(eni)
    roles = {g.id: g.group_name for g in network.security_groups.values()}
    egress = sorted({g.vpc_id for g in network.internet_gateways.values() if g.vpc_id})
    return _Catalog(subnets, enis, roles, list(network.vpcs), egress)


def _flow(rng: random.Random, src: ipaddress.IPv4Address, dst: ipaddress.IPv4Address,
          service: tuple[int, int | None]) -> Flow:
    proto, port = service
    if proto == 1:
        return Flow(src, dst, 1, icmp_type=8, icmp_code=0)
    return Flow(src, dst, proto, rng.randrange(32768, 61000), port)


def sample_flows(network: Network, count: int, seed: int = 0,
                 categories: Sequence[tuple[float, str]] = CATEGORIES) -> list[FlowCase]:
    """``count`` flows from instances of a ``generate_network`` network, reproducibly."""
    rng = random.Random(seed)
    cat = _catalog(network)
    weights = [w for w, _ in categories]
    names = [c for _, c in categories]
    vpcs = len(cat.vpc_ids)

    def pick_eni(vpc: str | None = None, subnet: str | None = None) -> NetworkInterface:
        while True:
            v = vpc if vpc is not None else rng.choice(cat.vpc_ids)
            s = subnet if subnet is not None else rng.choice(cat.subnets[v]).id
            if cat.enis[s]:
                return rng.choice(cat.enis[s])

    def service_for(dst: NetworkInterface) -> tuple[int, int | None]:
        if rng.random() < 0.65:
            return 6, ROLE_PORT[cat.roles[dst.security_group_ids[0]]]
        return rng.choice(OTHER_SERVICES)

    def address(eni: NetworkInterface) -> ipaddress.IPv4Address:
        ip = eni.private_ips[0].address
        assert isinstance(ip, ipaddress.IPv4Address)
        return ip

    def peer(src: NetworkInterface, vpc: str | None, subnet: str | None) -> NetworkInterface:
        while True:
            dst = pick_eni(vpc, subnet)
            if dst.id != src.id and (subnet is not None or dst.subnet_id != src.subnet_id) \
                    and (vpc is not None or dst.vpc_id != src.vpc_id):
                return dst

    cases: list[FlowCase] = []
    while len(cases) < count:
        category = rng.choices(names, weights)[0]
        if category == "internet":
            src_vpc = rng.choice(cat.egress_vpc_ids) if rng.random() < 0.4 else None
            src = pick_eni(src_vpc)
            flow = _flow(rng, address(src), rng.choice(INTERNET_DESTINATIONS),
                         rng.choice(INTERNET_SERVICES))
        elif category == "corner":
            src = pick_eni()
            corner = _corner_flow(rng, cat, address(src), vpcs)
            if corner is None:
                continue
            flow = corner
        elif category == "same-subnet":
            src = pick_eni()
            if len(cat.enis[src.subnet_id]) < 2:
                continue
            dst = peer(src, src.vpc_id, src.subnet_id)
            flow = _flow(rng, address(src), address(dst), service_for(dst))
        elif category == "cross-subnet":
            src = pick_eni()
            dst = peer(src, src.vpc_id, None)
            flow = _flow(rng, address(src), address(dst), service_for(dst))
        else:
            if vpcs < 2:
                continue
            src = pick_eni()
            dst = peer(src, None, None)
            flow = _flow(rng, address(src), address(dst), service_for(dst))
        assert src.instance_id is not None
        cases.append(FlowCase(category, src.instance_id, flow))
    return cases


def _corner_flow(rng: random.Random, cat: _Catalog, src_ip: ipaddress.IPv4Address,
                 vpcs: int) -> Flow | None:
    """Unassigned addresses, blackholes, a routing loop, unallocated private space."""
    service = rng.choice(((6, 443), (6, 80), (1, None)))
    kind = rng.randrange(6)
    spv = len(cat.subnets[cat.vpc_ids[0]])
    if kind == 0:  # a free address of the source's own subnet
        dst = ipaddress.IPv4Address(int(src_ip) & ~0xFF | UNUSED_HOST)
    elif kind == 1:  # a free address in another VPC
        dst = subnet_cidr(rng.randrange(vpcs), rng.randrange(spv))[UNUSED_HOST]
    elif kind == 2:  # the quarantined subnet (TGW blackhole)
        dst = subnet_cidr(vpcs - 1, spv - 1)[FIRST_HOST]
    elif kind == 3:  # on-premises ranges that were retired (VPC or TGW blackhole)
        dst = rng.choice((RETIRED[7], ONPREM[257]))
    elif kind == 4:  # VPC 1's first subnet, misrouted by a static TGW route
        if vpcs < 3:
            return None
        dst = subnet_cidr(1, 0)[FIRST_HOST]
    else:  # private space no VPC uses: the central egress VPC sends it back to the TGW
        if vpcs > 250:
            return None
        dst = UNALLOCATED
    if dst == src_ip:
        return None
    return _flow(rng, src_ip, dst, service)
