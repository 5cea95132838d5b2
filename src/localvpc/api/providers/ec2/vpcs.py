"""EC2 VPCs and subnets: create, describe (filters, pagination), modify, delete."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    cidr_param,
    describe,
    error,
    new_id,
    owned,
    paginate,
    scoped,
    select_ids,
    tags_list,
    visible,
)
from localvpc.api.providers.ec2.dhcp import (
    default_dhcp_key,
    default_dhcp_options_id,
    ensure_default_dhcp_options,
)
from localvpc.api.providers.ec2.encryption_controls import (
    control_for_new_vpc,
    drop_vpc_control,
    vpc_encryption_view,
)
from localvpc.api.providers.ec2.ipam import (
    check_resource_tags,
    plan_allocation,
    release_resource,
    resource_pool,
)
from localvpc.api.providers.ec2.public_access import retire_exclusions
from localvpc.api.state import Changes
from localvpc.dataplane.public_access import effective_mode
from localvpc.model.base import IPNetwork, first_free_block
from localvpc.model.filters import NaclEntry, NetworkAcl, SecurityGroup, SgRule
from localvpc.model.ipam import IpamPool, IpamPoolAllocation
from localvpc.model.network import Network
from localvpc.model.vpc import Route, RouteOrigin, RouteTable, Subnet, TargetType, Vpc

ALL_V4 = ipaddress.ip_network("0.0.0.0/0")
ALL_V6 = ipaddress.ip_network("::/0")


def within(inner: IPNetwork, outer: IPNetwork) -> bool:
    """``inner`` lies inside ``outer`` (False across address families)."""
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False


def cidr_association_id(vpc_id: str, cidr: IPNetwork) -> str:
    """Derived from the VPC and the block, so it needs no storage and survives the removal of
    other blocks (an index would shift)."""
    digest = hashlib.sha256(f"{vpc_id}/{cidr}".encode()).hexdigest()[:17]
    return f"vpc-cidr-assoc-{digest}"


def _v4_association(vpc: Vpc, c: IPNetwork, state: str = "associated") -> dict[str, Any]:
    return {"AssociationId": cidr_association_id(vpc.id, c), "CidrBlock": str(c),
            "CidrBlockState": {"State": state}}


def _v6_association(vpc: Vpc, c: IPNetwork, state: str = "associated") -> dict[str, Any]:
    return {"AssociationId": cidr_association_id(vpc.id, c), "Ipv6CidrBlock": str(c),
            "Ipv6CidrBlockState": {"State": state}, "NetworkBorderGroup": vpc.region,
            "Ipv6Pool": "Amazon"}


def vpc_view(vpc: Vpc, network: Network) -> dict[str, Any]:
    return {
        "VpcId": vpc.id,
        "OwnerId": vpc.account,
        "State": vpc.state,
        "CidrBlock": str(vpc.cidrs[0]) if vpc.cidrs else None,
        "CidrBlockAssociationSet": [_v4_association(vpc, c) for c in vpc.cidrs],
        "Ipv6CidrBlockAssociationSet": [_v6_association(vpc, c) for c in vpc.ipv6_cidrs],
        "DhcpOptionsId": vpc.dhcp_options_id or "default",
        "InstanceTenancy": vpc.instance_tenancy,
        "IsDefault": vpc.is_default,
        "BlockPublicAccessStates": {"InternetGatewayBlockMode": effective_mode(network, vpc.id)},
        "EncryptionControl": vpc_encryption_view(network, vpc.id),
        "Tags": tags_list(vpc.tags),
    }


def subnet_cidr_association_id(subnet_id: str, cidr: IPNetwork) -> str:
    """Derived from the subnet and the block, like ``cidr_association_id``: stable when other
    blocks come and go, and reused if the same block is associated again (as AWS does not
    promise otherwise)."""
    digest = hashlib.sha256(f"{subnet_id}/{cidr}".encode()).hexdigest()[:17]
    return f"subnet-cidr-assoc-{digest}"


def subnet_v6_association(s: Subnet, c: IPNetwork, state: str = "associated"
                          ) -> dict[str, Any]:
    return {"AssociationId": subnet_cidr_association_id(s.id, c), "Ipv6CidrBlock": str(c),
            "Ipv6CidrBlockState": {"State": state}, "Ipv6AddressAttribute": "public",
            "IpSource": "amazon"}


def subnet_view(s: Subnet, network: Network,
                addresses_in_use: Mapping[str, int] | None = None) -> dict[str, Any]:
    """``addresses_in_use`` (``addresses_by_subnet``) spares a scan of every ENI."""
    if addresses_in_use is not None:
        used = addresses_in_use.get(s.id, 0)
    else:
        used = sum(len(e.private_ips) for e in network.network_interfaces.values()
                   if e.subnet_id == s.id)
    free = max(0, s.cidr.num_addresses - 5 - used) if s.cidr is not None else 0
    return {
        "SubnetId": s.id,
        "SubnetArn": f"arn:aws:ec2:{s.region}:{s.account}:subnet/{s.id}",
        "VpcId": s.vpc_id,
        "OwnerId": s.account,
        "State": s.state,
        "CidrBlock": str(s.cidr) if s.cidr is not None else None,
        "AvailabilityZone": s.availability_zone,
        "AvailabilityZoneId": s.availability_zone_id,
        "AvailableIpAddressCount": free,
        "DefaultForAz": s.default_for_az,
        "MapPublicIpOnLaunch": s.map_public_ip_on_launch,
        "AssignIpv6AddressOnCreation": s.assign_ipv6_address_on_creation,
        "EnableDns64": s.enable_dns64,
        "Ipv6Native": s.ipv6_native,
        "Ipv6CidrBlockAssociationSet": [subnet_v6_association(s, c) for c in s.ipv6_cidrs],
        "OutpostArn": s.outpost_arn,
        "MapCustomerOwnedIpOnLaunch": s.map_customer_owned_ip_on_launch,
        "CustomerOwnedIpv4Pool": s.customer_owned_ipv4_pool,
        "EnableLniAtDeviceIndex": s.enable_lni_at_device_index,
        "PrivateDnsNameOptionsOnLaunch": {
            "HostnameType": s.private_dns_hostname_type_on_launch,
            "EnableResourceNameDnsARecord": s.enable_resource_name_dns_a_record_on_launch,
            "EnableResourceNameDnsAAAARecord": s.enable_resource_name_dns_aaaa_record_on_launch},
        "BlockPublicAccessStates": {
            "InternetGatewayBlockMode": effective_mode(network, s.vpc_id, s.id)},
        "Tags": tags_list(s.tags),
    }


def subnets_by_vpc(network: Network) -> dict[str, list[str]]:
    """Subnet ids by VPC id (an index for ``derived``)."""
    index: dict[str, list[str]] = {}
    for s in network.subnets.values():
        index.setdefault(s.vpc_id, []).append(s.id)
    return index


def addresses_by_subnet(network: Network) -> dict[str, int]:
    """Private addresses of ENIs by subnet id (an index for ``derived``)."""
    used: dict[str, int] = {}
    for e in network.network_interfaces.values():
        used[e.subnet_id] = used.get(e.subnet_id, 0) + len(e.private_ips)
    return used


def subnet_candidates(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Subnet]:
    """The subnets a DescribeSubnets call can return, found without a scan of every subnet
    when ``SubnetIds`` or a ``subnet-id``/``vpc-id`` filter without wildcards names them.
    A superset of the answer (filters are AND-ed and are all applied to it afterwards);
    with ``SubnetIds`` exactly those that exist, so missing ones are still reported."""
    subnets = ctx.state.network.subnets
    ids = params.get("SubnetIds")
    if ids:
        return {i: subnets[i] for i in ids if i in subnets}
    keys: set[str] | None = None
    for f in params.get("Filters") or []:
        values = [str(v) for v in f.get("Values") or []]
        if any(c in v for v in values for c in "*?\\"):
            continue  # a pattern: only a scan can tell
        if f.get("Name") == "subnet-id":
            named = {v for v in values if v in subnets}
        elif f.get("Name") == "vpc-id":
            index = ctx.state.derived("subnets-by-vpc", subnets_by_vpc)
            named = {i for v in values for i in index.get(v, ())}
        else:
            continue
        keys = named if keys is None else keys & named
    if keys is None:
        return subnets
    return {k: subnets[k] for k in keys if k in subnets}


VPC_FILTERS = {
    "vpc-id": lambda v: [v.id],
    "cidr": lambda v: [str(v.cidrs[0])] if v.cidrs else [],  # the primary block only
    "cidr-block-association.cidr-block": lambda v: [str(c) for c in v.cidrs],
    "cidr-block-association.association-id": lambda v: [cidr_association_id(v.id, c)
                                                        for c in v.cidrs],
    "cidr-block-association.state": lambda v: ["associated"] if v.cidrs else [],
    "ipv6-cidr-block-association.ipv6-cidr-block": lambda v: [str(c) for c in v.ipv6_cidrs],
    "ipv6-cidr-block-association.association-id": lambda v: [
        cidr_association_id(v.id, c) for c in v.ipv6_cidrs],
    "ipv6-cidr-block-association.state": lambda v: ["associated"] if v.ipv6_cidrs else [],
    "ipv6-cidr-block-association.ipv6-pool": lambda v: ["Amazon"] if v.ipv6_cidrs else [],
    "is-default": lambda v: [v.is_default],
    "owner-id": lambda v: [v.account],
    "state": lambda v: [v.state],
    "dhcp-options-id": lambda v: [v.dhcp_options_id or "default"],
}

SUBNET_FILTERS = {
    "subnet-id": lambda s: [s.id],
    "vpc-id": lambda s: [s.vpc_id],
    "cidr-block": lambda s: [str(s.cidr)],
    "cidr": lambda s: [str(s.cidr)],
    "cidrBlock": lambda s: [str(s.cidr)],
    "availability-zone": lambda s: [s.availability_zone],
    "availabilityZone": lambda s: [s.availability_zone],
    "availability-zone-id": lambda s: [s.availability_zone_id or ""],
    "default-for-az": lambda s: [s.default_for_az],
    "map-public-ip-on-launch": lambda s: [s.map_public_ip_on_launch],
    "owner-id": lambda s: [s.account],
    "state": lambda s: [s.state],
    "subnet-arn": lambda s: [f"arn:aws:ec2:{s.region}:{s.account}:subnet/{s.id}"],
    "ipv6-cidr-block-association.ipv6-cidr-block": lambda s: [str(c) for c in s.ipv6_cidrs],
    "ipv6-cidr-block-association.association-id": lambda s: [
        subnet_cidr_association_id(s.id, c) for c in s.ipv6_cidrs],
    "ipv6-cidr-block-association.state": lambda s: ["associated"] if s.ipv6_cidrs else [],
    "ipv6-native": lambda s: [s.ipv6_native],
    "enable-dns64": lambda s: [s.enable_dns64],
    "enable-lni-at-device-index": lambda s: (
        [s.enable_lni_at_device_index] if s.enable_lni_at_device_index is not None else []),
    "map-customer-owned-ip-on-launch": lambda s: [s.map_customer_owned_ip_on_launch],
    "customer-owned-ipv4-pool": lambda s: (
        [s.customer_owned_ipv4_pool] if s.customer_owned_ipv4_pool else []),
    "private-dns-name-options-on-launch.hostname-type": lambda s: [
        s.private_dns_hostname_type_on_launch],
    "private-dns-name-options-on-launch.enable-resource-name-dns-a-record": lambda s: [
        s.enable_resource_name_dns_a_record_on_launch],
    "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record": lambda s: [
        s.enable_resource_name_dns_aaaa_record_on_launch],
    "outpost-arn": lambda s: [s.outpost_arn or ""],
}


def default_resources(vpc: Vpc) -> list[Any]:
    """What AWS creates with every VPC: main route table (RT-1, RT-5), default NACL (NA-1),
    default security group (SG-2)."""
    local = [Route(c, TargetType.LOCAL, "local", origin=RouteOrigin.CREATE_ROUTE_TABLE)
             for c in vpc.all_cidrs]
    rt = RouteTable(new_id("rtb"), vpc.account, vpc.region, vpc_id=vpc.id, routes=local,
                    main=True)
    entries = [NaclEntry(100, "-1", "allow", e, ALL_V4) for e in (False, True)]
    entries += [NaclEntry(32767, "-1", "deny", e, ALL_V4) for e in (False, True)]
    if vpc.ipv6_cidrs:  # NA-1: 101 allow ::/0 and the 32768 catch-all in each direction
        entries += [NaclEntry(101, "-1", "allow", e, ALL_V6) for e in (False, True)]
        entries += [NaclEntry(32768, "-1", "deny", e, ALL_V6) for e in (False, True)]
    acl = NetworkAcl(new_id("acl"), vpc.account, vpc.region, vpc_id=vpc.id, is_default=True,
                     entries=entries)
    sg = SecurityGroup(new_id("sg"), vpc.account, vpc.region, vpc_id=vpc.id,
                       group_name="default", description="default VPC security group")
    sg.ingress = [SgRule("-1", group_id=sg.id)]
    sg.egress = [SgRule("-1", cidr=ALL_V4)]
    if vpc.ipv6_cidrs:  # SG-2: all to ::/0 only when the VPC has IPv6
        sg.egress.append(SgRule("-1", cidr=ALL_V6))
    return [rt, acl, sg]


def amazon_ipv6_block(network: Network) -> IPNetwork:
    """A /56 from ``2600:1f18::/32`` (AWS's us-east-1 pool) that no VPC holds yet."""
    taken = {c for v in network.vpcs.values() for c in v.ipv6_cidrs}
    pool = ipaddress.ip_network("2600:1f18::/32")
    start = int(pool.network_address)
    for n in range(1, 1 << 16):
        candidate = ipaddress.ip_network((start + (n << 72), 56))
        if candidate not in taken:
            return candidate
    raise error("InsufficientCidrBlocks", "There are no IPv6 blocks left to allocate.")


def _nau_key(vpc_id: str) -> str:
    return f"vpc-network-address-usage-metrics/{vpc_id}"


def default_vpc_key(account: str, region: str) -> str:
    return f"default-vpc/{account}/{region}"


def create_default_vpc(ctx: RequestContext) -> None:
    """IG-6: the default VPC AWS gives every account in every Region, with the default DHCP
    options set, made on the first call of that account in that Region. Made once: deleting
    it does not bring it back (only ``CreateDefaultVpc`` does)."""
    state = ctx.state
    key = default_vpc_key(ctx.account, ctx.region)
    dhcp_key = default_dhcp_key(ctx.account, ctx.region)
    if state.meta(key) is not None and state.meta(dhcp_key) is not None:
        return
    with state.write() as w:
        dopt_id = ensure_default_dhcp_options(ctx, w)
        if state.meta(key) is not None:  # made before, or while this request waited
            return
        vpc = build_default_vpc(ctx, w, dopt_id)
        w.meta[key] = vpc.id if vpc is not None else "none"


def build_default_vpc(ctx: RequestContext, w: Changes, dhcp_options_id: str | None
                      ) -> Vpc | None:
    """172.31.0.0/16, a /20 default subnet per AZ that maps public IPs, an attached internet
    gateway and a main-table route 0.0.0.0/0 to it; added to the model within ``w``. None
    for a Region without catalogued AZs."""
    from localvpc.model import catalog
    from localvpc.model.gateways import InternetGateway
    from localvpc.model.zones import ZoneType

    azs = sorted((z for z in catalog.zones(ctx.region)
                  if z.zone_type == ZoneType.AVAILABILITY_ZONE), key=lambda z: z.name)
    if not azs:
        return None
    vpc = Vpc(new_id("vpc"), ctx.account, ctx.region,
              cidrs=[ipaddress.ip_network("172.31.0.0/16")], is_default=True,
              enable_dns_hostnames=True, dhcp_options_id=dhcp_options_id)
    igw = InternetGateway(new_id("igw"), ctx.account, ctx.region, vpc_id=vpc.id)
    main, acl, sg = default_resources(vpc)
    assert isinstance(main, RouteTable) and isinstance(acl, NetworkAcl)
    main.routes.append(Route(ALL_V4, TargetType.INTERNET_GATEWAY, igw.id))
    subnets = []
    for i, zone in enumerate(azs[:16]):
        subnets.append(Subnet(new_id("subnet"), ctx.account, ctx.region, vpc_id=vpc.id,
                              cidr=ipaddress.ip_network(f"172.31.{16 * i}.0/20"),
                              availability_zone=zone.name, availability_zone_id=zone.zone_id,
                              map_public_ip_on_launch=True, default_for_az=True))
        acl.subnet_ids.append(subnets[-1].id)
    for r in (vpc, igw, main, acl, sg, *subnets):
        ctx.state.network.add(r)
        w.save(r)
    return vpc


class VpcOperations:
    """CreateVpc, DescribeVpcs, DeleteVpc, CreateSubnet, DescribeSubnets, DeleteSubnet, ..."""

    # ------------------------------------------------------------------ VPCs
    def CreateVpc(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("CidrBlock")
        if not text and not params.get("Ipv4IpamPoolId"):
            raise error("MissingParameter",
                        "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
        tenancy = params.get("InstanceTenancy") or "default"
        if tenancy not in ("default", "dedicated"):
            raise error("InvalidParameterValue", f"Value ({tenancy}) for parameter "
                        "instanceTenancy is invalid. Valid values: default, dedicated.")
        vpc = Vpc(new_id("vpc"), ctx.account, ctx.region,
                  dhcp_options_id=default_dhcp_options_id(ctx), instance_tenancy=tenancy)
        apply_tag_specs(vpc, params, "vpc")
        cidr, pool, allocation = self._ipv4_block(ctx, vpc, params)
        control = control_for_new_vpc(ctx, vpc.id, params)  # VPC encryption control
        vpc.cidrs.append(cidr)
        if params.get("AmazonProvidedIpv6CidrBlock"):
            vpc.ipv6_cidrs.append(amazon_ipv6_block(ctx.state.network))
        with ctx.state.write() as w:
            if pool is not None and allocation is not None:
                pool.allocations.append(allocation)
                w.save(pool)
            for r in (vpc, *default_resources(vpc), *control):
                ctx.state.network.add(r)
                w.save(r)
        return {"Vpc": vpc_view(vpc, ctx.state.network)}

    @staticmethod
    def _ipv4_block(ctx: RequestContext, vpc: Vpc, params: dict[str, Any]) -> tuple[
            IPNetwork, IpamPool | None, IpamPoolAllocation | None]:
        """The IPv4 block ``CidrBlock`` names, or, with ``Ipv4IpamPoolId``, the block that
        pool would allocate to the VPC (``CidrBlock`` or ``Ipv4NetmaskLength``, else the
        pool's default length); the allocation is the caller's to add."""
        text, pool_id = params.get("CidrBlock"), params.get("Ipv4IpamPoolId")
        netmask = params.get("Ipv4NetmaskLength")
        if netmask is not None and not pool_id:
            raise error("InvalidParameterCombination", "The parameter ipv4NetmaskLength "
                        "requires ipv4IpamPoolId.")
        if netmask is not None and not 16 <= netmask <= 28:
            raise error("InvalidVpc.Range", f"The netmask length /{netmask} is invalid: a "
                        "VPC CIDR block is /16 to /28.")
        if text:
            cidr = cidr_param(text)
            if cidr.version != 4 or not 16 <= cidr.prefixlen <= 28:
                raise error("InvalidVpc.Range", f"The CIDR '{text}' is invalid.")
        if not pool_id:
            return cidr, None, None
        pool = resource_pool(ctx, pool_id)
        check_resource_tags(pool, vpc.tags)
        allocation = plan_allocation(pool, text, netmask, "vpc", vpc.id, ctx.region,
                                     ctx.account)
        if not 16 <= allocation.cidr.prefixlen <= 28:
            raise error("InvalidVpc.Range", f"The CIDR '{allocation.cidr}' is invalid.")
        return allocation.cidr, pool, allocation

    def CreateDefaultVpc(self, ctx: RequestContext, params: dict[str, Any]
                         ) -> dict[str, Any]:
        """Brings back a deleted default VPC (only while the account has none)."""
        net = ctx.state.network
        if any(v.is_default for v in scoped(net.vpcs, ctx.account, ctx.region).values()):
            raise error("DefaultVpcAlreadyExists", "A Default VPC already exists for this "
                        "account in this region.")
        with ctx.state.write() as w:
            vpc = build_default_vpc(ctx, w, default_dhcp_options_id(ctx))
            if vpc is None:
                raise error("DefaultVpcAlreadyExists", f"localvpc has no availability zones "
                            f"for {ctx.region}, so it cannot make a default VPC there.")
            w.meta[default_vpc_key(ctx.account, ctx.region)] = vpc.id
        return {"Vpc": vpc_view(vpc, ctx.state.network)}

    def DescribeVpcs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        page, token = describe(ctx, "vpcs", params, "VpcIds", "vpc",
                               "InvalidVpcID.NotFound", VPC_FILTERS)
        return {"Vpcs": [vpc_view(v, ctx.state.network) for v in page], "NextToken": token}

    def DeleteVpc(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Only an empty VPC goes: subnets, attached gateways, custom route tables, NACLs and
        security groups, endpoints and TGW attachments each block it (DependencyViolation).
        Its main route table, default NACL and default security group go with it."""
        net = ctx.state.network
        vpc = self._vpc(ctx, params["VpcId"])
        blockers = [s.id for s in net.subnets.values() if s.vpc_id == vpc.id]
        blockers += [g.id for g in net.internet_gateways.values() if g.vpc_id == vpc.id]
        blockers += [g.id for g in net.egress_only_internet_gateways.values()
                     if g.vpc_id == vpc.id]
        blockers += [g.id for g in net.vpn_gateways.values() if vpc.id in g.vpc_ids]
        blockers += [r.id for r in net.route_tables.values() if r.vpc_id == vpc.id and not r.main]
        blockers += [g.id for g in net.security_groups.values()
                     if g.vpc_id == vpc.id and g.group_name != "default"]
        blockers += [a.id for a in net.network_acls.values()
                     if a.vpc_id == vpc.id and not a.is_default]
        blockers += [e.id for e in net.vpc_endpoints.values()
                     if e.vpc_id == vpc.id and e.state not in ("deleted", "deleting")]
        blockers += [a.id for a in net.transit_gateway_attachments.values()
                     if a.resource_type == "vpc" and a.resource_id == vpc.id
                     and a.state not in ("deleted", "deleting")]
        blockers += [g.id for g in net.carrier_gateways.values() if g.vpc_id == vpc.id]
        if blockers:
            raise error("DependencyViolation", f"The vpc '{vpc.id}' has dependencies and "
                        f"cannot be deleted (first: {blockers[0]}).")
        with ctx.state.write() as w:
            for table in ("route_tables", "network_acls", "security_groups"):
                items = getattr(net, table)
                for rid in [r.id for r in items.values() if r.vpc_id == vpc.id]:
                    del items[rid]
                    w.deleted.append((table, rid))
            del net.vpcs[vpc.id]
            w.deleted.append(("vpcs", vpc.id))
            retire_exclusions(net, vpc.id, w)
            drop_vpc_control(net, vpc.id, w)
            release_resource(net, "vpc", vpc.id, w)  # IPAM: its pool allocations go back
        return {}

    def ModifyVpcTenancy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Only ``dedicated`` -> ``default``; running instances keep their tenancy."""
        vpc = self._vpc(ctx, params["VpcId"])
        tenancy = params["InstanceTenancy"]
        if tenancy != "default":
            raise error("InvalidParameterValue", f"Value ({tenancy}) for parameter "
                        "instanceTenancy is invalid. The tenancy of a VPC can only be changed "
                        "to default.")
        with ctx.state.write() as w:
            vpc.instance_tenancy = "default"
            w.save(vpc)
        return {"ReturnValue": True}

    def ModifyVpcAttribute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        vpc = self._vpc(ctx, params["VpcId"])
        given = [k for k in ("EnableDnsSupport", "EnableDnsHostnames",
                             "EnableNetworkAddressUsageMetrics") if params.get(k) is not None]
        if len(given) != 1:
            raise error("InvalidParameterCombination", "Exactly one attribute may be modified "
                        "per request.")
        value = bool(params[given[0]].get("Value"))
        with ctx.state.write() as w:
            if given[0] == "EnableDnsSupport":
                vpc.enable_dns_support = value
            elif given[0] == "EnableDnsHostnames":
                vpc.enable_dns_hostnames = value
            else:  # not part of the model: kept beside it
                w.meta[_nau_key(vpc.id)] = value
            w.save(vpc)
        return {}

    def DescribeVpcAttribute(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        vpc = self._vpc(ctx, params["VpcId"])
        attr = params["Attribute"]
        out: dict[str, Any] = {"VpcId": vpc.id}
        if attr == "enableDnsSupport":
            out["EnableDnsSupport"] = {"Value": vpc.enable_dns_support}
        elif attr == "enableDnsHostnames":
            out["EnableDnsHostnames"] = {"Value": vpc.enable_dns_hostnames}
        elif attr == "enableNetworkAddressUsageMetrics":
            out["EnableNetworkAddressUsageMetrics"] = {
                "Value": bool(ctx.state.meta(_nau_key(vpc.id)))}
        else:
            raise error("InvalidParameterValue", f"Value ({attr}) for parameter attribute is "
                        "invalid.")
        return out

    def AssociateVpcCidrBlock(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        """A secondary IPv4 block (/16../28, overlapping nothing of the VPC) or an
        Amazon-provided IPv6 /56; either way every route table gets a local route (RT-5)."""
        vpc = self._vpc(ctx, params["VpcId"])
        text = params.get("CidrBlock")
        net = ctx.state.network
        if text and params.get("AmazonProvidedIpv6CidrBlock"):
            raise error("InvalidParameterCombination", "Specify either cidrBlock or "
                        "amazonProvidedIpv6CidrBlock, not both.")
        pool: IpamPool | None = None
        allocation: IpamPoolAllocation | None = None
        if params.get("Ipv4IpamPoolId") or params.get("Ipv4NetmaskLength") is not None:
            cidr, pool, allocation = self._ipv4_block(ctx, vpc, params)
            text = str(cidr)
        if params.get("AmazonProvidedIpv6CidrBlock"):
            if vpc.ipv6_cidrs:
                raise error("CidrLimitExceeded", f"The VPC '{vpc.id}' already has an "
                            "Amazon-provided IPv6 CIDR block.")
            cidr = amazon_ipv6_block(net)
        elif not text:
            raise error("MissingParameter", "The request must contain the parameter cidrBlock")
        else:
            cidr = cidr_param(text)
            if cidr.version != 4 or not 16 <= cidr.prefixlen <= 28:
                raise error("InvalidVpc.Range", f"The CIDR '{text}' is invalid.")
            if any(cidr.overlaps(c) for c in vpc.cidrs):
                raise error("InvalidVpc.Range", f"The CIDR '{text}' overlaps with an existing "
                            "CIDR block of the VPC.")
            if len(vpc.cidrs) >= 5:
                raise error("CidrLimitExceeded", f"The VPC '{vpc.id}' already has the maximum "
                            "number of IPv4 CIDR blocks (5).")
        with ctx.state.write() as w:
            if pool is not None and allocation is not None:
                pool.allocations.append(allocation)
                w.save(pool)
            (vpc.cidrs if cidr.version == 4 else vpc.ipv6_cidrs).append(cidr)
            w.save(vpc)
            for rt in net.route_tables.values():  # RT-5: a local route in every table
                if rt.vpc_id == vpc.id:
                    rt.routes.append(Route(cidr, TargetType.LOCAL, "local",
                                           origin=RouteOrigin.CREATE_ROUTE_TABLE))
                    w.save(rt)
            if cidr.version == 6:
                self._add_ipv6_nacl_entries(ctx, vpc, w)
        if cidr.version == 6:
            return {"VpcId": vpc.id,
                    "Ipv6CidrBlockAssociation": _v6_association(vpc, cidr, "associating")}
        return {"VpcId": vpc.id, "CidrBlockAssociation": _v4_association(vpc, cidr,
                                                                         "associating")}

    @staticmethod
    def _add_ipv6_nacl_entries(ctx: RequestContext, vpc: Vpc, w: Changes) -> None:
        """NA-1/NA-2: the IPv6 catch-all deny in every NACL of the VPC; the default NACL
        also gets rule 101 allow ::/0 in each direction whose rules were never changed."""
        for acl in ctx.state.network.network_acls.values():
            if acl.vpc_id != vpc.id:
                continue
            for egress in (False, True):
                if acl.is_default and {(e.rule_number, e.action) for e in acl.entries
                                       if e.egress == egress} == {(100, "allow"),
                                                                  (32767, "deny")}:
                    acl.entries.append(NaclEntry(101, "-1", "allow", egress, ALL_V6))
                if not any(e.rule_number == 32768 and e.egress == egress for e in acl.entries):
                    acl.entries.append(NaclEntry(32768, "-1", "deny", egress, ALL_V6))
            w.save(acl)

    def DisassociateVpcCidrBlock(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        """Removes a secondary block and its local routes (RT-5). The primary IPv4 block
        stays; a block that a subnet still uses cannot go."""
        net = ctx.state.network
        assoc = params["AssociationId"]
        for vpc in scoped(net.vpcs, ctx.account, ctx.region).values():
            for cidr in vpc.all_cidrs:
                if cidr_association_id(vpc.id, cidr) != assoc:
                    continue
                if vpc.cidrs and cidr == vpc.cidrs[0]:
                    raise error("OperationNotPermitted", f"The vpc CIDR block association "
                                f"{assoc} cannot be disassociated: it is the primary CIDR "
                                "block of the VPC.")
                used = [s.id for s in net.subnets.values() if s.vpc_id == vpc.id
                        and any(within(c, cidr) for c in s.all_cidrs)]
                if used:
                    raise error("DependencyViolation", f"The vpc CIDR block {cidr} is in use "
                                f"by subnet {used[0]}.")
                view = (_v4_association(vpc, cidr, "disassociating") if cidr.version == 4
                        else _v6_association(vpc, cidr, "disassociating"))
                with ctx.state.write() as w:
                    (vpc.cidrs if cidr.version == 4 else vpc.ipv6_cidrs).remove(cidr)
                    w.save(vpc)
                    release_resource(net, "vpc", vpc.id, w, cidr)
                    for rt in net.route_tables.values():
                        kept = [r for r in rt.routes if not (
                            r.origin == RouteOrigin.CREATE_ROUTE_TABLE
                            and r.destination == cidr)]
                        if len(kept) != len(rt.routes) and rt.vpc_id == vpc.id:
                            rt.routes = kept
                            w.save(rt)
                key = "CidrBlockAssociation" if cidr.version == 4 else "Ipv6CidrBlockAssociation"
                return {"VpcId": vpc.id, key: view}
        raise error("InvalidVpcCidrBlockAssociationID.NotFound", f"The vpc CIDR block "
                    f"association ID '{assoc}' does not exist")

    def _vpc(self, ctx: RequestContext, vpc_id: str) -> Vpc:
        vpc: Vpc = owned(ctx, "vpcs", vpc_id, "InvalidVpcID.NotFound", "vpc")
        return vpc

    # ------------------------------------------------------------------ subnets
    def CreateSubnet(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        vpc = self._vpc(ctx, params["VpcId"])
        text = params.get("CidrBlock")
        native = bool(params.get("Ipv6Native"))
        if native:  # an IPv6-only subnet: a /64 of the VPC and no IPv4 block
            if text:  # ASSUMED wording: AWS rejects the pair, its message is not documented
                raise error("InvalidParameterCombination", "An IPv6-only (Ipv6Native) subnet "
                            "cannot have an IPv4 CIDR block.")
            if not params.get("Ipv6CidrBlock"):
                raise error("MissingParameter", "The request must contain the parameter "
                            "ipv6CidrBlock")
        elif not text:
            raise error("MissingParameter", "The request must contain the parameter cidrBlock")
        cidr = cidr_param(text) if text else None
        net = ctx.state.network
        siblings = [s for s in net.subnets.values() if s.vpc_id == vpc.id]
        if cidr is not None:
            if cidr.version != 4 or not any(within(cidr, c) for c in vpc.cidrs):
                raise error("InvalidSubnet.Range", f"The CIDR '{text}' is invalid.")
            if not 16 <= cidr.prefixlen <= 28:
                raise error("InvalidSubnet.Range", f"The CIDR '{text}' is invalid.")
            lo, hi = int(cidr.network_address), int(cidr.broadcast_address)
            for other in siblings:  # integer bounds: this scan runs on every create
                oc = other.cidr
                if oc is not None and oc.version == 4 and int(oc.network_address) <= hi \
                        and lo <= int(oc.broadcast_address):
                    raise error("InvalidSubnet.Conflict", f"The CIDR '{text}' conflicts with "
                                "another subnet")
        v6 = None
        if params.get("Ipv6CidrBlock"):
            v6 = cidr_param(params["Ipv6CidrBlock"])
            if v6.version != 6 or v6.prefixlen != 64 or not any(
                    within(v6, c) for c in vpc.ipv6_cidrs):
                raise error("InvalidSubnet.Range", f"The IPv6 CIDR "
                            f"'{params['Ipv6CidrBlock']}' is invalid: it must be a /64 of an "
                            "IPv6 block of the VPC.")
            if any(c.overlaps(v6) for other in siblings for c in other.ipv6_cidrs):
                raise error("InvalidSubnet.Conflict", f"The CIDR '{v6}' conflicts with "
                            "another subnet")
        if params.get("AvailabilityZone") and params.get("AvailabilityZoneId"):
            raise error("InvalidParameterCombination", "Specify either availabilityZone or "
                        "availabilityZoneId, not both.")
        zone, zone_id = self._zone(ctx, params.get("AvailabilityZone"),
                                   params.get("AvailabilityZoneId"))
        subnet = Subnet(new_id("subnet"), ctx.account, ctx.region, vpc_id=vpc.id, cidr=cidr,
                        availability_zone=zone, availability_zone_id=zone_id)
        if v6 is not None:
            subnet.ipv6_cidrs.append(v6)
        if native:
            subnet.ipv6_native = subnet.assign_ipv6_address_on_creation = True
            subnet.private_dns_hostname_type_on_launch = "resource-name"
        apply_tag_specs(subnet, params, "subnet")
        with ctx.state.write() as w:
            net.add(subnet)
            w.save(subnet)
            default_acl = next((a for a in net.network_acls.values()
                                if a.vpc_id == vpc.id and a.is_default), None)
            if default_acl is not None:  # NA-3: every subnet has a NACL association
                default_acl.subnet_ids.append(subnet.id)
                w.save(default_acl)
        return {"Subnet": subnet_view(subnet, net)}

    def _zone(self, ctx: RequestContext, name: str | None, zone_id: str | None
              ) -> tuple[str, str | None]:
        """The zone a subnet goes in (AZ-5, AZ-6): a Region AZ or an opted-in Local or
        Wavelength Zone, by name or id; without either, the Region's first AZ."""
        from localvpc.api.providers.ec2.zones import opted_in
        from localvpc.model import catalog
        from localvpc.model.zones import ZoneType

        groups = opted_in(ctx)
        zones = catalog.zones(ctx.region, groups) + [
            z for z in ctx.state.network.zones.values() if z.region == ctx.region]
        if not name and not zone_id:
            azs = [z for z in zones if z.zone_type == ZoneType.AVAILABILITY_ZONE]
            first = min(azs, key=lambda z: z.name) if azs else None
            return (first.name, first.zone_id) if first else (f"{ctx.region}a", None)
        match = next((z for z in zones if (name and z.name == name)
                      or (zone_id and z.zone_id == zone_id)), None)
        if match is None:
            raise error("InvalidParameterValue", f"Value ({name or zone_id}) for parameter "
                        "availabilityZone is invalid. Subnets can currently only be created "
                        "in the following availability zones: "
                        + ", ".join(sorted(z.name for z in zones if z.opt_in_status != \
                                           "not-opted-in")) + ".")
        if match.opt_in_status == "not-opted-in":
            raise error("OptInRequired", f"You must opt in to the zone group "
                        f"{match.group_name} before creating resources in {match.name}.")
        return match.name, match.zone_id

    def DescribeSubnets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        subnets = visible(ctx, "subnets", subnet_candidates(ctx, params))
        found = select_ids(subnets, params.get("SubnetIds"), "subnet",
                           "InvalidSubnetID.NotFound")
        found = apply_filters(found, params.get("Filters"), SUBNET_FILTERS)
        page, token = paginate(found, params, lambda s: s.id)
        used = ctx.state.derived("addresses-by-subnet", addresses_by_subnet)
        return {"Subnets": [subnet_view(s, net, used) for s in page], "NextToken": token}

    def DeleteSubnet(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        sid = params["SubnetId"]
        owned(ctx, "subnets", sid, "InvalidSubnetID.NotFound", "subnet")
        if any(e.subnet_id == sid for e in net.network_interfaces.values()):
            raise error("DependencyViolation", f"The subnet '{sid}' has dependencies and "
                        "cannot be deleted.")
        with ctx.state.write() as w:
            del net.subnets[sid]
            w.deleted.append(("subnets", sid))
            retire_exclusions(net, sid, w)
            for scr in [r.id for r in net.subnet_cidr_reservations.values()
                        if r.subnet_id == sid]:  # reservations go with their subnet
                del net.subnet_cidr_reservations[scr]
                w.deleted.append(("subnet_cidr_reservations", scr))
            tables: list[RouteTable | NetworkAcl] = [*net.route_tables.values(),
                                                     *net.network_acls.values()]
            for table in tables:
                if sid in table.subnet_ids:
                    table.subnet_ids.remove(sid)
                    w.save(table)
        return {}

    def ModifySubnetAttribute(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        """One attribute per call, as AWS wants (``CustomerOwnedIpv4Pool`` goes with
        ``MapCustomerOwnedIpOnLaunch``)."""
        sid = params["SubnetId"]
        subnet: Subnet = owned(ctx, "subnets", sid, "InvalidSubnetID.NotFound", "subnet")
        given = [k for k in SUBNET_ATTRIBUTES if params.get(k) is not None]
        if not given:
            raise error("MissingParameter", "The request must contain one subnet attribute "
                        "to modify.")
        if len(given) > 1:
            raise error("InvalidParameterCombination", "Fields for multiple attribute types "
                        f"specified: {', '.join(given)}")
        key = given[0]
        value = params[key]
        flag = bool(value.get("Value")) if isinstance(value, dict) else False
        pool = params.get("CustomerOwnedIpv4Pool")
        if pool is not None and key != "MapCustomerOwnedIpOnLaunch":
            raise error("InvalidParameterCombination", "CustomerOwnedIpv4Pool can only be "
                        "given with MapCustomerOwnedIpOnLaunch.")
        self._check_subnet_attribute(ctx, subnet, key, value, flag, pool)
        with ctx.state.write() as w:
            if key == "MapCustomerOwnedIpOnLaunch":
                subnet.map_customer_owned_ip_on_launch = flag
                subnet.customer_owned_ipv4_pool = pool if flag else None
            elif key == "PrivateDnsHostnameTypeOnLaunch":
                subnet.private_dns_hostname_type_on_launch = value
            elif key == "EnableLniAtDeviceIndex":
                subnet.enable_lni_at_device_index = int(value)
            elif key == "DisableLniAtDeviceIndex":
                if flag:
                    subnet.enable_lni_at_device_index = None
            else:
                setattr(subnet, SUBNET_ATTRIBUTES[key], flag)
            w.save(subnet)
        return {}

    @staticmethod
    def _check_subnet_attribute(ctx: RequestContext, subnet: Subnet, key: str, value: Any,
                                flag: bool, pool: str | None) -> None:
        if key == "MapCustomerOwnedIpOnLaunch" and flag:
            if subnet.outpost_arn is None:
                raise error("InvalidParameterValue", f"The subnet {subnet.id} is not on an "
                            "Outpost, so it has no customer-owned IP addresses.")
            if not pool:
                raise error("MissingParameter", "The request must contain the parameter "
                            "CustomerOwnedIpv4Pool when MapCustomerOwnedIpOnLaunch is true.")
            owned(ctx, "coip_pools", pool, "InvalidCoipPoolId.NotFound",
                  message=f"The pool ID '{pool}' does not exist")
        if key == "PrivateDnsHostnameTypeOnLaunch":
            if value not in ("ip-name", "resource-name"):
                raise error("InvalidParameterValue", f"Value ({value}) for parameter "
                            "privateDnsHostnameTypeOnLaunch is invalid. Valid values: "
                            "ip-name, resource-name.")
            if subnet.ipv6_native and value != "resource-name":
                raise error("InvalidParameterValue", "An IPv6-only subnet must use "
                            "resource-name hostnames.")
        if key in ("AssignIpv6AddressOnCreation", "EnableDns64",
                   "EnableResourceNameDnsAAAARecordOnLaunch") and flag \
                and not subnet.ipv6_cidrs:
            raise error("InvalidParameterValue", f"The subnet {subnet.id} has no IPv6 CIDR "
                        f"block, so {key} cannot be true.")
        if key == "MapPublicIpOnLaunch" and flag and subnet.cidr is None:
            raise error("InvalidParameterValue", f"The subnet {subnet.id} is IPv6-only, so it "
                        "cannot map public IPv4 addresses.")
        if key == "EnableLniAtDeviceIndex" and (not isinstance(value, int) or value < 1):
            raise error("InvalidParameterValue", f"Value ({value}) for parameter "
                        "enableLniAtDeviceIndex is invalid. A local network interface cannot "
                        "be the primary interface (index 0).")
        if key == "EnableLniAtDeviceIndex" and subnet.outpost_arn is None:
            raise error("InvalidParameterValue", f"The subnet {subnet.id} is not on an "
                        "Outpost, so it has no local network interfaces.")

    # ------------------------------------------------------------------ default subnets
    def CreateDefaultSubnet(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        """A /20 of the default VPC in an Availability Zone of the Region (the first free
        one, in address order: AWS does not say which), mapping public IPs; or, with
        ``Ipv6Native``, an IPv6-only /64."""
        from localvpc.model import catalog
        from localvpc.model.zones import ZoneType

        name, zone_id = params.get("AvailabilityZone"), params.get("AvailabilityZoneId")
        if name and zone_id:
            raise error("InvalidParameterCombination", "Specify either availabilityZone or "
                        "availabilityZoneId, not both.")
        if not name and not zone_id:
            raise error("MissingParameter", "The request must contain the parameter "
                        "availabilityZone")
        azs = [z for z in catalog.zones(ctx.region)
               if z.zone_type == ZoneType.AVAILABILITY_ZONE]
        zone = next((z for z in azs if z.name == name or (zone_id and z.zone_id == zone_id)),
                    None)
        if zone is None:
            raise error("InvalidParameterValue", f"Value ({name or zone_id}) for parameter "
                        "availabilityZone is invalid. Default subnets can only be created in "
                        "the following availability zones: "
                        + ", ".join(sorted(z.name for z in azs)) + ".")
        net = ctx.state.network
        vpc = next((v for v in scoped(net.vpcs, ctx.account, ctx.region).values()
                    if v.is_default), None)
        if vpc is None:
            raise error("DefaultVpcDoesNotExist", "No default VPC for this user")
        siblings = net.subnets_of(vpc.id)
        if any(s.default_for_az and s.availability_zone == zone.name for s in siblings):
            raise error("DefaultSubnetAlreadyExistsInAvailabilityZone", "A default subnet "
                        f"already exists for the availability zone {zone.name}. Delete it "
                        "before creating a new one.")
        subnet = Subnet(new_id("subnet"), ctx.account, ctx.region, vpc_id=vpc.id,
                        availability_zone=zone.name, availability_zone_id=zone.zone_id,
                        default_for_az=True)
        if params.get("Ipv6Native"):
            if not vpc.ipv6_cidrs:
                raise error("InvalidParameterValue", f"The default VPC {vpc.id} has no IPv6 "
                            "CIDR block, so it cannot have an IPv6-only subnet.")
            subnet.ipv6_cidrs = [_free_block(vpc.ipv6_cidrs, 64, siblings)]
            subnet.ipv6_native = subnet.assign_ipv6_address_on_creation = True
            subnet.private_dns_hostname_type_on_launch = "resource-name"
        else:
            subnet.cidr = _free_block(vpc.cidrs, 20, siblings)
            subnet.map_public_ip_on_launch = True
        with ctx.state.write() as w:
            net.add(subnet)
            w.save(subnet)
            default_acl = next((a for a in net.network_acls.values()
                                if a.vpc_id == vpc.id and a.is_default), None)
            if default_acl is not None:  # NA-3
                default_acl.subnet_ids.append(subnet.id)
                w.save(default_acl)
        return {"Subnet": subnet_view(subnet, net)}

    # ------------------------------------------------------------------ subnet IPv6 blocks
    def AssociateSubnetCidrBlock(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        """An IPv6 /64 of the VPC's IPv6 block, one per subnet; answered ``associating``,
        described ``associated``."""
        subnet: Subnet = owned(ctx, "subnets", params["SubnetId"], "InvalidSubnetID.NotFound",
                               "subnet")
        if params.get("Ipv6IpamPoolId"):  # subnet blocks from IPAM pools are not modelled
            raise error("InvalidIpamPoolId.NotFound", f"The ipam pool ID "
                        f"'{params['Ipv6IpamPoolId']}' does not exist")
        text = params.get("Ipv6CidrBlock")
        if not text:
            raise error("MissingParameter", "The request must contain the parameter "
                        "ipv6CidrBlock")
        net = ctx.state.network
        vpc = net.vpcs[subnet.vpc_id]
        cidr = cidr_param(text, "IPv6 CIDR block")
        if cidr.version != 6 or cidr.prefixlen != 64 or not any(
                within(cidr, c) for c in vpc.ipv6_cidrs):
            raise error("InvalidSubnet.Range", f"The IPv6 CIDR '{text}' is invalid: it must "
                        f"be a /64 of an IPv6 block of {vpc.id}.")
        if subnet.ipv6_cidrs:
            raise error("CidrLimitExceeded", f"The subnet '{subnet.id}' already has an IPv6 "
                        "CIDR block.")
        if any(c.overlaps(cidr) for other in net.subnets_of(vpc.id) for c in other.ipv6_cidrs):
            raise error("InvalidSubnet.Conflict", f"The CIDR '{cidr}' conflicts with another "
                        "subnet")
        with ctx.state.write() as w:
            subnet.ipv6_cidrs.append(cidr)
            w.save(subnet)
        return {"SubnetId": subnet.id,
                "Ipv6CidrBlockAssociation": subnet_v6_association(subnet, cidr, "associating")}

    def DisassociateSubnetCidrBlock(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        """Answered ``disassociating``; the block is gone from DescribeSubnets at once. Not
        while an interface of the subnet holds an address of it, nor the only block of an
        IPv6-only subnet."""
        net = ctx.state.network
        assoc = params["AssociationId"]
        for subnet in scoped(net.subnets, ctx.account, ctx.region).values():
            cidr = next((c for c in subnet.ipv6_cidrs
                         if subnet_cidr_association_id(subnet.id, c) == assoc), None)
            if cidr is None:
                continue
            if subnet.ipv6_native and len(subnet.ipv6_cidrs) == 1:
                raise error("OperationNotPermitted", f"The subnet {subnet.id} is IPv6-only: "
                            "its only IPv6 CIDR block cannot be disassociated.")
            users = [e.id for e in net.network_interfaces.values() if e.subnet_id == subnet.id
                     and any(a in cidr for a in e.ipv6_addresses)]
            if users:
                raise error("DependencyViolation", f"The IPv6 CIDR block {cidr} of subnet "
                            f"{subnet.id} is in use by {users[0]}: unassign its IPv6 "
                            "addresses first.")
            with ctx.state.write() as w:
                subnet.ipv6_cidrs.remove(cidr)
                if not subnet.ipv6_cidrs:
                    subnet.assign_ipv6_address_on_creation = False
                w.save(subnet)
            return {"SubnetId": subnet.id, "Ipv6CidrBlockAssociation":
                    subnet_v6_association(subnet, cidr, "disassociating")}
        raise error("InvalidSubnetCidrBlockAssociationID.NotFound", f"The subnet CIDR block "
                    f"association ID '{assoc}' does not exist")


# ModifySubnetAttribute members -> the Subnet field a boolean one sets.
SUBNET_ATTRIBUTES: dict[str, str] = {
    "MapPublicIpOnLaunch": "map_public_ip_on_launch",
    "AssignIpv6AddressOnCreation": "assign_ipv6_address_on_creation",
    "EnableDns64": "enable_dns64",
    "MapCustomerOwnedIpOnLaunch": "map_customer_owned_ip_on_launch",
    "PrivateDnsHostnameTypeOnLaunch": "private_dns_hostname_type_on_launch",
    "EnableResourceNameDnsARecordOnLaunch": "enable_resource_name_dns_a_record_on_launch",
    "EnableResourceNameDnsAAAARecordOnLaunch": "enable_resource_name_dns_aaaa_record_on_launch",
    "EnableLniAtDeviceIndex": "enable_lni_at_device_index",
    "DisableLniAtDeviceIndex": "enable_lni_at_device_index",
}


def _free_block(parents: list[IPNetwork], prefix: int, siblings: list[Subnet]) -> IPNetwork:
    """The first block of length ``prefix`` in ``parents`` that no sibling subnet overlaps."""
    found = first_free_block(parents, prefix, (c for s in siblings for c in s.all_cidrs))
    if found is not None:
        return found
    raise error("InsufficientFreeAddressesInSubnet", "The default VPC has no free "
                f"/{prefix} block left for a default subnet.")
