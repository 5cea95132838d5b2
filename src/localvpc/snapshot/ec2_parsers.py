"""Parsers of EC2 ``describe-*`` records: VPCs, subnets, route tables, ENIs, instances,
Elastic IPs, security groups, network ACLs, prefix lists, zones, endpoints and peerings.

Each ``parse_*`` takes one record, its file's context and the load state; it adds the resources
it describes or raises ``RecordError`` before changing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.endpoints import VpcEndpoint
from localvpc.model.filters import NaclEntry, NetworkAcl, PrefixList, SecurityGroup, SgRule
from localvpc.model.interfaces import Instance, NetworkInterface, PrivateIp
from localvpc.model.peering import VpcPeeringConnection
from localvpc.model.vpc import (
    DhcpOptions,
    Route,
    RouteOrigin,
    RouteTable,
    Subnet,
    TargetType,
    Vpc,
)
from localvpc.model.zones import Outpost, Zone, ZoneType
from localvpc.snapshot.awsjson import (
    JsonDict,
    RecordError,
    cidr_of,
    dicts,
    ids_of,
    ip_of,
    opt_bool,
    opt_cidr,
    opt_dict,
    opt_int,
    opt_ip,
    opt_str,
    protocol_of,
    req_str,
    state_of,
    str_or,
    strs,
    tags_of,
    to_int,
)
from localvpc.snapshot.loadstate import LoadState, SourceContext

# --------------------------------------------------------------------------- VPCs and subnets


def _association_state(assoc: JsonDict, key: str) -> str:
    """``CidrBlockState.State`` and friends; hand-written data often omits them."""
    return state_of(assoc, key, "associated")


def _associated_cidrs(
    rec: JsonDict, set_key: str, cidr_key: str, state_key: str
) -> list[IPNetwork]:
    out: list[IPNetwork] = []
    for assoc in dicts(rec, set_key):
        if _association_state(assoc, state_key) != "associated":
            continue
        cidr = opt_cidr(assoc, cidr_key)
        if cidr is not None and cidr not in out:
            out.append(cidr)
    return out


def parse_vpc(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    cidrs: list[IPNetwork] = []
    primary = opt_cidr(rec, "CidrBlock")
    if primary is not None:
        cidrs.append(primary)
    for cidr in _associated_cidrs(rec, "CidrBlockAssociationSet", "CidrBlock", "CidrBlockState"):
        if cidr not in cidrs:
            cidrs.append(cidr)
    vpc = Vpc(
        **ctx.identity(rec, "VpcId"),
        cidrs=cidrs,
        ipv6_cidrs=_associated_cidrs(
            rec, "Ipv6CidrBlockAssociationSet", "Ipv6CidrBlock", "Ipv6CidrBlockState"
        ),
        is_default=opt_bool(rec, "IsDefault", False),
        state=state_of(rec, "State", "available"),
        dhcp_options_id=_dhcp_id(opt_str(rec, "DhcpOptionsId")),
        instance_tenancy=str_or(rec, "InstanceTenancy", "default"),
    )
    st.put(vpc)


def _dhcp_id(text: str | None) -> str | None:
    # ``default`` is how AWS shows a VPC with no options set.
    return None if text in (None, "", "default") else text


def parse_dhcp_options(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """``describe-dhcp-options``: ``DhcpConfigurations`` is a list of
    ``{Key, Values: [{Value}]}``; keys are AWS's option names."""
    options: dict[str, list[str]] = {}
    for conf in dicts(rec, "DhcpConfigurations"):
        key = req_str(conf, "Key")
        options[key] = [req_str(v, "Value") for v in dicts(conf, "Values")]

    def one(key: str) -> str | None:
        values = options.get(key) or []
        return values[0] if values else None

    node_type, lease = one("netbios-node-type"), one("ipv6-address-preferred-lease-time")
    st.put(DhcpOptions(
        **ctx.identity(rec, "DhcpOptionsId"),
        domain_name=one("domain-name"),
        domain_name_servers=list(options.get("domain-name-servers") or []),
        ntp_servers=[ip_of(v, "ntp-servers") for v in options.get("ntp-servers") or []],
        netbios_name_servers=[ip_of(v, "netbios-name-servers")
                              for v in options.get("netbios-name-servers") or []],
        netbios_node_type=to_int(node_type, "netbios-node-type") if node_type else None,
        ipv6_address_preferred_lease_time=(
            to_int(lease, "ipv6-address-preferred-lease-time") if lease else None),
    ))


