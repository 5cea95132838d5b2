"""VPC Block Public Access: the options and exclusions API (boto3 and the AWS CLI) and the
data plane enforcing them at internet gateways (traces of the server's stored state)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server
from localvpc.dataplane import compile_network
from localvpc.dataplane.flow import Disposition, Trace
from localvpc.dataplane.request import trace_request
from localvpc.store import Store


def fails(expected: str, fn: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert e.value.response["Error"]["Code"] == expected, e.value.response["Error"]
    return str(e.value.response["Error"]["Message"])


def trace(server: Server, node: str, dst_ip: str) -> Trace:
    """One TCP flow on what the server acknowledged, with its reply (``return_trace``)."""
    store = Store.open(server.state)
    try:
        network = store.load_network()
    finally:
        store.close()
    _, found = trace_request(compile_network(network), node, dst_ip, dst_port=443,
                             bidirectional=True)
    return found[0]


def outcome(server: Server, node: str, dst_ip: str) -> list[Disposition]:
    """The forward disposition, then the reply's when the forward packet got through."""
    t = trace(server, node, dst_ip)
    return [t.disposition] + ([t.return_trace.disposition] if t.return_trace else [])


# ------------------------------------------------------------------ options
def test_options_default_modify_and_scope(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    opts = ec2.describe_vpc_block_public_access_options()["VpcBlockPublicAccessOptions"]
    assert opts["State"] == "default-state" and opts["InternetGatewayBlockMode"] == "off"
    assert opts["AwsAccountId"] == "000000000000" and opts["AwsRegion"] == "us-east-1"
    assert opts["ExclusionsAllowed"] == "allowed" and "LastUpdateTimestamp" not in opts
    out = ec2.modify_vpc_block_public_access_options(
        InternetGatewayBlockMode="block-ingress")["VpcBlockPublicAccessOptions"]
    assert out["State"] == "update-in-progress"
    assert out["InternetGatewayBlockMode"] == "block-ingress"
    opts = ec2.describe_vpc_block_public_access_options()["VpcBlockPublicAccessOptions"]
    assert opts["State"] == "update-complete" and "LastUpdateTimestamp" in opts
    assert opts["InternetGatewayBlockMode"] == "block-ingress"
    # per account and Region
    west = fresh.client("ec2", region="us-west-2")
    assert west.describe_vpc_block_public_access_options()["VpcBlockPublicAccessOptions"][
        "InternetGatewayBlockMode"] == "off"
    other = fresh.client("ec2", account="222222222222")
    other_opts = other.describe_vpc_block_public_access_options()[
        "VpcBlockPublicAccessOptions"]
    assert other_opts["InternetGatewayBlockMode"] == "off"
    assert other_opts["AwsAccountId"] == "222222222222"
    fails("InvalidParameterValue", ec2.modify_vpc_block_public_access_options,
          InternetGatewayBlockMode="block-everything")
    # DescribeVpcs/DescribeSubnets show the mode that applies
    vpcs = ec2.describe_vpcs()["Vpcs"]
    assert {v["BlockPublicAccessStates"]["InternetGatewayBlockMode"] for v in vpcs} == {
        "block-ingress"}


def test_cli_modify_and_describe(fresh: Server) -> None:
    out = fresh.aws("ec2", "modify-vpc-block-public-access-options",
                    "--internet-gateway-block-mode", "block-bidirectional")
    assert out["VpcBlockPublicAccessOptions"]["InternetGatewayBlockMode"] == \
        "block-bidirectional"
    got = fresh.aws("ec2", "describe-vpc-block-public-access-options")
    assert got["VpcBlockPublicAccessOptions"]["InternetGatewayBlockMode"] == \
        "block-bidirectional"
    assert got["VpcBlockPublicAccessOptions"]["State"] == "update-complete"


# ------------------------------------------------------------------ exclusions
def test_exclusions_lifecycle_filters_and_errors(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ex_vpc = ec2.create_vpc_block_public_access_exclusion(
        VpcId=vpc, InternetGatewayExclusionMode="allow-egress",
        TagSpecifications=[{"ResourceType": "vpc-block-public-access-exclusion",
                            "Tags": [{"Key": "team", "Value": "web"}]}])[
        "VpcBlockPublicAccessExclusion"]
    assert ex_vpc["State"] == "create-in-progress"
    assert ex_vpc["ExclusionId"].startswith("vpcbpa-exclude-")
    assert ex_vpc["ResourceArn"] == f"arn:aws:ec2:us-east-1:000000000000:vpc/{vpc}"
    ex_sub = ec2.create_vpc_block_public_access_exclusion(
        SubnetId=sub, InternetGatewayExclusionMode="allow-bidirectional")[
        "VpcBlockPublicAccessExclusion"]
    assert ex_sub["ResourceArn"].endswith(f":subnet/{sub}")
    a, b = ex_vpc["ExclusionId"], ex_sub["ExclusionId"]

    def ids(*filters: tuple[str, list[str]]) -> set[str]:
        f = [{"Name": n, "Values": v} for n, v in filters]
        return {e["ExclusionId"] for e in ec2.describe_vpc_block_public_access_exclusions(
            Filters=f)["VpcBlockPublicAccessExclusions"]}

    assert ids() == {a, b}
    assert ids(("internet-gateway-exclusion-mode", ["allow-egress"])) == {a}
    assert ids(("resource-arn", [f"*:subnet/{sub}"])) == {b}
    assert ids(("state", ["create-complete"])) == {a, b}
    assert ids(("tag:team", ["web"])) == {a}
    tagged = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [a]}])["Tags"]
    assert tagged == [{"ResourceId": a, "ResourceType": "vpc-block-public-access-exclusion",
                       "Key": "team", "Value": "web"}]
    fails("InvalidVpcBlockPublicAccessExclusionId.NotFound",
          ec2.describe_vpc_block_public_access_exclusions,
          ExclusionIds=["vpcbpa-exclude-0000000000000000a"])

    # errors: both or neither target, unknown targets, a second exclusion, bad mode
    fails("InvalidParameterCombination", ec2.create_vpc_block_public_access_exclusion,
          VpcId=vpc, SubnetId=sub, InternetGatewayExclusionMode="allow-egress")
    fails("MissingParameter", ec2.create_vpc_block_public_access_exclusion,
          InternetGatewayExclusionMode="allow-egress")
    fails("InvalidVpcID.NotFound", ec2.create_vpc_block_public_access_exclusion,
          VpcId="vpc-0000000000000000a", InternetGatewayExclusionMode="allow-egress")
    fails("InvalidSubnetID.NotFound", ec2.create_vpc_block_public_access_exclusion,
          SubnetId="subnet-0000000000000000a", InternetGatewayExclusionMode="allow-egress")
    fails("InvalidParameterValue", ec2.create_vpc_block_public_access_exclusion,
          VpcId=vpc, InternetGatewayExclusionMode="allow-egress")
    fails("InvalidParameterValue", ec2.create_vpc_block_public_access_exclusion,
          SubnetId=other, InternetGatewayExclusionMode="allow-everything")

    # subnets show the mode that applies to them after exclusions
    ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="block-bidirectional")
    modes = {s["SubnetId"]: s["BlockPublicAccessStates"]["InternetGatewayBlockMode"]
             for s in ec2.describe_subnets(SubnetIds=[sub, other])["Subnets"]}
    assert modes == {sub: "off", other: "block-ingress"}  # allow-bidirectional / -egress

    mod = ec2.modify_vpc_block_public_access_exclusion(
        ExclusionId=a, InternetGatewayExclusionMode="allow-bidirectional")[
        "VpcBlockPublicAccessExclusion"]
    assert mod["State"] == "update-in-progress"
    assert ids(("state", ["update-complete"])) == {a}
    assert ids(("internet-gateway-exclusion-mode", ["allow-bidirectional"])) == {a, b}

    gone = ec2.delete_vpc_block_public_access_exclusion(ExclusionId=a)[
        "VpcBlockPublicAccessExclusion"]
    assert gone["State"] == "delete-in-progress"
    (listed,) = ec2.describe_vpc_block_public_access_exclusions(ExclusionIds=[a])[
        "VpcBlockPublicAccessExclusions"]
    assert listed["State"] == "delete-complete" and "DeletionTimestamp" in listed
    fails("IncorrectState", ec2.delete_vpc_block_public_access_exclusion, ExclusionId=a)
    fails("IncorrectState", ec2.modify_vpc_block_public_access_exclusion, ExclusionId=a,
          InternetGatewayExclusionMode="allow-egress")
    # a deleted exclusion frees its VPC for a new one
    ec2.create_vpc_block_public_access_exclusion(VpcId=vpc,
                                                 InternetGatewayExclusionMode="allow-egress")
    # deleting the subnet ends its exclusion
    ec2.delete_subnet(SubnetId=sub)
    assert ids(("state", ["delete-complete"])) == {a, b}


