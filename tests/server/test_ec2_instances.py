"""RunInstances (networking side), network interfaces and Elastic IPs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server

AMI = "ami-12345678"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def fails(expected: str, fn: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert code(e) == expected, e.value.response["Error"]
    return str(e.value.response["Error"]["Message"])


@dataclass
class Net:
    ec2: Any
    vpc: str
    subnet: str  # 10.0.1.0/24 in us-east-1a
    subnet_b: str  # 10.0.2.0/24 in us-east-1b
    igw: str


@pytest.fixture
def net(fresh: Server) -> Net:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                          AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24",
                          AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    return Net(ec2, vpc, a, b, igw)


def run(n: Net, count: int = 1, **kw: Any) -> list[dict[str, Any]]:
    kw.setdefault("SubnetId", n.subnet)
    if "NetworkInterfaces" in kw:
        kw.pop("SubnetId")
    out = n.ec2.run_instances(ImageId=AMI, MinCount=count, MaxCount=count, **kw)
    return list(out["Instances"])


def instance(n: Net, iid: str) -> dict[str, Any]:
    return dict(n.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0])


def new_eni(n: Net, subnet: str | None = None, **kw: Any) -> dict[str, Any]:
    out = n.ec2.create_network_interface(SubnetId=subnet or n.subnet, **kw)
    return dict(out["NetworkInterface"])


# ---------------------------------------------------------------------- RunInstances
def test_run_instances_shape_and_first_address(net: Net) -> None:
    out = net.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=net.subnet,
                                InstanceType="t3.micro", TagSpecifications=[
                                    {"ResourceType": "instance",
                                     "Tags": [{"Key": "Name", "Value": "web"}]}])
    assert out["ReservationId"].startswith("r-") and out["OwnerId"] == "000000000000"
    (i,) = out["Instances"]
    assert i["InstanceId"].startswith("i-") and len(i["InstanceId"]) == 19
    assert i["PrivateIpAddress"] == "10.0.1.4"  # base + 4: AWS keeps the first four
    assert i["SubnetId"] == net.subnet and i["VpcId"] == net.vpc
    assert i["InstanceType"] == "t3.micro" and i["ImageId"] == AMI
    assert i["Placement"]["AvailabilityZone"] == "us-east-1a"
    assert i["State"] == {"Code": 16, "Name": "running"} or i["State"]["Name"] == "pending"
    assert "PublicIpAddress" not in i  # the subnet does not map public IPs
    assert i["SourceDestCheck"] is True
    assert i["Tags"] == [{"Key": "Name", "Value": "web"}]
    assert i["PrivateDnsName"] == "ip-10-0-1-4.ec2.internal"
    (nic,) = i["NetworkInterfaces"]
    assert nic["PrivateIpAddress"] == "10.0.1.4"
    assert nic["Attachment"]["DeviceIndex"] == 0 and nic["Attachment"]["DeleteOnTermination"]
    again = instance(net, i["InstanceId"])
    assert again["State"] == {"Code": 16, "Name": "running"}
    assert again["NetworkInterfaces"][0]["NetworkInterfaceId"] == nic["NetworkInterfaceId"]
    eni = net.ec2.describe_network_interfaces(NetworkInterfaceIds=[nic["NetworkInterfaceId"]])[
        "NetworkInterfaces"][0]
    assert eni["Attachment"]["InstanceId"] == i["InstanceId"] and eni["Status"] == "in-use"


def test_addresses_are_allocated_in_order_and_never_twice(net: Net) -> None:
    a = run(net, 3)
    assert [i["PrivateIpAddress"] for i in a] == ["10.0.1.4", "10.0.1.5", "10.0.1.6"]
    assert [i["AmiLaunchIndex"] for i in a] == [0, 1, 2]
    given = run(net, PrivateIpAddress="10.0.1.7")[0]
    assert given["PrivateIpAddress"] == "10.0.1.7"
    assert run(net)[0]["PrivateIpAddress"] == "10.0.1.8"
    net.ec2.terminate_instances(InstanceIds=[a[1]["InstanceId"]])
    assert run(net)[0]["PrivateIpAddress"] == "10.0.1.5"  # freed address comes back
    # the same address may be used in another subnet and in another VPC
    assert run(net, SubnetId=net.subnet_b)[0]["PrivateIpAddress"] == "10.0.2.4"
    other = net.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    osub = net.ec2.create_subnet(VpcId=other, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    assert run(net, SubnetId=osub, PrivateIpAddress="10.0.1.7")[0]["PrivateIpAddress"] == \
        "10.0.1.7"


def test_min_and_max_count(net: Net) -> None:
    out = net.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=4, SubnetId=net.subnet)
    assert len(out["Instances"]) == 4  # as many as MaxCount when there is room
    assert len({i["InstanceId"] for i in out["Instances"]}) == 4
    assert len({i["PrivateIpAddress"] for i in out["Instances"]}) == 4
    ids = [i["InstanceId"] for i in out["Instances"]]
    (reservation,) = net.ec2.describe_instances(InstanceIds=ids)["Reservations"]
    assert reservation["ReservationId"] == out["ReservationId"]  # launched together
    assert [i["InstanceId"] for i in reservation["Instances"]] == sorted(ids)
    alone = net.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=net.subnet)
    both = net.ec2.describe_instances(InstanceIds=[ids[0], alone["Instances"][0]["InstanceId"]])
    assert {r["ReservationId"] for r in both["Reservations"]} == {out["ReservationId"],
                                                                  alone["ReservationId"]}
    fails("InvalidParameterValue", net.ec2.run_instances, ImageId=AMI, MinCount=3, MaxCount=2,
          SubnetId=net.subnet)
    fails("InvalidParameterValue", net.ec2.run_instances, ImageId=AMI, MinCount=0, MaxCount=2,
          SubnetId=net.subnet)
    fails("InvalidParameterCombination", net.ec2.run_instances, ImageId=AMI, MinCount=2,
          MaxCount=2, SubnetId=net.subnet, PrivateIpAddress="10.0.1.50")


def test_run_instances_address_errors(net: Net) -> None:
    run(net, PrivateIpAddress="10.0.1.10")
    fails("InvalidIPAddress.InUse", net.ec2.run_instances, ImageId=AMI, MinCount=1, MaxCount=1,
          SubnetId=net.subnet, PrivateIpAddress="10.0.1.10")
    for ip in ("10.0.2.10", "10.0.1.0", "10.0.1.1", "10.0.1.3", "10.0.1.255", "nonsense"):
        fails("InvalidParameterValue", net.ec2.run_instances, ImageId=AMI, MinCount=1,
              MaxCount=1, SubnetId=net.subnet, PrivateIpAddress=ip)
    fails("InvalidSubnetID.NotFound", net.ec2.run_instances, ImageId=AMI, MinCount=1,
          MaxCount=1, SubnetId="subnet-0000000000000000a")
    assert len(net.ec2.describe_instances(Filters=[{"Name": "subnet-id",
                                                    "Values": [net.subnet]}])[
        "Reservations"]) == 1


def test_public_ip_follows_the_subnet_or_the_request(net: Net) -> None:
    ec2 = net.ec2
    ec2.modify_subnet_attribute(SubnetId=net.subnet, MapPublicIpOnLaunch={"Value": True})
    mapped = run(net)[0]
    assert mapped["PublicIpAddress"]
    assert mapped["NetworkInterfaces"][0]["Association"]["PublicIp"] == \
        mapped["PublicIpAddress"]
    assert mapped["NetworkInterfaces"][0]["Association"]["IpOwnerId"] == "amazon"
    declined = run(net, NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": net.subnet,
                                            "AssociatePublicIpAddress": False}])[0]
    assert "PublicIpAddress" not in declined
    asked = run(net, NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": net.subnet_b,
                                         "AssociatePublicIpAddress": True}])[0]
    assert asked["PublicIpAddress"] and asked["SubnetId"] == net.subnet_b
    assert asked["PublicIpAddress"] != mapped["PublicIpAddress"]
    got = ec2.describe_instances(Filters=[{"Name": "ip-address",
                                           "Values": [asked["PublicIpAddress"]]}])
    assert [r["Instances"][0]["InstanceId"] for r in got["Reservations"]] == [
        asked["InstanceId"]]
    # one launch of three: three public addresses, none shared with an earlier instance
    batch = run(net, 3)
    ips = [i["PublicIpAddress"] for i in batch]
    assert len(set(ips)) == 3
    assert not set(ips) & {mapped["PublicIpAddress"], asked["PublicIpAddress"]}


def test_launch_into_the_default_vpc(net: Net) -> None:
    i = net.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]
    default_vpc = net.ec2.describe_vpcs(Filters=[{"Name": "is-default",
                                                  "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    assert i["VpcId"] == default_vpc
    assert i["PublicIpAddress"]  # default subnets map public IPs (IG-6)
    assert i["PrivateIpAddress"].startswith("172.31.")


def test_security_groups_on_launch(net: Net) -> None:
    ec2 = net.ec2
    web = ec2.create_security_group(GroupName="web", Description="w", VpcId=net.vpc)["GroupId"]
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_security_group(GroupName="far", Description="f",
                                        VpcId=other_vpc)["GroupId"]
    i = run(net, SecurityGroupIds=[web])[0]
    assert [g["GroupId"] for g in i["SecurityGroups"]] == [web]
    assert i["NetworkInterfaces"][0]["Groups"] == [{"GroupId": web, "GroupName": "web"}]
    fails("InvalidParameter", ec2.run_instances, ImageId=AMI, MinCount=1, MaxCount=1,
          SubnetId=net.subnet, SecurityGroupIds=[foreign])
    fails("InvalidGroup.NotFound", ec2.run_instances, ImageId=AMI, MinCount=1, MaxCount=1,
          SubnetId=net.subnet, SecurityGroupIds=["sg-0000000000000000a"])
    by_name = run(net, SecurityGroups=["web"])[0]
    assert [g["GroupId"] for g in by_name["SecurityGroups"]] == [web]
    fails("InvalidGroup.NotFound", ec2.run_instances, ImageId=AMI, MinCount=1, MaxCount=1,
          SubnetId=net.subnet, SecurityGroups=["far"])


def test_describe_instances_filters(net: Net) -> None:
    ec2 = net.ec2
    web = ec2.create_security_group(GroupName="web", Description="w", VpcId=net.vpc)["GroupId"]
    a = run(net, SecurityGroupIds=[web], InstanceType="t3.small", TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "web"}]}])[0]
    b = run(net, SubnetId=net.subnet_b)[0]
    c = run(net)[0]
    ec2.terminate_instances(InstanceIds=[c["InstanceId"]])

    def ids(name: str, *values: str) -> set[str]:
        f = [{"Name": name, "Values": list(values)}]
        return {i["InstanceId"] for r in ec2.describe_instances(Filters=f)["Reservations"]
                for i in r["Instances"]}

    assert ids("vpc-id", net.vpc) == {a["InstanceId"], b["InstanceId"], c["InstanceId"]}
    assert ids("subnet-id", net.subnet_b) == {b["InstanceId"]}
    assert ids("instance-state-name", "running") == {a["InstanceId"], b["InstanceId"]}
    assert ids("instance-state-name", "terminated") == {c["InstanceId"]}
    assert ids("private-ip-address", "10.0.2.4") == {b["InstanceId"]}
    assert ids("instance.group-id", web) == {a["InstanceId"]}
    assert ids("instance-type", "t3.small") == {a["InstanceId"]}
    assert ids("availability-zone", "us-east-1b") == {b["InstanceId"]}
    assert ids("tag:role", "web") == {a["InstanceId"]}
    assert ids("network-interface.network-interface-id",
               a["NetworkInterfaces"][0]["NetworkInterfaceId"]) == {a["InstanceId"]}
    fails("InvalidInstanceID.NotFound", ec2.describe_instances,
          InstanceIds=["i-0000000000000000a"])


def test_terminate_deletes_primary_eni_and_keeps_extra_ones(net: Net) -> None:
    ec2 = net.ec2
    i = run(net)[0]
    primary = i["NetworkInterfaces"][0]["NetworkInterfaceId"]
    extra = new_eni(net)["NetworkInterfaceId"]
    ec2.attach_network_interface(NetworkInterfaceId=extra, InstanceId=i["InstanceId"],
                                 DeviceIndex=1)
    out = ec2.terminate_instances(InstanceIds=[i["InstanceId"]])
    (change,) = out["TerminatingInstances"]
    assert change["PreviousState"]["Name"] == "running"
    assert change["CurrentState"] == {"Code": 48, "Name": "terminated"}
    assert instance(net, i["InstanceId"])["State"]["Name"] == "terminated"
    fails("InvalidNetworkInterfaceID.NotFound", ec2.describe_network_interfaces,
          NetworkInterfaceIds=[primary])
    left = ec2.describe_network_interfaces(NetworkInterfaceIds=[extra])["NetworkInterfaces"][0]
    assert left["Status"] == "available" and "Attachment" not in left
    again = ec2.terminate_instances(InstanceIds=[i["InstanceId"]])["TerminatingInstances"][0]
    assert again["PreviousState"]["Name"] == "terminated"
    fails("InvalidInstanceID.NotFound", ec2.terminate_instances,
          InstanceIds=["i-0000000000000000a"])


def test_modify_instance_source_dest_check(net: Net) -> None:
    ec2 = net.ec2
    i = run(net)[0]
    eni = i["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ec2.modify_instance_attribute(InstanceId=i["InstanceId"], SourceDestCheck={"Value": False})
    assert instance(net, i["InstanceId"])["SourceDestCheck"] is False
    got = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    assert got["SourceDestCheck"] is False
    attr = ec2.describe_instance_attribute(InstanceId=i["InstanceId"],
                                           Attribute="sourceDestCheck")
    assert attr["SourceDestCheck"] == {"Value": False}
    ec2.modify_instance_attribute(InstanceId=i["InstanceId"], SourceDestCheck={"Value": True})
    assert instance(net, i["InstanceId"])["SourceDestCheck"] is True
    fails("InvalidInstanceID.NotFound", ec2.modify_instance_attribute,
          InstanceId="i-0000000000000000a", SourceDestCheck={"Value": False})


def test_modify_instance_groups(net: Net) -> None:
    ec2 = net.ec2
    web = ec2.create_security_group(GroupName="web", Description="w", VpcId=net.vpc)["GroupId"]
    i = run(net)[0]
    ec2.modify_instance_attribute(InstanceId=i["InstanceId"], Groups=[web])
    assert [g["GroupId"] for g in instance(net, i["InstanceId"])["SecurityGroups"]] == [web]


# ---------------------------------------------------------------------- ENIs
def test_network_interface_lifecycle(net: Net) -> None:
    ec2 = net.ec2
    web = ec2.create_security_group(GroupName="web", Description="w", VpcId=net.vpc)["GroupId"]
    eni = new_eni(net, Groups=[web], Description="appliance", TagSpecifications=[
        {"ResourceType": "network-interface", "Tags": [{"Key": "Name", "Value": "x"}]}])
    eid = eni["NetworkInterfaceId"]
    assert eid.startswith("eni-") and eni["Status"] == "available"
    assert eni["PrivateIpAddress"] == "10.0.1.4" and eni["Description"] == "appliance"
    assert eni["Groups"] == [{"GroupId": web, "GroupName": "web"}]
    assert eni["InterfaceType"] == "interface" and eni["SourceDestCheck"] is True
    assert eni["TagSet"] == [{"Key": "Name", "Value": "x"}]
    assert eni["AvailabilityZone"] == "us-east-1a"
    assert "Attachment" not in eni
    fails("InvalidIPAddress.InUse", ec2.create_network_interface, SubnetId=net.subnet,
          PrivateIpAddress="10.0.1.4")
    i = run(net)[0]
    att = ec2.attach_network_interface(NetworkInterfaceId=eid, InstanceId=i["InstanceId"],
                                       DeviceIndex=1)["AttachmentId"]
    assert att.startswith("eni-attach-")
    got = ec2.describe_network_interfaces(NetworkInterfaceIds=[eid])["NetworkInterfaces"][0]
    assert got["Status"] == "in-use"
    assert got["Attachment"]["InstanceId"] == i["InstanceId"]
    assert got["Attachment"]["DeviceIndex"] == 1
    assert got["Attachment"]["AttachmentId"] == att
    assert len(instance(net, i["InstanceId"])["NetworkInterfaces"]) == 2
    by_instance = ec2.describe_network_interfaces(Filters=[
        {"Name": "attachment.instance-id", "Values": [i["InstanceId"]]}])["NetworkInterfaces"]
    assert len(by_instance) == 2
    fails("InvalidNetworkInterface.InUse", ec2.delete_network_interface,
          NetworkInterfaceId=eid)
    fails("InvalidNetworkInterface.InUse", ec2.attach_network_interface,
          NetworkInterfaceId=eid, InstanceId=i["InstanceId"], DeviceIndex=2)
    ec2.detach_network_interface(AttachmentId=att)
    got = ec2.describe_network_interfaces(NetworkInterfaceIds=[eid])["NetworkInterfaces"][0]
    assert got["Status"] == "available" and "Attachment" not in got
    assert len(instance(net, i["InstanceId"])["NetworkInterfaces"]) == 1
    fails("InvalidAttachmentID.NotFound", ec2.detach_network_interface, AttachmentId=att)
    ec2.delete_network_interface(NetworkInterfaceId=eid)
    fails("InvalidNetworkInterfaceID.NotFound", ec2.delete_network_interface,
          NetworkInterfaceId=eid)


def test_attach_errors(net: Net) -> None:
    ec2 = net.ec2
    i = run(net)[0]
    primary = i["NetworkInterfaces"][0]
    fails("OperationNotPermitted", ec2.detach_network_interface,
          AttachmentId=primary["Attachment"]["AttachmentId"])
    fails("InvalidNetworkInterface.InUse", ec2.delete_network_interface,
          NetworkInterfaceId=primary["NetworkInterfaceId"])
    elsewhere = new_eni(net, net.subnet_b)["NetworkInterfaceId"]
    fails("InvalidParameterCombination", ec2.attach_network_interface,
          NetworkInterfaceId=elsewhere, InstanceId=i["InstanceId"], DeviceIndex=1)
    eid = new_eni(net)["NetworkInterfaceId"]
    fails("InvalidParameterValue", ec2.attach_network_interface, NetworkInterfaceId=eid,
          InstanceId=i["InstanceId"], DeviceIndex=0)  # device 0 is taken
    fails("InvalidInstanceID.NotFound", ec2.attach_network_interface, NetworkInterfaceId=eid,
          InstanceId="i-0000000000000000a", DeviceIndex=1)
    fails("InvalidNetworkInterfaceID.NotFound", ec2.attach_network_interface,
          NetworkInterfaceId="eni-0000000000000000a", InstanceId=i["InstanceId"],
          DeviceIndex=1)
    ec2.terminate_instances(InstanceIds=[i["InstanceId"]])
    fails("IncorrectInstanceState", ec2.attach_network_interface, NetworkInterfaceId=eid,
          InstanceId=i["InstanceId"], DeviceIndex=1)


def test_eni_errors_on_create(net: Net) -> None:
    ec2 = net.ec2
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_security_group(GroupName="far", Description="f",
                                        VpcId=other_vpc)["GroupId"]
    fails("InvalidParameter", ec2.create_network_interface, SubnetId=net.subnet,
          Groups=[foreign])
    fails("InvalidSubnetID.NotFound", ec2.create_network_interface,
          SubnetId="subnet-0000000000000000a")
    fails("InvalidParameterValue", ec2.create_network_interface, SubnetId=net.subnet,
          PrivateIpAddress="10.0.2.8")


def test_eni_route_blackholes_when_detached_or_deleted_ST2(net: Net) -> None:
    ec2 = net.ec2
    rtb = ec2.create_route_table(VpcId=net.vpc)["RouteTable"]["RouteTableId"]
    i = run(net)[0]
    eid = new_eni(net)["NetworkInterfaceId"]
    att = ec2.attach_network_interface(NetworkInterfaceId=eid, InstanceId=i["InstanceId"],
                                       DeviceIndex=1)["AttachmentId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="192.168.0.0/16",
                     NetworkInterfaceId=eid)

    def state() -> str:
        rt = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]
        r = next(r for r in rt["Routes"] if r.get("DestinationCidrBlock") == "192.168.0.0/16")
        assert r["NetworkInterfaceId"] == eid
        return str(r["State"])

    assert state() == "active"
    ec2.detach_network_interface(AttachmentId=att)
    assert state() == "blackhole"
    ec2.attach_network_interface(NetworkInterfaceId=eid, InstanceId=i["InstanceId"],
                                 DeviceIndex=1)
    assert state() == "active"
    ec2.detach_network_interface(AttachmentId=att)
    ec2.delete_network_interface(NetworkInterfaceId=eid)
    assert state() == "blackhole"


def test_modify_network_interface_attribute(net: Net) -> None:
    ec2 = net.ec2
    eid = new_eni(net)["NetworkInterfaceId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eid,
                                           SourceDestCheck={"Value": False})
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eid,
                                           Description={"Value": "router"})
    got = ec2.describe_network_interfaces(NetworkInterfaceIds=[eid])["NetworkInterfaces"][0]
    assert got["SourceDestCheck"] is False and got["Description"] == "router"
    by = ec2.describe_network_interfaces(Filters=[{"Name": "source-dest-check",
                                                   "Values": ["false"]}])["NetworkInterfaces"]
    assert [e["NetworkInterfaceId"] for e in by] == [eid]


# ---------------------------------------------------------------------- Elastic IPs
def test_elastic_ip_lifecycle(net: Net) -> None:
    ec2 = net.ec2
    alloc = ec2.allocate_address(Domain="vpc")
    aid, ip = alloc["AllocationId"], alloc["PublicIp"]
    assert aid.startswith("eipalloc-") and alloc["Domain"] == "vpc"
    assert alloc["NetworkBorderGroup"] == "us-east-1"
    i = run(net)[0]
    assoc = ec2.associate_address(AllocationId=aid, InstanceId=i["InstanceId"])[
        "AssociationId"]
    assert assoc.startswith("eipassoc-")
    assert instance(net, i["InstanceId"])["PublicIpAddress"] == ip
    (addr,) = ec2.describe_addresses(AllocationIds=[aid])["Addresses"]
    assert addr["AssociationId"] == assoc and addr["InstanceId"] == i["InstanceId"]
    assert addr["PrivateIpAddress"] == "10.0.1.4"
    assert addr["NetworkInterfaceId"] == i["NetworkInterfaces"][0]["NetworkInterfaceId"]
    by_ip = ec2.describe_addresses(PublicIps=[ip])["Addresses"]
    assert [a["AllocationId"] for a in by_ip] == [aid]
    nic = ec2.describe_network_interfaces(NetworkInterfaceIds=[addr["NetworkInterfaceId"]])[
        "NetworkInterfaces"][0]
    assert nic["Association"]["PublicIp"] == ip and nic["Association"]["AllocationId"] == aid
    fails("InvalidIPAddress.InUse", ec2.release_address, AllocationId=aid)
    second = run(net)[0]
    fails("Resource.AlreadyAssociated", ec2.associate_address, AllocationId=aid,
          InstanceId=second["InstanceId"])
    moved = ec2.associate_address(AllocationId=aid, InstanceId=second["InstanceId"],
                                  AllowReassociation=True)["AssociationId"]
    assert "PublicIpAddress" not in instance(net, i["InstanceId"])
    assert instance(net, second["InstanceId"])["PublicIpAddress"] == ip
    ec2.disassociate_address(AssociationId=moved)
    assert "PublicIpAddress" not in instance(net, second["InstanceId"])
    (addr,) = ec2.describe_addresses(AllocationIds=[aid])["Addresses"]
    assert "AssociationId" not in addr and "InstanceId" not in addr
    fails("InvalidAssociationID.NotFound", ec2.disassociate_address, AssociationId=moved)
    ec2.release_address(AllocationId=aid)
    fails("InvalidAllocationID.NotFound", ec2.release_address, AllocationId=aid)
    fails("InvalidAllocationID.NotFound", ec2.describe_addresses, AllocationIds=[aid])
    fails("InvalidAllocationID.NotFound", ec2.associate_address, AllocationId=aid,
          InstanceId=second["InstanceId"])


def test_elastic_ip_replaces_auto_assigned_public_ip(net: Net) -> None:
    ec2 = net.ec2
    auto = run(net, NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": net.subnet,
                                        "AssociatePublicIpAddress": True}])[0]
    alloc = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(AllocationId=alloc["AllocationId"], InstanceId=auto["InstanceId"])
    assert instance(net, auto["InstanceId"])["PublicIpAddress"] == alloc["PublicIp"]
    # the replaced automatic address is free; the EIP cannot be associated twice
    other = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(AllocationId=other["AllocationId"], InstanceId=auto["InstanceId"])
    (first,) = ec2.describe_addresses(AllocationIds=[alloc["AllocationId"]])["Addresses"]
    assert "AssociationId" not in first  # pushed off the address it was on
    ec2.release_address(AllocationId=alloc["AllocationId"])


def test_elastic_ip_association_needs_an_internet_gateway(net: Net) -> None:
    ec2 = net.ec2
    isolated = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=isolated, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    i = run(net, SubnetId=sub)[0]
    aid = ec2.allocate_address(Domain="vpc")["AllocationId"]
    fails("Gateway.NotAttached", ec2.associate_address, AllocationId=aid,
          InstanceId=i["InstanceId"])


def test_eip_is_freed_when_its_instance_terminates(net: Net) -> None:
    ec2 = net.ec2
    i = run(net)[0]
    aid = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=aid, InstanceId=i["InstanceId"])
    ec2.terminate_instances(InstanceIds=[i["InstanceId"]])
    (addr,) = ec2.describe_addresses(AllocationIds=[aid])["Addresses"]
    assert "AssociationId" not in addr and "NetworkInterfaceId" not in addr
    ec2.release_address(AllocationId=aid)


def test_eip_on_a_private_address_of_an_eni(net: Net) -> None:
    ec2 = net.ec2
    eid = new_eni(net)["NetworkInterfaceId"]
    aid = ec2.allocate_address(Domain="vpc")["AllocationId"]
    assoc = ec2.associate_address(AllocationId=aid, NetworkInterfaceId=eid,
                                  PrivateIpAddress="10.0.1.4")["AssociationId"]
    got = ec2.describe_addresses(Filters=[{"Name": "association-id", "Values": [assoc]}])
    assert [a["AllocationId"] for a in got["Addresses"]] == [aid]
    fails("InvalidParameterValue", ec2.associate_address, AllocationId=aid,
          NetworkInterfaceId=eid, PrivateIpAddress="10.0.1.99", AllowReassociation=True)
    ec2.delete_network_interface(NetworkInterfaceId=eid)  # takes the association with it
    (addr,) = ec2.describe_addresses(AllocationIds=[aid])["Addresses"]
    assert "AssociationId" not in addr
