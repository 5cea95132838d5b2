"""Load balancer nodes: the network interface ELB creates in each enabled subnet, with its
private address, its public address when internet-facing, and an IPv6 address when
dualstack. The trace engine finds a load balancer by these interfaces' addresses (each
zone's ``addresses``), exactly as for a snapshot's ``ELB <type>/<name>/<id>`` interfaces."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from localvpc.api.providers.ec2.common import new_id, scoped, visible
from localvpc.api.providers.ec2.instances import (
    check_private_ip,
    free_address,
    public_address,
    release_enis,
)
from localvpc.api.providers.elbv2.common import SHORT_TYPE, fail
from localvpc.model import catalog
from localvpc.model.base import IPAddress
from localvpc.model.elb import LoadBalancer, LoadBalancerZone
from localvpc.model.interfaces import NetworkInterface, PrivateIp
from localvpc.model.vpc import Subnet
from localvpc.model.zones import ZoneType

if TYPE_CHECKING:
    from localvpc.api.context import RequestContext
    from localvpc.api.state import Changes

# InterfaceType of the nodes' ENIs, as DescribeNetworkInterfaces shows them.
INTERFACE_TYPE = {"application": "interface", "network": "network_load_balancer",
                  "gateway": "gateway_load_balancer"}


def description(lb_type: str, name: str, lb_id: str) -> str:
    return f"ELB {SHORT_TYPE[lb_type]}/{name}/{lb_id}"


def _zone_type(ctx: RequestContext, zone_name: str) -> ZoneType:
    for z in catalog.zones(ctx.region):
        if z.name == zone_name:
            return z.zone_type
    z2 = ctx.state.network.zones.get(zone_name)
    return z2.zone_type if z2 is not None else ZoneType.AVAILABILITY_ZONE


def resolve_subnets(ctx: RequestContext, lb_type: str, params: dict[str, Any]
                    ) -> tuple[list[tuple[Subnet, dict[str, Any]]], str]:
    """``Subnets`` or ``SubnetMappings`` as (subnet, mapping) pairs, checked as AWS does:
    subnets exist, one per zone, all in one VPC, at least two Availability Zones for an
    application load balancer (one or more Local Zones, or one Outpost subnet)."""
    if params.get("Subnets") and params.get("SubnetMappings"):
        raise fail("ValidationError", "You can specify subnets or subnet mappings, not both")
    mappings = ([{"SubnetId": s} for s in params.get("Subnets") or []]
                or list(params.get("SubnetMappings") or []))
    subnets = visible(ctx, "subnets")  # the caller's, and subnets shared with it
    pairs: list[tuple[Subnet, dict[str, Any]]] = []
    for m in mappings:
        subnet = subnets.get(m["SubnetId"])
        if subnet is None:
            raise fail("SubnetNotFound", f"The subnet ID '{m['SubnetId']}' is not valid")
        pairs.append((subnet, m))
    if not pairs:
        raise fail("ValidationError", "At least one subnet must be specified")
    if len({s.vpc_id for s, _ in pairs}) > 1:
        # ASSUMED wording: AWS requires one VPC but its message is not documented.
        raise fail("InvalidConfigurationRequest", "The subnets must all belong to the same VPC")
    zones = [s.availability_zone for s, _ in pairs]
    if len(set(zones)) != len(zones):
        raise fail("InvalidConfigurationRequest", "A load balancer cannot be attached to "
                   "multiple subnets in the same Availability Zone")
    if lb_type == "application":
        kinds = {_zone_type(ctx, z) for z in zones}
        outposts = [s for s, _ in pairs if s.outpost_arn]
        if len(kinds) > 1:
            raise fail("InvalidConfigurationRequest", "The subnets of a load balancer must "
                       "all be in zones of the same type (Availability Zones or Local Zones)")
        if outposts and len(pairs) != 1:
            raise fail("InvalidConfigurationRequest", "You must specify one Outpost subnet")
        if kinds == {ZoneType.AVAILABILITY_ZONE} and not outposts and len(pairs) < 2:
            raise fail("ValidationError", "At least two subnets in two different "
                       "Availability Zones must be specified")
    return pairs, pairs[0][0].vpc_id


def check_mappings(lb_type: str, scheme: str, pairs: list[tuple[Subnet, dict[str, Any]]]
                   ) -> None:
    """Elastic IPs only for internet-facing network load balancers; chosen private IPv4
    addresses only for internal ones (CreateLoadBalancer, SubnetMappings)."""
    for _, m in pairs:
        if m.get("AllocationId") and (lb_type != "network" or scheme != "internet-facing"):
            raise fail("InvalidConfigurationRequest", "Elastic IP addresses can only be "
                       "specified for internet-facing Network Load Balancers")
        if m.get("PrivateIPv4Address") and (lb_type != "network" or scheme != "internal"):
            raise fail("InvalidConfigurationRequest", "Private IPv4 addresses can only be "
                       "specified for internal Network Load Balancers")


def _free_ipv6(ctx: RequestContext, subnet: Subnet) -> IPAddress:
    used = {a for e in ctx.state.network.network_interfaces.values()
            if e.subnet_id == subnet.id for a in e.ipv6_addresses}
    for cidr in subnet.ipv6_cidrs:
        base = int(cidr.network_address)
        for offset in range(4, 4 + 4096):
            candidate = ipaddress.ip_address(base + offset)
            if candidate not in used:
                return candidate
    raise fail("InvalidSubnet", f"Subnet '{subnet.id}' has no free IPv6 address")


def check_dualstack(pairs: list[Subnet]) -> None:
    for subnet in pairs:
        if not subnet.ipv6_cidrs:
            # ASSUMED wording: dualstack needs an IPv6 CIDR in every subnet (documented).
            raise fail("InvalidSubnet", f"Subnet '{subnet.id}' does not have an IPv6 CIDR "
                       "block")


def create_node(ctx: RequestContext, w: Changes, lb: LoadBalancer, subnet: Subnet,
                mapping: dict[str, Any]) -> LoadBalancerZone:
    """The zone's network interface, saved, with its addresses."""
    net = ctx.state.network
    requested = mapping.get("PrivateIPv4Address")
    ip = check_private_ip(net, subnet, requested) if requested else free_address(net, subnet)
    public = None
    eip = None
    if lb.scheme == "internet-facing" and lb.ip_address_type != "dualstack-without-public-ipv4":
        allocation = mapping.get("AllocationId")
        if allocation:
            eip = scoped(net.elastic_ips, ctx.account, ctx.region).get(allocation)
            if eip is None:
                raise fail("AllocationIdNotFound", f"The allocation ID '{allocation}' is "
                           "not valid")
            if eip.network_interface_id:
                raise fail("InvalidConfigurationRequest", f"The Elastic IP address "
                           f"'{allocation}' is already associated")
            public = eip.public_ip
        else:
            public = public_address(net)  # AWS-owned, like an instance's public IPv4
    eni = NetworkInterface(
        new_id("eni"), lb.account, lb.region, subnet_id=subnet.id, vpc_id=subnet.vpc_id,
        availability_zone=subnet.availability_zone,
        private_ips=[PrivateIp(ip, True, public, eip.id if eip is not None else None)],
        security_group_ids=list(lb.security_group_ids),
        interface_type=INTERFACE_TYPE[lb.lb_type], requester_id="amazon-elb",
        attached=True, status="in-use",
        description=description(lb.lb_type, lb.lb_name, lb.id.rsplit("/", 1)[-1]))
    if lb.ip_address_type != "ipv4":
        eni.ipv6_addresses = [_free_ipv6(ctx, subnet)]
    net.add(eni)
    w.save(eni)
    if eip is not None:
        eip.network_interface_id, eip.private_ip = eni.id, ip
        eip.association_id = "eipassoc-" + new_id("x")[2:]
        w.save(eip)
    return LoadBalancerZone(zone_name=subnet.availability_zone, subnet_id=subnet.id,
                            addresses=eni.addresses(), network_interface_id=eni.id,
                            allocation_id=eip.id if eip is not None else None,
                            requested_private_ip=requested)


