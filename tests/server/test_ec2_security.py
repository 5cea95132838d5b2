"""Security groups and network ACLs (vpc-filtering.md SG-*, NA-*)."""

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
    subnet: str
    default_sg: str


@pytest.fixture
def net(fresh: Server) -> Net:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "SecurityGroups"][0]["GroupId"]
    return Net(ec2, vpc, sub, sg)


def group(n: Net, name: str = "web", vpc: str | None = None) -> str:
    return str(n.ec2.create_security_group(GroupName=name, Description=f"{name} tier",
                                           VpcId=vpc or n.vpc)["GroupId"])


def describe(n: Net, gid: str) -> dict[str, Any]:
    return dict(n.ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0])


def tcp(port: int, **peer: Any) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **peer}


# ---------------------------------------------------------------------- SG-1, SG-3
def test_create_security_group_shape_SG3(net: Net) -> None:
    out = net.ec2.create_security_group(
        GroupName="web", Description="web tier", VpcId=net.vpc,
        TagSpecifications=[{"ResourceType": "security-group",
                            "Tags": [{"Key": "Name", "Value": "web"}]}])
    gid = out["GroupId"]
    assert gid.startswith("sg-") and len(gid) == 20
    assert out["Tags"] == [{"Key": "Name", "Value": "web"}]
    assert out["SecurityGroupArn"] == f"arn:aws:ec2:us-east-1:000000000000:security-group/{gid}"
    g = describe(net, gid)
    assert (g["GroupName"], g["Description"], g["VpcId"]) == ("web", "web tier", net.vpc)
    assert g["IpPermissions"] == []
    assert g["IpPermissionsEgress"] == [{"IpProtocol": "-1", "IpRanges": [
        {"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [],
        "UserIdGroupPairs": []}]


def test_group_names_SG1(net: Net) -> None:
    ec2 = net.ec2
    group(net, "web")
    fails("InvalidGroup.Duplicate", ec2.create_security_group, GroupName="web",
          Description="again", VpcId=net.vpc)
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    assert group(net, "web", other)  # unique per VPC only
    fails("InvalidGroup.Reserved", ec2.create_security_group, GroupName="default",
          Description="x", VpcId=net.vpc)
    fails("InvalidParameterValue", ec2.create_security_group, GroupName="sg-web",
          Description="x", VpcId=net.vpc)
    for bad in ("tab\there", "caf\u00e9", "x" * 256, "percent%"):
        fails("InvalidParameterValue", ec2.create_security_group, GroupName=bad,
              Description="x", VpcId=net.vpc)
    fails("InvalidParameterValue", ec2.create_security_group, GroupName="ok",
          Description="caf\u00e9", VpcId=net.vpc)
    assert group(net, "a-Z 0.9_:/()#,@[]+=&;{}!$*")
    assert ec2.create_security_group(GroupName="y" * 255, Description="z" * 255,
                                     VpcId=net.vpc)["GroupId"]
    fails("InvalidVpcID.NotFound", ec2.create_security_group, GroupName="z", Description="z",
          VpcId="vpc-0000000000000000a")


def test_security_group_without_vpc_goes_to_the_default_vpc(net: Net) -> None:
    gid = net.ec2.create_security_group(GroupName="classic-style", Description="d")["GroupId"]
    default_vpc = net.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])[
        "Vpcs"][0]["VpcId"]
    assert describe(net, gid)["VpcId"] == default_vpc


def test_describe_security_groups_ids_names_filters(net: Net) -> None:
    ec2 = net.ec2
    web, db = group(net, "web"), group(net, "db")
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
        tcp(5432, UserIdGroupPairs=[{"GroupId": web}])])
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        tcp(443, IpRanges=[{"CidrIp": "0.0.0.0/0"}])])

    def ids(name: str, *values: str) -> set[str]:
        f = [{"Name": name, "Values": list(values)}, {"Name": "vpc-id", "Values": [net.vpc]}]
        return {g["GroupId"] for g in ec2.describe_security_groups(Filters=f)["SecurityGroups"]}

    assert ids("group-name", "web", "db") == {web, db}
    assert ids("group-name", "d*") == {db, net.default_sg}
    assert ids("group-id", web) == {web}
    assert ids("description", "db tier") == {db}
    assert ids("ip-permission.cidr", "0.0.0.0/0") == {web}
    assert ids("ip-permission.group-id", web) == {db}
    assert ids("ip-permission.from-port", "5432") == {db}
    assert ids("ip-permission.protocol", "tcp") == {web, db}
    assert ids("egress.ip-permission.cidr", "0.0.0.0/0") == {web, db, net.default_sg}
    assert ids("owner-id", "000000000000") == {web, db, net.default_sg}
    fails("InvalidGroup.NotFound", ec2.describe_security_groups,
          GroupIds=["sg-0000000000000000a"])
    fails("InvalidGroupId.Malformed", ec2.describe_security_groups, GroupIds=["web"])


