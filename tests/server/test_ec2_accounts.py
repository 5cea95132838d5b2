"""Accounts and Regions are isolated; DryRun; ClientToken idempotency; persistence across a
restart; the AWS CLI end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def fails(expected: str, fn: Any, **kw: Any) -> ClientError:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert code(e) == expected, e.value.response["Error"]
    return e.value


def test_accounts_and_regions_do_not_see_each_other(fresh: Server) -> None:
    a = fresh.client("ec2")
    b = fresh.client("ec2", account="222222222222")
    west = fresh.client("ec2", region="us-west-2")
    vpc = a.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    sub = a.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = a.create_security_group(GroupName="g", Description="g", VpcId=vpc["VpcId"])["GroupId"]
    assert vpc["OwnerId"] == "000000000000"
    for other in (b, west):
        listed = [v["VpcId"] for v in other.describe_vpcs()["Vpcs"]]
        assert vpc["VpcId"] not in listed
        assert len(listed) == 1  # only its own default VPC
        fails("InvalidVpcID.NotFound", other.describe_vpcs, VpcIds=[vpc["VpcId"]])
        fails("InvalidVpcID.NotFound", other.create_subnet, VpcId=vpc["VpcId"],
              CidrBlock="10.0.2.0/24")
        fails("InvalidVpcID.NotFound", other.delete_vpc, VpcId=vpc["VpcId"])
        fails("InvalidSubnetID.NotFound", other.describe_subnets, SubnetIds=[sub])
        fails("InvalidSubnetID.NotFound", other.run_instances, ImageId="ami-12345678",
              MinCount=1, MaxCount=1, SubnetId=sub)
        fails("InvalidGroup.NotFound", other.describe_security_groups, GroupIds=[sg])
        assert sg not in {g["GroupId"] for g in other.describe_security_groups()[
            "SecurityGroups"]}
    b_vpc = b.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    assert b_vpc["OwnerId"] == "222222222222"
    # account A cannot use account B's security group on its own instances
    b_sg = b.create_security_group(GroupName="g", Description="g",
                                   VpcId=b_vpc["VpcId"])["GroupId"]
    fails("InvalidGroup.NotFound", a.run_instances, ImageId="ami-12345678", MinCount=1,
          MaxCount=1, SubnetId=sub, SecurityGroupIds=[b_sg])
    fails("InvalidGroup.NotFound", a.authorize_security_group_ingress, GroupId=sg,
          IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": b_sg}]}])


def test_foreign_targets_are_not_found(fresh: Server) -> None:
    a = fresh.client("ec2")
    b = fresh.client("ec2", account="222222222222")
    vpc = a.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    rtb = a.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    b_igw = b.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    fails("InvalidGatewayID.NotFound", a.create_route, RouteTableId=rtb,
          DestinationCidrBlock="0.0.0.0/0", GatewayId=b_igw)
    fails("InvalidInternetGatewayID.NotFound", a.attach_internet_gateway,
          InternetGatewayId=b_igw, VpcId=vpc)
    fails("InvalidRouteTableID.NotFound", b.describe_route_tables, RouteTableIds=[rtb])


def test_dry_run(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    before = len(ec2.describe_vpcs()["Vpcs"])
    err = fails("DryRunOperation", ec2.create_vpc, CidrBlock="10.0.0.0/16", DryRun=True)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert len(ec2.describe_vpcs()["Vpcs"]) == before
    fails("DryRunOperation", ec2.describe_vpcs, DryRun=True)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    fails("DryRunOperation", ec2.delete_vpc, VpcId=vpc, DryRun=True)
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]


def test_client_token_idempotency(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]

    def launch(token: str, count: int = 1) -> list[str]:
        out = ec2.run_instances(ImageId="ami-12345678", MinCount=count, MaxCount=count,
                                SubnetId=sub, ClientToken=token)
        return [i["InstanceId"] for i in out["Instances"]]

    first = launch("tok-1")
    assert launch("tok-1") == first  # a retry: the same instance, nothing new
    running = ec2.describe_instances(Filters=[{"Name": "subnet-id", "Values": [sub]}])
    assert sum(len(r["Instances"]) for r in running["Reservations"]) == 1
    fails("IdempotentParameterMismatch", launch, token="tok-1", count=2)
    assert launch("tok-2") != first
    # tokens are per account
    other = fresh.client("ec2", account="222222222222")
    o_vpc = other.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    o_sub = other.create_subnet(VpcId=o_vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    theirs = other.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                                 SubnetId=o_sub, ClientToken="tok-1")["Instances"][0]
    assert theirs["InstanceId"] not in first
    # CreateNatGateway also takes a token
    nat1 = ec2.create_nat_gateway(SubnetId=sub, ConnectivityType="private",
                                  ClientToken="nat-tok")["NatGateway"]["NatGatewayId"]
    nat2 = ec2.create_nat_gateway(SubnetId=sub, ConnectivityType="private",
                                  ClientToken="nat-tok")["NatGateway"]["NatGatewayId"]
    assert nat1 == nat2
    assert len(ec2.describe_nat_gateways()["NatGateways"]) == 1


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first = start_server(state)
    try:
        ec2 = first.client("ec2")
        default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default",
                                                  "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "kept"}]}])["Vpc"]["VpcId"]
        ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="10.1.0.0/16")
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        ec2.modify_availability_zone_group(GroupName="us-east-1-atl-1", OptInStatus="opted-in")
        sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        assoc = ec2.associate_route_table(RouteTableId=rtb, SubnetId=sub)["AssociationId"]
        sg = ec2.create_security_group(GroupName="web", Description="w", VpcId=vpc)["GroupId"]
        rule = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])["SecurityGroupRules"][0]
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=10, Protocol="-1",
                                     RuleAction="allow", Egress=False, CidrBlock="10.0.0.0/8")
        inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                                 SubnetId=sub, SecurityGroupIds=[sg],
                                 ClientToken="restart-token")["Instances"][0]
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ec2.associate_address(AllocationId=eip, InstanceId=inst["InstanceId"])
        before = {
            "vpcs": ec2.describe_vpcs()["Vpcs"],
            "subnets": ec2.describe_subnets()["Subnets"],
            "tables": ec2.describe_route_tables()["RouteTables"],
            "groups": ec2.describe_security_groups()["SecurityGroups"],
            "acls": ec2.describe_network_acls()["NetworkAcls"],
            "instances": ec2.describe_instances(InstanceIds=[inst["InstanceId"]])[
                "Reservations"][0]["Instances"],
            "addresses": ec2.describe_addresses()["Addresses"],
            "igws": ec2.describe_internet_gateways()["InternetGateways"],
        }
    finally:
        stop_server(first)
    second = start_server(state)
    try:
        ec2 = second.client("ec2")
        after = {
            "vpcs": ec2.describe_vpcs()["Vpcs"],
            "subnets": ec2.describe_subnets()["Subnets"],
            "tables": ec2.describe_route_tables()["RouteTables"],
            "groups": ec2.describe_security_groups()["SecurityGroups"],
            "acls": ec2.describe_network_acls()["NetworkAcls"],
            "instances": ec2.describe_instances(InstanceIds=[inst["InstanceId"]])[
                "Reservations"][0]["Instances"],
            "addresses": ec2.describe_addresses()["Addresses"],
            "igws": ec2.describe_internet_gateways()["InternetGateways"],
        }

        def by_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return sorted(rows, key=lambda r: str(sorted(r.items())))

        for kind in before:
            assert by_id(after[kind]) == by_id(before[kind]), kind
        # one default VPC still, not a second one made at start-up
        defaults = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
        assert [v["VpcId"] for v in defaults["Vpcs"]] == [default_vpc]
        attr = ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")
        assert attr["EnableDnsHostnames"]["Value"] is True
        ids = ec2.describe_security_group_rules(SecurityGroupRuleIds=[
            rule["SecurityGroupRuleId"]])["SecurityGroupRules"]
        assert ids == [rule]
        ec2.disassociate_route_table(AssociationId=assoc)  # association ids still work
        atl = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.9.0/24",
                                AvailabilityZone="us-east-1-atl-1a")["Subnet"]
        assert atl["AvailabilityZone"] == "us-east-1-atl-1a"  # the opt-in was kept
        again = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                                  SubnetId=sub, SecurityGroupIds=[sg],
                                  ClientToken="restart-token")["Instances"][0]
        assert again["InstanceId"] == inst["InstanceId"]  # the token was kept too
        fails("InvalidIPAddress.InUse", ec2.release_address, AllocationId=eip)
    finally:
        stop_server(second)


def test_responses_parse_into_botocore_shapes(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    assert isinstance(vpc["IsDefault"], bool)
    assert isinstance(vpc["CidrBlockAssociationSet"], list)
    sub = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]
    assert isinstance(sub["AvailableIpAddressCount"], int)
    assert isinstance(sub["MapPublicIpOnLaunch"], bool)
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                             SubnetId=sub["SubnetId"])["Instances"][0]
    assert isinstance(inst["State"]["Code"], int)
    assert isinstance(inst["NetworkInterfaces"][0]["Attachment"]["DeviceIndex"], int)
    acl = ec2.describe_network_acls()["NetworkAcls"][0]
    assert all(isinstance(e["RuleNumber"], int) and isinstance(e["Egress"], bool)
               for e in acl["Entries"])
    rules = ec2.describe_security_group_rules()["SecurityGroupRules"]
    assert rules and all(isinstance(r["IsEgress"], bool) for r in rules)
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert zones and all(isinstance(z["ZoneName"], str) for z in zones)


def test_aws_cli_creates_and_describes_a_vpc(fresh: Server) -> None:
    out = fresh.aws("ec2", "create-vpc", "--cidr-block", "10.42.0.0/16", "--tag-specifications",
                    "ResourceType=vpc,Tags=[{Key=Name,Value=cli}]")
    vid = out["Vpc"]["VpcId"]
    assert out["Vpc"]["CidrBlock"] == "10.42.0.0/16"
    listed = fresh.aws("ec2", "describe-vpcs", "--vpc-ids", vid)["Vpcs"]
    assert [(v["VpcId"], v["Tags"]) for v in listed] == [(vid, [{"Key": "Name",
                                                                 "Value": "cli"}])]
    filtered = fresh.aws("ec2", "describe-vpcs", "--filters", "Name=tag:Name,Values=cl?")
    assert [v["VpcId"] for v in filtered["Vpcs"]] == [vid]
    sub = fresh.aws("ec2", "create-subnet", "--vpc-id", vid, "--cidr-block", "10.42.1.0/24")
    assert sub["Subnet"]["AvailableIpAddressCount"] == 251
