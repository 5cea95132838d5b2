"""Managed prefix list versions, restore, delete and associations (RS-5, SG-12), and the
secondary addresses of NAT gateways (NG-6)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from plane import site, trace

from conftest import Server
from localvpc.dataplane.flow import Disposition

OTHER = "222222222222"


def fails(expected: str, fn: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert e.value.response["Error"]["Code"] == expected, e.value.response["Error"]
    return str(e.value.response["Error"]["Message"])


def cidrs(ec2: Any, pl: str, version: int | None = None) -> list[str]:
    kw = {"TargetVersion": version} if version is not None else {}
    return sorted(e["Cidr"] for e in ec2.get_managed_prefix_list_entries(
        PrefixListId=pl, **kw)["Entries"])


def describe_pl(ec2: Any, pl: str) -> dict[str, Any]:
    return dict(ec2.describe_managed_prefix_lists(PrefixListIds=[pl])["PrefixLists"][0])


# ------------------------------------------------------------------ prefix lists
def test_versions_are_kept_and_restore_makes_a_new_one(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    a = site(ec2, "10.0.0.0/16", "10.0.1.0/24")
    web = ec2.create_security_group(GroupName="web", Description="w", VpcId=a.vpc_id)[
        "GroupId"]
    web_ip = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                               SubnetId=a.subnet_id, SecurityGroupIds=[web])[
        "Instances"][0]["PrivateIpAddress"]
    pl = ec2.create_managed_prefix_list(PrefixListName="clients", MaxEntries=5,
                                        AddressFamily="IPv4",
                                        Entries=[{"Cidr": "10.0.1.0/24"}])["PrefixList"][
        "PrefixListId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "PrefixListIds": [{"PrefixListId": pl}]}])
    assert trace(fresh, a.instance_id, web_ip, dst_port=443).disposition == \
        Disposition.ACCEPTED
    ec2.modify_managed_prefix_list(PrefixListId=pl, CurrentVersion=1,
                                   AddEntries=[{"Cidr": "192.168.0.0/16"}])
    ec2.modify_managed_prefix_list(PrefixListId=pl, CurrentVersion=2,
                                   RemoveEntries=[{"Cidr": "10.0.1.0/24"}])
    assert cidrs(ec2, pl, 1) == ["10.0.1.0/24"]
    assert cidrs(ec2, pl, 2) == ["10.0.1.0/24", "192.168.0.0/16"]
    assert cidrs(ec2, pl) == cidrs(ec2, pl, 3) == ["192.168.0.0/16"]
    assert trace(fresh, a.instance_id, web_ip, dst_port=443).disposition == \
        Disposition.DENIED_IN  # SG-12: the list's current version

    fails("PrefixListVersionMismatch", ec2.restore_managed_prefix_list_version,
          PrefixListId=pl, PreviousVersion=1, CurrentVersion=2)
    fails("InvalidParameterValue", ec2.restore_managed_prefix_list_version,
          PrefixListId=pl, PreviousVersion=7, CurrentVersion=3)
    out = ec2.restore_managed_prefix_list_version(PrefixListId=pl, PreviousVersion=1,
                                                  CurrentVersion=3)["PrefixList"]
    assert (out["Version"], out["State"]) == (4, "restore-in-progress")
    assert (describe_pl(ec2, pl)["Version"], describe_pl(ec2, pl)["State"]) == \
        (4, "restore-complete")
    assert cidrs(ec2, pl) == ["10.0.1.0/24"]
    assert cidrs(ec2, pl, 3) == ["192.168.0.0/16"]  # the history stays
    assert trace(fresh, a.instance_id, web_ip, dst_port=443).disposition == \
        Disposition.ACCEPTED
    fails("InvalidParameterValue", ec2.get_managed_prefix_list_entries, PrefixListId=pl,
          TargetVersion=9)


def test_delete_refused_while_referenced_and_associations_listed(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    sg = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    pl = ec2.create_managed_prefix_list(PrefixListName="office", MaxEntries=3,
                                        AddressFamily="IPv4",
                                        Entries=[{"Cidr": "198.51.100.0/24"}])[
        "PrefixList"]["PrefixListId"]
    assert ec2.get_managed_prefix_list_associations(PrefixListId=pl)[
        "PrefixListAssociations"] == []
    ec2.create_route(RouteTableId=rtb, DestinationPrefixListId=pl, GatewayId=igw)
    perm = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "PrefixListIds": [{"PrefixListId": pl}]}
    ec2.authorize_security_group_egress(GroupId=sg, IpPermissions=[perm])
    assocs = ec2.get_managed_prefix_list_associations(PrefixListId=pl)[
        "PrefixListAssociations"]
    account = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["OwnerId"]
    assert sorted((a["ResourceId"], a["ResourceOwner"]) for a in assocs) == \
        sorted([(rtb, account), (sg, account)])

    msg = fails("DependencyViolation", ec2.delete_managed_prefix_list, PrefixListId=pl)
    assert rtb in msg and sg in msg
    ec2.delete_route(RouteTableId=rtb, DestinationPrefixListId=pl)
    fails("DependencyViolation", ec2.delete_managed_prefix_list, PrefixListId=pl)
    ec2.revoke_security_group_egress(GroupId=sg, IpPermissions=[perm])
    out = ec2.delete_managed_prefix_list(PrefixListId=pl)["PrefixList"]
    assert (out["PrefixListId"], out["State"]) == (pl, "delete-in-progress")
    fails("InvalidPrefixListID.NotFound", ec2.describe_managed_prefix_lists,
          PrefixListIds=[pl])
    fails("InvalidPrefixListID.NotFound", ec2.delete_managed_prefix_list, PrefixListId=pl)
    s3 = next(p for p in ec2.describe_prefix_lists()["PrefixLists"]
              if p["PrefixListName"].endswith(".s3"))["PrefixListId"]
    fails("OperationNotPermitted", ec2.delete_managed_prefix_list, PrefixListId=s3)


def test_routes_need_a_visible_prefix_list(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    other = fresh.client("ec2", account=OTHER)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    theirs = other.create_managed_prefix_list(PrefixListName="t", MaxEntries=1,
                                              AddressFamily="IPv4")["PrefixList"][
        "PrefixListId"]
    for pl in ("pl-0123456789abcdef0", theirs):
        fails("InvalidPrefixListID.NotFound", ec2.create_route, RouteTableId=rtb,
              DestinationPrefixListId=pl, GatewayId=igw)
        fails("InvalidPrefixListID.NotFound", ec2.replace_route, RouteTableId=rtb,
              DestinationPrefixListId=pl, GatewayId=igw)
    routes = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
    assert [r.get("DestinationPrefixListId") for r in routes] == [None]  # the local route
    # An AWS-managed list is usable by everyone.
    s3 = next(p for p in ec2.describe_prefix_lists()["PrefixLists"]
              if p["PrefixListName"].endswith(".s3"))["PrefixListId"]
    assert ec2.create_route(RouteTableId=rtb, DestinationPrefixListId=s3,
                            GatewayId=igw)["Return"] is True


# ------------------------------------------------------------------ NAT gateway addresses
def _subnet(fresh: Server) -> tuple[Any, str, str]:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    return ec2, vpc, subnet


def _nat(ec2: Any, nat: str) -> dict[str, Any]:
    return dict(ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0])


def test_private_nat_secondary_private_addresses_NG6(fresh: Server) -> None:
    ec2, _, subnet = _subnet(fresh)
    nat = ec2.create_nat_gateway(SubnetId=subnet, ConnectivityType="private")[
        "NatGateway"]["NatGatewayId"]
    primary = _nat(ec2, nat)["NatGatewayAddresses"][0]
    eni = primary["NetworkInterfaceId"]
    out = ec2.assign_private_nat_gateway_address(NatGatewayId=nat,
                                                 PrivateIpAddresses=["10.0.0.100"])
    assert [(a["PrivateIp"], a["IsPrimary"], a["Status"])
            for a in out["NatGatewayAddresses"]] == [("10.0.0.100", False, "assigning")]
    ec2.assign_private_nat_gateway_address(NatGatewayId=nat, PrivateIpAddressCount=2)
    addresses = _nat(ec2, nat)["NatGatewayAddresses"]
    assert len(addresses) == 4 and sum(a["IsPrimary"] for a in addresses) == 1
    on_eni = {p["PrivateIpAddress"] for p in ec2.describe_network_interfaces(
        NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["PrivateIpAddresses"]}
    assert on_eni == {a["PrivateIp"] for a in addresses}

    fails("InvalidIPAddress.InUse", ec2.assign_private_nat_gateway_address,
          NatGatewayId=nat, PrivateIpAddresses=["10.0.0.100"])
    fails("InvalidParameterCombination", ec2.assign_private_nat_gateway_address,
          NatGatewayId=nat, PrivateIpAddresses=["10.0.0.101"], PrivateIpAddressCount=1)
    fails("PrivateIpAddressLimitExceeded", ec2.assign_private_nat_gateway_address,
          NatGatewayId=nat, PrivateIpAddressCount=5)  # 4 + 5 > 8
    fails("InvalidParameterValue", ec2.unassign_private_nat_gateway_address,
          NatGatewayId=nat, PrivateIpAddresses=[primary["PrivateIp"]])
    fails("InvalidParameterValue", ec2.unassign_private_nat_gateway_address,
          NatGatewayId=nat, PrivateIpAddresses=["10.0.0.200"])
    gone = ec2.unassign_private_nat_gateway_address(NatGatewayId=nat,
                                                    PrivateIpAddresses=["10.0.0.100"])
    assert gone["NatGatewayAddresses"][0]["Status"] == "unassigning"
    left = {a["PrivateIp"] for a in _nat(ec2, nat)["NatGatewayAddresses"]}
    assert "10.0.0.100" not in left and len(left) == 3
    # The address is free again: an interface can take it.
    taken = ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress="10.0.0.100")
    assert taken["NetworkInterface"]["PrivateIpAddress"] == "10.0.0.100"
    fails("NatGatewayNotFound", ec2.assign_private_nat_gateway_address,
          NatGatewayId="nat-0123456789abcdef0", PrivateIpAddressCount=1)


def test_public_nat_secondary_elastic_ips(fresh: Server) -> None:
    ec2, vpc, subnet = _subnet(fresh)
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    first = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=first)["NatGateway"][
        "NatGatewayId"]
    fails("InvalidParameterValue", ec2.assign_private_nat_gateway_address,
          NatGatewayId=nat, PrivateIpAddressCount=1)  # public: addresses come with EIPs
    second, third = (ec2.allocate_address(Domain="vpc") for _ in range(2))
    out = ec2.associate_nat_gateway_address(
        NatGatewayId=nat, AllocationIds=[second["AllocationId"], third["AllocationId"]],
        PrivateIpAddresses=["10.0.0.50", "10.0.0.51"])["NatGatewayAddresses"]
    assert [(a["PublicIp"], a["PrivateIp"], a["Status"]) for a in out] == [
        (second["PublicIp"], "10.0.0.50", "associating"),
        (third["PublicIp"], "10.0.0.51", "associating")]
    addresses = _nat(ec2, nat)["NatGatewayAddresses"]
    primary = next(a for a in addresses if a["IsPrimary"])
    assert primary["AllocationId"] == first and primary["AssociationId"]
    eip = ec2.describe_addresses(AllocationIds=[second["AllocationId"]])["Addresses"][0]
    assert (eip["PrivateIpAddress"], eip["AssociationId"]) == \
        ("10.0.0.50", out[0]["AssociationId"])
    fails("Resource.AlreadyAssociated", ec2.associate_nat_gateway_address,
          NatGatewayId=nat, AllocationIds=[second["AllocationId"]])
    fails("InvalidAllocationID.NotFound", ec2.associate_nat_gateway_address,
          NatGatewayId=nat, AllocationIds=["eipalloc-0123456789abcdef0"])
    fails("InvalidParameterValue", ec2.disassociate_nat_gateway_address,
          NatGatewayId=nat, AssociationIds=[primary["AssociationId"]])
    fails("InvalidAssociationID.NotFound", ec2.disassociate_nat_gateway_address,
          NatGatewayId=nat, AssociationIds=["eipassoc-0123456789abcdef0"])
    # The NAT gateway holds the EIP: it cannot be taken off with DisassociateAddress.
    fails("InvalidIPAddress.InUse", ec2.disassociate_address,
          AssociationId=out[0]["AssociationId"])

    done = ec2.disassociate_nat_gateway_address(
        NatGatewayId=nat, AssociationIds=[out[0]["AssociationId"]])["NatGatewayAddresses"]
    assert [(a["PublicIp"], a["Status"]) for a in done] == \
        [(second["PublicIp"], "disassociating")]
    left = _nat(ec2, nat)["NatGatewayAddresses"]
    assert sorted(a["PrivateIp"] for a in left) == sorted([primary["PrivateIp"], "10.0.0.51"])
    freed = ec2.describe_addresses(AllocationIds=[second["AllocationId"]])["Addresses"][0]
    assert "AssociationId" not in freed and "NetworkInterfaceId" not in freed
    ec2.release_address(AllocationId=second["AllocationId"])

    # Deleting the NAT gateway frees every EIP it held.
    ec2.delete_nat_gateway(NatGatewayId=nat)
    for aid in (first, third["AllocationId"]):
        assert "AssociationId" not in ec2.describe_addresses(AllocationIds=[aid])[
            "Addresses"][0]


def test_nat_elastic_ips_must_share_the_border_group(fresh: Server) -> None:
    ec2, vpc, subnet = _subnet(fresh)
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ec2.modify_availability_zone_group(GroupName="us-east-1-atl-1", OptInStatus="opted-in")
    local = ec2.allocate_address(Domain="vpc", NetworkBorderGroup="us-east-1-atl-1")[
        "AllocationId"]
    fails("InvalidParameterValue", ec2.create_nat_gateway, SubnetId=subnet,
          AllocationId=local)
    regional = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=regional)["NatGateway"][
        "NatGatewayId"]
    fails("InvalidParameterValue", ec2.associate_nat_gateway_address, NatGatewayId=nat,
          AllocationIds=[local])
    assert len(_nat(ec2, nat)["NatGatewayAddresses"]) == 1