# ---------------------------------------------------------------------- rules
def test_authorize_ingress_kinds_and_normalisation_SG5_SG6(net: Net) -> None:
    ec2 = net.ec2
    gid, peer = group(net, "web"), group(net, "lb")
    pl = ec2.create_managed_prefix_list(PrefixListName="dns", MaxEntries=1,
                                        AddressFamily="IPv4")["PrefixList"]["PrefixListId"]
    out = ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        tcp(22, IpRanges=[{"CidrIp": "10.0.0.5/24", "Description": "admins"}]),
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}]},
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
         "PrefixListIds": [{"PrefixListId": pl}]},  # it must exist
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1,
         "UserIdGroupPairs": [{"GroupId": peer}]},
        {"IpProtocol": "50", "IpRanges": [{"CidrIp": "192.0.2.0/24"}]}])
    assert out["Return"] is True
    rules = out["SecurityGroupRules"]
    assert len(rules) == 5 and len({r["SecurityGroupRuleId"] for r in rules}) == 5
    assert all(r["SecurityGroupRuleId"].startswith("sgr-") and r["GroupId"] == gid
               and r["IsEgress"] is False for r in rules)
    by_kind = {r.get("CidrIpv4") or r.get("CidrIpv6") or r.get("PrefixListId")
               or r["ReferencedGroupInfo"]["GroupId"]: r for r in rules}
    assert by_kind["10.0.0.0/24"]["Description"] == "admins"  # SG-6 canonical form
    assert (by_kind["10.0.0.0/24"]["FromPort"], by_kind["10.0.0.0/24"]["ToPort"]) == (22, 22)
    assert by_kind["2001:db8::/32"]["IpProtocol"] == "tcp"
    assert by_kind[pl]["IpProtocol"] == "udp"
    assert by_kind[peer]["ReferencedGroupInfo"]["UserId"] == "000000000000"
    assert (by_kind[peer]["FromPort"], by_kind[peer]["ToPort"]) == (-1, -1)
    assert by_kind["192.0.2.0/24"]["IpProtocol"] == "50"
    perms = describe(net, gid)["IpPermissions"]
    ssh = next(p for p in perms if p.get("FromPort") == 22)
    assert ssh["IpRanges"] == [{"CidrIp": "10.0.0.0/24", "Description": "admins"}]
    icmp = next(p for p in perms if p["IpProtocol"] == "icmp")
    assert (icmp["FromPort"], icmp["ToPort"]) == (-1, -1)
    assert icmp["UserIdGroupPairs"] == [{"GroupId": peer, "UserId": "000000000000"}]
    esp = next(p for p in perms if p["IpProtocol"] == "50")
    assert esp["IpRanges"] == [{"CidrIp": "192.0.2.0/24"}]


