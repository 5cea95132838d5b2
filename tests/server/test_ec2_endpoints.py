"""VPC endpoints, endpoint services and prefix lists over the API (RT-14), and the data
plane's view of a gateway endpoint route."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from plane import site, trace

from conftest import Server
from localvpc.dataplane.flow import Disposition
from localvpc.model.aws_prefixes import aws_prefix_records

ACCOUNT = "111111111111"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def published(service: str, region: str) -> list[str]:
    """What AWS's ip-ranges (as shipped) lists for the service in the Region, IPv4."""
    found = {r.prefix for r in aws_prefix_records()
             if r.service == service and r.region == region and r.prefix.version == 4}
    return [str(p) for p in sorted(found, key=lambda n: (int(n.network_address),
                                                         n.prefixlen))]


def aws_list(ec2: Any, name: str) -> dict[str, Any]:
    lists = ec2.describe_prefix_lists(Filters=[{"Name": "prefix-list-name",
                                                "Values": [name]}])["PrefixLists"]
    assert len(lists) == 1
    return dict(lists[0])


def test_endpoint_services_of_the_region(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    out = ec2.describe_vpc_endpoint_services()
    assert {"com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.dynamodb",
            "com.amazonaws.us-east-1.sts"} <= set(out["ServiceNames"])
    gateways = ec2.describe_vpc_endpoint_services(Filters=[
        {"Name": "service-type", "Values": ["Gateway"]}])["ServiceDetails"]
    assert sorted(d["ServiceName"] for d in gateways) == [
        "com.amazonaws.us-east-1.dynamodb", "com.amazonaws.us-east-1.s3"]
    assert all(d["Owner"] == "amazon" and "us-east-1a" in d["AvailabilityZones"]
               for d in gateways)
    sts = ec2.describe_vpc_endpoint_services(ServiceNames=["com.amazonaws.us-east-1.sts"])[
        "ServiceDetails"]
    assert [(d["ServiceType"], d["PrivateDnsName"]) for d in sts] == [
        ([{"ServiceType": "Interface"}], "sts.us-east-1.amazonaws.com")]
    with pytest.raises(ClientError) as exc:
        ec2.describe_vpc_endpoint_services(ServiceNames=["com.amazonaws.us-east-1.nope"])
    assert code(exc) == "InvalidServiceName"


def test_aws_managed_prefix_lists_come_from_the_published_ranges(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    s3 = aws_list(ec2, "com.amazonaws.us-east-1.s3")
    assert s3["PrefixListId"].startswith("pl-")
    assert s3["Cidrs"] == published("S3", "us-east-1") and "52.216.0.0/15" in s3["Cidrs"]
    ddb = aws_list(ec2, "com.amazonaws.us-east-1.dynamodb")
    assert ddb["Cidrs"] == published("DYNAMODB", "us-east-1")
    managed = ec2.describe_managed_prefix_lists(PrefixListIds=[s3["PrefixListId"]])[
        "PrefixLists"][0]
    assert (managed["OwnerId"], managed["AddressFamily"], managed["State"],
            managed["PrefixListArn"]) == (
        "AWS", "IPv4", "create-complete",
        f"arn:aws:ec2:us-east-1:aws:prefix-list/{s3['PrefixListId']}")
    entries = ec2.get_managed_prefix_list_entries(PrefixListId=s3["PrefixListId"])["Entries"]
    assert sorted(e["Cidr"] for e in entries) == sorted(s3["Cidrs"])
    # One list per Region, shared by every account; another Region has its own.
    other = fresh.client("ec2", account="222222222222")
    assert aws_list(other, "com.amazonaws.us-east-1.s3")["PrefixListId"] == s3["PrefixListId"]
    west = aws_list(fresh.client("ec2", account=ACCOUNT, region="us-west-2"),
                    "com.amazonaws.us-west-2.s3")
    assert west["PrefixListId"] != s3["PrefixListId"]
    assert west["Cidrs"] == published("S3", "us-west-2") != s3["Cidrs"]
    with pytest.raises(ClientError) as exc:
        ec2.describe_prefix_lists(PrefixListIds=["pl-00000000"])
    assert code(exc) == "InvalidPrefixListId.NotFound"
    with pytest.raises(ClientError) as exc:
        ec2.modify_managed_prefix_list(PrefixListId=s3["PrefixListId"], CurrentVersion=1,
                                       AddEntries=[{"Cidr": "10.0.0.0/8"}])
    assert code(exc) == "OperationNotPermitted"


def _endpoint_routes(ec2: Any, rtb: str) -> list[dict[str, Any]]:
    table = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]
    return [r for r in table["Routes"] if "DestinationPrefixListId" in r]


def test_gateway_endpoint_routes(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    s = site(ec2, "10.1.0.0/16", "10.1.1.0/24")
    extra = ec2.create_route_table(VpcId=s.vpc_id)["RouteTable"]["RouteTableId"]
    ep = ec2.create_vpc_endpoint(VpcId=s.vpc_id, ServiceName="com.amazonaws.us-east-1.s3",
                                 RouteTableIds=[s.route_table_id])["VpcEndpoint"]
    vpce = ep["VpcEndpointId"]
    assert (ep["VpcEndpointType"], ep["State"], ep["RouteTableIds"]) == (
        "Gateway", "available", [s.route_table_id])
    assert '"Principal": "*"' in ep["PolicyDocument"]
    pl = aws_list(ec2, "com.amazonaws.us-east-1.s3")["PrefixListId"]
    assert _endpoint_routes(ec2, s.route_table_id) == [
        {"DestinationPrefixListId": pl, "GatewayId": vpce, "Origin": "CreateRoute",
         "State": "active"}]
    with pytest.raises(ClientError) as exc:  # one S3 route per table
        ec2.create_vpc_endpoint(VpcId=s.vpc_id, ServiceName="com.amazonaws.us-east-1.s3",
                                RouteTableIds=[s.route_table_id])
    assert code(exc) == "RouteAlreadyExists"

    assert ec2.modify_vpc_endpoint(VpcEndpointId=vpce, AddRouteTableIds=[extra],
                                   RemoveRouteTableIds=[s.route_table_id])["Return"] is True
    assert _endpoint_routes(ec2, s.route_table_id) == []
    assert [r["GatewayId"] for r in _endpoint_routes(ec2, extra)] == [vpce]
    assert ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce])["VpcEndpoints"][0][
        "RouteTableIds"] == [extra]
    found = ec2.describe_vpc_endpoints(Filters=[
        {"Name": "service-name", "Values": ["com.amazonaws.us-east-1.s3"]},
        {"Name": "vpc-endpoint-type", "Values": ["Gateway"]}])["VpcEndpoints"]
    assert [e["VpcEndpointId"] for e in found] == [vpce]

    out = ec2.delete_vpc_endpoints(VpcEndpointIds=[vpce, "vpce-0123456789abcdef0"])
    assert [(u["ResourceId"], u["Error"]["Code"]) for u in out["Unsuccessful"]] == [
        ("vpce-0123456789abcdef0", "InvalidVpcEndpoint.NotFound")]
    assert _endpoint_routes(ec2, extra) == []
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []


