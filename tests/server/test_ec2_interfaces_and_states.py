"""ENI addressing (secondary IPv4, IPv6, prefixes), ENI attributes and permissions, and the
instance state operations (start, stop, reboot, monitoring), against a real server."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server

AMI = "ami-12345678"
OTHER = "111111111111"


def fails(expected: str, fn: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert e.value.response["Error"]["Code"] == expected, e.value.response["Error"]
    return str(e.value.response["Error"]["Message"])


@dataclass
class Net:
    ec2: Any
    vpc: str
    subnet: str  # 10.0.1.0/24, no IPv6, us-east-1a
    subnet6: str  # 10.0.3.0/24 with an IPv6 /64, us-east-1a
    v6: ipaddress.IPv6Network  # subnet6's /64
    igw: str


@pytest.fixture
def net(fresh: Server) -> Net:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    block = ipaddress.ip_network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    v6 = next(block.subnets(new_prefix=64))
    assert isinstance(v6, ipaddress.IPv6Network)
    a = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24",
                          AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    b = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.3.0/24", Ipv6CidrBlock=str(v6),
                          AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
    return Net(ec2, vpc["VpcId"], a, b, v6, igw)


def new_eni(n: Net, subnet: str | None = None, **kw: Any) -> str:
    out = n.ec2.create_network_interface(SubnetId=subnet or n.subnet, **kw)
    return str(out["NetworkInterface"]["NetworkInterfaceId"])


def eni(n: Net, eni_id: str) -> dict[str, Any]:
    return dict(n.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])
                ["NetworkInterfaces"][0])


def ips(n: Net, eni_id: str) -> list[tuple[str, bool]]:
    return [(p["PrivateIpAddress"], p["Primary"]) for p in eni(n, eni_id)["PrivateIpAddresses"]]


def launch(n: Net, **kw: Any) -> dict[str, Any]:
    kw.setdefault("SubnetId", n.subnet)
    return dict(n.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, **kw)["Instances"][0])


def instance(n: Net, iid: str) -> dict[str, Any]:
    return dict(n.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0])


# ---------------------------------------------------------------------- secondary IPv4
def test_assign_secondary_addresses_by_count_and_by_name(net: Net) -> None:
    e = new_eni(net)  # primary 10.0.1.4
    out = net.ec2.assign_private_ip_addresses(NetworkInterfaceId=e,
                                              SecondaryPrivateIpAddressCount=2)
    assert out["NetworkInterfaceId"] == e
    assert [a["PrivateIpAddress"] for a in out["AssignedPrivateIpAddresses"]] == [
        "10.0.1.5", "10.0.1.6"]
    out = net.ec2.assign_private_ip_addresses(NetworkInterfaceId=e,
                                              PrivateIpAddresses=["10.0.1.50", "10.0.1.51"])
    assert [a["PrivateIpAddress"] for a in out["AssignedPrivateIpAddresses"]] == [
        "10.0.1.50", "10.0.1.51"]
    assert ips(net, e) == [("10.0.1.4", True), ("10.0.1.5", False), ("10.0.1.6", False),
                           ("10.0.1.50", False), ("10.0.1.51", False)]
    assert eni(net, e)["PrivateIpAddress"] == "10.0.1.4"
    found = net.ec2.describe_network_interfaces(Filters=[
        {"Name": "addresses.private-ip-address", "Values": ["10.0.1.51"]}])["NetworkInterfaces"]
    assert [f["NetworkInterfaceId"] for f in found] == [e]
    # taken addresses are skipped by the next allocation in the subnet
    assert launch(net)["PrivateIpAddress"] == "10.0.1.7"


def test_assign_private_ip_errors(net: Net) -> None:
    e = new_eni(net)
    other = new_eni(net)  # 10.0.1.5
    assign = net.ec2.assign_private_ip_addresses
    fails("MissingParameter", assign, NetworkInterfaceId=e)
    fails("InvalidParameterCombination", assign, NetworkInterfaceId=e,
          PrivateIpAddresses=["10.0.1.60"], SecondaryPrivateIpAddressCount=1)
    for bad in ("10.0.2.9", "10.0.1.0", "10.0.1.2", "10.0.1.255", "not-an-ip"):
        fails("InvalidParameterValue", assign, NetworkInterfaceId=e, PrivateIpAddresses=[bad])
    assert "in use" in fails("InvalidIPAddress.InUse", assign, NetworkInterfaceId=e,
                             PrivateIpAddresses=["10.0.1.5"])
    fails("InvalidIPAddress.InUse", assign, NetworkInterfaceId=e,
          PrivateIpAddresses=["10.0.1.70", "10.0.1.70"])
    fails("InvalidParameterValue", assign, NetworkInterfaceId=e,
          SecondaryPrivateIpAddressCount=0)
    fails("InvalidNetworkInterfaceID.NotFound", assign, NetworkInterfaceId="eni-0000000000000000a",
          SecondaryPrivateIpAddressCount=1)
    # nothing of the failed calls stuck
    assert ips(net, e) == [("10.0.1.4", True)] and ips(net, other) == [("10.0.1.5", True)]
    # even with AllowReassignment, another interface's primary address never moves
    fails("InvalidIPAddress.InUse", assign, NetworkInterfaceId=e, AllowReassignment=True,
          PrivateIpAddresses=["10.0.1.5"])


def test_reassignment_moves_the_address_and_its_elastic_ip(net: Net) -> None:
    a, b = new_eni(net), new_eni(net)
    net.ec2.assign_private_ip_addresses(NetworkInterfaceId=a, PrivateIpAddresses=["10.0.1.40"])
    alloc = net.ec2.allocate_address(Domain="vpc")
    net.ec2.associate_address(AllocationId=alloc["AllocationId"], NetworkInterfaceId=a,
                              PrivateIpAddress="10.0.1.40")
    fails("InvalidIPAddress.InUse", net.ec2.assign_private_ip_addresses, NetworkInterfaceId=b,
          PrivateIpAddresses=["10.0.1.40"])
    net.ec2.assign_private_ip_addresses(NetworkInterfaceId=b, PrivateIpAddresses=["10.0.1.40"],
                                        AllowReassignment=True)
    assert ips(net, a) == [("10.0.1.4", True)]
    assert ips(net, b) == [("10.0.1.5", True), ("10.0.1.40", False)]
    moved = next(p for p in eni(net, b)["PrivateIpAddresses"]
                 if p["PrivateIpAddress"] == "10.0.1.40")
    assert moved["Association"]["PublicIp"] == alloc["PublicIp"]
    (addr,) = net.ec2.describe_addresses(AllocationIds=[alloc["AllocationId"]])["Addresses"]
    assert addr["NetworkInterfaceId"] == b and addr["PrivateIpAddress"] == "10.0.1.40"


def test_unassign_private_addresses(net: Net) -> None:
    e = new_eni(net)
    net.ec2.assign_private_ip_addresses(NetworkInterfaceId=e, SecondaryPrivateIpAddressCount=2)
    alloc = net.ec2.allocate_address(Domain="vpc")["AllocationId"]
    net.ec2.associate_address(AllocationId=alloc, NetworkInterfaceId=e,
                              PrivateIpAddress="10.0.1.6")
    unassign = net.ec2.unassign_private_ip_addresses
    assert "primary" in fails("InvalidParameterValue", unassign, NetworkInterfaceId=e,
                              PrivateIpAddresses=["10.0.1.4"])
    fails("InvalidParameterValue", unassign, NetworkInterfaceId=e,
          PrivateIpAddresses=["10.0.1.99"])
    fails("MissingParameter", unassign, NetworkInterfaceId=e)
    unassign(NetworkInterfaceId=e, PrivateIpAddresses=["10.0.1.5", "10.0.1.6"])
    assert ips(net, e) == [("10.0.1.4", True)]
    (addr,) = net.ec2.describe_addresses(AllocationIds=[alloc])["Addresses"]
    assert "NetworkInterfaceId" not in addr and "AssociationId" not in addr
    # the freed addresses are handed out again
    first, second = new_eni(net), new_eni(net)
    assert ips(net, first)[0][0] == "10.0.1.5" and ips(net, second)[0][0] == "10.0.1.6"


def test_instance_type_limits_secondary_addresses(net: Net) -> None:
    i = launch(net, InstanceType="t3.micro")  # 2 IPv4 addresses per interface
    e = i["NetworkInterfaces"][0]["NetworkInterfaceId"]
    net.ec2.assign_private_ip_addresses(NetworkInterfaceId=e, SecondaryPrivateIpAddressCount=1)
    fails("PrivateIpAddressLimitExceeded", net.ec2.assign_private_ip_addresses,
          NetworkInterfaceId=e, SecondaryPrivateIpAddressCount=1)
    nic = instance(net, i["InstanceId"])["NetworkInterfaces"][0]
    assert [p["PrivateIpAddress"] for p in nic["PrivateIpAddresses"]] == ["10.0.1.4",
                                                                          "10.0.1.5"]


def test_ipv4_prefix_delegation(net: Net) -> None:
    e = new_eni(net)
    out = net.ec2.assign_private_ip_addresses(NetworkInterfaceId=e, Ipv4PrefixCount=1)
    # the first /28 holds the reserved and the primary address: the next one is taken
    assert out["AssignedIpv4Prefixes"] == [{"Ipv4Prefix": "10.0.1.16/28"}]
    net.ec2.assign_private_ip_addresses(NetworkInterfaceId=e, Ipv4Prefixes=["10.0.1.64/28"])
    assert eni(net, e)["Ipv4Prefixes"] == [{"Ipv4Prefix": "10.0.1.16/28"},
                                           {"Ipv4Prefix": "10.0.1.64/28"}]
    for bad in ("10.0.1.64/28", "10.0.1.70/28", "10.0.1.0/28", "10.0.2.0/28", "10.0.1.0/27"):
        fails("InvalidParameterValue", net.ec2.assign_private_ip_addresses,
              NetworkInterfaceId=e, Ipv4Prefixes=[bad])
    fails("InvalidParameterCombination", net.ec2.assign_private_ip_addresses,
          NetworkInterfaceId=e, Ipv4Prefixes=["10.0.1.96/28"], Ipv4PrefixCount=1)
    # addresses inside a delegated prefix are in use
    fails("InvalidIPAddress.InUse", net.ec2.assign_private_ip_addresses,
          NetworkInterfaceId=e, PrivateIpAddresses=["10.0.1.20"])
    assert ips(net, new_eni(net))[0][0] == "10.0.1.5"
    net.ec2.unassign_private_ip_addresses(NetworkInterfaceId=e, Ipv4Prefixes=["10.0.1.16/28"])
    assert eni(net, e)["Ipv4Prefixes"] == [{"Ipv4Prefix": "10.0.1.64/28"}]


# ---------------------------------------------------------------------- IPv6
def test_assign_and_unassign_ipv6(net: Net) -> None:
    plain = new_eni(net)
    fails("InvalidParameterValue", net.ec2.assign_ipv6_addresses, NetworkInterfaceId=plain,
          Ipv6AddressCount=1)
    e = new_eni(net, net.subnet6)
    out = net.ec2.assign_ipv6_addresses(NetworkInterfaceId=e, Ipv6AddressCount=2)
    given = [ipaddress.ip_address(a) for a in out["AssignedIpv6Addresses"]]
    assert len(set(given)) == 2 and all(a in net.v6 for a in given)
    chosen = str(net.v6.network_address + 0x1234)
    net.ec2.assign_ipv6_addresses(NetworkInterfaceId=e, Ipv6Addresses=[chosen])
    assert {a["Ipv6Address"] for a in eni(net, e)["Ipv6Addresses"]} == {
        *map(str, given), chosen}
    other = new_eni(net, net.subnet6)
    fails("InvalidIPAddress.InUse", net.ec2.assign_ipv6_addresses, NetworkInterfaceId=other,
          Ipv6Addresses=[chosen])
    for bad in ("2001:db8::1", str(net.v6.network_address + 1), "10.0.3.9"):
        fails("InvalidParameterValue", net.ec2.assign_ipv6_addresses,
              NetworkInterfaceId=other, Ipv6Addresses=[bad])
    fails("InvalidParameterCombination", net.ec2.assign_ipv6_addresses,
          NetworkInterfaceId=other, Ipv6Addresses=[chosen], Ipv6AddressCount=1)
    found = net.ec2.describe_network_interfaces(Filters=[
        {"Name": "ipv6-addresses.ipv6-address", "Values": [chosen]}])["NetworkInterfaces"]
    assert [f["NetworkInterfaceId"] for f in found] == [e]
    out = net.ec2.unassign_ipv6_addresses(NetworkInterfaceId=e, Ipv6Addresses=[chosen])
    assert out["UnassignedIpv6Addresses"] == [chosen]
    assert {a["Ipv6Address"] for a in eni(net, e)["Ipv6Addresses"]} == set(map(str, given))
    fails("InvalidParameterValue", net.ec2.unassign_ipv6_addresses, NetworkInterfaceId=e,
          Ipv6Addresses=[chosen])
    prefix = net.ec2.assign_ipv6_addresses(NetworkInterfaceId=other, Ipv6PrefixCount=1)[
        "AssignedIpv6Prefixes"][0]
    p = ipaddress.ip_network(prefix)
    assert p.prefixlen == 80 and p.subnet_of(net.v6)  # type: ignore[arg-type]
    assert eni(net, other)["Ipv6Prefixes"] == [{"Ipv6Prefix": prefix}]


# ---------------------------------------------------------------------- attributes
def test_network_interface_attributes_describe_modify_reset(net: Net) -> None:
    i = launch(net)
    e = i["NetworkInterfaces"][0]["NetworkInterfaceId"]
    sg = net.ec2.create_security_group(GroupName="web", Description="web",
                                       VpcId=net.vpc)["GroupId"]
    attr = net.ec2.describe_network_interface_attribute
    assert attr(NetworkInterfaceId=e, Attribute="sourceDestCheck")["SourceDestCheck"] == {
        "Value": True}
    net.ec2.modify_network_interface_attribute(NetworkInterfaceId=e,
                                               SourceDestCheck={"Value": False})
    assert attr(NetworkInterfaceId=e, Attribute="sourceDestCheck")["SourceDestCheck"] == {
        "Value": False}
    # the primary interface and its instance show the same value
    assert net.ec2.describe_instance_attribute(InstanceId=i["InstanceId"],
                                               Attribute="sourceDestCheck")[
        "SourceDestCheck"] == {"Value": False}
    net.ec2.reset_network_interface_attribute(NetworkInterfaceId=e, SourceDestCheck="true")
    assert attr(NetworkInterfaceId=e, Attribute="sourceDestCheck")["SourceDestCheck"] == {
        "Value": True}
    assert instance(net, i["InstanceId"])["SourceDestCheck"] is True
    net.ec2.modify_network_interface_attribute(NetworkInterfaceId=e, Groups=[sg])
    assert attr(NetworkInterfaceId=e, Attribute="groupSet")["Groups"] == [
        {"GroupId": sg, "GroupName": "web"}]
    assert [g["GroupId"] for g in instance(net, i["InstanceId"])["SecurityGroups"]] == [sg]
    net.ec2.modify_network_interface_attribute(NetworkInterfaceId=e,
                                               Description={"Value": "front"})
    assert attr(NetworkInterfaceId=e, Attribute="description")["Description"] == {
        "Value": "front"}
    att = attr(NetworkInterfaceId=e, Attribute="attachment")["Attachment"]
    assert att["InstanceId"] == i["InstanceId"] and att["DeviceIndex"] == 0
    assert att["DeleteOnTermination"] is True and att["Status"] == "attached"
    net.ec2.modify_network_interface_attribute(NetworkInterfaceId=e, Attachment={
        "AttachmentId": att["AttachmentId"], "DeleteOnTermination": False})
    assert attr(NetworkInterfaceId=e, Attribute="attachment")["Attachment"][
        "DeleteOnTermination"] is False
    fails("InvalidAttachmentID.NotFound", net.ec2.modify_network_interface_attribute,
          NetworkInterfaceId=e, Attachment={"AttachmentId": "eni-attach-0123456789abcdef0",
                                            "DeleteOnTermination": True})
    fails("InvalidParameterValue", attr, NetworkInterfaceId=e, Attribute="bogus")
    fails("MissingParameter", net.ec2.reset_network_interface_attribute, NetworkInterfaceId=e)
    # DeleteOnTermination false: terminating the instance leaves the interface behind
    net.ec2.terminate_instances(InstanceIds=[i["InstanceId"]])
    left = eni(net, e)
    assert left["Status"] == "available" and "Attachment" not in left
    assert "Attachment" not in attr(NetworkInterfaceId=e, Attribute="attachment")


# ---------------------------------------------------------------------- permissions
def test_network_interface_permissions_allow_cross_account_attach(fresh: Server) -> None:
    owner = fresh.client("ec2")
    other = fresh.client("ec2", account=OTHER)
    vpc = owner.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub = owner.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                              AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    e = owner.create_network_interface(SubnetId=sub)["NetworkInterface"]["NetworkInterfaceId"]
    ovpc = other.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    osub = other.create_subnet(VpcId=ovpc, CidrBlock="10.9.1.0/24",
                               AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    theirs = other.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                 SubnetId=osub)["Instances"][0]["InstanceId"]
    fails("InvalidNetworkInterfaceID.NotFound", other.attach_network_interface,
          NetworkInterfaceId=e, InstanceId=theirs, DeviceIndex=1)
    create = owner.create_network_interface_permission
    fails("InvalidParameterValue", create, NetworkInterfaceId=e, AwsAccountId="12345",
          Permission="INSTANCE-ATTACH")
    fails("MissingParameter", create, NetworkInterfaceId=e, Permission="INSTANCE-ATTACH")
    fails("InvalidParameterCombination", create, NetworkInterfaceId=e, AwsAccountId=OTHER,
          AwsService="ec2.amazonaws.com", Permission="INSTANCE-ATTACH")
    fails("InvalidNetworkInterfaceID.NotFound", other.create_network_interface_permission,
          NetworkInterfaceId=e, AwsAccountId=OTHER, Permission="INSTANCE-ATTACH")
    perm = create(NetworkInterfaceId=e, AwsAccountId=OTHER,
                  Permission="INSTANCE-ATTACH")["InterfacePermission"]
    assert perm["NetworkInterfacePermissionId"].startswith("eni-perm-")
    assert perm["NetworkInterfaceId"] == e and perm["AwsAccountId"] == OTHER
    assert perm["PermissionState"] == {"State": "granted"}
    pid = perm["NetworkInterfacePermissionId"]
    eip_perm = create(NetworkInterfaceId=e, AwsAccountId=OTHER, Permission="EIP-ASSOCIATE")[
        "InterfacePermission"]["NetworkInterfacePermissionId"]
    listed = owner.describe_network_interface_permissions(Filters=[
        {"Name": "network-interface-permission.permission", "Values": ["INSTANCE-ATTACH"]}])
    assert [p["NetworkInterfacePermissionId"]
            for p in listed["NetworkInterfacePermissions"]] == [pid]
    both = owner.describe_network_interface_permissions(NetworkInterfacePermissionIds=[
        pid, eip_perm])["NetworkInterfacePermissions"]
    assert len(both) == 2
    fails("InvalidNetworkInterfacePermissionID.NotFound",
          owner.describe_network_interface_permissions,
          NetworkInterfacePermissionIds=["eni-perm-0123456789abcdef0"])
    # the grantee sees the grant and may now attach the interface to its instance
    seen = other.describe_network_interface_permissions()["NetworkInterfacePermissions"]
    assert {p["NetworkInterfacePermissionId"] for p in seen} == {pid, eip_perm}
    other.attach_network_interface(NetworkInterfaceId=e, InstanceId=theirs, DeviceIndex=1)
    assert eni_attachment(owner, e)["InstanceId"] == theirs
    fails("InvalidNetworkInterface.InUse", owner.delete_network_interface_permission,
          NetworkInterfacePermissionId=pid)
    assert owner.delete_network_interface_permission(NetworkInterfacePermissionId=pid,
                                                     Force=True)["Return"] is True
    fails("InvalidNetworkInterfacePermissionID.NotFound",
          owner.delete_network_interface_permission, NetworkInterfacePermissionId=pid)
    left = owner.describe_network_interface_permissions()["NetworkInterfacePermissions"]
    assert [p["NetworkInterfacePermissionId"] for p in left] == [eip_perm]


def eni_attachment(ec2: Any, eni_id: str) -> dict[str, Any]:
    return dict(ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])[
        "NetworkInterfaces"][0]["Attachment"])


def test_deleting_the_interface_removes_its_permissions(net: Net) -> None:
    e = new_eni(net)
    net.ec2.create_network_interface_permission(NetworkInterfaceId=e, AwsAccountId=OTHER,
                                                Permission="INSTANCE-ATTACH")
    net.ec2.delete_network_interface(NetworkInterfaceId=e)
    assert net.ec2.describe_network_interface_permissions()["NetworkInterfacePermissions"] == []


# ---------------------------------------------------------------------- instance states
def test_stop_and_start_keep_private_ips_and_eips_but_renew_the_public_ip(net: Net) -> None:
    net.ec2.modify_subnet_attribute(SubnetId=net.subnet, MapPublicIpOnLaunch={"Value": True})
    auto = launch(net)
    held = launch(net)
    first_public = auto["PublicIpAddress"]
    held_eni = held["NetworkInterfaces"][0]["NetworkInterfaceId"]
    net.ec2.assign_private_ip_addresses(NetworkInterfaceId=held_eni,
                                        PrivateIpAddresses=["10.0.1.80"])
    alloc = net.ec2.allocate_address(Domain="vpc")
    net.ec2.associate_address(AllocationId=alloc["AllocationId"], InstanceId=held["InstanceId"])
    out = net.ec2.stop_instances(InstanceIds=[auto["InstanceId"], held["InstanceId"]])
    changes = {c["InstanceId"]: c for c in out["StoppingInstances"]}
    assert changes[auto["InstanceId"]]["PreviousState"] == {"Code": 16, "Name": "running"}
    assert changes[auto["InstanceId"]]["CurrentState"] == {"Code": 64, "Name": "stopping"}
    stopped = instance(net, auto["InstanceId"])
    assert stopped["State"] == {"Code": 80, "Name": "stopped"}
    assert stopped["StateReason"]["Code"] == "Client.UserInitiatedShutdown"
    assert "PublicIpAddress" not in stopped  # the auto-assigned address is released
    assert stopped["PrivateIpAddress"] == auto["PrivateIpAddress"]
    kept = instance(net, held["InstanceId"])
    assert kept["PublicIpAddress"] == alloc["PublicIp"]  # an Elastic IP stays
    assert [p["PrivateIpAddress"] for p in kept["NetworkInterfaces"][0]["PrivateIpAddresses"]
            ] == [held["PrivateIpAddress"], "10.0.1.80"]
    names = net.ec2.describe_instances(Filters=[
        {"Name": "instance-state-name", "Values": ["stopped"]}])["Reservations"]
    assert {i["InstanceId"] for r in names for i in r["Instances"]} == {
        auto["InstanceId"], held["InstanceId"]}
    again = net.ec2.stop_instances(InstanceIds=[auto["InstanceId"]])["StoppingInstances"][0]
    assert again["PreviousState"]["Code"] == 80 and again["CurrentState"]["Code"] == 80
    # the public IP is free for someone else meanwhile
    taker = launch(net)
    assert taker["PublicIpAddress"] == first_public
    start = net.ec2.start_instances(InstanceIds=[auto["InstanceId"]])["StartingInstances"][0]
    assert start["PreviousState"] == {"Code": 80, "Name": "stopped"}
    assert start["CurrentState"] == {"Code": 0, "Name": "pending"}
    running = instance(net, auto["InstanceId"])
    assert running["State"] == {"Code": 16, "Name": "running"} and "StateReason" not in running
    assert running["PublicIpAddress"] not in (None, first_public)  # a new one
    assert running["PrivateIpAddress"] == auto["PrivateIpAddress"]
    net.ec2.start_instances(InstanceIds=[held["InstanceId"]])
    assert instance(net, held["InstanceId"])["PublicIpAddress"] == alloc["PublicIp"]


def test_state_errors(net: Net) -> None:
    a, b = launch(net)["InstanceId"], launch(net)["InstanceId"]
    net.ec2.terminate_instances(InstanceIds=[b])
    msg = fails("IncorrectInstanceState", net.ec2.start_instances, InstanceIds=[b])
    assert b in msg
    fails("IncorrectInstanceState", net.ec2.stop_instances, InstanceIds=[b])
    fails("IncorrectInstanceState", net.ec2.reboot_instances, InstanceIds=[b])
    # one bad instance fails the whole call: the good one is not stopped
    fails("IncorrectInstanceState", net.ec2.stop_instances, InstanceIds=[a, b])
    fails("InvalidInstanceID.NotFound", net.ec2.stop_instances,
          InstanceIds=[a, "i-0123456789abcdef0"])
    assert instance(net, a)["State"]["Name"] == "running"
    running = net.ec2.start_instances(InstanceIds=[a])["StartingInstances"][0]
    assert running["PreviousState"]["Code"] == 16 and running["CurrentState"]["Code"] == 16
    net.ec2.reboot_instances(InstanceIds=[a])
    assert instance(net, a)["State"]["Name"] == "running"
    net.ec2.stop_instances(InstanceIds=[a])
    fails("IncorrectInstanceState", net.ec2.reboot_instances, InstanceIds=[a])


def test_monitoring(net: Net) -> None:
    a, b = launch(net)["InstanceId"], launch(net)["InstanceId"]
    assert instance(net, a)["Monitoring"] == {"State": "disabled"}
    out = net.ec2.monitor_instances(InstanceIds=[a])["InstanceMonitorings"]
    assert out == [{"InstanceId": a, "Monitoring": {"State": "pending"}}]
    assert instance(net, a)["Monitoring"] == {"State": "enabled"}
    found = net.ec2.describe_instances(Filters=[
        {"Name": "monitoring-state", "Values": ["enabled"]}])["Reservations"]
    assert [i["InstanceId"] for r in found for i in r["Instances"]] == [a]
    out = net.ec2.unmonitor_instances(InstanceIds=[a])["InstanceMonitorings"]
    assert out == [{"InstanceId": a, "Monitoring": {"State": "disabling"}}]
    assert instance(net, a)["Monitoring"] == {"State": "disabled"}
    net.ec2.terminate_instances(InstanceIds=[b])
    fails("IncorrectInstanceState", net.ec2.monitor_instances, InstanceIds=[b])


def test_addresses_and_states_survive_a_restart(tmp_path: Path) -> None:
    server = start_server(tmp_path / "state.db")
    try:
        ec2 = server.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        i = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=sub)[
            "Instances"][0]
        e = i["NetworkInterfaces"][0]["NetworkInterfaceId"]
        ec2.assign_private_ip_addresses(NetworkInterfaceId=e, PrivateIpAddresses=["10.0.1.33"])
        ec2.create_network_interface_permission(NetworkInterfaceId=e, AwsAccountId=OTHER,
                                                Permission="EIP-ASSOCIATE")
        ec2.stop_instances(InstanceIds=[i["InstanceId"]])
        ec2.monitor_instances(InstanceIds=[i["InstanceId"]])
    finally:
        stop_server(server)
    server = start_server(tmp_path / "state.db")
    try:
        ec2 = server.client("ec2")
        got = ec2.describe_instances(InstanceIds=[i["InstanceId"]])["Reservations"][0][
            "Instances"][0]
        assert got["State"]["Name"] == "stopped" and got["Monitoring"]["State"] == "enabled"
        nic = ec2.describe_network_interfaces(NetworkInterfaceIds=[e])["NetworkInterfaces"][0]
        assert [p["PrivateIpAddress"] for p in nic["PrivateIpAddresses"]] == [
            i["PrivateIpAddress"], "10.0.1.33"]
        (perm,) = ec2.describe_network_interface_permissions()["NetworkInterfacePermissions"]
        assert perm["Permission"] == "EIP-ASSOCIATE"
    finally:
        stop_server(server)


def test_aws_cli_assigns_addresses_and_stops_an_instance(net: Net, fresh: Server) -> None:
    i = launch(net)
    e = i["NetworkInterfaces"][0]["NetworkInterfaceId"]
    out = fresh.aws("ec2", "assign-private-ip-addresses", "--network-interface-id", e,
                    "--secondary-private-ip-address-count", "2")
    assert [a["PrivateIpAddress"] for a in out["AssignedPrivateIpAddresses"]] == [
        "10.0.1.5", "10.0.1.6"]
    fresh.aws("ec2", "unassign-private-ip-addresses", "--network-interface-id", e,
              "--private-ip-addresses", "10.0.1.5")
    assert ips(net, e) == [("10.0.1.4", True), ("10.0.1.6", False)]
    out = fresh.aws("ec2", "stop-instances", "--instance-ids", i["InstanceId"])
    assert out["StoppingInstances"][0]["CurrentState"] == {"Code": 64, "Name": "stopping"}
    got = fresh.aws("ec2", "describe-instances", "--instance-ids", i["InstanceId"],
                    "--query", "Reservations[0].Instances[0].State")
    assert got == {"Code": 80, "Name": "stopped"}


# ---------------------------------------------------------------------- data plane
def path_found(ec2: Any, source: str, destination: str, ip: str) -> dict[str, Any]:
    """A Reachability Analyzer run from ``source`` to ``ip`` on ``destination``, port 22."""
    nip = ec2.create_network_insights_path(Source=source, Destination=destination,
                                           DestinationIp=ip, Protocol="tcp",
                                           DestinationPort=22)["NetworkInsightsPath"]
    analysis: dict[str, Any] = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=nip["NetworkInsightsPathId"])["NetworkInsightsAnalysis"]
    assert analysis["Status"] == "succeeded", analysis
    return analysis


def test_traces_reach_assigned_addresses_and_not_a_stopped_instance(net: Net) -> None:
    a = launch(net)["InstanceId"]  # both in the VPC's default group: it admits itself
    b = launch(net)
    b_id, b_eni = b["InstanceId"], b["NetworkInterfaces"][0]["NetworkInterfaceId"]
    before = path_found(net.ec2, a, b_id, "10.0.1.50")
    assert before["NetworkPathFound"] is False  # nobody owns the address yet
    net.ec2.assign_private_ip_addresses(NetworkInterfaceId=b_eni,
                                        PrivateIpAddresses=["10.0.1.50"])
    after = path_found(net.ec2, a, b_id, "10.0.1.50")
    assert after["NetworkPathFound"] is True
    last = after["ForwardPathComponents"][-1]
    assert last["Component"]["Id"] == b_id
    assert last["InboundHeader"]["DestinationAddresses"] == ["10.0.1.50"]
    # an address of a delegated prefix reaches the interface too
    prefix = net.ec2.assign_private_ip_addresses(NetworkInterfaceId=b_eni, Ipv4PrefixCount=1)[
        "AssignedIpv4Prefixes"][0]["Ipv4Prefix"]
    inside = str(ipaddress.ip_network(prefix).network_address + 3)
    assert path_found(net.ec2, a, b_id, inside)["NetworkPathFound"] is True
    # stopped: the instance does not answer, on any of its addresses
    net.ec2.stop_instances(InstanceIds=[b_id])
    stopped = path_found(net.ec2, a, b_id, "10.0.1.50")
    assert stopped["NetworkPathFound"] is False
    assert [x["ExplanationCode"] for x in stopped["Explanations"]] == ["BAD_STATE"]
    assert path_found(net.ec2, a, b_id, b["PrivateIpAddress"])["NetworkPathFound"] is False
    net.ec2.start_instances(InstanceIds=[b_id])
    assert path_found(net.ec2, a, b_id, "10.0.1.50")["NetworkPathFound"] is True
    # unassigned again: the address is gone from the data plane
    net.ec2.unassign_private_ip_addresses(NetworkInterfaceId=b_eni,
                                          PrivateIpAddresses=["10.0.1.50"])
    assert path_found(net.ec2, a, b_id, "10.0.1.50")["NetworkPathFound"] is False
