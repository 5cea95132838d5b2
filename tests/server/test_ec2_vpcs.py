"""VPCs, subnets and the default VPC through boto3 against a real ``localvpc serve``."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def vpc(ec2: Any, cidr: str = "10.0.0.0/16", **kw: Any) -> str:
    return str(ec2.create_vpc(CidrBlock=cidr, **kw)["Vpc"]["VpcId"])


def subnet(ec2: Any, vpc_id: str, cidr: str, **kw: Any) -> str:
    return str(ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, **kw)["Subnet"]["SubnetId"])


def by_vpc(vpc_id: str) -> list[dict[str, Any]]:
    return [{"Name": "vpc-id", "Values": [vpc_id]}]


# ---------------------------------------------------------------------- CreateVpc
def test_create_vpc_parses_and_carries_tags(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    out = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "app"},
                                          {"Key": "env", "Value": "test"}]}])["Vpc"]
    assert out["VpcId"].startswith("vpc-") and len(out["VpcId"]) == 21
    assert out["CidrBlock"] == "10.1.0.0/16"
    assert out["IsDefault"] is False and out["State"] == "available"
    assert out["OwnerId"] == "000000000000"
    assert {t["Key"]: t["Value"] for t in out["Tags"]} == {"Name": "app", "env": "test"}
    (assoc,) = out["CidrBlockAssociationSet"]
    assert assoc["CidrBlock"] == "10.1.0.0/16"
    assert assoc["CidrBlockState"]["State"] == "associated"
    again = ec2.describe_vpcs(VpcIds=[out["VpcId"]])["Vpcs"][0]
    assert again["Tags"] == out["Tags"] and again["CidrBlock"] == "10.1.0.0/16"


@pytest.mark.parametrize("cidr", ["10.0.0.0/15", "10.0.0.0/8", "10.0.0.0/29", "10.0.0.0/32"])
def test_create_vpc_outside_16_to_28_is_invalid_range(fresh: Server, cidr: str) -> None:
    ec2 = fresh.client("ec2")
    with pytest.raises(ClientError) as e:
        ec2.create_vpc(CidrBlock=cidr)
    assert code(e) == "InvalidVpc.Range"


def test_create_vpc_edge_sizes_and_canonical_form(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    assert ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["CidrBlock"] == "10.0.0.0/16"
    assert ec2.create_vpc(CidrBlock="10.9.0.0/28")["Vpc"]["CidrBlock"] == "10.9.0.0/28"
    assert ec2.create_vpc(CidrBlock="10.7.3.9/16")["Vpc"]["CidrBlock"] == "10.7.0.0/16"


@pytest.mark.parametrize("cidr", ["banana", "10.0.0.0/33", "300.0.0.0/16", "10.0.0/16x"])
def test_create_vpc_bad_cidr_is_invalid_parameter_value(fresh: Server, cidr: str) -> None:
    with pytest.raises(ClientError) as e:
        fresh.client("ec2").create_vpc(CidrBlock=cidr)
    assert code(e) == "InvalidParameterValue"


def test_new_vpc_has_main_route_table_with_local_route_RT1_RT5(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2, "10.4.0.0/16")
    (rt,) = ec2.describe_route_tables(Filters=by_vpc(vid))["RouteTables"]
    assert [a["Main"] for a in rt["Associations"]] == [True]
    assert rt["Associations"][0]["RouteTableAssociationId"].startswith("rtbassoc-")
    assert rt["Routes"] == [{"DestinationCidrBlock": "10.4.0.0/16", "GatewayId": "local",
                             "Origin": "CreateRouteTable", "State": "active"}]


def test_new_vpc_default_nacl_NA1(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    (acl,) = ec2.describe_network_acls(Filters=by_vpc(vid))["NetworkAcls"]
    assert acl["IsDefault"] is True
    got = sorted((e["Egress"], e["RuleNumber"], e["Protocol"], e["RuleAction"], e["CidrBlock"])
                 for e in acl["Entries"])
    assert got == [(False, 100, "-1", "allow", "0.0.0.0/0"),
                   (False, 32767, "-1", "deny", "0.0.0.0/0"),
                   (True, 100, "-1", "allow", "0.0.0.0/0"),
                   (True, 32767, "-1", "deny", "0.0.0.0/0")]


def test_ipv6_vpc_default_nacl_and_sg_cover_ipv6_NA1_SG2(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    out = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    (v6,) = out["Ipv6CidrBlockAssociationSet"]
    block = ipaddress.ip_network(v6["Ipv6CidrBlock"])
    assert block.version == 6 and block.prefixlen == 56
    vid = out["VpcId"]
    (acl,) = ec2.describe_network_acls(Filters=by_vpc(vid))["NetworkAcls"]
    v6_entries = sorted((e["Egress"], e["RuleNumber"], e["RuleAction"])
                        for e in acl["Entries"] if e.get("Ipv6CidrBlock") == "::/0")
    assert v6_entries == [(False, 101, "allow"), (False, 32768, "deny"),
                          (True, 101, "allow"), (True, 32768, "deny")]
    (sg,) = ec2.describe_security_groups(Filters=by_vpc(vid))["SecurityGroups"]
    (egress,) = sg["IpPermissionsEgress"]
    assert egress["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert egress["Ipv6Ranges"] == [{"CidrIpv6": "::/0"}]
    (rt,) = ec2.describe_route_tables(Filters=by_vpc(vid))["RouteTables"]
    assert {"DestinationIpv6CidrBlock": str(block), "GatewayId": "local",
            "Origin": "CreateRouteTable", "State": "active"} in rt["Routes"]


def test_two_ipv6_vpcs_get_different_blocks(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    blocks = {ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
              ["Vpc"]["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"] for _ in range(6)}
    assert len(blocks) == 6


def test_new_vpc_default_security_group_SG2(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    (sg,) = ec2.describe_security_groups(Filters=by_vpc(vid))["SecurityGroups"]
    assert sg["GroupName"] == "default"
    assert sg["Description"] == "default VPC security group"
    (ingress,) = sg["IpPermissions"]
    assert ingress["IpProtocol"] == "-1"
    assert [p["GroupId"] for p in ingress["UserIdGroupPairs"]] == [sg["GroupId"]]
    assert ingress["UserIdGroupPairs"][0]["UserId"] == "000000000000"
    assert ingress["IpRanges"] == []
    (egress,) = sg["IpPermissionsEgress"]
    assert egress["IpProtocol"] == "-1" and egress["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert egress["Ipv6Ranges"] == []


# ---------------------------------------------------------------------- DescribeVpcs
def test_describe_vpcs_unknown_id_is_not_found(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    known = vpc(ec2)
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs(VpcIds=[known, "vpc-0123456789abcdef0"])
    assert code(e) == "InvalidVpcID.NotFound"
    assert "vpc-0123456789abcdef0" in e.value.response["Error"]["Message"]


def test_describe_vpcs_by_ids(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    a, b, _ = vpc(ec2, "10.0.0.0/16"), vpc(ec2, "10.1.0.0/16"), vpc(ec2, "10.2.0.0/16")
    got = ec2.describe_vpcs(VpcIds=[a, b])["Vpcs"]
    assert sorted(v["VpcId"] for v in got) == sorted([a, b])


def test_describe_vpcs_every_filter(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    a = vpc(ec2, "10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "alpha"}]}])
    b = vpc(ec2, "10.1.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "beta"},
                                          {"Key": "team", "Value": "net"}]}])
    ec2.associate_vpc_cidr_block(VpcId=b, CidrBlock="10.2.0.0/16")
    c = ec2.create_vpc(CidrBlock="10.3.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    v6 = c["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    default = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]

    def ids(*filters: tuple[str, list[str]]) -> set[str]:
        f = [{"Name": n, "Values": v} for n, v in filters]
        return {v["VpcId"] for v in ec2.describe_vpcs(Filters=f)["Vpcs"]}

    assert [v["CidrBlock"] for v in default] == ["172.31.0.0/16"]
    dflt = default[0]["VpcId"]
    assert ids(("vpc-id", [a, b])) == {a, b}
    assert ids(("cidr", ["10.1.0.0/16"])) == {b}
    assert ids(("cidr", ["10.2.0.0/16"])) == set()  # cidr is the primary block only
    assert ids(("cidr-block-association.cidr-block", ["10.2.0.0/16"])) == {b}
    assert ids(("ipv6-cidr-block-association.ipv6-cidr-block", [v6])) == {c["VpcId"]}
    assert ids(("is-default", ["false"])) == {a, b, c["VpcId"]}
    assert ids(("is-default", ["true"])) == {dflt}
    assert ids(("owner-id", ["000000000000"])) == {a, b, c["VpcId"], dflt}
    assert ids(("owner-id", ["111111111111"])) == set()
    assert ids(("state", ["available"])) == {a, b, c["VpcId"], dflt}
    assert ids(("state", ["pending"])) == set()
    assert ids(("dhcp-options-id", ["*"])) == {a, b, c["VpcId"], dflt}
    assert ids(("tag:Name", ["alpha"])) == {a}
    assert ids(("tag:Name", ["alpha", "beta"])) == {a, b}  # values OR-ed
    assert ids(("tag:Name", ["*a"])) == {a, b}  # wildcard
    assert ids(("tag:Name", ["b?ta"])) == {b}
    assert ids(("tag:Name", ["ALPHA"])) == set()  # case-sensitive
    assert ids(("tag-key", ["team"])) == {b}
    assert ids(("tag-value", ["net"])) == {b}
    assert ids(("tag:Name", ["*"]), ("cidr", ["10.0.*"])) == {a}  # filters AND-ed
    assert ids(("cidr", ["10.?.0.0/16"])) == {a, b, c["VpcId"]}
    assert ids(("cidr", ["*"])) == {a, b, c["VpcId"], dflt}
    b_assocs = ec2.describe_vpcs(VpcIds=[b])["Vpcs"][0]["CidrBlockAssociationSet"]
    second = next(x["AssociationId"] for x in b_assocs if x["CidrBlock"] == "10.2.0.0/16")
    assert ids(("cidr-block-association.association-id", [second])) == {b}
    assert ids(("cidr-block-association.state", ["associated"])) == {a, b, c["VpcId"], dflt}
    v6_assoc = c["Ipv6CidrBlockAssociationSet"][0]["AssociationId"]
    assert ids(("ipv6-cidr-block-association.association-id", [v6_assoc])) == {c["VpcId"]}
    assert ids(("ipv6-cidr-block-association.state", ["associated"])) == {c["VpcId"]}
    assert ids(("ipv6-cidr-block-association.ipv6-pool", ["Amazon"])) == {c["VpcId"]}


def test_filter_value_brackets_are_literal(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    a = vpc(ec2, TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "a[1]*"}]}])
    vpc(ec2, TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "a1x"}]}])
    got = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["a[1]*"]}])["Vpcs"]
    assert [v["VpcId"] for v in got] == [a]
    escaped = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["a[1]\\*"]}])
    assert [v["VpcId"] for v in escaped["Vpcs"]] == [a]


def test_describe_vpcs_unknown_filter_is_rejected(fresh: Server) -> None:
    with pytest.raises(ClientError) as e:
        fresh.client("ec2").describe_vpcs(Filters=[{"Name": "colour", "Values": ["red"]}])
    assert code(e) == "InvalidParameterValue"


def test_describe_vpcs_pages_cover_everything_once(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    made = {vpc(ec2, f"10.{i}.0.0/16") for i in range(11)}
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        kw: dict[str, Any] = {"MaxResults": 5}
        if token:
            kw["NextToken"] = token
        out = ec2.describe_vpcs(**kw)
        assert len(out["Vpcs"]) <= 5
        seen += [v["VpcId"] for v in out["Vpcs"]]
        pages += 1
        token = out.get("NextToken")
        if not token:
            break
    assert pages == 3  # 11 made + the default VPC = 12
    assert len(seen) == len(set(seen)) == 12 and made <= set(seen)
    paged = [v["VpcId"] for p in ec2.get_paginator("describe_vpcs").paginate(
        PaginationConfig={"PageSize": 5}) for v in p["Vpcs"]]
    assert sorted(paged) == sorted(seen)


# ---------------------------------------------------------------------- DeleteVpc
def test_delete_vpc_dependency_violations_then_cleanup(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    sid = subnet(ec2, vid, "10.0.1.0/24")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vid)
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vid)["GroupId"]
    eigw = ec2.create_egress_only_internet_gateway(VpcId=vid)[
        "EgressOnlyInternetGateway"]["EgressOnlyInternetGatewayId"]
    rtb = ec2.create_route_table(VpcId=vid)["RouteTable"]["RouteTableId"]
    acl = ec2.create_network_acl(VpcId=vid)["NetworkAcl"]["NetworkAclId"]
    steps = [lambda: ec2.delete_subnet(SubnetId=sid),
             lambda: ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vid),
             lambda: ec2.delete_security_group(GroupId=sg),
             lambda: ec2.delete_egress_only_internet_gateway(EgressOnlyInternetGatewayId=eigw),
             lambda: ec2.delete_route_table(RouteTableId=rtb),
             lambda: ec2.delete_network_acl(NetworkAclId=acl)]
    for step in steps:
        with pytest.raises(ClientError) as e:
            ec2.delete_vpc(VpcId=vid)
        assert code(e) == "DependencyViolation"
        step()
    defaults = ec2.describe_route_tables(Filters=by_vpc(vid))["RouteTables"]
    main_rtb = defaults[0]["RouteTableId"]
    default_acl = ec2.describe_network_acls(Filters=by_vpc(vid))["NetworkAcls"][0]["NetworkAclId"]
    default_sg = ec2.describe_security_groups(Filters=by_vpc(vid))["SecurityGroups"][0]["GroupId"]
    ec2.delete_vpc(VpcId=vid)
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs(VpcIds=[vid])
    assert code(e) == "InvalidVpcID.NotFound"
    for call, kw, err in (
            (ec2.describe_route_tables, {"RouteTableIds": [main_rtb]},
             "InvalidRouteTableID.NotFound"),
            (ec2.describe_network_acls, {"NetworkAclIds": [default_acl]},
             "InvalidNetworkAclID.NotFound"),
            (ec2.describe_security_groups, {"GroupIds": [default_sg]},
             "InvalidGroup.NotFound")):
        with pytest.raises(ClientError) as e:
            call(**kw)
        assert code(e) == err
    # the detached IGW outlives the VPC
    assert ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"]
    with pytest.raises(ClientError) as e:
        ec2.delete_vpc(VpcId=vid)
    assert code(e) == "InvalidVpcID.NotFound"


# ---------------------------------------------------------------------- attributes
def test_vpc_attributes_defaults_and_modify(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)

    def attr(name: str) -> bool:
        out = ec2.describe_vpc_attribute(VpcId=vid, Attribute=name)
        assert out["VpcId"] == vid
        key = name[0].upper() + name[1:]
        return bool(out[key]["Value"])

    assert attr("enableDnsSupport") is True
    assert attr("enableDnsHostnames") is False
    ec2.modify_vpc_attribute(VpcId=vid, EnableDnsHostnames={"Value": True})
    assert attr("enableDnsHostnames") is True
    ec2.modify_vpc_attribute(VpcId=vid, EnableDnsSupport={"Value": False})
    assert attr("enableDnsSupport") is False
    assert attr("enableDnsHostnames") is True
    with pytest.raises(ClientError) as e:
        ec2.modify_vpc_attribute(VpcId="vpc-0000000000000000a",
                                 EnableDnsSupport={"Value": True})
    assert code(e) == "InvalidVpcID.NotFound"


# ---------------------------------------------------------------------- secondary CIDRs
def test_secondary_cidr_adds_local_route_to_every_table_RT5(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    custom = ec2.create_route_table(VpcId=vid)["RouteTable"]["RouteTableId"]
    out = ec2.associate_vpc_cidr_block(VpcId=vid, CidrBlock="10.1.0.0/16")
    assoc = out["CidrBlockAssociation"]
    assert out["VpcId"] == vid and assoc["CidrBlock"] == "10.1.0.0/16"
    assert assoc["AssociationId"].startswith("vpc-cidr-assoc-")
    tables = ec2.describe_route_tables(Filters=by_vpc(vid))["RouteTables"]
    assert len(tables) == 2 and custom in {t["RouteTableId"] for t in tables}
    for t in tables:
        local = sorted(r["DestinationCidrBlock"] for r in t["Routes"] if r["GatewayId"] == "local")
        assert local == ["10.0.0.0/16", "10.1.0.0/16"]
    later = ec2.create_route_table(VpcId=vid)["RouteTable"]
    assert len([r for r in later["Routes"] if r.get("GatewayId") == "local"]) == 2
    v = ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0]
    assert v["CidrBlock"] == "10.0.0.0/16"
    assert [a["CidrBlock"] for a in v["CidrBlockAssociationSet"]] == ["10.0.0.0/16",
                                                                      "10.1.0.0/16"]
    assert subnet(ec2, vid, "10.1.5.0/24")  # subnets may use the new block


def test_secondary_cidr_disassociate_removes_local_routes_RT5(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    assoc = ec2.associate_vpc_cidr_block(VpcId=vid, CidrBlock="10.1.0.0/16")[
        "CidrBlockAssociation"]["AssociationId"]
    ec2.associate_vpc_cidr_block(VpcId=vid, CidrBlock="10.2.0.0/16")
    sid = subnet(ec2, vid, "10.1.0.0/24")
    with pytest.raises(ClientError) as e:  # a subnet uses the block
        ec2.disassociate_vpc_cidr_block(AssociationId=assoc)
    assert code(e) == "DependencyViolation"
    ec2.delete_subnet(SubnetId=sid)
    out = ec2.disassociate_vpc_cidr_block(AssociationId=assoc)
    assert out["CidrBlockAssociation"]["CidrBlock"] == "10.1.0.0/16"
    v = ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0]
    assoc_ids = [a["AssociationId"] for a in v["CidrBlockAssociationSet"]]
    assert [a["CidrBlock"] for a in v["CidrBlockAssociationSet"]] == ["10.0.0.0/16",
                                                                      "10.2.0.0/16"]
    assert assoc not in assoc_ids
    (rt,) = ec2.describe_route_tables(Filters=by_vpc(vid))["RouteTables"]
    assert sorted(r["DestinationCidrBlock"] for r in rt["Routes"]) == ["10.0.0.0/16",
                                                                       "10.2.0.0/16"]
    with pytest.raises(ClientError) as e:  # the primary block stays
        ec2.disassociate_vpc_cidr_block(AssociationId=assoc_ids[0])
    assert code(e) == "OperationNotPermitted"
    with pytest.raises(ClientError) as e:
        ec2.disassociate_vpc_cidr_block(AssociationId=assoc)
    assert code(e) == "InvalidVpcCidrBlockAssociationID.NotFound"


@pytest.mark.parametrize("cidr", ["10.0.128.0/17", "10.0.0.0/8", "10.5.0.0/29"])
def test_secondary_cidr_overlap_or_size_is_rejected(fresh: Server, cidr: str) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    with pytest.raises(ClientError) as e:
        ec2.associate_vpc_cidr_block(VpcId=vid, CidrBlock=cidr)
    assert code(e) == "InvalidVpc.Range"


# ---------------------------------------------------------------------- default VPC
def test_default_vpc_IG6(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    (dv,) = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    assert dv["CidrBlock"] == "172.31.0.0/16" and dv["IsDefault"] is True
    vid = dv["VpcId"]
    hostnames = ec2.describe_vpc_attribute(VpcId=vid, Attribute="enableDnsHostnames")
    assert hostnames["EnableDnsHostnames"]["Value"] is True
    azs = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]
           if z["ZoneType"] == "availability-zone"]
    subnets = ec2.describe_subnets(Filters=by_vpc(vid))["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == sorted(azs)
    cidrs = [ipaddress.ip_network(s["CidrBlock"]) for s in subnets]
    assert all(c.prefixlen == 20 and c.subnet_of(ipaddress.ip_network("172.31.0.0/16"))
               for c in cidrs)
    assert len(set(cidrs)) == len(cidrs)
    assert all(s["DefaultForAz"] and s["MapPublicIpOnLaunch"] for s in subnets)
    first = next(s for s in subnets if s["AvailabilityZone"] == "us-east-1a")
    assert first["CidrBlock"] == "172.31.0.0/20"
    (igw,) = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vid]}])["InternetGateways"]
    assert igw["Attachments"] == [{"VpcId": vid, "State": "available"}]
    (main,) = ec2.describe_route_tables(Filters=by_vpc(vid))["RouteTables"]
    assert main["Associations"][0]["Main"] is True
    assert {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw["InternetGatewayId"],
            "Origin": "CreateRoute", "State": "active"} in main["Routes"]
    (acl,) = ec2.describe_network_acls(Filters=by_vpc(vid))["NetworkAcls"]
    assert {a["SubnetId"] for a in acl["Associations"]} == {s["SubnetId"] for s in subnets}
    (sg,) = ec2.describe_security_groups(Filters=by_vpc(vid))["SecurityGroups"]
    assert sg["GroupName"] == "default"


def test_default_vpc_per_account_and_region(fresh: Server) -> None:
    def default_of(ec2: Any) -> dict[str, Any]:
        (v,) = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        return dict(v)

    a = default_of(fresh.client("ec2"))
    b = default_of(fresh.client("ec2", account="222222222222"))
    w = default_of(fresh.client("ec2", region="us-west-2"))
    assert len({a["VpcId"], b["VpcId"], w["VpcId"]}) == 3
    assert b["OwnerId"] == "222222222222" and a["OwnerId"] == "000000000000"
    assert a["CidrBlock"] == b["CidrBlock"] == w["CidrBlock"] == "172.31.0.0/16"
    west = fresh.client("ec2", region="us-west-2").describe_subnets(
        Filters=by_vpc(w["VpcId"]))["Subnets"]
    assert west and all(s["AvailabilityZone"].startswith("us-west-2") for s in west)
    assert default_of(fresh.client("ec2"))["VpcId"] == a["VpcId"]  # made once


def test_deleted_default_vpc_is_not_recreated_until_asked(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    (dv,) = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    vid = dv["VpcId"]
    with pytest.raises(ClientError) as e:
        ec2.create_default_vpc()
    assert code(e) == "DefaultVpcAlreadyExists"
    for s in ec2.describe_subnets(Filters=by_vpc(vid))["Subnets"]:
        ec2.delete_subnet(SubnetId=s["SubnetId"])
    (igw,) = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vid]}])["InternetGateways"]
    ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vid)
    ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
    ec2.delete_vpc(VpcId=vid)
    for _ in range(2):
        assert ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])[
            "Vpcs"] == []
    with pytest.raises(ClientError) as e:  # no default VPC to launch into
        ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)
    assert code(e) == "VPCIdNotSpecified"
    again = ec2.create_default_vpc()["Vpc"]
    assert again["IsDefault"] is True and again["CidrBlock"] == "172.31.0.0/16"
    assert again["VpcId"] != vid
    subnets = ec2.describe_subnets(Filters=by_vpc(again["VpcId"]))["Subnets"]
    assert subnets and all(s["DefaultForAz"] for s in subnets)


# ---------------------------------------------------------------------- subnets
@pytest.mark.parametrize("cidr", ["10.1.0.0/24", "10.0.0.0/29", "10.0.0.0/15",
                                  "9.255.255.0/24"])
def test_subnet_outside_vpc_or_wrong_size_is_invalid_range(fresh: Server, cidr: str) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vid, CidrBlock=cidr)
    assert code(e) == "InvalidSubnet.Range"


def test_subnet_sizes_16_and_28_are_fine(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2, "10.0.0.0/16")
    whole = ec2.create_subnet(VpcId=vid, CidrBlock="10.0.0.0/16")["Subnet"]
    assert whole["AvailableIpAddressCount"] == 65536 - 5
    other = vpc(ec2, "10.1.0.0/16")
    small = ec2.create_subnet(VpcId=other, CidrBlock="10.1.0.16/28")["Subnet"]
    assert small["AvailableIpAddressCount"] == 11


@pytest.mark.parametrize("cidr", ["10.0.1.0/24", "10.0.1.128/25", "10.0.0.0/23"])
def test_overlapping_subnet_is_conflict(fresh: Server, cidr: str) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    subnet(ec2, vid, "10.0.1.0/24")
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vid, CidrBlock=cidr)
    assert code(e) == "InvalidSubnet.Conflict"


def test_subnet_in_unknown_vpc(fresh: Server) -> None:
    with pytest.raises(ClientError) as e:
        fresh.client("ec2").create_subnet(VpcId="vpc-0000000000000000a",
                                          CidrBlock="10.0.0.0/24")
    assert code(e) == "InvalidVpcID.NotFound"


def test_subnet_shape_zone_by_name_and_by_id(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    a = ec2.create_subnet(VpcId=vid, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1c",
                          TagSpecifications=[{"ResourceType": "subnet",
                                              "Tags": [{"Key": "Name", "Value": "a"}]}]
                          )["Subnet"]
    assert a["AvailabilityZone"] == "us-east-1c" and a["AvailabilityZoneId"] == "use1-az2"
    assert a["VpcId"] == vid and a["State"] == "available"
    assert a["AvailableIpAddressCount"] == 251
    assert a["DefaultForAz"] is False and a["MapPublicIpOnLaunch"] is False
    assert a["SubnetArn"] == f"arn:aws:ec2:us-east-1:000000000000:subnet/{a['SubnetId']}"
    assert a["Tags"] == [{"Key": "Name", "Value": "a"}]
    b = ec2.create_subnet(VpcId=vid, CidrBlock="10.0.2.0/24",
                          AvailabilityZoneId="use1-az4")["Subnet"]
    assert b["AvailabilityZone"] == "us-east-1d" and b["AvailabilityZoneId"] == "use1-az4"
    c = ec2.create_subnet(VpcId=vid, CidrBlock="10.0.3.0/24")["Subnet"]
    assert c["AvailabilityZone"].startswith("us-east-1")
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vid, CidrBlock="10.0.4.0/24", AvailabilityZone="us-west-2a")
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vid, CidrBlock="10.0.4.0/24", AvailabilityZone="us-east-1c",
                          AvailabilityZoneId="use1-az4")
    assert code(e) == "InvalidParameterCombination"
    zone_filter = ec2.describe_subnets(Filters=[
        {"Name": "availability-zone", "Values": ["us-east-1c", "us-east-1d"]},
        {"Name": "vpc-id", "Values": [vid]}])["Subnets"]
    assert {s["SubnetId"] for s in zone_filter} == {a["SubnetId"], b["SubnetId"]}
    by_cidr = ec2.describe_subnets(Filters=[{"Name": "cidr-block",
                                             "Values": ["10.0.2.0/24"]}])["Subnets"]
    assert [s["SubnetId"] for s in by_cidr] == [b["SubnetId"]]
    by_az_id = ec2.describe_subnets(Filters=[{"Name": "availability-zone-id",
                                              "Values": ["use1-az2"]}, *by_vpc(vid)])
    assert [s["SubnetId"] for s in by_az_id["Subnets"]] == [a["SubnetId"]]


def test_local_zone_subnet_needs_opt_in(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vid, CidrBlock="10.0.8.0/24",
                          AvailabilityZone="us-east-1-atl-1a")
    assert code(e) == "OptInRequired"
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vid, CidrBlock="10.0.8.0/24", AvailabilityZoneId="use1-atl1-az1")
    assert code(e) == "OptInRequired"
    ec2.modify_availability_zone_group(GroupName="us-east-1-atl-1", OptInStatus="opted-in")
    s = ec2.create_subnet(VpcId=vid, CidrBlock="10.0.8.0/24",
                          AvailabilityZone="us-east-1-atl-1a")["Subnet"]
    assert s["AvailabilityZone"] == "us-east-1-atl-1a"
    assert s["AvailabilityZoneId"] == "use1-atl1-az1"
    # opt-in is per account
    other = fresh.client("ec2", account="222222222222")
    ovid = vpc(other)
    with pytest.raises(ClientError) as e:
        other.create_subnet(VpcId=ovid, CidrBlock="10.0.8.0/24",
                            AvailabilityZone="us-east-1-atl-1a")
    assert code(e) == "OptInRequired"


def test_available_ip_count_tracks_instances(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    sid = subnet(ec2, vid, "10.0.1.0/24")

    def free() -> int:
        return int(ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["AvailableIpAddressCount"])

    assert free() == 256 - 5
    out = ec2.run_instances(ImageId="ami-12345678", MinCount=3, MaxCount=3, SubnetId=sid)
    assert free() == 248
    eni = ec2.create_network_interface(SubnetId=sid)["NetworkInterface"]["NetworkInterfaceId"]
    assert free() == 247
    ec2.terminate_instances(InstanceIds=[out["Instances"][0]["InstanceId"]])
    assert free() == 248
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    assert free() == 249


def test_small_subnet_runs_out_of_addresses(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    sid = subnet(ec2, vid, "10.0.0.0/28")
    out = ec2.run_instances(ImageId="ami-12345678", MinCount=11, MaxCount=11, SubnetId=sid)
    ips = [i["PrivateIpAddress"] for i in out["Instances"]]
    assert ips == [f"10.0.0.{n}" for n in range(4, 15)]
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["AvailableIpAddressCount"] == 0
    with pytest.raises(ClientError) as e:
        ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=sid)
    assert code(e) == "InsufficientFreeAddressesInSubnet"


def test_delete_subnet_with_eni_is_dependency_violation(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    sid = subnet(ec2, vid, "10.0.1.0/24")
    eni = ec2.create_network_interface(SubnetId=sid)["NetworkInterface"]["NetworkInterfaceId"]
    with pytest.raises(ClientError) as e:
        ec2.delete_subnet(SubnetId=sid)
    assert code(e) == "DependencyViolation"
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    ec2.delete_subnet(SubnetId=sid)
    with pytest.raises(ClientError) as e:
        ec2.describe_subnets(SubnetIds=[sid])
    assert code(e) == "InvalidSubnetID.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.delete_subnet(SubnetId=sid)
    assert code(e) == "InvalidSubnetID.NotFound"


def test_delete_subnet_drops_its_associations(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    sid = subnet(ec2, vid, "10.0.1.0/24")
    rtb = ec2.create_route_table(VpcId=vid)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=sid)
    ec2.delete_subnet(SubnetId=sid)
    ec2.delete_route_table(RouteTableId=rtb)  # no association left
    (acl,) = ec2.describe_network_acls(Filters=by_vpc(vid))["NetworkAcls"]
    assert acl["Associations"] == []


def test_modify_subnet_attribute(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vid = vpc(ec2)
    sid = subnet(ec2, vid, "10.0.1.0/24")
    ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
    s = ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]
    assert s["MapPublicIpOnLaunch"] is True
    got = ec2.describe_subnets(Filters=[{"Name": "map-public-ip-on-launch", "Values": ["true"]},
                                        *by_vpc(vid)])["Subnets"]
    assert [x["SubnetId"] for x in got] == [sid]
    ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": False})
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["MapPublicIpOnLaunch"] is False
    with pytest.raises(ClientError) as e:
        ec2.modify_subnet_attribute(SubnetId="subnet-0000000000000000a",
                                    MapPublicIpOnLaunch={"Value": True})
    assert code(e) == "InvalidSubnetID.NotFound"


# ---------------------------------------------------------------------- regions
def test_describe_regions(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    names = [r["RegionName"] for r in ec2.describe_regions()["Regions"]]
    assert {"us-east-1", "us-west-2"} <= set(names)
    us = ec2.describe_regions(Filters=[{"Name": "region-name", "Values": ["us-*"]}])["Regions"]
    assert {r["RegionName"] for r in us} == {n for n in names if n.startswith("us-")}
    one = ec2.describe_regions(RegionNames=["us-west-2"])["Regions"]
    assert one == [{"RegionName": "us-west-2", "Endpoint": "ec2.us-west-2.amazonaws.com",
                    "OptInStatus": "opt-in-not-required"}]
    with pytest.raises(ClientError) as e:
        ec2.describe_regions(RegionNames=["mars-1"])
    assert code(e) == "InvalidParameterValue"
