"""EC2 VPCs and subnets: create, describe (filters, pagination), modify, delete."""

from __future__ import annotations

import ipaddress
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    cidr_param,
    error,
    new_id,
    paginate,
    scoped,
    select_ids,
    tags_list,
)
from localvpc.model.filters import NaclEntry, NetworkAcl, SecurityGroup, SgRule
from localvpc.model.network import Network
from localvpc.model.vpc import Route, RouteOrigin, RouteTable, Subnet, TargetType, Vpc

ALL_V4 = ipaddress.ip_network("0.0.0.0/0")
ALL_V6 = ipaddress.ip_network("::/0")


def vpc_view(vpc: Vpc) -> dict[str, Any]:
    return {
        "VpcId": vpc.id,
        "OwnerId": vpc.account,
        "State": vpc.state,
        "CidrBlock": str(vpc.cidrs[0]) if vpc.cidrs else None,
        "CidrBlockAssociationSet": [
            {"AssociationId": f"vpc-cidr-assoc-{vpc.id[4:]}{i}", "CidrBlock": str(c),
             "CidrBlockState": {"State": "associated"}} for i, c in enumerate(vpc.cidrs)],
        "Ipv6CidrBlockAssociationSet": [
            {"AssociationId": f"vpc-cidr-assoc-{vpc.id[4:]}6{i}", "Ipv6CidrBlock": str(c),
             "Ipv6CidrBlockState": {"State": "associated"}, "NetworkBorderGroup": vpc.region}
            for i, c in enumerate(vpc.ipv6_cidrs)],
        "DhcpOptionsId": "default",
        "InstanceTenancy": "default",
        "IsDefault": vpc.is_default,
        "Tags": tags_list(vpc.tags),
    }


def subnet_view(s: Subnet, network: Network) -> dict[str, Any]:
    used = sum(1 for e in network.network_interfaces.values() if e.subnet_id == s.id
               for _ in e.private_ips)
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
        "Ipv6CidrBlockAssociationSet": [
            {"AssociationId": f"subnet-cidr-assoc-{s.id[7:]}{i}", "Ipv6CidrBlock": str(c),
             "Ipv6CidrBlockState": {"State": "associated"}}
            for i, c in enumerate(s.ipv6_cidrs)],
        "OutpostArn": s.outpost_arn,
        "Tags": tags_list(s.tags),
    }