def test_protocol_names_and_numbers_are_one_rule_SG5(net: Net) -> None:
    ec2 = net.ec2
    gid = group(net)
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        tcp(443, IpRanges=[{"CidrIp": "0.0.0.0/0"}])])
    fails("InvalidPermission.Duplicate", ec2.authorize_security_group_ingress, GroupId=gid,
          IpPermissions=[{"IpProtocol": "6", "FromPort": 443, "ToPort": 443,
                          "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    # -1 covers all ports: ports given with it are ignored
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "-1", "FromPort": 5, "ToPort": 6, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    fails("InvalidPermission.Duplicate", ec2.authorize_security_group_ingress, GroupId=gid,
          IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])


def test_rule_validation_errors_SG8(net: Net) -> None:
    ec2 = net.ec2
    gid = group(net)
    for perm in (tcp(22, IpRanges=[{"CidrIp": "10.0.0.0/33"}]),
                 tcp(22, IpRanges=[{"CidrIp": "2001:db8::/32"}]),
                 {"IpProtocol": "tcp", "FromPort": 90, "ToPort": 80,
                  "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                 {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65536,
                  "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                 {"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                 {"IpProtocol": "gre", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                 {"IpProtocol": "256", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}):
        fails("InvalidParameterValue", ec2.authorize_security_group_ingress, GroupId=gid,
              IpPermissions=[perm])
    fails("InvalidGroup.NotFound", ec2.authorize_security_group_ingress, GroupId=gid,
          IpPermissions=[tcp(22, UserIdGroupPairs=[{"GroupId": "sg-0000000000000000a"}])])
    fails("InvalidGroup.NotFound", ec2.authorize_security_group_ingress,
          GroupId="sg-0000000000000000a", IpPermissions=[tcp(22, IpRanges=[
              {"CidrIp": "0.0.0.0/0"}])])
    fails("InvalidGroupId.Malformed", ec2.authorize_security_group_ingress, GroupId="web",
          IpPermissions=[tcp(22, IpRanges=[{"CidrIp": "0.0.0.0/0"}])])
    # two identical rules in one request
    fails("InvalidPermission.Duplicate", ec2.authorize_security_group_ingress, GroupId=gid,
          IpPermissions=[tcp(22, IpRanges=[{"CidrIp": "1.1.1.1/32"}, {"CidrIp": "1.1.1.1/32"}])])
    assert describe(net, gid)["IpPermissions"] == []  # nothing half-applied


def test_duplicate_and_not_found_SG8(net: Net) -> None:
    ec2 = net.ec2
    gid = group(net)
    perm = tcp(22, IpRanges=[{"CidrIp": "203.0.113.0/24"}])
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[perm])
    fails("InvalidPermission.Duplicate", ec2.authorize_security_group_ingress, GroupId=gid,
          IpPermissions=[tcp(22, IpRanges=[{"CidrIp": "203.0.113.9/24",
                                            "Description": "other words"}])])
    fails("InvalidPermission.NotFound", ec2.revoke_security_group_ingress, GroupId=gid,
          IpPermissions=[tcp(23, IpRanges=[{"CidrIp": "203.0.113.0/24"}])])
    fails("InvalidPermission.NotFound", ec2.revoke_security_group_egress, GroupId=gid,
          IpPermissions=[perm])  # exists, but in the other direction
    ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[perm])
    assert describe(net, gid)["IpPermissions"] == []
    fails("InvalidPermission.NotFound", ec2.revoke_security_group_ingress, GroupId=gid,
          IpPermissions=[perm])


def test_egress_rules(net: Net) -> None:
    ec2 = net.ec2
    gid = group(net)
    all_out = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    fails("InvalidPermission.Duplicate", ec2.authorize_security_group_egress, GroupId=gid,
          IpPermissions=[all_out])
    ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[all_out])
    assert describe(net, gid)["IpPermissionsEgress"] == []
    out = ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[
        tcp(443, Ipv6Ranges=[{"CidrIpv6": "::/0"}])])
    assert out["SecurityGroupRules"][0]["IsEgress"] is True
    assert out["SecurityGroupRules"][0]["CidrIpv6"] == "::/0"
    (perm,) = describe(net, gid)["IpPermissionsEgress"]
    assert perm["Ipv6Ranges"] == [{"CidrIpv6": "::/0"}] and perm["FromPort"] == 443


def test_legacy_cidr_parameters(net: Net) -> None:
    ec2 = net.ec2
    gid = group(net)
    ec2.authorize_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=8080,
                                         ToPort=8081, CidrIp="198.51.100.0/24")
    (perm,) = describe(net, gid)["IpPermissions"]
    assert (perm["FromPort"], perm["ToPort"]) == (8080, 8081)
    assert perm["IpRanges"] == [{"CidrIp": "198.51.100.0/24"}]
    ec2.revoke_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=8080,
                                      ToPort=8081, CidrIp="198.51.100.0/24")
    assert describe(net, gid)["IpPermissions"] == []


