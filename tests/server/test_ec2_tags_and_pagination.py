"""CreateTags/DeleteTags/DescribeTags across resource kinds, and the shared pagination rules."""

from __future__ import annotations

import base64
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Server


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def fails(expected: str, fn: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert code(e) == expected, e.value.response["Error"]
    return str(e.value.response["Error"]["Message"])


def tags_of(ec2: Any, rid: str) -> dict[str, str]:
    rows = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [rid]}])["Tags"]
    return {t["Key"]: t["Value"] for t in rows}


@pytest.fixture
def ec2(fresh: Server) -> Any:
    return fresh.client("ec2")


def test_create_tags_on_many_kinds_and_describe_tags(ec2: Any) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=sub)[
        "Instances"][0]["InstanceId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    everything = [vpc, sub, sg, rtb, igw, acl, inst, eip]
    ec2.create_tags(Resources=everything, Tags=[{"Key": "env", "Value": "prod"},
                                                {"Key": "empty", "Value": ""}])
    rows = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["env"]}])["Tags"]
    types = {r["ResourceId"]: r["ResourceType"] for r in rows}
    assert types == {vpc: "vpc", sub: "subnet", sg: "security-group", rtb: "route-table",
                     igw: "internet-gateway", acl: "network-acl", inst: "instance",
                     eip: "elastic-ip"}
    assert all(r["Value"] == "prod" for r in rows)
    assert tags_of(ec2, vpc) == {"env": "prod", "empty": ""}
    # the tags show on the resources themselves
    assert {"Key": "env", "Value": "prod"} in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Tags"]
    assert {"Key": "env", "Value": "prod"} in ec2.describe_security_groups(GroupIds=[sg])[
        "SecurityGroups"][0]["Tags"]
    assert {"Key": "env", "Value": "prod"} in ec2.describe_addresses(AllocationIds=[eip])[
        "Addresses"][0]["Tags"]
    # overwrite
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "env", "Value": "dev"}])
    assert tags_of(ec2, vpc)["env"] == "dev"
    got = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["subnet", "vpc"]},
                                     {"Name": "key", "Values": ["env"]}])["Tags"]
    assert {(t["ResourceId"], t["Value"]) for t in got} == {(vpc, "dev"), (sub, "prod")}
    got = ec2.describe_tags(Filters=[{"Name": "value", "Values": ["de*"]}])["Tags"]
    assert [(t["ResourceId"], t["Key"]) for t in got] == [(vpc, "env")]
    # resource filters by tag
    assert ec2.describe_subnets(Filters=[{"Name": "tag:env", "Values": ["prod"]}])[
        "Subnets"][0]["SubnetId"] == sub
    assert [g["InternetGatewayId"] for g in ec2.describe_internet_gateways(
        Filters=[{"Name": "tag-key", "Values": ["env"]}])["InternetGateways"]] == [igw]


def test_delete_tags_with_and_without_values(ec2: Any) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": k, "Value": v} for k, v in
                                           (("a", "1"), ("b", "2"), ("c", "3"), ("d", ""))])
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "a"}])  # any value
    assert tags_of(ec2, vpc) == {"b": "2", "c": "3", "d": ""}
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "b", "Value": "not-2"}])  # value differs
    assert tags_of(ec2, vpc) == {"b": "2", "c": "3", "d": ""}
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "b", "Value": "2"}])
    assert tags_of(ec2, vpc) == {"c": "3", "d": ""}
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "c", "Value": ""}])  # only if empty
    assert tags_of(ec2, vpc) == {"c": "3", "d": ""}
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "d", "Value": ""}])
    assert tags_of(ec2, vpc) == {"c": "3"}
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "missing"}])  # not an error
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "e", "Value": "5"}])
    ec2.delete_tags(Resources=[vpc])  # no Tags: every tag goes
    assert tags_of(ec2, vpc) == {}