VPC_FILTERS = {
    "vpc-id": lambda v: [v.id],
    "cidr": lambda v: [str(c) for c in v.cidrs],
    "cidr-block-association.cidr-block": lambda v: [str(c) for c in v.cidrs],
    "ipv6-cidr-block-association.ipv6-cidr-block": lambda v: [str(c) for c in v.ipv6_cidrs],
    "is-default": lambda v: [v.is_default],
    "owner-id": lambda v: [v.account],
    "state": lambda v: [v.state],
    "dhcp-options-id": lambda v: ["default"],
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
    acl = NetworkAcl(new_id("acl"), vpc.account, vpc.region, vpc_id=vpc.id, is_default=True,
                     entries=entries)
    sg = SecurityGroup(new_id("sg"), vpc.account, vpc.region, vpc_id=vpc.id,
                       group_name="default", description="default VPC security group")
    sg.ingress = [SgRule("-1", group_id=sg.id)]
    sg.egress = [SgRule("-1", cidr=ALL_V4)]
    return [rt, acl, sg]


def default_vpc_key(account: str, region: str) -> str:
    return f"default-vpc/{account}/{region}"


def create_default_vpc(ctx: RequestContext) -> None:
    """IG-6: the default VPC AWS gives every account in every Region: 172.31.0.0/16, a /20
    default subnet per AZ that maps public IPs, an attached internet gateway and a default
    route to it. Made once; deleting it does not bring it back."""
    from localvpc.model import catalog
    from localvpc.model.gateways import InternetGateway
    from localvpc.model.zones import ZoneType

    state = ctx.state
    key = default_vpc_key(ctx.account, ctx.region)
    if state.meta(key) is not None:
        return
    azs = sorted((z for z in catalog.zones(ctx.region)
                  if z.zone_type == ZoneType.AVAILABILITY_ZONE), key=lambda z: z.name)
    with state.write() as w:
        w.meta[key] = "none"
        if not azs:
            return
        vpc = Vpc(new_id("vpc"), ctx.account, ctx.region,
                  cidrs=[ipaddress.ip_network("172.31.0.0/16")], is_default=True,
                  enable_dns_hostnames=True)
        igw = InternetGateway(new_id("igw"), ctx.account, ctx.region, vpc_id=vpc.id)
        extra = default_resources(vpc)
        main = extra[0]
        assert isinstance(main, RouteTable)
        main.routes.append(Route(ALL_V4, TargetType.INTERNET_GATEWAY, igw.id))
        acl = extra[1]
        assert isinstance(acl, NetworkAcl)
        subnets = []
        for i, zone in enumerate(azs[:16]):
            subnets.append(Subnet(new_id("subnet"), ctx.account, ctx.region, vpc_id=vpc.id,
                                  cidr=ipaddress.ip_network(f"172.31.{16 * i}.0/20"),
                                  availability_zone=zone.name, availability_zone_id=zone.zone_id,
                                  map_public_ip_on_launch=True, default_for_az=True))
            acl.subnet_ids.append(subnets[-1].id)
        for r in (vpc, igw, *extra, *subnets):
            state.network.add(r)
            w.save(r)
        w.meta[key] = vpc.id


class VpcOperations:
    """CreateVpc, DescribeVpcs, DeleteVpc, CreateSubnet, DescribeSubnets, DeleteSubnet, ..."""

    # ------------------------------------------------------------------ VPCs
    def CreateVpc(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("CidrBlock")
        if not text:
            raise error("MissingParameter",
                        "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
        cidr = cidr_param(text)
        if cidr.version != 4 or not 16 <= cidr.prefixlen <= 28:
            raise error("InvalidVpc.Range", f"The CIDR '{text}' is invalid.")
        vpc = Vpc(new_id("vpc"), ctx.account, ctx.region, cidrs=[cidr])
        if params.get("AmazonProvidedIpv6CidrBlock"):
            n = int.from_bytes(bytes.fromhex(vpc.id[4:12]), "big") & 0xFFFF
            vpc.ipv6_cidrs.append(ipaddress.ip_network(f"2600:1f18:{n:x}:{0:x}00::/56"))
        apply_tag_specs(vpc, params, "vpc")
        with ctx.state.write() as w:
            net = ctx.state.network
            for r in (vpc, *default_resources(vpc)):
                net.add(r)
                w.save(r)
        return {"Vpc": vpc_view(vpc)}

    def DescribeVpcs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        vpcs = scoped(ctx.state.network.vpcs, ctx.account, ctx.region)
        found = select_ids(vpcs, params.get("VpcIds"), "vpc", "InvalidVpcID.NotFound")
        found = apply_filters(found, params.get("Filters"), VPC_FILTERS)
        page, token = paginate(found, params, lambda v: v.id)
        return {"Vpcs": [vpc_view(v) for v in page], "NextToken": token}

    def DeleteVpc(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        vpc = self._vpc(ctx, params["VpcId"])
        blockers = [s.id for s in net.subnets.values() if s.vpc_id == vpc.id]
        blockers += [g.id for g in net.internet_gateways.values() if g.vpc_id == vpc.id]
        blockers += [r.id for r in net.route_tables.values() if r.vpc_id == vpc.id and not r.main]
        blockers += [g.id for g in net.security_groups.values()
                     if g.vpc_id == vpc.id and g.group_name != "default"]
        blockers += [a.id for a in net.network_acls.values()
                     if a.vpc_id == vpc.id and not a.is_default]
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
        return {}

    def ModifyVpcAttribute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        vpc = self._vpc(ctx, params["VpcId"])
        with ctx.state.write() as w:
            if params.get("EnableDnsSupport") is not None:
                vpc.enable_dns_support = bool(params["EnableDnsSupport"]["Value"])
            if params.get("EnableDnsHostnames") is not None:
                vpc.enable_dns_hostnames = bool(params["EnableDnsHostnames"]["Value"])
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
        else:
            raise error("InvalidParameterValue", f"Value ({attr}) for parameter attribute is "
                        "invalid.")
        return out

    def AssociateVpcCidrBlock(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        vpc = self._vpc(ctx, params["VpcId"])
        text = params.get("CidrBlock")
        if not text:
            raise error("MissingParameter", "The request must contain the parameter cidrBlock")
        cidr = cidr_param(text)
        if any(cidr.overlaps(c) for c in vpc.cidrs):
            raise error("InvalidVpc.Range", f"The CIDR '{text}' overlaps with an existing CIDR "
                        "block of the VPC.")
        net = ctx.state.network
        with ctx.state.write() as w:
            vpc.cidrs.append(cidr)
            w.save(vpc)
            for rt in net.route_tables.values():  # RT-5: a local route in every table
                if rt.vpc_id == vpc.id:
                    rt.routes.append(Route(cidr, TargetType.LOCAL, "local",
                                           origin=RouteOrigin.CREATE_ROUTE_TABLE))
                    w.save(rt)
        index = len(vpc.cidrs) - 1
        return {"VpcId": vpc.id, "CidrBlockAssociation": {
            "AssociationId": f"vpc-cidr-assoc-{vpc.id[4:]}{index}", "CidrBlock": str(cidr),
            "CidrBlockState": {"State": "associated"}}}

    def _vpc(self, ctx: RequestContext, vpc_id: str) -> Vpc:
        vpc = scoped(ctx.state.network.vpcs, ctx.account, ctx.region).get(vpc_id)
        if vpc is None:
            raise error("InvalidVpcID.NotFound", f"The vpc ID '{vpc_id}' does not exist")
        return vpc

    # ------------------------------------------------------------------ subnets
    def CreateSubnet(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        vpc = self._vpc(ctx, params["VpcId"])
        text = params.get("CidrBlock")
        if not text:
            raise error("MissingParameter", "The request must contain the parameter cidrBlock")
        cidr = cidr_param(text)
        if cidr.version != 4 or not any(cidr.subnet_of(c) for c in vpc.cidrs
                                        if c.version == 4):
            raise error("InvalidSubnet.Range", f"The CIDR '{text}' is invalid.")
        if not 16 <= cidr.prefixlen <= 28:
            raise error("InvalidSubnet.Range", f"The CIDR '{text}' is invalid.")
        net = ctx.state.network
        for other in net.subnets.values():
            if other.vpc_id == vpc.id and other.cidr is not None and other.cidr.overlaps(cidr):
                raise error("InvalidSubnet.Conflict", f"The CIDR '{text}' conflicts with "
                            "another subnet")
        zone, zone_id = self._zone(ctx, params.get("AvailabilityZone"),
                                   params.get("AvailabilityZoneId"))
        subnet = Subnet(new_id("subnet"), ctx.account, ctx.region, vpc_id=vpc.id, cidr=cidr,
                        availability_zone=zone, availability_zone_id=zone_id)
        if params.get("Ipv6CidrBlock"):
            subnet.ipv6_cidrs.append(cidr_param(params["Ipv6CidrBlock"]))
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
        subnets = scoped(net.subnets, ctx.account, ctx.region)
        found = select_ids(subnets, params.get("SubnetIds"), "subnet",
                           "InvalidSubnetID.NotFound")
        found = apply_filters(found, params.get("Filters"), SUBNET_FILTERS)
        page, token = paginate(found, params, lambda s: s.id)
        return {"Subnets": [subnet_view(s, net) for s in page], "NextToken": token}

    def DeleteSubnet(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        sid = params["SubnetId"]
        subnet = scoped(net.subnets, ctx.account, ctx.region).get(sid)
        if subnet is None:
            raise error("InvalidSubnetID.NotFound", f"The subnet ID '{sid}' does not exist")
        if any(e.subnet_id == sid for e in net.network_interfaces.values()):
            raise error("DependencyViolation", f"The subnet '{sid}' has dependencies and "
                        "cannot be deleted.")
        with ctx.state.write() as w:
            del net.subnets[sid]
            w.deleted.append(("subnets", sid))
            tables: list[RouteTable | NetworkAcl] = [*net.route_tables.values(),
                                                     *net.network_acls.values()]
            for table in tables:
                if sid in table.subnet_ids:
                    table.subnet_ids.remove(sid)
                    w.save(table)
        return {}

    def ModifySubnetAttribute(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        sid = params["SubnetId"]
        subnet = scoped(ctx.state.network.subnets, ctx.account, ctx.region).get(sid)
        if subnet is None:
            raise error("InvalidSubnetID.NotFound", f"The subnet ID '{sid}' does not exist")
        with ctx.state.write() as w:
            for key, attr in (("MapPublicIpOnLaunch", "map_public_ip_on_launch"),
                              ("AssignIpv6AddressOnCreation", "assign_ipv6_address_on_creation"),
                              ("EnableDns64", "enable_dns64")):
                if params.get(key) is not None:
                    setattr(subnet, attr, bool(params[key]["Value"]))
            w.save(subnet)
        return {}