# ------------------------------------------------------------------ the data plane
@dataclass
class Estate:
    ec2: Any
    vpc: str
    public: str  # subnet with an internet-facing instance and a NAT gateway
    private: str  # subnet whose default route goes to the NAT gateway
    web: str  # instance id in the public subnet
    web_public_ip: str
    app: str  # instance id in the private subnet
    peer_ip: str  # public IP of a server in another account (no BPA there): replies traced


@pytest.fixture
def estate(fresh: Server) -> Estate:
    ec2 = fresh.client("ec2")
    peer_ip = public_server(fresh.client("ec2", account="222222222222"))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=public, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"][
        "NatGatewayId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=private)
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    sg = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"][0]["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    web = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                            SubnetId=public)["Instances"][0]
    app = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                            SubnetId=private)["Instances"][0]
    public_ip = ec2.describe_instances(InstanceIds=[web["InstanceId"]])["Reservations"][0][
        "Instances"][0]["PublicIpAddress"]
    return Estate(ec2, vpc, public, private, web["InstanceId"], public_ip, app["InstanceId"],
                  peer_ip)


def public_server(ec2: Any) -> str:
    """An instance with a public IP behind an IGW, open to all: its public address."""
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=sub, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "SecurityGroups"][0]["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                             SubnetId=sub)["Instances"][0]["InstanceId"]
    return str(ec2.describe_instances(InstanceIds=[inst])["Reservations"][0]["Instances"][0][
        "PublicIpAddress"])


OK = [Disposition.EXITS_NETWORK, Disposition.ACCEPTED]  # out to the internet, reply back
IN_OK = [Disposition.ACCEPTED, Disposition.EXITS_NETWORK]  # in from the internet, reply out
BOTH = [Disposition.ACCEPTED, Disposition.ACCEPTED]  # to the peer's server and back
INTERNET_HOST = "93.184.216.34"


def test_bpa_off_leaves_internet_traffic_alone(fresh: Server, estate: Estate) -> None:
    assert outcome(fresh, estate.web, INTERNET_HOST) == OK
    assert outcome(fresh, estate.app, INTERNET_HOST) == OK  # through the NAT gateway
    assert outcome(fresh, "internet", estate.web_public_ip) == IN_OK
    assert outcome(fresh, estate.web, estate.peer_ip) == BOTH


def test_block_bidirectional_drops_both_ways_at_the_igw(fresh: Server, estate: Estate
                                                        ) -> None:
    estate.ec2.modify_vpc_block_public_access_options(
        InternetGatewayBlockMode="block-bidirectional")
    out = trace(fresh, estate.web, INTERNET_HOST)
    assert out.disposition == Disposition.DENIED_OUT
    assert out.hops[-1].type == "internet-gateway"
    assert "Block Public Access" in out.hops[-1].detail
    assert "block-bidirectional" in out.hops[-1].detail
    assert outcome(fresh, estate.app, INTERNET_HOST) == [Disposition.DENIED_OUT]
    inbound = trace(fresh, "internet", estate.web_public_ip)
    assert inbound.disposition == Disposition.DENIED_IN
    assert inbound.hops[-1].type == "internet-gateway"
    # traffic inside the VPC is not BPA's business
    app_ip = estate.ec2.describe_instances(InstanceIds=[estate.app])["Reservations"][0][
        "Instances"][0]["PrivateIpAddress"]
    assert outcome(fresh, estate.web, app_ip)[0] == Disposition.ACCEPTED


def test_block_ingress_lets_only_nat_gateways_out(fresh: Server, estate: Estate) -> None:
    estate.ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="block-ingress")
    out = trace(fresh, estate.web, INTERNET_HOST)
    assert out.disposition == Disposition.DENIED_OUT
    assert "NAT gateways" in out.hops[-1].detail
    assert outcome(fresh, estate.app, INTERNET_HOST) == OK
    # the reply comes back in through the IGW to the NAT gateway, and on to the instance
    assert outcome(fresh, estate.app, estate.peer_ip) == BOTH
    assert outcome(fresh, estate.web, estate.peer_ip) == [Disposition.DENIED_OUT]
    assert outcome(fresh, "internet", estate.web_public_ip) == [Disposition.DENIED_IN]


