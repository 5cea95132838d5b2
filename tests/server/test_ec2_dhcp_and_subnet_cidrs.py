"""DHCP option sets, default subnets and VPCs, subnet IPv6 blocks, VPC tenancy, subnet
attributes and carrier gateways, through boto3 (and the AWS CLI) against a real server."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server


def fails(expected: str, fn: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert e.value.response["Error"]["Code"] == expected, e.value.response["Error"]
    return str(e.value.response["Error"]["Message"])


def config(d: dict[str, Any]) -> dict[str, list[str]]:
    return {c["Key"]: [v["Value"] for v in c["Values"]] for c in d["DhcpConfigurations"]}


def default_vpc(ec2: Any) -> dict[str, Any]:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    assert len(vpcs) == 1
    return dict(vpcs[0])


# ------------------------------------------------------------------ DHCP option sets
@pytest.mark.parametrize("region,domain", [("us-east-1", "ec2.internal"),
                                           ("us-west-2", "us-west-2.compute.internal")])
def test_default_vpc_and_new_vpcs_get_the_default_option_set(fresh: Server, region: str,
                                                             domain: str) -> None:
    ec2 = fresh.client("ec2", region=region)
    dflt = default_vpc(ec2)
    dopt_id = dflt["DhcpOptionsId"]
    assert dopt_id.startswith("dopt-")
    (dopt,) = ec2.describe_dhcp_options(DhcpOptionsIds=[dopt_id])["DhcpOptions"]
    assert config(dopt) == {"domain-name": [domain],
                            "domain-name-servers": ["AmazonProvidedDNS"]}
    assert dopt["OwnerId"] == "000000000000"
    made = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    assert made["DhcpOptionsId"] == dopt_id
    # one default set per account and Region
    other = fresh.client("ec2", region="us-east-2")
    assert default_vpc(other)["DhcpOptionsId"] != dopt_id
    assert len(ec2.describe_dhcp_options()["DhcpOptions"]) == 1


def test_region_without_default_vpc_still_has_the_default_set(fresh: Server) -> None:
    """localvpc catalogues no AZs for eu-west-1, so it has no default VPC there; AWS's
    default option set exists per Region all the same."""
    ec2 = fresh.client("ec2", region="eu-west-1")
    (dopt,) = ec2.describe_dhcp_options()["DhcpOptions"]
    assert config(dopt)["domain-name"] == ["eu-west-1.compute.internal"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    assert vpc["DhcpOptionsId"] == dopt["DhcpOptionsId"]


def test_create_describe_filter_associate_delete(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    dopt = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["corp.example.com"]},
        {"Key": "domain-name-servers", "Values": ["10.0.0.10", "10.0.0.11"]},
        {"Key": "ntp-servers", "Values": ["169.254.169.123", "fd00:ec2::123"]},
        {"Key": "netbios-name-servers", "Values": ["10.0.0.20"]},
        {"Key": "netbios-node-type", "Values": ["2"]},
        {"Key": "ipv6-address-preferred-lease-time", "Values": ["3600"]},
    ], TagSpecifications=[{"ResourceType": "dhcp-options",
                           "Tags": [{"Key": "Name", "Value": "corp"}]}])["DhcpOptions"]
    did = dopt["DhcpOptionsId"]
    assert config(dopt) == {
        "domain-name": ["corp.example.com"], "domain-name-servers": ["10.0.0.10", "10.0.0.11"],
        "ntp-servers": ["169.254.169.123", "fd00:ec2::123"],
        "netbios-name-servers": ["10.0.0.20"], "netbios-node-type": ["2"],
        "ipv6-address-preferred-lease-time": ["3600"]}
    assert dopt["Tags"] == [{"Key": "Name", "Value": "corp"}]

    def ids(*filters: tuple[str, list[str]]) -> set[str]:
        f = [{"Name": n, "Values": v} for n, v in filters]
        return {d["DhcpOptionsId"] for d in ec2.describe_dhcp_options(Filters=f)["DhcpOptions"]}

    default_id = default_vpc(ec2)["DhcpOptionsId"]
    assert ids() == {did, default_id}
    assert ids(("dhcp-options-id", [did])) == {did}
    assert ids(("key", ["netbios-node-type"])) == {did}
    assert ids(("key", ["domain-name"])) == {did, default_id}
    assert ids(("value", ["10.0.0.1?"])) == {did}
    assert ids(("value", ["AmazonProvidedDNS"])) == {default_id}
    assert ids(("owner-id", ["000000000000"])) == {did, default_id}
    assert ids(("tag:Name", ["corp"])) == {did}
    assert ids(("tag-key", ["Name"]), ("key", ["ntp-servers"])) == {did}
    page = ec2.describe_dhcp_options(MaxResults=5)
    assert len(page["DhcpOptions"]) == 2 and "NextToken" not in page
    fails("InvalidDhcpOptionID.NotFound", ec2.describe_dhcp_options,
          DhcpOptionsIds=["dopt-0000000000000000a"])

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.associate_dhcp_options(DhcpOptionsId=did, VpcId=vpc)
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"] == did
    vpc_ids = {v["VpcId"] for v in ec2.describe_vpcs(
        Filters=[{"Name": "dhcp-options-id", "Values": [did]}])["Vpcs"]}
    assert vpc_ids == {vpc}
    msg = fails("DependencyViolation", ec2.delete_dhcp_options, DhcpOptionsId=did)
    assert did in msg
    # "default" is AWS's word for no option set at all
    ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=vpc)
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"] == "default"
    ec2.delete_dhcp_options(DhcpOptionsId=did)
    assert ids() == {default_id}
    fails("InvalidDhcpOptionID.NotFound", ec2.delete_dhcp_options, DhcpOptionsId=did)
    fails("InvalidDhcpOptionID.NotFound", ec2.associate_dhcp_options, DhcpOptionsId=did,
          VpcId=vpc)
    fails("InvalidVpcID.NotFound", ec2.associate_dhcp_options, DhcpOptionsId=default_id,
          VpcId="vpc-0000000000000000a")


@pytest.mark.parametrize("configs,code", [
    ([], "MissingParameter"),
    ([{"Key": "domain-search", "Values": ["x"]}], "InvalidParameterValue"),
    ([{"Key": "domain-name-servers", "Values": ["not-an-ip"]}], "InvalidParameterValue"),
    ([{"Key": "domain-name-servers", "Values": ["10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,"
                                                 "10.0.0.5"]}], "InvalidParameterValue"),
    ([{"Key": "netbios-node-type", "Values": ["3"]}], "InvalidParameterValue"),
    ([{"Key": "netbios-name-servers", "Values": ["fd00::1"]}], "InvalidParameterValue"),
    ([{"Key": "ipv6-address-preferred-lease-time", "Values": ["139"]}],
     "InvalidParameterValue"),
    ([{"Key": "domain-name", "Values": ["a"]}, {"Key": "domain-name", "Values": ["b"]}],
     "InvalidParameterValue"),
])
def test_create_dhcp_options_validation(fresh: Server, configs: list[dict[str, Any]],
                                        code: str) -> None:
    ec2 = fresh.client("ec2")
    before = len(ec2.describe_dhcp_options()["DhcpOptions"])
    fails(code, ec2.create_dhcp_options, DhcpConfigurations=configs)
    assert len(ec2.describe_dhcp_options()["DhcpOptions"]) == before


def test_comma_separated_servers_and_survive_restart(fresh: Server) -> None:
    """The CLI's ``Values=a,b`` form; state is in the store, not only in memory."""
    out = fresh.aws("ec2", "create-dhcp-options", "--dhcp-configurations",
                    "Key=domain-name-servers,Values=10.2.5.1,10.2.5.2",
                    "Key=domain-name,Values=example.org")
    did = out["DhcpOptions"]["DhcpOptionsId"]
    assert config(out["DhcpOptions"])["domain-name-servers"] == ["10.2.5.1", "10.2.5.2"]
    listed = fresh.aws("ec2", "describe-dhcp-options", "--dhcp-options-ids", did)
    assert config(listed["DhcpOptions"][0]) == {"domain-name": ["example.org"],
                                                "domain-name-servers": ["10.2.5.1",
                                                                        "10.2.5.2"]}