def test_rule_ids_stable_and_usable_SG7(net: Net) -> None:
    ec2 = net.ec2
    gid = group(net)
    out = ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        tcp(22, IpRanges=[{"CidrIp": "10.0.0.0/8"}]), tcp(80, IpRanges=[{"CidrIp": "0.0.0.0/0"}])])
    ids = {r["SecurityGroupRuleId"] for r in out["SecurityGroupRules"]}
    rows = ec2.describe_security_group_rules(Filters=[{"Name": "group-id",
                                                       "Values": [gid]}])["SecurityGroupRules"]
    assert len(rows) == 3  # two ingress + the default egress
    assert {r["SecurityGroupRuleId"] for r in rows if not r["IsEgress"]} == ids
    again = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])
    assert rows == again["SecurityGroupRules"]
    egress = next(r for r in rows if r["IsEgress"])
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("-1", -1, -1)
    assert egress["CidrIpv4"] == "0.0.0.0/0" and egress["GroupOwnerId"] == "000000000000"
    ssh = next(r for r in out["SecurityGroupRules"] if r["FromPort"] == 22)
    got = ec2.describe_security_group_rules(SecurityGroupRuleIds=[ssh["SecurityGroupRuleId"]])
    assert got["SecurityGroupRules"] == [ssh]
    # adding another rule does not renumber the existing ones
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        tcp(25, IpRanges=[{"CidrIp": "10.0.0.0/8"}])])
    later = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])
    assert ids <= {r["SecurityGroupRuleId"] for r in later["SecurityGroupRules"]}
    ec2.revoke_security_group_ingress(GroupId=gid,
                                      SecurityGroupRuleIds=[ssh["SecurityGroupRuleId"]])
    ports = sorted(p["FromPort"] for p in describe(net, gid)["IpPermissions"])
    assert ports == [25, 80]
    fails("InvalidSecurityGroupRuleId.NotFound", ec2.revoke_security_group_ingress,
          GroupId=gid, SecurityGroupRuleIds=[ssh["SecurityGroupRuleId"]])
    fails("InvalidSecurityGroupRuleId.NotFound", ec2.describe_security_group_rules,
          SecurityGroupRuleIds=[ssh["SecurityGroupRuleId"]])
    # an egress rule id cannot be revoked as ingress
    fails("InvalidSecurityGroupRuleId.NotFound", ec2.revoke_security_group_ingress,
          GroupId=gid, SecurityGroupRuleIds=[egress["SecurityGroupRuleId"]])
    ec2.revoke_security_group_egress(GroupId=gid,
                                     SecurityGroupRuleIds=[egress["SecurityGroupRuleId"]])
    assert describe(net, gid)["IpPermissionsEgress"] == []


def test_describe_security_group_rules_pages(net: Net) -> None:
    ec2 = net.ec2
    gid = group(net)
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        tcp(p, IpRanges=[{"CidrIp": "10.0.0.0/8"}]) for p in range(1000, 1011)])
    seen = [r["SecurityGroupRuleId"]
            for page in ec2.get_paginator("describe_security_group_rules").paginate(
                Filters=[{"Name": "group-id", "Values": [gid]}],
                PaginationConfig={"PageSize": 5})
            for r in page["SecurityGroupRules"]]
    assert len(seen) == len(set(seen)) == 12


# ---------------------------------------------------------------------- delete
def test_delete_security_group_rules_SG2_SG8(net: Net) -> None:
    ec2 = net.ec2
    fails("CannotDelete", ec2.delete_security_group, GroupId=net.default_sg)
    used, referenced, referrer = group(net, "used"), group(net, "ref"), group(net, "referrer")
    eni = ec2.create_network_interface(SubnetId=net.subnet, Groups=[used])["NetworkInterface"]
    fails("DependencyViolation", ec2.delete_security_group, GroupId=used)
    ec2.authorize_security_group_egress(GroupId=referrer, IpPermissions=[
        tcp(5432, UserIdGroupPairs=[{"GroupId": referenced}])])
    fails("DependencyViolation", ec2.delete_security_group, GroupId=referenced)
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    ec2.delete_security_group(GroupId=used)
    ec2.delete_security_group(GroupId=referrer)
    ec2.delete_security_group(GroupId=referenced)  # its referrer is gone
    fails("InvalidGroup.NotFound", ec2.delete_security_group, GroupId=used)
    fails("InvalidGroupId.Malformed", ec2.delete_security_group, GroupId="used")
    # a group referencing itself can go
    selfish = group(net, "selfish")
    ec2.authorize_security_group_ingress(GroupId=selfish, IpPermissions=[
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": selfish}]}])
    ec2.delete_security_group(GroupId=selfish)


def test_instance_uses_default_group_when_none_given_SG2(net: Net) -> None:
    ec2 = net.ec2
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                             SubnetId=net.subnet)["Instances"][0]
    assert [g["GroupId"] for g in inst["SecurityGroups"]] == [net.default_sg]
    assert [g["GroupName"] for g in inst["SecurityGroups"]] == ["default"]


# ---------------------------------------------------------------------- NACLs
def acl_entries(n: Net, acl: str) -> list[tuple[bool, int, str, str, str]]:
    a = n.ec2.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]
    return sorted((e["Egress"], e["RuleNumber"], e["Protocol"], e["RuleAction"],
                   e.get("CidrBlock") or e.get("Ipv6CidrBlock")) for e in a["Entries"])