def test_exclusions_reopen_and_deleting_them_closes_again(fresh: Server, estate: Estate
                                                          ) -> None:
    ec2 = estate.ec2
    ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="block-bidirectional")
    egress = ec2.create_vpc_block_public_access_exclusion(
        SubnetId=estate.public, InternetGatewayExclusionMode="allow-egress")[
        "VpcBlockPublicAccessExclusion"]["ExclusionId"]
    # allow-egress: connections from the subnet go out and their replies come back ...
    assert outcome(fresh, estate.web, INTERNET_HOST) == OK
    assert outcome(fresh, estate.web, estate.peer_ip) == BOTH
    # ... none come in. BPA judges the subnet whose interface meets the gateway: the
    # private subnet's traffic reaches the IGW from the NAT gateway, in the excluded subnet.
    assert outcome(fresh, "internet", estate.web_public_ip) == [Disposition.DENIED_IN]
    assert outcome(fresh, estate.app, INTERNET_HOST) == OK
    # allow-bidirectional on the whole VPC opens inbound too
    ec2.create_vpc_block_public_access_exclusion(
        VpcId=estate.vpc, InternetGatewayExclusionMode="allow-bidirectional")
    assert outcome(fresh, "internet", estate.web_public_ip) == IN_OK
    # under block-ingress an allow-egress exclusion changes nothing (AWS: bidirectional only)
    ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="block-ingress")
    vpc_ex = ec2.describe_vpc_block_public_access_exclusions(Filters=[
        {"Name": "resource-arn", "Values": [f"*:vpc/{estate.vpc}"]}])[
        "VpcBlockPublicAccessExclusions"][0]["ExclusionId"]
    ec2.delete_vpc_block_public_access_exclusion(ExclusionId=vpc_ex)
    assert outcome(fresh, estate.web, INTERNET_HOST) == [Disposition.DENIED_OUT]
    ec2.delete_vpc_block_public_access_exclusion(ExclusionId=egress)
    ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="off")
    assert outcome(fresh, estate.web, INTERNET_HOST) == OK