def parse_subnet(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    subnet = Subnet(
        **ctx.identity(rec, "SubnetId"),
        vpc_id=str_or(rec, "VpcId", ""),
        cidr=opt_cidr(rec, "CidrBlock"),
        ipv6_cidrs=_associated_cidrs(
            rec, "Ipv6CidrBlockAssociationSet", "Ipv6CidrBlock", "Ipv6CidrBlockState"
        ),
        availability_zone=str_or(rec, "AvailabilityZone", ""),
        availability_zone_id=opt_str(rec, "AvailabilityZoneId"),
        map_public_ip_on_launch=opt_bool(rec, "MapPublicIpOnLaunch", False),
        assign_ipv6_address_on_creation=opt_bool(rec, "AssignIpv6AddressOnCreation", False),
        enable_dns64=opt_bool(rec, "EnableDns64", False),
        ipv6_native=opt_bool(rec, "Ipv6Native", False),
        outpost_arn=opt_str(rec, "OutpostArn") or None,
        state=state_of(rec, "State", "available"),
    )
    st.put(subnet)


# --------------------------------------------------------------------------- route tables

# Target fields other than GatewayId, in the order they are tried. InstanceId comes before
# NetworkInterfaceId because AWS reports both for a route to an instance.
_TARGET_FIELDS: tuple[tuple[str, TargetType], ...] = (
    ("NatGatewayId", TargetType.NAT_GATEWAY),
    ("InstanceId", TargetType.INSTANCE),
    ("EgressOnlyInternetGatewayId", TargetType.EGRESS_ONLY_INTERNET_GATEWAY),
    ("TransitGatewayId", TargetType.TRANSIT_GATEWAY),
    ("VpcPeeringConnectionId", TargetType.VPC_PEERING),
    ("LocalGatewayId", TargetType.LOCAL_GATEWAY),
    ("CarrierGatewayId", TargetType.CARRIER_GATEWAY),
    ("CoreNetworkArn", TargetType.CORE_NETWORK),
    ("VpcEndpointId", TargetType.GWLB_ENDPOINT),
    ("NetworkInterfaceId", TargetType.NETWORK_INTERFACE),
)


def _gateway_target(gateway_id: str, to_prefix_list: bool) -> TargetType:
    if gateway_id == "local":
        return TargetType.LOCAL
    prefix = gateway_id.split("-", 1)[0]
    if prefix == "igw":
        return TargetType.INTERNET_GATEWAY
    if prefix == "vgw":
        return TargetType.VPN_GATEWAY
    if prefix == "eigw":
        return TargetType.EGRESS_ONLY_INTERNET_GATEWAY
    if prefix == "vpce":
        return TargetType.GATEWAY_ENDPOINT if to_prefix_list else TargetType.GWLB_ENDPOINT
    return TargetType.UNKNOWN


def route_target(rec: JsonDict, to_prefix_list: bool) -> tuple[TargetType, str, str | None]:
    """(target type, target id, ENI id for instance targets) of a DescribeRouteTables route."""
    gateway_id = opt_str(rec, "GatewayId")
    if gateway_id:
        return _gateway_target(gateway_id, to_prefix_list), gateway_id, None
    for key, kind in _TARGET_FIELDS:
        value = opt_str(rec, key)
        if value:
            eni = opt_str(rec, "NetworkInterfaceId") if kind is TargetType.INSTANCE else None
            return kind, value, eni or None
    return TargetType.UNKNOWN, "", None


def _origin(rec: JsonDict) -> RouteOrigin:
    text = opt_str(rec, "Origin")
    try:
        return RouteOrigin(text) if text else RouteOrigin.CREATE_ROUTE
    except ValueError:
        return RouteOrigin.CREATE_ROUTE


def parse_route(rec: JsonDict) -> Route:
    destination = opt_cidr(rec, "DestinationCidrBlock") or opt_cidr(rec, "DestinationIpv6CidrBlock")
    prefix_list_id = opt_str(rec, "DestinationPrefixListId") or None
    if destination is None and prefix_list_id is None:
        raise RecordError("route has no destination")
    if destination is not None:
        prefix_list_id = None
    target_type, target_id, eni = route_target(rec, prefix_list_id is not None)
    return Route(
        destination=destination,
        target_type=target_type,
        target_id=target_id,
        prefix_list_id=prefix_list_id,
        state=str_or(rec, "State", "active"),
        origin=_origin(rec),
        network_interface_id=eni,
    )


_GONE_ASSOCIATION = frozenset({"disassociated", "disassociating", "failed"})


def parse_route_table(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    rtb_id = req_str(rec, "RouteTableId")
    main = False
    subnet_ids: list[str] = []
    gateway_ids: list[str] = []
    for assoc in dicts(rec, "Associations"):
        if _association_state(assoc, "AssociationState") in _GONE_ASSOCIATION:
            continue
        main = main or opt_bool(assoc, "Main", False)
        subnet_id = opt_str(assoc, "SubnetId")
        if subnet_id:
            subnet_ids.append(subnet_id)
        gateway_id = opt_str(assoc, "GatewayId")
        if gateway_id:
            gateway_ids.append(gateway_id)
    routes = st.parse_each([*dicts(rec, "Routes")], f"route of {rtb_id}", ctx, parse_route)
    table = RouteTable(
        **ctx.identity(rec, "RouteTableId"),
        vpc_id=str_or(rec, "VpcId", ""),
        routes=routes,
        main=main,
        subnet_ids=subnet_ids,
        gateway_ids=gateway_ids,
        propagating_vgws=ids_of(rec, "PropagatingVgws", "GatewayId"),
    )
    st.put(table)


# --------------------------------------------------------------------------- ENIs and instances


def _private_ips(rec: JsonDict) -> list[PrivateIp]:
    out: list[PrivateIp] = []
    for entry in dicts(rec, "PrivateIpAddresses"):
        address = opt_ip(entry, "PrivateIpAddress")
        if address is None:
            continue
        assoc = opt_dict(entry, "Association")
        out.append(
            PrivateIp(
                address=address,
                primary=opt_bool(entry, "Primary", False),
                public_ip=opt_ip(assoc, "PublicIp"),
                allocation_id=opt_str(assoc, "AllocationId"),
                customer_owned_ip=opt_ip(assoc, "CustomerOwnedIp"),
            )
        )
    top = opt_ip(rec, "PrivateIpAddress")
    if not out and top is not None:
        assoc = opt_dict(rec, "Association")
        out.append(
            PrivateIp(
                address=top,
                primary=True,
                public_ip=opt_ip(assoc, "PublicIp"),
                allocation_id=opt_str(assoc, "AllocationId"),
                customer_owned_ip=opt_ip(assoc, "CustomerOwnedIp"),
            )
        )
    if out and not any(ip.primary for ip in out):
        match = next((ip for ip in out if ip.address == top), out[0])
        match.primary = True
    return out


def build_eni(
    rec: JsonDict,
    ctx: SourceContext,
    *,
    instance_id: str | None = None,
    default_zone: str = "",
) -> NetworkInterface:
    """A NetworkInterface from a DescribeNetworkInterfaces record or an instance's ENI entry."""
    attachment = opt_dict(rec, "Attachment")
    status = str_or(rec, "Status", "in-use")
    if attachment:
        attached = state_of(attachment, "Status", "attached") in ("attached", "attaching")
    else:
        attached = status == "in-use"
    ipv6: list[IPAddress] = []
    for entry in dicts(rec, "Ipv6Addresses"):
        text = opt_str(entry, "Ipv6Address")
        if text:
            ipv6.append(ip_of(text, "Ipv6Address"))
    return NetworkInterface(
        **ctx.identity(rec, "NetworkInterfaceId"),
        subnet_id=str_or(rec, "SubnetId", ""),
        vpc_id=str_or(rec, "VpcId", ""),
        availability_zone=str_or(rec, "AvailabilityZone", default_zone),
        private_ips=_private_ips(rec),
        ipv6_addresses=ipv6,
        security_group_ids=ids_of(rec, "Groups", "GroupId"),
        source_dest_check=opt_bool(rec, "SourceDestCheck", True),
        interface_type=str_or(rec, "InterfaceType", "interface"),
        instance_id=opt_str(attachment, "InstanceId") or instance_id,
        device_index=opt_int(attachment, "DeviceIndex"),
        attached=attached,
        status=status,
        requester_id=opt_str(rec, "RequesterId"),
        description=str_or(rec, "Description", ""),
    )


def parse_network_interface(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    st.put(build_eni(rec, ctx))


@dataclass(slots=True)
class _ParsedInstance:
    instance: Instance
    enis: list[NetworkInterface]
    private_ip: IPAddress | None
    public_ip: IPAddress | None


def _instance(rec: JsonDict, ctx: SourceContext, st: LoadState, account: str) -> _ParsedInstance:
    instance_id = req_str(rec, "InstanceId")
    zone = str_or(opt_dict(rec, "Placement"), "AvailabilityZone", "")
    group_ids = ids_of(rec, "SecurityGroups", "GroupId")
    subnet_id = str_or(rec, "SubnetId", "")
    vpc_id = str_or(rec, "VpcId", "")
    source_dest_check = opt_bool(rec, "SourceDestCheck", True)
    enis = [
        build_eni(entry, ctx, instance_id=instance_id, default_zone=zone)
        for entry in dicts(rec, "NetworkInterfaces")
    ]
    enis.sort(key=lambda e: (e.device_index is None, e.device_index or 0))
    private_ip = opt_ip(rec, "PrivateIpAddress")
    public_ip = opt_ip(rec, "PublicIpAddress")
    if not enis and private_ip is not None:
        enis.append(
            NetworkInterface(
                id=f"{instance_id}-eni0",
                account=account,
                region=ctx.region,
                subnet_id=subnet_id,
                vpc_id=vpc_id,
                availability_zone=zone,
                private_ips=[PrivateIp(address=private_ip, primary=True, public_ip=public_ip)],
                security_group_ids=list(group_ids),
                source_dest_check=source_dest_check,
                instance_id=instance_id,
                device_index=0,
            )
        )
        st.warn(
            f"instance {instance_id} in {ctx.file} lists no NetworkInterfaces; "
            f"synthesised ENI {instance_id}-eni0 for {private_ip}"
        )
    instance = Instance(
        id=instance_id,
        account=account,
        region=ctx.region,
        tags=tags_of(rec),
        subnet_id=subnet_id,
        vpc_id=vpc_id,
        availability_zone=zone,
        instance_type=str_or(rec, "InstanceType", ""),
        state=state_of(rec, "State", "running"),
        network_interface_ids=[e.id for e in enis],
        security_group_ids=group_ids,
        source_dest_check=source_dest_check,
        image_id=opt_str(rec, "ImageId"),
    )
    return _ParsedInstance(instance, enis, private_ip, public_ip)


def parse_reservation(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    account = ctx.account_for(rec)
    parsed = st.parse_each(
        [*dicts(rec, "Instances")],
        f"instance of reservation {opt_str(rec, 'ReservationId') or '?'}",
        ctx,
        lambda inst: _instance(inst, ctx, st, account),
    )
    for item in parsed:
        # The NetworkInterfaces file (loaded first) wins; the instance entry fills its gaps.
        kept = [st.put(eni) for eni in item.enis]
        st.put(item.instance)
        if kept and item.private_ip is not None and item.public_ip is not None:
            _set_public_ip(kept[0], item.private_ip, item.public_ip, None)


def _set_public_ip(
    eni: NetworkInterface, private: IPAddress | None, public: IPAddress, allocation: str | None
) -> bool:
    """Record ``public`` for the ENI's ``private`` address (its primary one when None) unless
    that address already has one. Returns whether the private address exists on the ENI."""
    target = private if private is not None else eni.primary_ip
    for ip in eni.private_ips:
        if ip.address == target:
            if ip.public_ip is None:
                ip.public_ip = public
                ip.allocation_id = ip.allocation_id or allocation
            return True
    return False


def parse_address(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """An Elastic IP: gives its public IP to the ENI private address it is associated with."""
    public = opt_ip(rec, "PublicIp")
    customer_owned = opt_ip(rec, "CustomerOwnedIp")
    eni_id = opt_str(rec, "NetworkInterfaceId")
    private = opt_ip(rec, "PrivateIpAddress")
    net = st.network
    if not eni_id:
        instance = net.instances.get(opt_str(rec, "InstanceId") or "")
        eni_id = instance.primary_eni_id if instance is not None else None
    if not eni_id or (public is None and customer_owned is None):
        return  # not associated
    label = public or customer_owned
    eni = net.network_interfaces.get(eni_id)
    if eni is None:
        st.warn(
            f"Elastic IP {label} in {ctx.file} is associated with {eni_id}, "
            "which is not in the snapshot"
        )
        return
    found = True
    if public is not None:
        found = _set_public_ip(eni, private, public, opt_str(rec, "AllocationId"))
    if customer_owned is not None:
        target = private if private is not None else eni.primary_ip
        for ip in eni.private_ips:
            if ip.address == target and ip.customer_owned_ip is None:
                ip.customer_owned_ip = customer_owned
    if not found:
        st.warn(
            f"Elastic IP {label} in {ctx.file} is associated with {private} on {eni_id}, "
            "which has no such private address"
        )


# --------------------------------------------------------------------------- filters


def _port(rec: JsonDict, key: str) -> int | None:
    value = opt_int(rec, key)
    return None if value is None or value == -1 else value


def _sg_rules(perm: JsonDict) -> list[SgRule]:
    protocol = protocol_of(perm.get("IpProtocol"))
    if protocol == "-1":
        from_port: int | None = None
        to_port: int | None = None
    else:
        from_port, to_port = _port(perm, "FromPort"), _port(perm, "ToPort")

    def rule(
        description: str,
        cidr: IPNetwork | None = None,
        prefix_list_id: str | None = None,
        group_id: str | None = None,
        peering_connection_id: str | None = None,
    ) -> SgRule:
        return SgRule(
            protocol=protocol,
            from_port=from_port,
            to_port=to_port,
            cidr=cidr,
            prefix_list_id=prefix_list_id,
            group_id=group_id,
            peering_connection_id=peering_connection_id,
            description=description,
        )

    out: list[SgRule] = []
    for r in dicts(perm, "IpRanges"):
        cidr = cidr_of(req_str(r, "CidrIp"), "CidrIp")
        out.append(rule(str_or(r, "Description", ""), cidr=cidr))
    for r in dicts(perm, "Ipv6Ranges"):
        cidr = cidr_of(req_str(r, "CidrIpv6"), "CidrIpv6")
        out.append(rule(str_or(r, "Description", ""), cidr=cidr))
    for r in dicts(perm, "PrefixListIds"):
        out.append(rule(str_or(r, "Description", ""), prefix_list_id=req_str(r, "PrefixListId")))
    for r in dicts(perm, "UserIdGroupPairs"):
        out.append(
            rule(
                str_or(r, "Description", ""),
                group_id=req_str(r, "GroupId"),
                peering_connection_id=opt_str(r, "VpcPeeringConnectionId") or None,
            )
        )
    return out


def parse_security_group(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    group_id = req_str(rec, "GroupId")
    directions: list[list[SgRule]] = []
    for key in ("IpPermissions", "IpPermissionsEgress"):
        per_permission = st.parse_each(
            [*dicts(rec, key)], f"{key} entry of {group_id}", ctx, _sg_rules
        )
        directions.append([r for rules in per_permission for r in rules])
    st.put(
        SecurityGroup(
            **ctx.identity(rec, "GroupId"),
            vpc_id=str_or(rec, "VpcId", ""),
            group_name=str_or(rec, "GroupName", ""),
            description=str_or(rec, "Description", ""),
            ingress=directions[0],
            egress=directions[1],
        )
    )


def _icmp_value(rec: JsonDict, key: str) -> int | None:
    return _port(rec, key)


def _nacl_entry(rec: JsonDict) -> NaclEntry:
    if "RuleNumber" not in rec:
        raise RecordError("missing RuleNumber")
    action = str_or(rec, "RuleAction", "").lower()
    if action not in ("allow", "deny"):
        raise RecordError(f"RuleAction {action!r} is neither allow nor deny")
    cidr = opt_cidr(rec, "CidrBlock") or opt_cidr(rec, "Ipv6CidrBlock")
    if cidr is None:
        raise RecordError("entry has no CidrBlock or Ipv6CidrBlock")
    ports = opt_dict(rec, "PortRange")
    icmp = opt_dict(rec, "IcmpTypeCode")
    return NaclEntry(
        rule_number=to_int(rec["RuleNumber"], "RuleNumber"),
        protocol=protocol_of(rec.get("Protocol")),
        action=action,
        egress=opt_bool(rec, "Egress", False),
        cidr=cidr,
        from_port=opt_int(ports, "From"),
        to_port=opt_int(ports, "To"),
        icmp_type=_icmp_value(icmp, "Type"),
        icmp_code=_icmp_value(icmp, "Code"),
    )


def parse_network_acl(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    acl_id = req_str(rec, "NetworkAclId")
    entries = st.parse_each([*dicts(rec, "Entries")], f"entry of {acl_id}", ctx, _nacl_entry)
    st.put(
        NetworkAcl(
            **ctx.identity(rec, "NetworkAclId"),
            vpc_id=str_or(rec, "VpcId", ""),
            is_default=opt_bool(rec, "IsDefault", False),
            entries=entries,
            subnet_ids=ids_of(rec, "Associations", "SubnetId"),
        )
    )


def _prefix_list_cidrs(rec: JsonDict) -> list[IPNetwork]:
    texts = strs(rec, "Cidrs") + [req_str(e, "Cidr") for e in dicts(rec, "Entries")]
    out: list[IPNetwork] = []
    for text in texts:
        cidr = cidr_of(text, "prefix list CIDR")
        if cidr not in out:
            out.append(cidr)
    return out


def parse_prefix_list(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """A DescribePrefixLists record (AWS-managed service prefix lists)."""
    st.put(
        PrefixList(
            **ctx.identity(rec, "PrefixListId"),
            prefix_list_name=str_or(rec, "PrefixListName", ""),
            cidrs=_prefix_list_cidrs(rec),
        )
    )


def parse_managed_prefix_list(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """A DescribeManagedPrefixLists record, with ``Entries`` or ``Cidrs`` when present."""
    st.put(
        PrefixList(
            **ctx.identity(rec, "PrefixListId"),
            prefix_list_name=str_or(rec, "PrefixListName", ""),
            cidrs=_prefix_list_cidrs(rec),
            max_entries=opt_int(rec, "MaxEntries"),
            owner_id=str_or(rec, "OwnerId", "AWS"),
            address_family=str_or(rec, "AddressFamily", "IPv4"),
        )
    )


# --------------------------------------------------------------------------- zones


def parse_availability_zone(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    name = req_str(rec, "ZoneName")
    zone_type_text = str_or(rec, "ZoneType", ZoneType.AVAILABILITY_ZONE.value)
    try:
        zone_type = ZoneType(zone_type_text)
    except ValueError:
        st.warn(f"zone {name} in {ctx.file} has unknown ZoneType {zone_type_text!r}")
        zone_type = ZoneType.AVAILABILITY_ZONE
    st.put(
        Zone(
            name=name,
            zone_id=str_or(rec, "ZoneId", ""),
            region=str_or(rec, "RegionName", ctx.region),
            zone_type=zone_type,
            group_name=opt_str(rec, "GroupName"),
            network_border_group=opt_str(rec, "NetworkBorderGroup"),
            parent_zone_name=opt_str(rec, "ParentZoneName"),
            parent_zone_id=opt_str(rec, "ParentZoneId"),
            opt_in_status=str_or(rec, "OptInStatus", "opt-in-not-required"),
            state=state_of(rec, "State", "available"),
        )
    )


def parse_outpost(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """A ListOutposts record."""
    st.put(
        Outpost(
            id=req_str(rec, "OutpostId"),
            arn=str_or(rec, "OutpostArn", ""),
            availability_zone=str_or(rec, "AvailabilityZone", ""),
            availability_zone_id=opt_str(rec, "AvailabilityZoneId"),
            account=ctx.account_for(rec),
            region=ctx.region,
        )
    )


# --------------------------------------------------------------------------- endpoints, peering


def parse_vpc_endpoint(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    st.put(
        VpcEndpoint(
            **ctx.identity(rec, "VpcEndpointId"),
            vpc_id=str_or(rec, "VpcId", ""),
            service_name=str_or(rec, "ServiceName", ""),
            endpoint_type=str_or(rec, "VpcEndpointType", "Gateway"),
            state=state_of(rec, "State", "available"),
            route_table_ids=strs(rec, "RouteTableIds"),
            subnet_ids=strs(rec, "SubnetIds"),
            network_interface_ids=strs(rec, "NetworkInterfaceIds"),
            security_group_ids=ids_of(rec, "Groups", "GroupId"),
            private_dns_enabled=opt_bool(rec, "PrivateDnsEnabled", False),
        )
    )


def parse_peering_connection(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    requester = opt_dict(rec, "RequesterVpcInfo")
    accepter = opt_dict(rec, "AccepterVpcInfo")
    st.put(
        VpcPeeringConnection(
            **ctx.identity(rec, "VpcPeeringConnectionId"),
            requester_vpc_id=str_or(requester, "VpcId", ""),
            accepter_vpc_id=str_or(accepter, "VpcId", ""),
            requester_account=opt_str(requester, "OwnerId"),
            accepter_account=opt_str(accepter, "OwnerId"),
            requester_region=opt_str(requester, "Region"),
            accepter_region=opt_str(accepter, "Region"),
            status=state_of(rec, "Status", "active"),
        )
    )