# ------------------------------------------------------------------ default VPC and subnets
def test_create_default_subnet(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = default_vpc(ec2)["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    first = next(s for s in subnets if s["AvailabilityZone"] == "us-east-1a")
    msg = fails("DefaultSubnetAlreadyExistsInAvailabilityZone", ec2.create_default_subnet,
                AvailabilityZone="us-east-1a")
    assert "us-east-1a" in msg
    ec2.delete_subnet(SubnetId=first["SubnetId"])
    made = ec2.create_default_subnet(AvailabilityZone="us-east-1a")["Subnet"]
    assert made["CidrBlock"] == first["CidrBlock"]  # the first free /20 of 172.31.0.0/16
    assert made["DefaultForAz"] and made["MapPublicIpOnLaunch"]
    assert made["VpcId"] == vpc and made["AvailabilityZone"] == "us-east-1a"
    acl = ec2.describe_network_acls(Filters=[
        {"Name": "association.subnet-id", "Values": [made["SubnetId"]]}])["NetworkAcls"]
    assert len(acl) == 1 and acl[0]["IsDefault"]
    # by zone id too
    zone_b = next(s for s in subnets if s["AvailabilityZone"] == "us-east-1b")
    ec2.delete_subnet(SubnetId=zone_b["SubnetId"])
    by_id = ec2.create_default_subnet(AvailabilityZoneId=zone_b["AvailabilityZoneId"])
    assert by_id["Subnet"]["AvailabilityZone"] == "us-east-1b"
    assert ipaddress.ip_network(by_id["Subnet"]["CidrBlock"]).prefixlen == 20
    fails("InvalidParameterValue", ec2.create_default_subnet, AvailabilityZone="eu-west-1a")
    fails("InvalidParameterValue", ec2.create_default_subnet,
          AvailabilityZone="us-east-1-bos-1a")  # a Local Zone, not an AZ
    fails("MissingParameter", ec2.create_default_subnet)
    fails("InvalidParameterCombination", ec2.create_default_subnet,
          AvailabilityZone="us-east-1a", AvailabilityZoneId="use1-az1")


def test_default_subnet_needs_a_default_vpc_and_create_default_vpc(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    dflt = default_vpc(ec2)
    fails("DefaultVpcAlreadyExists", ec2.create_default_vpc)
    vpc = dflt["VpcId"]
    for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]:
        ec2.delete_subnet(SubnetId=s["SubnetId"])
    igw = ec2.describe_internet_gateways(Filters=[
        {"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"][0]
    ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc)
    ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
    ec2.delete_vpc(VpcId=vpc)
    fails("DefaultVpcDoesNotExist", ec2.create_default_subnet, AvailabilityZone="us-east-1a")
    again = ec2.create_default_vpc()["Vpc"]
    assert again["IsDefault"] and again["CidrBlock"] == "172.31.0.0/16"
    assert again["DhcpOptionsId"] == dflt["DhcpOptionsId"]


# ------------------------------------------------------------------ subnet IPv6 blocks
def test_associate_and_disassociate_subnet_ipv6_block(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    block = ipaddress.ip_network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    sixty_fours = block.subnets(new_prefix=64)
    first, second = str(next(sixty_fours)), str(next(sixty_fours))
    a = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    b = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    out = ec2.associate_subnet_cidr_block(SubnetId=a, Ipv6CidrBlock=first)
    assoc = out["Ipv6CidrBlockAssociation"]
    assert out["SubnetId"] == a and assoc["Ipv6CidrBlock"] == first
    assert assoc["Ipv6CidrBlockState"]["State"] == "associating"
    assert assoc["AssociationId"].startswith("subnet-cidr-assoc-")
    (sub,) = ec2.describe_subnets(SubnetIds=[a])["Subnets"]
    assert sub["Ipv6CidrBlockAssociationSet"] == [{
        "AssociationId": assoc["AssociationId"], "Ipv6CidrBlock": first,
        "Ipv6CidrBlockState": {"State": "associated"}, "Ipv6AddressAttribute": "public",
        "IpSource": "amazon"}]
    found = ec2.describe_subnets(Filters=[
        {"Name": "ipv6-cidr-block-association.association-id",
         "Values": [assoc["AssociationId"]]}])["Subnets"]
    assert [s["SubnetId"] for s in found] == [a]
    fails("InvalidSubnet.Conflict", ec2.associate_subnet_cidr_block, SubnetId=b,
          Ipv6CidrBlock=first)
    fails("CidrLimitExceeded", ec2.associate_subnet_cidr_block, SubnetId=a,
          Ipv6CidrBlock=second)
    fails("InvalidSubnet.Range", ec2.associate_subnet_cidr_block, SubnetId=b,
          Ipv6CidrBlock=str(block))  # a /56, not a /64
    fails("InvalidSubnet.Range", ec2.associate_subnet_cidr_block, SubnetId=b,
          Ipv6CidrBlock="2001:db8::/64")  # not the VPC's
    fails("InvalidSubnetID.NotFound", ec2.associate_subnet_cidr_block,
          SubnetId="subnet-0000000000000000a", Ipv6CidrBlock=second)
    # IPv6 attributes need the block
    fails("InvalidParameterValue", ec2.modify_subnet_attribute, SubnetId=b,
          AssignIpv6AddressOnCreation={"Value": True})
    ec2.modify_subnet_attribute(SubnetId=a, AssignIpv6AddressOnCreation={"Value": True})

    gone = ec2.disassociate_subnet_cidr_block(AssociationId=assoc["AssociationId"])
    assert gone["SubnetId"] == a
    assert gone["Ipv6CidrBlockAssociation"]["Ipv6CidrBlockState"]["State"] == "disassociating"
    (sub,) = ec2.describe_subnets(SubnetIds=[a])["Subnets"]
    assert sub["Ipv6CidrBlockAssociationSet"] == []
    assert sub["AssignIpv6AddressOnCreation"] is False
    fails("InvalidSubnetCidrBlockAssociationID.NotFound", ec2.disassociate_subnet_cidr_block,
          AssociationId=assoc["AssociationId"])
    # the block is free again, for the other subnet
    ec2.associate_subnet_cidr_block(SubnetId=b, Ipv6CidrBlock=first)


def test_disassociate_refused_while_an_interface_uses_the_block(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    block = ipaddress.ip_network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    v6 = str(next(block.subnets(new_prefix=64)))
    sid = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    assoc = ec2.associate_subnet_cidr_block(SubnetId=sid, Ipv6CidrBlock=v6)[
        "Ipv6CidrBlockAssociation"]["AssociationId"]
    eni = ec2.create_network_interface(SubnetId=sid)["NetworkInterface"]["NetworkInterfaceId"]
    ec2.assign_ipv6_addresses(NetworkInterfaceId=eni, Ipv6AddressCount=1)
    fails("DependencyViolation", ec2.disassociate_subnet_cidr_block, AssociationId=assoc)
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    ec2.disassociate_subnet_cidr_block(AssociationId=assoc)


# ------------------------------------------------------------------ tenancy and attributes
def test_modify_vpc_tenancy(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", InstanceTenancy="dedicated")["Vpc"]
    assert vpc["InstanceTenancy"] == "dedicated"
    assert ec2.modify_vpc_tenancy(VpcId=vpc["VpcId"], InstanceTenancy="default")[
        "ReturnValue"] is True
    assert ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["InstanceTenancy"] == "default"
    fails("InvalidVpcID.NotFound", ec2.modify_vpc_tenancy, VpcId="vpc-0000000000000000a",
          InstanceTenancy="default")
    fails("InvalidParameterValue", ec2.create_vpc, CidrBlock="10.1.0.0/16",
          InstanceTenancy="host")


def test_vpc_attributes_every_one_botocore_lists(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    for attr, member in (("enableDnsSupport", "EnableDnsSupport"),
                         ("enableDnsHostnames", "EnableDnsHostnames"),
                         ("enableNetworkAddressUsageMetrics",
                          "EnableNetworkAddressUsageMetrics")):
        before = ec2.describe_vpc_attribute(VpcId=vpc, Attribute=attr)[member]["Value"]
        ec2.modify_vpc_attribute(VpcId=vpc, **{member: {"Value": not before}})
        after = ec2.describe_vpc_attribute(VpcId=vpc, Attribute=attr)[member]["Value"]
        assert after is (not before), attr


def test_modify_subnet_attribute_every_one_botocore_lists(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sid = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]

    def subnet() -> dict[str, Any]:
        return dict(ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0])

    assert subnet()["PrivateDnsNameOptionsOnLaunch"] == {
        "HostnameType": "ip-name", "EnableResourceNameDnsARecord": False,
        "EnableResourceNameDnsAAAARecord": False}
    ec2.modify_subnet_attribute(SubnetId=sid, PrivateDnsHostnameTypeOnLaunch="resource-name")
    ec2.modify_subnet_attribute(SubnetId=sid,
                                EnableResourceNameDnsARecordOnLaunch={"Value": True})
    ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
    s = subnet()
    assert s["PrivateDnsNameOptionsOnLaunch"] == {
        "HostnameType": "resource-name", "EnableResourceNameDnsARecord": True,
        "EnableResourceNameDnsAAAARecord": False}
    assert s["MapPublicIpOnLaunch"] is True and s["MapCustomerOwnedIpOnLaunch"] is False
    hostnames = ec2.describe_subnets(Filters=[
        {"Name": "private-dns-name-options-on-launch.hostname-type",
         "Values": ["resource-name"]}])["Subnets"]
    assert [x["SubnetId"] for x in hostnames] == [sid]
    fails("InvalidParameterValue", ec2.modify_subnet_attribute, SubnetId=sid,
          PrivateDnsHostnameTypeOnLaunch="dns-name")
    fails("InvalidParameterCombination", ec2.modify_subnet_attribute, SubnetId=sid,
          MapPublicIpOnLaunch={"Value": False}, EnableDns64={"Value": False})
    # customer-owned IPs and local network interfaces only exist on Outposts
    fails("InvalidParameterValue", ec2.modify_subnet_attribute, SubnetId=sid,
          MapCustomerOwnedIpOnLaunch={"Value": True}, CustomerOwnedIpv4Pool="ipv4pool-coip-1")
    fails("InvalidParameterValue", ec2.modify_subnet_attribute, SubnetId=sid,
          EnableLniAtDeviceIndex=1)
    fails("InvalidParameterCombination", ec2.modify_subnet_attribute, SubnetId=sid,
          CustomerOwnedIpv4Pool="ipv4pool-coip-1", EnableDns64={"Value": False})
    fails("MissingParameter", ec2.modify_subnet_attribute, SubnetId=sid)
    assert subnet()["MapPublicIpOnLaunch"] is True  # nothing changed by the refusals


# ------------------------------------------------------------------ carrier gateways
def test_carrier_gateway_lifecycle_and_blackhole_route(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    ec2.modify_availability_zone_group(GroupName="us-east-1-wl1", OptInStatus="opted-in")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    msg = fails("InvalidParameterValue", ec2.create_carrier_gateway, VpcId=vpc)
    assert "Wavelength" in msg
    sid = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24",
                            AvailabilityZone="us-east-1-wl1-bos-wlz-1")["Subnet"]["SubnetId"]
    made = ec2.create_carrier_gateway(VpcId=vpc, TagSpecifications=[
        {"ResourceType": "carrier-gateway", "Tags": [{"Key": "Name", "Value": "5g"}]}])[
        "CarrierGateway"]
    cagw = made["CarrierGatewayId"]
    assert cagw.startswith("cagw-") and made["State"] == "pending" and made["VpcId"] == vpc
    fails("InvalidParameterValue", ec2.create_carrier_gateway, VpcId=vpc)  # one per VPC
    (listed,) = ec2.describe_carrier_gateways(CarrierGatewayIds=[cagw])["CarrierGateways"]
    assert listed == {"CarrierGatewayId": cagw, "VpcId": vpc, "State": "available",
                      "OwnerId": "000000000000", "Tags": [{"Key": "Name", "Value": "5g"}]}

    def ids(name: str, values: list[str]) -> list[str]:
        return [g["CarrierGatewayId"] for g in ec2.describe_carrier_gateways(
            Filters=[{"Name": name, "Values": values}])["CarrierGateways"]]

    assert ids("vpc-id", [vpc]) == [cagw]
    assert ids("state", ["available"]) == [cagw]
    assert ids("state", ["deleted"]) == []
    assert ids("tag:Name", ["5g"]) == [cagw]
    assert ids("owner-id", ["111111111111"]) == []
    fails("InvalidCarrierGatewayID.NotFound", ec2.describe_carrier_gateways,
          CarrierGatewayIds=["cagw-0000000000000000a"])

    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=sid)
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0",
                     CarrierGatewayId=cagw)
    fails("InvalidParameterValue", ec2.create_route, RouteTableId=rtb,
          DestinationIpv6CidrBlock="::/0", CarrierGatewayId=cagw)
    fails("DependencyViolation", ec2.delete_vpc, VpcId=vpc)

    def route() -> dict[str, Any]:
        rt = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]
        return dict(next(r for r in rt["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"))

    assert route()["CarrierGatewayId"] == cagw and route()["State"] == "active"
    gone = ec2.delete_carrier_gateway(CarrierGatewayId=cagw)["CarrierGateway"]
    assert gone["State"] == "deleting"
    assert route()["State"] == "blackhole"  # kept, as AWS keeps it
    assert ec2.describe_carrier_gateways()["CarrierGateways"] == []
    fails("InvalidCarrierGatewayID.NotFound", ec2.delete_carrier_gateway,
          CarrierGatewayId=cagw)