def new_acl(n: Net, vpc: str | None = None) -> str:
    return str(n.ec2.create_network_acl(VpcId=vpc or n.vpc)["NetworkAcl"]["NetworkAclId"])


def test_custom_nacl_denies_everything_NA2(net: Net) -> None:
    out = net.ec2.create_network_acl(VpcId=net.vpc, TagSpecifications=[
        {"ResourceType": "network-acl", "Tags": [{"Key": "Name", "Value": "locked"}]}])
    acl = out["NetworkAcl"]
    assert acl["IsDefault"] is False and acl["Associations"] == []
    assert acl["Tags"] == [{"Key": "Name", "Value": "locked"}]
    assert acl_entries(net, acl["NetworkAclId"]) == [
        (False, 32767, "-1", "deny", "0.0.0.0/0"), (True, 32767, "-1", "deny", "0.0.0.0/0")]
    v6 = net.ec2.create_vpc(CidrBlock="10.9.0.0/16", AmazonProvidedIpv6CidrBlock=True)[
        "Vpc"]["VpcId"]
    assert acl_entries(net, new_acl(net, v6)) == [
        (False, 32767, "-1", "deny", "0.0.0.0/0"), (False, 32768, "-1", "deny", "::/0"),
        (True, 32767, "-1", "deny", "0.0.0.0/0"), (True, 32768, "-1", "deny", "::/0")]


def test_nacl_entries_create_replace_delete_NA4_NA5(net: Net) -> None:
    ec2 = net.ec2
    acl = new_acl(net)
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6",
                                 RuleAction="allow", Egress=False, CidrBlock="0.0.0.0/0",
                                 PortRange={"From": 443, "To": 443})
    fails("NetworkAclEntryAlreadyExists", ec2.create_network_acl_entry, NetworkAclId=acl,
          RuleNumber=100, Protocol="-1", RuleAction="deny", Egress=False,
          CidrBlock="10.0.0.0/8")
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6",
                                 RuleAction="allow", Egress=True, CidrBlock="0.0.0.0/0",
                                 PortRange={"From": 1024, "To": 65535})  # NA-5: coexist
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=110, Protocol="1",
                                 RuleAction="allow", Egress=False, CidrBlock="10.0.0.0/8",
                                 IcmpTypeCode={"Type": 8, "Code": -1})
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=120, Protocol="-1",
                                 RuleAction="deny", Egress=False,
                                 Ipv6CidrBlock="2001:db8::/32")
    a = ec2.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]
    ingress = {e["RuleNumber"]: e for e in a["Entries"] if not e["Egress"]}
    assert ingress[100]["PortRange"] == {"From": 443, "To": 443}
    assert ingress[100]["Protocol"] == "6" and ingress[100]["RuleAction"] == "allow"
    assert ingress[110]["IcmpTypeCode"] == {"Type": 8, "Code": -1}
    assert ingress[120]["Ipv6CidrBlock"] == "2001:db8::/32"
    ec2.replace_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="17",
                                  RuleAction="deny", Egress=False, CidrBlock="10.0.0.0/8",
                                  PortRange={"From": 53, "To": 53})
    assert (False, 100, "17", "deny", "10.0.0.0/8") in acl_entries(net, acl)
    assert (True, 100, "6", "allow", "0.0.0.0/0") in acl_entries(net, acl)  # untouched
    fails("InvalidNetworkAclEntry.NotFound", ec2.replace_network_acl_entry, NetworkAclId=acl,
          RuleNumber=101, Protocol="-1", RuleAction="deny", Egress=False,
          CidrBlock="0.0.0.0/0")
    ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Egress=False)
    assert (True, 100, "6", "allow", "0.0.0.0/0") in acl_entries(net, acl)
    assert not any(e[:2] == (False, 100) for e in acl_entries(net, acl))
    fails("InvalidNetworkAclEntry.NotFound", ec2.delete_network_acl_entry, NetworkAclId=acl,
          RuleNumber=100, Egress=False)
    fails("InvalidNetworkAclID.NotFound", ec2.create_network_acl_entry,
          NetworkAclId="acl-0000000000000000a", RuleNumber=1, Protocol="-1",
          RuleAction="allow", Egress=False, CidrBlock="0.0.0.0/0")