def delete_node(ctx: RequestContext, w: Changes, zone: LoadBalancerZone) -> None:
    net = ctx.state.network
    eni_id = zone.network_interface_id
    if eni_id and eni_id in net.network_interfaces:
        release_enis(net, [eni_id], w)
        eni = net.network_interfaces.pop(eni_id)
        for p in eni.private_ips:
            p.public_ip = None
        w.deleted.append(("network_interfaces", eni_id))


def set_ipv6(ctx: RequestContext, w: Changes, lb: LoadBalancer, on: bool) -> None:
    """Give each node an IPv6 address (dualstack) or take it away (ipv4)."""
    net = ctx.state.network
    for zone in lb.zones:
        eni = net.network_interfaces.get(zone.network_interface_id)
        subnet = net.subnets.get(zone.subnet_id)
        if eni is None or subnet is None:
            continue
        if on and not eni.ipv6_addresses:
            eni.ipv6_addresses = [_free_ipv6(ctx, subnet)]
        elif not on:
            eni.ipv6_addresses = []
        zone.addresses = eni.addresses()
        w.save(eni)


def set_groups(ctx: RequestContext, w: Changes, lb: LoadBalancer) -> None:
    for zone in lb.zones:
        eni = ctx.state.network.network_interfaces.get(zone.network_interface_id)
        if eni is not None:
            eni.security_group_ids = list(lb.security_group_ids)
            w.save(eni)
