"""Route tables, routes and internet gateways (vpc-routing.md RT-*, GW-*, ST-*, IG-*)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


@dataclass
class Net:
    ec2: Any
    vpc: str
    subnet: str  # 10.0.1.0/24
    subnet2: str  # 10.0.2.0/24
    main: str
    rtb: str  # a custom table
    igw: str  # attached


@pytest.fixture
def net(fresh: Server) -> Net:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    s1 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    s2 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    main = ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc]},
        {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]["RouteTableId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    return Net(ec2, vpc, s1, s2, main, rtb, igw)


def routes(n: Net, table: str | None = None) -> list[dict[str, Any]]:
    rt = n.ec2.describe_route_tables(RouteTableIds=[table or n.rtb])["RouteTables"][0]
    return list(rt["Routes"])


def route_to(n: Net, dst: str, table: str | None = None) -> dict[str, Any]:
    return next(r for r in routes(n, table)
                if dst in (r.get("DestinationCidrBlock"), r.get("DestinationIpv6CidrBlock")))


def eni(n: Net, subnet: str | None = None) -> str:
    out = n.ec2.create_network_interface(SubnetId=subnet or n.subnet)
    return str(out["NetworkInterface"]["NetworkInterfaceId"])


def nat(n: Net, subnet: str | None = None) -> str:
    out = n.ec2.create_nat_gateway(SubnetId=subnet or n.subnet, ConnectivityType="private")
    return str(out["NatGateway"]["NatGatewayId"])


def fails(expected: str, fn: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert code(e) == expected, e.value.response["Error"]
    return str(e.value.response["Error"]["Message"])


# ---------------------------------------------------------------------- tables
def test_create_route_table_shape_and_local_routes_RT5(net: Net) -> None:
    out = net.ec2.create_route_table(VpcId=net.vpc, TagSpecifications=[
        {"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": "private"}]}])
    rt = out["RouteTable"]
    assert rt["RouteTableId"].startswith("rtb-") and rt["VpcId"] == net.vpc
    assert rt["Associations"] == [] and rt["PropagatingVgws"] == []
    assert rt["Tags"] == [{"Key": "Name", "Value": "private"}]
    assert rt["Routes"] == [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local",
                             "Origin": "CreateRouteTable", "State": "active"}]
    fails("InvalidVpcID.NotFound", net.ec2.create_route_table, VpcId="vpc-0000000000000000a")


def test_describe_route_tables_filters(net: Net) -> None:
    ec2 = net.ec2
    ec2.associate_route_table(RouteTableId=net.rtb, SubnetId=net.subnet)
    ec2.create_route(RouteTableId=net.rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=net.igw)
    nid = nat(net)
    ec2.create_route(RouteTableId=net.main, DestinationCidrBlock="192.168.0.0/16",
                     NatGatewayId=nid)

    def ids(name: str, *values: str) -> set[str]:
        f = [{"Name": name, "Values": list(values)}, {"Name": "vpc-id", "Values": [net.vpc]}]
        return {t["RouteTableId"] for t in ec2.describe_route_tables(Filters=f)["RouteTables"]}

    assert ids("vpc-id", net.vpc) == {net.main, net.rtb}
    assert ids("association.main", "true") == {net.main}
    assert ids("association.subnet-id", net.subnet) == {net.rtb}
    assert ids("association.subnet-id", net.subnet2) == set()  # implicit association
    assert ids("route.gateway-id", net.igw) == {net.rtb}
    assert ids("route.gateway-id", "local") == {net.main, net.rtb}
    assert ids("route.gateway-id", nid) == set()  # a NAT gateway is not a gateway-id
    assert ids("route.nat-gateway-id", nid) == {net.main}
    assert ids("route.destination-cidr-block", "192.168.0.0/16") == {net.main}
    assert ids("route.state", "active") == {net.main, net.rtb}
    assert ids("route.origin", "CreateRoute") == {net.main, net.rtb}
    assert ids("route-table-id", net.rtb) == {net.rtb}
    assoc = next(a for a in ec2.describe_route_tables(RouteTableIds=[net.rtb])["RouteTables"]
                 [0]["Associations"])["RouteTableAssociationId"]
    assert ids("association.route-table-association-id", assoc) == {net.rtb}
    fails("InvalidRouteTableID.NotFound", ec2.describe_route_tables,
          RouteTableIds=["rtb-0000000000000000a"])


# ---------------------------------------------------------------------- CreateRoute
def test_create_route_canonicalises_and_rejects_duplicates_RT8_RT9(net: Net) -> None:
    ec2 = net.ec2
    assert ec2.create_route(RouteTableId=net.rtb, DestinationCidrBlock="100.68.0.18/18",
                            GatewayId=net.igw)["Return"] is True
    assert route_to(net, "100.68.0.0/18") == {
        "DestinationCidrBlock": "100.68.0.0/18", "GatewayId": net.igw, "Origin": "CreateRoute",
        "State": "active"}
    nid = nat(net)
    for dst in ("100.68.0.0/18", "100.68.1.1/18"):
        fails("RouteAlreadyExists", ec2.create_route, RouteTableId=net.rtb,
              DestinationCidrBlock=dst, NatGatewayId=nid)
    # E2: ReplaceRoute changes the target, the origin stays CreateRoute
    ec2.replace_route(RouteTableId=net.rtb, DestinationCidrBlock="100.68.0.0/18",
                      NatGatewayId=nid)
    assert route_to(net, "100.68.0.0/18") == {
        "DestinationCidrBlock": "100.68.0.0/18", "NatGatewayId": nid, "Origin": "CreateRoute",
        "State": "active"}
    ec2.delete_route(RouteTableId=net.rtb, DestinationCidrBlock="100.68.0.9/18")
    assert len(routes(net)) == 1


def test_missing_route_is_not_found_RT10(net: Net) -> None:
    fails("InvalidRoute.NotFound", net.ec2.replace_route, RouteTableId=net.rtb,
          DestinationCidrBlock="0.0.0.0/0", GatewayId=net.igw)
    fails("InvalidRoute.NotFound", net.ec2.delete_route, RouteTableId=net.rtb,
          DestinationCidrBlock="0.0.0.0/0")
    fails("InvalidRoute.NotFound", net.ec2.delete_route, RouteTableId=net.rtb,
          DestinationIpv6CidrBlock="::/0")
    fails("InvalidRouteTableID.NotFound", net.ec2.create_route,
          RouteTableId="rtb-0000000000000000a", DestinationCidrBlock="0.0.0.0/0",
          GatewayId=net.igw)


@pytest.mark.parametrize("dst", ["169.254.168.0/22", "169.254.169.0/24", "169.254.169.254/32"])
def test_reserved_ipv4_destinations_rejected_RT11(net: Net, dst: str) -> None:
    fails("InvalidParameterValue", net.ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock=dst, GatewayId=net.igw)


def test_reserved_ipv6_destination_rejected_and_wider_accepted_RT11(net: Net) -> None:
    ec2 = net.ec2
    fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
          DestinationIpv6CidrBlock="fd00:ec2::/64", GatewayId=net.igw)
    fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
          DestinationIpv6CidrBlock="fd00:ec2::/32", GatewayId=net.igw)
    target = eni(net)
    ec2.create_route(RouteTableId=net.rtb, DestinationCidrBlock="169.254.0.0/16",
                     NetworkInterfaceId=target)
    ec2.create_route(RouteTableId=net.rtb, DestinationIpv6CidrBlock="fd00::/16",
                     GatewayId=net.igw)
    assert route_to(net, "169.254.0.0/16")["NetworkInterfaceId"] == target
    assert route_to(net, "fd00::/16")["GatewayId"] == net.igw


def test_one_destination_one_target_RT7(net: Net) -> None:
    ec2 = net.ec2
    nid = nat(net)
    fails("InvalidParameterCombination", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="0.0.0.0/0", GatewayId=net.igw, NatGatewayId=nid)
    fails("MissingParameter", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="0.0.0.0/0")
    fails("InvalidParameterCombination", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="0.0.0.0/0", DestinationIpv6CidrBlock="::/0",
          GatewayId=net.igw)
    fails("MissingParameter", ec2.create_route, RouteTableId=net.rtb, GatewayId=net.igw)
    fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="::/0", GatewayId=net.igw)
    fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
          DestinationIpv6CidrBlock="0.0.0.0/0", GatewayId=net.igw)
    fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="not-a-cidr", GatewayId=net.igw)
    assert len(routes(net)) == 1


def test_unknown_targets(net: Net) -> None:
    ec2 = net.ec2
    for kw, err in (({"GatewayId": "igw-0000000000000000a"}, "InvalidGatewayID.NotFound"),
                    ({"GatewayId": "bogus-1"}, "InvalidGatewayID.NotFound"),
                    ({"NatGatewayId": "nat-0000000000000000a"}, "InvalidNatGatewayID.NotFound"),
                    ({"NetworkInterfaceId": "eni-0000000000000000a"},
                     "InvalidNetworkInterfaceID.NotFound"),
                    ({"InstanceId": "i-0000000000000000a"}, "InvalidInstanceID.NotFound"),
                    ({"EgressOnlyInternetGatewayId": "eigw-0000000000000000a"},
                     "InvalidEgressOnlyInternetGatewayId.NotFound")):
        fails(err, ec2.create_route, RouteTableId=net.rtb, DestinationCidrBlock="8.8.8.0/24",
              **kw)


def test_targets_of_another_vpc_are_rejected(net: Net) -> None:
    ec2 = net.ec2
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    osub = ec2.create_subnet(VpcId=other, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    for kw in ({"NetworkInterfaceId": eni(net, osub)}, {"NatGatewayId": nat(net, osub)}):
        fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
              DestinationCidrBlock="8.8.8.0/24", **kw)


def test_instance_target_reports_instance_and_eni_RT14(net: Net) -> None:
    ec2 = net.ec2
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                             SubnetId=net.subnet)["Instances"][0]
    ec2.create_route(RouteTableId=net.rtb, DestinationCidrBlock="192.168.0.0/16",
                     InstanceId=inst["InstanceId"])
    r = route_to(net, "192.168.0.0/16")
    assert r["InstanceId"] == inst["InstanceId"]
    assert r["InstanceOwnerId"] == "000000000000"
    assert r["NetworkInterfaceId"] == inst["NetworkInterfaces"][0]["NetworkInterfaceId"]
    assert r["State"] == "active"
    extra = eni(net)
    ec2.attach_network_interface(NetworkInterfaceId=extra, InstanceId=inst["InstanceId"],
                                 DeviceIndex=1)
    fails("InvalidInstanceID", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="172.16.0.0/12", InstanceId=inst["InstanceId"])
    ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])
    assert route_to(net, "192.168.0.0/16")["State"] == "blackhole"  # ST-2


# ---------------------------------------------------------------------- local route
def test_local_route_cannot_be_deleted_but_target_can_be_replaced_RT12(net: Net) -> None:
    ec2 = net.ec2
    fails("InvalidParameterValue", ec2.delete_route, RouteTableId=net.rtb,
          DestinationCidrBlock="10.0.0.0/16")
    fails("RouteAlreadyExists", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="10.0.0.0/16", GatewayId=net.igw)
    fails("InvalidParameterValue", ec2.replace_route, RouteTableId=net.rtb,
          DestinationCidrBlock="10.0.0.0/16", GatewayId=net.igw)
    appliance = eni(net)
    ec2.replace_route(RouteTableId=net.rtb, DestinationCidrBlock="10.0.0.0/16",
                      NetworkInterfaceId=appliance)
    r = route_to(net, "10.0.0.0/16")
    assert r["NetworkInterfaceId"] == appliance and r["Origin"] == "CreateRouteTable"
    assert "GatewayId" not in r
    fails("InvalidParameterValue", ec2.delete_route, RouteTableId=net.rtb,
          DestinationCidrBlock="10.0.0.0/16")
    ec2.replace_route(RouteTableId=net.rtb, DestinationCidrBlock="10.0.0.0/16",
                      LocalTarget=True)
    assert route_to(net, "10.0.0.0/16") == {
        "DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local",
        "Origin": "CreateRouteTable", "State": "active"}
    # LocalTarget only goes back to local: a non-VPC destination cannot use it
    ec2.create_route(RouteTableId=net.rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=net.igw)
    fails("InvalidParameterValue", ec2.replace_route, RouteTableId=net.rtb,
          DestinationCidrBlock="0.0.0.0/0", LocalTarget=True)


def test_more_specific_than_local_only_whole_subnet_to_eni_or_nat_RT13(net: Net) -> None:
    ec2 = net.ec2
    appliance, nid = eni(net, net.subnet2), nat(net, net.subnet2)
    ec2.create_route(RouteTableId=net.rtb, DestinationCidrBlock="10.0.1.0/24",
                     NetworkInterfaceId=appliance)
    ec2.create_route(RouteTableId=net.main, DestinationCidrBlock="10.0.1.0/24",
                     NatGatewayId=nid)
    assert route_to(net, "10.0.1.0/24")["NetworkInterfaceId"] == appliance
    for dst, kw in (("10.0.2.0/24", {"GatewayId": net.igw}),  # whole subnet, wrong target
                    ("10.0.1.0/25", {"NetworkInterfaceId": appliance}),  # part of a subnet
                    ("10.0.7.0/24", {"NetworkInterfaceId": appliance}),  # no such subnet
                    ("10.0.0.0/17", {"NatGatewayId": nid})):  # several subnets
        fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
              DestinationCidrBlock=dst, **kw)
    # wider than the VPC is not "more specific": any target
    ec2.create_route(RouteTableId=net.rtb, DestinationCidrBlock="10.0.0.0/8", GatewayId=net.igw)


def test_secondary_block_gets_local_route_that_also_guards_RT5_RT13(net: Net) -> None:
    ec2 = net.ec2
    ec2.associate_vpc_cidr_block(VpcId=net.vpc, CidrBlock="10.5.0.0/16")
    assert route_to(net, "10.5.0.0/16")["GatewayId"] == "local"
    fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="10.5.3.0/24", GatewayId=net.igw)


# ---------------------------------------------------------------------- associations
def test_associate_route_table_RT2_RT3(net: Net) -> None:
    ec2 = net.ec2
    out = ec2.associate_route_table(RouteTableId=net.rtb, SubnetId=net.subnet)
    assoc = out["AssociationId"]
    assert assoc.startswith("rtbassoc-") and out["AssociationState"]["State"] == "associated"
    rt = ec2.describe_route_tables(RouteTableIds=[net.rtb])["RouteTables"][0]
    assert rt["Associations"] == [{"RouteTableAssociationId": assoc, "RouteTableId": net.rtb,
                                   "SubnetId": net.subnet, "Main": False,
                                   "AssociationState": {"State": "associated"}}]
    for table in (net.rtb, net.main):
        fails("Resource.AlreadyAssociated", ec2.associate_route_table, RouteTableId=table,
              SubnetId=net.subnet)
    # many subnets may share one table
    ec2.associate_route_table(RouteTableId=net.rtb, SubnetId=net.subnet2)
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    osub = ec2.create_subnet(VpcId=other, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    fails("InvalidParameterValue", ec2.associate_route_table, RouteTableId=net.rtb,
          SubnetId=osub)
    fails("InvalidSubnetID.NotFound", ec2.associate_route_table, RouteTableId=net.rtb,
          SubnetId="subnet-0000000000000000a")
    ec2.disassociate_route_table(AssociationId=assoc)
    subnets = [a.get("SubnetId") for a in ec2.describe_route_tables(
        RouteTableIds=[net.rtb])["RouteTables"][0]["Associations"]]
    assert subnets == [net.subnet2]
    fails("InvalidAssociationID.NotFound", ec2.disassociate_route_table, AssociationId=assoc)
    main_assoc = ec2.describe_route_tables(RouteTableIds=[net.main])["RouteTables"][0][
        "Associations"][0]["RouteTableAssociationId"]
    fails("InvalidParameterValue", ec2.disassociate_route_table, AssociationId=main_assoc)


def test_replace_route_table_association_moves_a_subnet(net: Net) -> None:
    ec2 = net.ec2
    assoc = ec2.associate_route_table(RouteTableId=net.rtb, SubnetId=net.subnet)["AssociationId"]
    third = ec2.create_route_table(VpcId=net.vpc)["RouteTable"]["RouteTableId"]
    out = ec2.replace_route_table_association(AssociationId=assoc, RouteTableId=third)
    new = out["NewAssociationId"]
    assert new != assoc and out["AssociationState"]["State"] == "associated"
    got = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id",
                                              "Values": [net.subnet]}])["RouteTables"]
    assert [t["RouteTableId"] for t in got] == [third]
    ec2.delete_route_table(RouteTableId=net.rtb)  # nothing left on it
    fails("InvalidAssociationID.NotFound", ec2.replace_route_table_association,
          AssociationId=assoc, RouteTableId=third)
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_route_table(VpcId=other)["RouteTable"]["RouteTableId"]
    fails("InvalidParameterValue", ec2.replace_route_table_association, AssociationId=new,
          RouteTableId=foreign)


def test_replace_main_association_makes_another_table_main_RT1(net: Net) -> None:
    ec2 = net.ec2
    main_assoc = ec2.describe_route_tables(RouteTableIds=[net.main])["RouteTables"][0][
        "Associations"][0]["RouteTableAssociationId"]
    out = ec2.replace_route_table_association(AssociationId=main_assoc, RouteTableId=net.rtb)
    mains = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [net.vpc]},
                                               {"Name": "association.main",
                                                "Values": ["true"]}])["RouteTables"]
    assert [t["RouteTableId"] for t in mains] == [net.rtb]
    assoc = [a for a in mains[0]["Associations"] if a["Main"]]
    assert [a["RouteTableAssociationId"] for a in assoc] == [out["NewAssociationId"]]
    old = ec2.describe_route_tables(RouteTableIds=[net.main])["RouteTables"][0]
    assert old["Associations"] == []  # stays, now non-main
    fails("DependencyViolation", ec2.delete_route_table, RouteTableId=net.rtb)
    ec2.delete_route_table(RouteTableId=net.main)
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_route_table(VpcId=other)["RouteTable"]["RouteTableId"]
    fails("InvalidParameterValue", ec2.replace_route_table_association,
          AssociationId=out["NewAssociationId"], RouteTableId=foreign)


def test_delete_route_table_rules_RT1_RT4(net: Net) -> None:
    ec2 = net.ec2
    fails("DependencyViolation", ec2.delete_route_table, RouteTableId=net.main)
    assoc = ec2.associate_route_table(RouteTableId=net.rtb, SubnetId=net.subnet)["AssociationId"]
    fails("DependencyViolation", ec2.delete_route_table, RouteTableId=net.rtb)
    ec2.disassociate_route_table(AssociationId=assoc)
    ec2.delete_route_table(RouteTableId=net.rtb)
    fails("InvalidRouteTableID.NotFound", ec2.delete_route_table, RouteTableId=net.rtb)


# ---------------------------------------------------------------------- gateway tables
def test_gateway_route_table_association_GW1_GW4(net: Net) -> None:
    ec2 = net.ec2
    out = ec2.associate_route_table(RouteTableId=net.rtb, GatewayId=net.igw)
    rt = ec2.describe_route_tables(RouteTableIds=[net.rtb])["RouteTables"][0]
    assert rt["Associations"] == [{"RouteTableAssociationId": out["AssociationId"],
                                   "RouteTableId": net.rtb, "GatewayId": net.igw,
                                   "Main": False, "AssociationState": {"State": "associated"}}]
    got = ec2.describe_route_tables(Filters=[{"Name": "association.gateway-id",
                                              "Values": [net.igw]}])["RouteTables"]
    assert [t["RouteTableId"] for t in got] == [net.rtb]
    second = ec2.create_route_table(VpcId=net.vpc)["RouteTable"]["RouteTableId"]
    fails("Resource.AlreadyAssociated", ec2.associate_route_table, RouteTableId=second,
          GatewayId=net.igw)  # a gateway has one gateway table
    fails("DependencyViolation", ec2.delete_route_table, RouteTableId=net.rtb)
    ec2.disassociate_route_table(AssociationId=out["AssociationId"])
    # GW-4: the main table cannot be a gateway table
    fails("InvalidParameterValue", ec2.associate_route_table, RouteTableId=net.main,
          GatewayId=net.igw)
    # GW-4: nor a table with a disallowed target or a destination outside the VPC
    ec2.create_route(RouteTableId=second, DestinationCidrBlock="0.0.0.0/0", GatewayId=net.igw)
    fails("InvalidParameterValue", ec2.associate_route_table, RouteTableId=second,
          GatewayId=net.igw)
    third = ec2.create_route_table(VpcId=net.vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=third, DestinationCidrBlock="192.168.0.0/16",
                     NetworkInterfaceId=eni(net))
    fails("InvalidParameterValue", ec2.associate_route_table, RouteTableId=third,
          GatewayId=net.igw)
    # a gateway of another VPC
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    oigw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=oigw, VpcId=other)
    fails("InvalidParameterValue", ec2.associate_route_table, RouteTableId=net.rtb,
          GatewayId=oigw)
    fails("InvalidGatewayID.NotFound", ec2.associate_route_table, RouteTableId=net.rtb,
          GatewayId="igw-0000000000000000a")
    fails("InvalidParameterCombination", ec2.associate_route_table, RouteTableId=net.rtb,
          GatewayId=net.igw, SubnetId=net.subnet)


def test_gateway_route_table_routes_GW2_GW3(net: Net) -> None:
    ec2 = net.ec2
    ec2.associate_route_table(RouteTableId=net.rtb, GatewayId=net.igw)
    appliance = eni(net, net.subnet2)
    # GW-3: the whole CIDR of one subnet to the appliance
    ec2.create_route(RouteTableId=net.rtb, DestinationCidrBlock="10.0.1.0/24",
                     NetworkInterfaceId=appliance)
    # GW-3: the whole VPC CIDR: replaces the local route's target
    ec2.replace_route(RouteTableId=net.rtb, DestinationCidrBlock="10.0.0.0/16",
                      NetworkInterfaceId=appliance)
    ec2.replace_route(RouteTableId=net.rtb, DestinationCidrBlock="10.0.0.0/16",
                      LocalTarget=True)
    nid = nat(net)
    # GW-2: only local, ENI (and GWLB endpoint) targets
    fails("InvalidParameterValue", ec2.replace_route, RouteTableId=net.rtb,
          DestinationCidrBlock="10.0.1.0/24", NatGatewayId=nid)
    fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="10.0.2.0/24", NatGatewayId=nid)
    # GW-3: nothing outside the VPC, nothing wider than the VPC
    for dst in ("0.0.0.0/0", "192.168.1.0/24", "10.0.0.0/8"):
        fails("InvalidParameterValue", ec2.create_route, RouteTableId=net.rtb,
              DestinationCidrBlock=dst, NetworkInterfaceId=appliance)
    assert len(routes(net)) == 2


def test_gateway_association_can_move_to_another_table(net: Net) -> None:
    ec2 = net.ec2
    assoc = ec2.associate_route_table(RouteTableId=net.rtb, GatewayId=net.igw)["AssociationId"]
    clean = ec2.create_route_table(VpcId=net.vpc)["RouteTable"]["RouteTableId"]
    dirty = ec2.create_route_table(VpcId=net.vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=dirty, DestinationCidrBlock="0.0.0.0/0", GatewayId=net.igw)
    fails("InvalidParameterValue", ec2.replace_route_table_association, AssociationId=assoc,
          RouteTableId=dirty)  # GW-4 holds for the new table too
    new = ec2.replace_route_table_association(AssociationId=assoc,
                                              RouteTableId=clean)["NewAssociationId"]
    got = ec2.describe_route_tables(Filters=[{"Name": "association.gateway-id",
                                              "Values": [net.igw]}])["RouteTables"]
    assert [t["RouteTableId"] for t in got] == [clean]
    assert got[0]["Associations"][0]["RouteTableAssociationId"] == new
    ec2.delete_route_table(RouteTableId=net.rtb)
    main_assoc = ec2.describe_route_tables(RouteTableIds=[net.main])["RouteTables"][0][
        "Associations"][0]["RouteTableAssociationId"]
    fails("InvalidParameterValue", ec2.replace_route_table_association,
          AssociationId=main_assoc, RouteTableId=clean)  # a gateway table cannot be main


# ---------------------------------------------------------------------- IGW, ST-2
def test_igw_route_blackholes_on_detach_and_recovers_ST2(net: Net) -> None:
    ec2 = net.ec2
    ec2.create_route(RouteTableId=net.rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=net.igw)
    ec2.create_route(RouteTableId=net.rtb, DestinationIpv6CidrBlock="::/0", GatewayId=net.igw)
    ec2.detach_internet_gateway(InternetGatewayId=net.igw, VpcId=net.vpc)
    assert route_to(net, "0.0.0.0/0")["State"] == "blackhole"
    assert route_to(net, "::/0")["State"] == "blackhole"
    got = ec2.describe_route_tables(Filters=[{"Name": "route.state",
                                              "Values": ["blackhole"]}])["RouteTables"]
    assert [t["RouteTableId"] for t in got] == [net.rtb]
    # ST-3: a blackhole route still blocks the destination
    fails("RouteAlreadyExists", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat(net))
    # a detached gateway cannot be a new target
    fails("Gateway.NotAttached", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="8.8.8.0/24", GatewayId=net.igw)
    ec2.attach_internet_gateway(InternetGatewayId=net.igw, VpcId=net.vpc)
    assert route_to(net, "0.0.0.0/0")["State"] == "active"
    ec2.detach_internet_gateway(InternetGatewayId=net.igw, VpcId=net.vpc)
    ec2.delete_internet_gateway(InternetGatewayId=net.igw)
    r = route_to(net, "0.0.0.0/0")
    assert r["State"] == "blackhole" and r["GatewayId"] == net.igw  # kept, id unchanged


def test_igw_of_another_vpc_is_not_attached(net: Net) -> None:
    ec2 = net.ec2
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    oigw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=oigw, VpcId=other)
    fails("Gateway.NotAttached", ec2.create_route, RouteTableId=net.rtb,
          DestinationCidrBlock="0.0.0.0/0", GatewayId=oigw)
    ec2.create_route(RouteTableId=net.rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=net.igw)
    fails("Gateway.NotAttached", ec2.replace_route, RouteTableId=net.rtb,
          DestinationCidrBlock="0.0.0.0/0", GatewayId=oigw)


def test_internet_gateway_lifecycle_IG1(net: Net) -> None:
    ec2 = net.ec2
    out = ec2.create_internet_gateway(TagSpecifications=[
        {"ResourceType": "internet-gateway", "Tags": [{"Key": "Name", "Value": "gw"}]}])
    igw = out["InternetGateway"]
    assert igw["InternetGatewayId"].startswith("igw-") and igw["Attachments"] == []
    assert igw["Tags"] == [{"Key": "Name", "Value": "gw"}]
    gid = igw["InternetGatewayId"]
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    fails("Resource.AlreadyAssociated", ec2.attach_internet_gateway, InternetGatewayId=gid,
          VpcId=net.vpc)  # the VPC already has one
    fails("Resource.AlreadyAssociated", ec2.attach_internet_gateway,
          InternetGatewayId=net.igw, VpcId=other)  # the IGW is already attached
    fails("InvalidVpcID.NotFound", ec2.attach_internet_gateway, InternetGatewayId=gid,
          VpcId="vpc-0000000000000000a")
    ec2.attach_internet_gateway(InternetGatewayId=gid, VpcId=other)
    got = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id",
                                                   "Values": [other]}])["InternetGateways"]
    assert [g["InternetGatewayId"] for g in got] == [gid]
    assert got[0]["Attachments"] == [{"VpcId": other, "State": "available"}]
    fails("Gateway.NotAttached", ec2.detach_internet_gateway, InternetGatewayId=gid,
          VpcId=net.vpc)
    fails("DependencyViolation", ec2.delete_internet_gateway, InternetGatewayId=gid)
    ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=other)
    fails("Gateway.NotAttached", ec2.detach_internet_gateway, InternetGatewayId=gid,
          VpcId=other)
    ec2.delete_internet_gateway(InternetGatewayId=gid)
    for fn, kw in ((ec2.delete_internet_gateway, {"InternetGatewayId": gid}),
                   (ec2.describe_internet_gateways, {"InternetGatewayIds": [gid]}),
                   (ec2.attach_internet_gateway, {"InternetGatewayId": gid, "VpcId": other})):
        fails("InvalidInternetGatewayID.NotFound", fn, **kw)


def test_detach_igw_with_mapped_public_addresses_is_refused(net: Net) -> None:
    ec2 = net.ec2
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                             NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": net.subnet,
                                                 "AssociatePublicIpAddress": True}])
    iid = inst["Instances"][0]["InstanceId"]
    assert inst["Instances"][0]["PublicIpAddress"]
    fails("DependencyViolation", ec2.detach_internet_gateway, InternetGatewayId=net.igw,
          VpcId=net.vpc)
    ec2.terminate_instances(InstanceIds=[iid])
    ec2.detach_internet_gateway(InternetGatewayId=net.igw, VpcId=net.vpc)