def test_nacl_entry_bounds_and_validation_NA4_NA5(net: Net) -> None:
    ec2 = net.ec2
    acl = new_acl(net)
    base = {"NetworkAclId": acl, "Protocol": "-1", "RuleAction": "allow", "Egress": False,
            "CidrBlock": "0.0.0.0/0"}
    for number in (0, 32767, 32768, 40000):
        fails("InvalidParameterValue", ec2.create_network_acl_entry,
              **{**base, "RuleNumber": number})
    ec2.create_network_acl_entry(**{**base, "RuleNumber": 1})
    ec2.create_network_acl_entry(**{**base, "RuleNumber": 32766})
    fails("InvalidParameterValue", ec2.delete_network_acl_entry, NetworkAclId=acl,
          RuleNumber=32767, Egress=False)  # the * rule stays
    fails("InvalidParameterValue", ec2.replace_network_acl_entry,
          **{**base, "RuleNumber": 32767, "RuleAction": "allow"})
    for extra in ({"Protocol": "6"},  # tcp without a port range
                  {"Protocol": "6", "PortRange": {"From": 90, "To": 80}},
                  {"Protocol": "1"},  # icmp without type/code
                  {"RuleAction": "maybe"},
                  {"CidrBlock": "10.0.0.0/40"},
                  {"Ipv6CidrBlock": "::/0"}):  # two CIDRs
        fails_with = "InvalidParameterCombination" if "Ipv6CidrBlock" in extra \
            else "InvalidParameterValue"
        fails(fails_with, ec2.create_network_acl_entry, **{**base, "RuleNumber": 50, **extra})
    assert not any(e[1] == 50 for e in acl_entries(net, acl))


def test_every_subnet_has_a_nacl_association_and_can_move_NA3(net: Net) -> None:
    ec2 = net.ec2
    default = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [net.vpc]},
                                                 {"Name": "default", "Values": ["true"]}])[
        "NetworkAcls"][0]
    (assoc,) = default["Associations"]
    assert assoc["SubnetId"] == net.subnet and assoc["NetworkAclId"] == default["NetworkAclId"]
    assert assoc["NetworkAclAssociationId"].startswith("aclassoc-")
    custom = new_acl(net)
    out = ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                              NetworkAclId=custom)
    new_assoc = out["NewAssociationId"]
    assert new_assoc != assoc["NetworkAclAssociationId"]
    got = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id",
                                              "Values": [net.subnet]}])["NetworkAcls"]
    assert [a["NetworkAclId"] for a in got] == [custom]
    assert got[0]["Associations"][0]["NetworkAclAssociationId"] == new_assoc
    fails("InvalidAssociationID.NotFound", ec2.replace_network_acl_association,
          AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=custom)
    fails("DependencyViolation", ec2.delete_network_acl, NetworkAclId=custom)
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    fails("InvalidParameterValue", ec2.replace_network_acl_association,
          AssociationId=new_assoc, NetworkAclId=new_acl(net, other))
    back = ec2.replace_network_acl_association(AssociationId=new_assoc,
                                               NetworkAclId=default["NetworkAclId"])
    assert back["NewAssociationId"]
    ec2.delete_network_acl(NetworkAclId=custom)
    fails("InvalidNetworkAclID.NotFound", ec2.delete_network_acl, NetworkAclId=custom)
    fails("InvalidParameterValue", ec2.delete_network_acl,
          NetworkAclId=default["NetworkAclId"])  # the default NACL stays
    # a new subnet joins the default NACL
    s2 = ec2.create_subnet(VpcId=net.vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    again = ec2.describe_network_acls(NetworkAclIds=[default["NetworkAclId"]])["NetworkAcls"][0]
    assert {a["SubnetId"] for a in again["Associations"]} == {net.subnet, s2}


def test_describe_network_acls_filters(net: Net) -> None:
    ec2 = net.ec2
    custom = new_acl(net)
    ec2.create_network_acl_entry(NetworkAclId=custom, RuleNumber=42, Protocol="-1",
                                 RuleAction="allow", Egress=True, CidrBlock="10.0.0.0/8")

    def ids(name: str, *values: str) -> set[str]:
        f = [{"Name": name, "Values": list(values)}, {"Name": "vpc-id", "Values": [net.vpc]}]
        return {a["NetworkAclId"] for a in ec2.describe_network_acls(Filters=f)["NetworkAcls"]}

    everything = ids("vpc-id", net.vpc)
    assert len(everything) == 2 and custom in everything
    assert ids("default", "false") == {custom}
    assert ids("entry.rule-number", "42") == {custom}
    assert ids("entry.cidr", "10.0.0.0/8") == {custom}
    assert ids("network-acl-id", custom) == {custom}
