"""NAT gateways (vpc-routing.md NG-*) and egress-only internet gateways (IG-5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server


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
    public: str  # 10.0.0.0/24
    private: str  # 10.0.1.0/24
    igw: str
    rtb: str  # the private subnet's table


@pytest.fixture
def net(fresh: Server) -> Net:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    pub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    priv = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=priv)
    return Net(ec2, vpc, pub, priv, igw, rtb)


def nat_state(n: Net, nid: str) -> dict[str, Any]:
    return dict(n.ec2.describe_nat_gateways(NatGatewayIds=[nid])["NatGateways"][0])


def default_route(n: Net) -> dict[str, Any]:
    rt = n.ec2.describe_route_tables(RouteTableIds=[n.rtb])["RouteTables"][0]
    return dict(next(r for r in rt["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"))


def test_public_nat_gateway_lifecycle_NG1_NG11(net: Net) -> None:
    ec2 = net.ec2
    alloc = ec2.allocate_address(Domain="vpc")
    out = ec2.create_nat_gateway(SubnetId=net.public, AllocationId=alloc["AllocationId"],
                                 TagSpecifications=[{"ResourceType": "natgateway", "Tags": [
                                     {"Key": "Name", "Value": "egress"}]}])["NatGateway"]
    nid = out["NatGatewayId"]
    assert nid.startswith("nat-") and len(nid) == 21
    assert out["State"] == "pending"  # as AWS answers; it is available right after
    assert out["ConnectivityType"] == "public" and out["VpcId"] == net.vpc
    assert out["Tags"] == [{"Key": "Name", "Value": "egress"}]
    ec2.get_waiter("nat_gateway_available").wait(
        NatGatewayIds=[nid], WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    got = nat_state(net, nid)
    assert got["State"] == "available" and got["SubnetId"] == net.public
    (addr,) = got["NatGatewayAddresses"]
    assert addr["PublicIp"] == alloc["PublicIp"]
    assert addr["AllocationId"] == alloc["AllocationId"]
    assert addr["PrivateIp"] == "10.0.0.4" and addr["IsPrimary"] is True
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[addr["NetworkInterfaceId"]])[
        "NetworkInterfaces"][0]
    assert eni["InterfaceType"] == "nat_gateway" and eni["RequesterManaged"] is True
    assert eni["SourceDestCheck"] is False and nid in eni["Description"]
    (eip,) = ec2.describe_addresses(AllocationIds=[alloc["AllocationId"]])["Addresses"]
    assert eip["NetworkInterfaceId"] == addr["NetworkInterfaceId"]
    # the EIP and the ENI belong to the NAT gateway
    fails("InvalidIPAddress.InUse", ec2.release_address, AllocationId=alloc["AllocationId"])
    fails("InvalidNetworkInterface.InUse", ec2.delete_network_interface,
          NetworkInterfaceId=addr["NetworkInterfaceId"])
    fails("DependencyViolation", ec2.delete_subnet, SubnetId=net.public)
    ec2.create_route(RouteTableId=net.rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nid)
    assert default_route(net) == {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nid,
                                  "Origin": "CreateRoute", "State": "active"}
    assert ec2.delete_nat_gateway(NatGatewayId=nid)["NatGatewayId"] == nid
    assert nat_state(net, nid)["State"] == "deleted"  # stays visible for a while
    assert default_route(net)["State"] == "blackhole"  # NG-11
    fails("InvalidRoute.InvalidState", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="8.8.8.0/24", NatGatewayId=nid)
    fails("InvalidNetworkInterfaceID.NotFound", ec2.describe_network_interfaces,
          NetworkInterfaceIds=[addr["NetworkInterfaceId"]])
    ec2.release_address(AllocationId=alloc["AllocationId"])  # free again
    ec2.delete_subnet(SubnetId=net.public)
    # replacing the blackhole route with a working target makes it active again
    nid2 = ec2.create_nat_gateway(SubnetId=net.private, ConnectivityType="private")[
        "NatGateway"]["NatGatewayId"]
    ec2.replace_route(RouteTableId=net.rtb, DestinationCidrBlock="0.0.0.0/0",
                      NatGatewayId=nid2)
    assert default_route(net)["State"] == "active"


def test_public_nat_needs_an_elastic_ip_NG1(net: Net) -> None:
    ec2 = net.ec2
    fails("MissingParameter", ec2.create_nat_gateway, SubnetId=net.public)
    fails("InvalidAllocationID.NotFound", ec2.create_nat_gateway, SubnetId=net.public,
          AllocationId="eipalloc-0000000000000000a")
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.create_nat_gateway(SubnetId=net.public, AllocationId=alloc)
    fails("Resource.AlreadyAssociated", ec2.create_nat_gateway, SubnetId=net.private,
          AllocationId=alloc)
    fails("InvalidSubnetID.NotFound", ec2.create_nat_gateway,
          SubnetId="subnet-0000000000000000a", AllocationId=alloc)
    fails("InvalidParameterValue", ec2.create_nat_gateway, SubnetId=net.public,
          ConnectivityType="semi-public")


def test_public_nat_needs_an_internet_gateway_NG1(net: Net) -> None:
    ec2 = net.ec2
    isolated = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=isolated, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    fails("Gateway.NotAttached", ec2.create_nat_gateway, SubnetId=sub, AllocationId=alloc)
    (eip,) = ec2.describe_addresses(AllocationIds=[alloc])["Addresses"]
    assert "AssociationId" not in eip  # nothing half-done


def test_private_nat_gateway_NG1(net: Net) -> None:
    ec2 = net.ec2
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    fails("InvalidParameterCombination", ec2.create_nat_gateway, SubnetId=net.private,
          ConnectivityType="private", AllocationId=alloc)
    out = ec2.create_nat_gateway(SubnetId=net.private, ConnectivityType="private",
                                 PrivateIpAddress="10.0.1.50")["NatGateway"]
    got = nat_state(net, out["NatGatewayId"])
    assert got["ConnectivityType"] == "private"
    (addr,) = got["NatGatewayAddresses"]
    assert addr["PrivateIp"] == "10.0.1.50"
    assert "PublicIp" not in addr and "AllocationId" not in addr
    fails("InvalidIPAddress.InUse", ec2.create_nat_gateway, SubnetId=net.private,
          ConnectivityType="private", PrivateIpAddress="10.0.1.50")
    fails("InvalidParameterValue", ec2.create_nat_gateway, SubnetId=net.private,
          ConnectivityType="private", PrivateIpAddress="10.0.0.50")
    # a private NAT gateway needs no internet gateway
    isolated = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=isolated, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    assert ec2.create_nat_gateway(SubnetId=sub, ConnectivityType="private")["NatGateway"]


def test_describe_nat_gateways_filters_and_errors(net: Net) -> None:
    ec2 = net.ec2
    a = ec2.create_nat_gateway(SubnetId=net.private, ConnectivityType="private")[
        "NatGateway"]["NatGatewayId"]
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    b = ec2.create_nat_gateway(SubnetId=net.public, AllocationId=alloc)["NatGateway"][
        "NatGatewayId"]
    ec2.delete_nat_gateway(NatGatewayId=a)

    def ids(name: str, *values: str) -> set[str]:
        out = ec2.describe_nat_gateways(Filter=[{"Name": name, "Values": list(values)}])
        return {n["NatGatewayId"] for n in out["NatGateways"]}

    assert ids("vpc-id", net.vpc) == {a, b}
    assert ids("subnet-id", net.public) == {b}
    assert ids("state", "available") == {b}
    assert ids("state", "deleted") == {a}
    assert ids("nat-gateway-id", a) == {a}
    fails("NatGatewayNotFound", ec2.describe_nat_gateways,
          NatGatewayIds=["nat-0000000000000000a"])
    fails("NatGatewayNotFound", ec2.delete_nat_gateway, NatGatewayId="nat-0000000000000000a")
    # deleting twice is harmless
    assert ec2.delete_nat_gateway(NatGatewayId=a)["NatGatewayId"] == a


def test_egress_only_internet_gateway_IG5(net: Net) -> None:
    ec2 = net.ec2
    out = ec2.create_egress_only_internet_gateway(VpcId=net.vpc, TagSpecifications=[
        {"ResourceType": "egress-only-internet-gateway",
         "Tags": [{"Key": "Name", "Value": "v6"}]}])["EgressOnlyInternetGateway"]
    gid = out["EgressOnlyInternetGatewayId"]
    assert gid.startswith("eigw-")
    assert out["Attachments"] == [{"VpcId": net.vpc, "State": "attached"}]
    assert out["Tags"] == [{"Key": "Name", "Value": "v6"}]
    got = ec2.describe_egress_only_internet_gateways(EgressOnlyInternetGatewayIds=[gid])
    assert [g["EgressOnlyInternetGatewayId"]
            for g in got["EgressOnlyInternetGateways"]] == [gid]
    tagged = ec2.describe_egress_only_internet_gateways(
        Filters=[{"Name": "tag:Name", "Values": ["v6"]}])["EgressOnlyInternetGateways"]
    assert [g["EgressOnlyInternetGatewayId"] for g in tagged] == [gid]
    fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="0.0.0.0/0", EgressOnlyInternetGatewayId=gid)
    ec2.create_route(RouteTableId=net.rtb, DestinationIpv6CidrBlock="::/0",
                     EgressOnlyInternetGatewayId=gid)
    rt = ec2.describe_route_tables(RouteTableIds=[net.rtb])["RouteTables"][0]
    v6 = next(r for r in rt["Routes"] if r.get("DestinationIpv6CidrBlock") == "::/0")
    assert v6 == {"DestinationIpv6CidrBlock": "::/0", "EgressOnlyInternetGatewayId": gid,
                  "Origin": "CreateRoute", "State": "active"}
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    other_rtb = ec2.create_route_table(VpcId=other)["RouteTable"]["RouteTableId"]
    fails("InvalidParameterValue", ec2.create_route, RouteTableId=other_rtb,
          DestinationIpv6CidrBlock="::/0", EgressOnlyInternetGatewayId=gid)
    assert ec2.delete_egress_only_internet_gateway(
        EgressOnlyInternetGatewayId=gid)["ReturnCode"] is True
    rt = ec2.describe_route_tables(RouteTableIds=[net.rtb])["RouteTables"][0]
    v6 = next(r for r in rt["Routes"] if r.get("DestinationIpv6CidrBlock") == "::/0")
    assert v6["State"] == "blackhole"
    fails("InvalidEgressOnlyInternetGatewayId.NotFound",
          ec2.delete_egress_only_internet_gateway, EgressOnlyInternetGatewayId=gid)
    fails("InvalidVpcID.NotFound", ec2.create_egress_only_internet_gateway,
          VpcId="vpc-0000000000000000a")


def test_nat_gateway_ipv6_routes_only_for_nat64_NG10(net: Net) -> None:
    ec2 = net.ec2
    nid = ec2.create_nat_gateway(SubnetId=net.private, ConnectivityType="private")[
        "NatGateway"]["NatGatewayId"]
    ec2.create_route(RouteTableId=net.rtb, DestinationIpv6CidrBlock="64:ff9b::/96",
                     NatGatewayId=nid)
    fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
          DestinationIpv6CidrBlock="::/0", NatGatewayId=nid)
    rt = ec2.describe_route_tables(RouteTableIds=[net.rtb])["RouteTables"][0]
    assert {"DestinationIpv6CidrBlock": "64:ff9b::/96", "NatGatewayId": nid,
            "Origin": "CreateRoute", "State": "active"} in rt["Routes"]