def test_endpoint_errors(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    s = site(ec2, "10.1.0.0/16", "10.1.1.0/24")
    other = site(ec2, "10.2.0.0/16", "10.2.1.0/24")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ServiceName": "com.amazonaws.us-east-1.nope"}, "InvalidServiceName"),
        ({"ServiceName": "com.amazonaws.us-east-1.sts"}, "InvalidParameter"),  # Gateway
        ({"ServiceName": "com.amazonaws.us-east-1.s3", "RouteTableIds": ["rtb-0bad"]},
         "InvalidRouteTableID.NotFound"),
        ({"ServiceName": "com.amazonaws.us-east-1.s3",
          "RouteTableIds": [other.route_table_id]}, "InvalidParameter"),
        ({"ServiceName": "com.amazonaws.us-east-1.sts", "VpcEndpointType": "Interface",
          "SubnetIds": [s.subnet_id], "RouteTableIds": [s.route_table_id]},
         "InvalidParameter"),
        ({"ServiceName": "com.amazonaws.us-east-1.dynamodb", "VpcEndpointType": "Interface",
          "SubnetIds": [s.subnet_id], "PrivateDnsEnabled": False}, "InvalidParameter"),
        # Private DNS (the default) needs DNS hostnames on the VPC.
        ({"ServiceName": "com.amazonaws.us-east-1.sts", "VpcEndpointType": "Interface",
          "SubnetIds": [s.subnet_id]}, "InvalidParameter"),
        ({"ServiceName": "com.amazonaws.us-east-1.s3", "PolicyDocument": "{not json"},
         "InvalidPolicyDocument"),
    ]
    for extra, expected in cases:
        with pytest.raises(ClientError) as exc:
            ec2.create_vpc_endpoint(VpcId=s.vpc_id, **extra)
        assert code(exc) == expected, extra
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_endpoint(VpcId="vpc-0123456789abcdef0",
                                ServiceName="com.amazonaws.us-east-1.s3")
    assert code(exc) == "InvalidVpcID.NotFound"
    with pytest.raises(ClientError) as exc:
        ec2.modify_vpc_endpoint(VpcEndpointId="vpce-0123456789abcdef0",
                                AddRouteTableIds=[s.route_table_id])
    assert code(exc) == "InvalidVpcEndpointId.NotFound"
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []


def test_interface_endpoint_has_an_eni_per_subnet(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    s = site(ec2, "10.1.0.0/16", "10.1.1.0/24", zone="us-east-1a")
    ec2.modify_vpc_attribute(VpcId=s.vpc_id, EnableDnsHostnames={"Value": True})
    b = ec2.create_subnet(VpcId=s.vpc_id, CidrBlock="10.1.2.0/24",
                          AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    same_zone = ec2.create_subnet(VpcId=s.vpc_id, CidrBlock="10.1.3.0/24",
                                  AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_endpoint(VpcId=s.vpc_id, ServiceName="com.amazonaws.us-east-1.sts",
                                VpcEndpointType="Interface",
                                SubnetIds=[s.subnet_id, same_zone])
    assert code(exc) == "DuplicateSubnetsInSameZone"
    ep = ec2.create_vpc_endpoint(VpcId=s.vpc_id, ServiceName="com.amazonaws.us-east-1.sts",
                                 VpcEndpointType="Interface", SubnetIds=[s.subnet_id, b],
                                 SecurityGroupIds=[s.sg_id])["VpcEndpoint"]
    vpce = ep["VpcEndpointId"]
    assert ep["State"] == "pending" and ep["PrivateDnsEnabled"] is True
    assert [g["GroupId"] for g in ep["Groups"]] == [s.sg_id]
    assert "sts.us-east-1.amazonaws.com" in [d["DnsName"] for d in ep["DnsEntries"]]
    assert any(d["DnsName"].startswith(f"{vpce}-") and d["DnsName"].endswith(
        ".sts.us-east-1.vpce.amazonaws.com") for d in ep["DnsEntries"])
    enis = ec2.describe_network_interfaces(
        NetworkInterfaceIds=ep["NetworkInterfaceIds"])["NetworkInterfaces"]
    assert sorted(e["SubnetId"] for e in enis) == sorted([s.subnet_id, b])
    assert {e["InterfaceType"] for e in enis} == {"vpc_endpoint"}
    assert {e["Description"] for e in enis} == {f"VPC Endpoint Interface {vpce}"}
    eni_ip = next(e["PrivateIpAddress"] for e in enis if e["SubnetId"] == s.subnet_id)

    # The instance (default security group, like the endpoint) reaches the endpoint's ENI.
    reached = trace(fresh, s.instance_id, eni_ip, dst_port=443)
    assert reached.disposition == Disposition.ACCEPTED
    assert reached.hops[-1].node == vpce

    ec2.modify_vpc_endpoint(VpcEndpointId=vpce, RemoveSubnetIds=[b])
    left = ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce])["VpcEndpoints"][0]
    assert left["SubnetIds"] == [s.subnet_id] and len(left["NetworkInterfaceIds"]) == 1
    ec2.delete_vpc_endpoints(VpcEndpointIds=[vpce])
    assert ec2.describe_network_interfaces(Filters=[
        {"Name": "interface-type", "Values": ["vpc_endpoint"]}])["NetworkInterfaces"] == []


def test_customer_managed_prefix_lists(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    created = ec2.create_managed_prefix_list(
        PrefixListName="offices", MaxEntries=3, AddressFamily="IPv4",
        Entries=[{"Cidr": "198.51.100.0/24", "Description": "hq"},
                 {"Cidr": "192.0.2.7/32"}])["PrefixList"]
    pl = created["PrefixListId"]
    assert (created["OwnerId"], created["MaxEntries"], created["Version"]) == (ACCOUNT, 3, 1)
    entries = ec2.get_managed_prefix_list_entries(PrefixListId=pl)["Entries"]
    assert sorted((e["Cidr"], e.get("Description")) for e in entries) == [
        ("192.0.2.7/32", None), ("198.51.100.0/24", "hq")]
    with pytest.raises(ClientError) as exc:
        ec2.modify_managed_prefix_list(PrefixListId=pl, CurrentVersion=7,
                                       AddEntries=[{"Cidr": "203.0.113.0/24"}])
    assert code(exc) == "PrefixListVersionMismatch"
    with pytest.raises(ClientError) as exc:
        ec2.modify_managed_prefix_list(PrefixListId=pl, CurrentVersion=1, AddEntries=[
            {"Cidr": "203.0.113.0/24"}, {"Cidr": "203.0.114.0/24"}])
    assert code(exc) == "InvalidParameterValue"  # 4 entries > MaxEntries 3
    with pytest.raises(ClientError) as exc:
        ec2.modify_managed_prefix_list(PrefixListId=pl, CurrentVersion=1, MaxEntries=5,
                                       AddEntries=[{"Cidr": "203.0.113.0/24"}])
    assert code(exc) == "InvalidParameterCombination"
    modified = ec2.modify_managed_prefix_list(
        PrefixListId=pl, CurrentVersion=1, AddEntries=[{"Cidr": "203.0.113.0/24"}],
        RemoveEntries=[{"Cidr": "192.0.2.7/32"}])["PrefixList"]
    assert modified["Version"] == 2
    now = ec2.get_managed_prefix_list_entries(PrefixListId=pl)["Entries"]
    assert sorted(e["Cidr"] for e in now) == ["198.51.100.0/24", "203.0.113.0/24"]
    before = ec2.get_managed_prefix_list_entries(PrefixListId=pl, TargetVersion=1)["Entries"]
    assert sorted(e["Cidr"] for e in before) == ["192.0.2.7/32", "198.51.100.0/24"]
    mine = ec2.describe_managed_prefix_lists(Filters=[
        {"Name": "owner-id", "Values": [ACCOUNT]}])["PrefixLists"]
    assert [(p["PrefixListId"], p["State"], p["Version"]) for p in mine] == [
        (pl, "modify-complete", 2)]
    with pytest.raises(ClientError) as exc:
        ec2.create_managed_prefix_list(PrefixListName="v6", MaxEntries=2,
                                       AddressFamily="IPv6",
                                       Entries=[{"Cidr": "10.0.0.0/8"}])
    assert code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        ec2.create_managed_prefix_list(PrefixListName="com.amazonaws.mine", MaxEntries=2,
                                       AddressFamily="IPv4")
    assert code(exc) == "InvalidParameterValue"
    # Another account does not see it.
    other = fresh.client("ec2", account="222222222222")
    with pytest.raises(ClientError) as exc:
        other.get_managed_prefix_list_entries(PrefixListId=pl)
    assert code(exc) == "InvalidPrefixListID.NotFound"  # the managed-list calls' spelling


def test_gateway_endpoint_takes_s3_traffic_in_the_data_plane(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    s = site(ec2, "10.1.0.0/16", "10.1.1.0/24")  # no internet gateway: a private subnet
    s3_ip, ddb_ip = "52.216.8.10", "52.94.0.10"
    assert trace(fresh, s.instance_id, s3_ip, dst_port=443).disposition == \
        Disposition.NO_ROUTE
    vpce = ec2.create_vpc_endpoint(VpcId=s.vpc_id, ServiceName="com.amazonaws.us-east-1.s3",
                                   RouteTableIds=[s.route_table_id])[
        "VpcEndpoint"]["VpcEndpointId"]
    via = trace(fresh, s.instance_id, s3_ip, dst_port=443)
    assert via.disposition == Disposition.EXITS_NETWORK
    assert via.hops[-1].node == vpce and via.hops[-1].type == "vpc-endpoint"
    # DynamoDB has its own list: S3's endpoint does not carry it.
    assert trace(fresh, s.instance_id, ddb_ip, dst_port=443).disposition == \
        Disposition.NO_ROUTE
    ec2.delete_vpc_endpoints(VpcEndpointIds=[vpce])
    assert trace(fresh, s.instance_id, s3_ip, dst_port=443).disposition == \
        Disposition.NO_ROUTE