def test_tag_errors(ec2: Any) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    for rid, err in (("vpc-0000000000000000a", "InvalidVpcID.NotFound"),
                     ("subnet-0000000000000000a", "InvalidSubnetID.NotFound"),
                     ("sg-0000000000000000a", "InvalidGroup.NotFound"),
                     ("i-0000000000000000a", "InvalidInstanceID.NotFound"),
                     ("eipalloc-0000000000000000a", "InvalidAllocationID.NotFound"),
                     ("nat-0000000000000000a", "InvalidNatGatewayID.NotFound"),
                     ("nonsense", "InvalidID")):
        fails(err, ec2.create_tags, Resources=[rid], Tags=[{"Key": "k", "Value": "v"}])
    # all or nothing: the good resource is not tagged either
    fails("InvalidVpcID.NotFound", ec2.create_tags, Resources=[vpc, "vpc-0000000000000000a"],
          Tags=[{"Key": "k", "Value": "v"}])
    assert tags_of(ec2, vpc) == {}
    fails("InvalidParameterValue", ec2.create_tags, Resources=[vpc],
          Tags=[{"Key": "aws:reserved", "Value": "v"}])
    fails("TagLimitExceeded", ec2.create_tags, Resources=[vpc],
          Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert len(tags_of(ec2, vpc)) == 50


def test_tags_are_scoped_to_account_and_region(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "k", "Value": "v"}])
    for other in (fresh.client("ec2", account="222222222222"),
                  fresh.client("ec2", region="us-west-2")):
        fails("InvalidVpcID.NotFound", other.create_tags, Resources=[vpc],
              Tags=[{"Key": "x", "Value": "y"}])
        fails("InvalidVpcID.NotFound", other.delete_tags, Resources=[vpc])
        assert other.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc]}])[
            "Tags"] == []
    assert tags_of(ec2, vpc) == {"k": "v"}


def test_describe_tags_pages(ec2: Any) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": f"key{i:02}", "Value": str(i)}
                                           for i in range(12)])
    pages = list(ec2.get_paginator("describe_tags").paginate(
        PaginationConfig={"PageSize": 5}))
    assert [len(p["Tags"]) for p in pages] == [5, 5, 2]
    keys = [t["Key"] for p in pages for t in p["Tags"]]
    assert keys == [f"key{i:02}" for i in range(12)]


# ---------------------------------------------------------------------- pagination
def test_max_results_bounds(fresh: Server) -> None:
    # botocore checks some minimums itself; switch that off to see the server's answer
    ec2 = boto3.client("ec2", endpoint_url=fresh.url, region_name="us-east-1",
                       aws_access_key_id="AKIDLOCALVPCTEST", aws_secret_access_key="secret",
                       config=Config(parameter_validation=False))
    for fn in (ec2.describe_vpcs, ec2.describe_subnets, ec2.describe_security_groups,
               ec2.describe_network_acls, ec2.describe_internet_gateways,
               ec2.describe_instances, ec2.describe_network_interfaces, ec2.describe_tags,
               ec2.describe_nat_gateways, ec2.describe_route_tables,
               ec2.describe_security_group_rules):
        fails("InvalidParameterValue", fn, MaxResults=4)
        fails("InvalidParameterValue", fn, MaxResults=1001)
        assert fn(MaxResults=5)["ResponseMetadata"]["HTTPStatusCode"] == 200
    fails("InvalidParameterValue", ec2.describe_route_tables, MaxResults=101)
    assert ec2.describe_route_tables(MaxResults=100)
    fails("InvalidParameterValue", ec2.describe_egress_only_internet_gateways,
          MaxResults=256)
    assert ec2.describe_egress_only_internet_gateways(MaxResults=255)


@pytest.mark.parametrize("token", ["garbage!!", "bm90LWEtdG9rZW4=",
                                   base64.urlsafe_b64encode(b"vpc-0").decode()])
def test_invalid_next_token(ec2: Any, token: str) -> None:
    fails("InvalidNextToken", ec2.describe_vpcs, MaxResults=5, NextToken=token)


def test_pages_survive_changes_between_calls(ec2: Any) -> None:
    made = sorted(ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"]
                  for i in range(9))
    first = ec2.describe_vpcs(MaxResults=5)
    seen = [v["VpcId"] for v in first["Vpcs"]]
    # a VPC already listed goes away; the next page neither repeats nor skips anything
    ec2.delete_vpc(VpcId=next(v for v in seen if v in made))
    rest = ec2.describe_vpcs(MaxResults=5, NextToken=first["NextToken"])
    assert "NextToken" not in rest
    everything = seen + [v["VpcId"] for v in rest["Vpcs"]]
    assert len(everything) == len(set(everything)) == 10
    assert set(made) <= set(everything)


def test_subnets_and_instances_pages(ec2: Any) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = {ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"]
               for i in range(7)}
    paged = [s["SubnetId"] for p in ec2.get_paginator("describe_subnets").paginate(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}], PaginationConfig={"PageSize": 5})
        for s in p["Subnets"]]
    assert sorted(paged) == sorted(subnets)
    sub = sorted(subnets)[0]
    ec2.run_instances(ImageId="ami-12345678", MinCount=6, MaxCount=6, SubnetId=sub)
    pages = list(ec2.get_paginator("describe_instances").paginate(
        PaginationConfig={"PageSize": 5}))
    assert [sum(len(r["Instances"]) for r in p["Reservations"]) for p in pages] == [5, 1]
