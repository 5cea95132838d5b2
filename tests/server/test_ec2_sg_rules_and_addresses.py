"""Security group rules by id, peered references and stale rules (SG-7..SG-14), security
group VPC associations, Elastic IP reverse DNS and network border groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from plane import site, trace

from conftest import Server, start_server, stop_server
from localvpc.dataplane.flow import Disposition

OTHER = "222222222222"


def fails(expected: str, fn: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert e.value.response["Error"]["Code"] == expected, e.value.response["Error"]
    return str(e.value.response["Error"]["Message"])


def rules(ec2: Any, sg: str, egress: bool = False) -> list[dict[str, Any]]:
    return [r for r in ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [sg]}])["SecurityGroupRules"]
        if r["IsEgress"] == egress]


def web_host(ec2: Any, vpc: str, subnet: str) -> tuple[str, str, str]:
    """A second instance with its own group ``web`` (no inbound rules): (sg, instance, ip)."""
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=subnet,
                             SecurityGroupIds=[sg])["Instances"][0]
    return sg, inst["InstanceId"], inst["PrivateIpAddress"]


# ------------------------------------------------------------------ rules by id
def test_modify_rule_keeps_its_id_and_the_trace_follows_SG7(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    a = site(ec2, "10.0.0.0/16", "10.0.1.0/24")
    sg, _, web_ip = web_host(ec2, a.vpc_id, a.subnet_id)
    made = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "10.9.0.0/16"}]}])["SecurityGroupRules"][0]
    rid = made["SecurityGroupRuleId"]
    assert trace(fresh, a.instance_id, web_ip, dst_port=22).disposition == \
        Disposition.DENIED_IN

    assert ec2.modify_security_group_rules(GroupId=sg, SecurityGroupRules=[{
        "SecurityGroupRuleId": rid, "SecurityGroupRule": {
            "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "10.0.0.0/16",
            "Description": "from the VPC"}}])["Return"] is True
    (after,) = rules(ec2, sg)
    assert after["SecurityGroupRuleId"] == rid
    assert (after["CidrIpv4"], after["Description"]) == ("10.0.0.0/16", "from the VPC")
    perms = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"]
    assert perms[0]["IpRanges"] == [{"CidrIp": "10.0.0.0/16", "Description": "from the VPC"}]
    assert trace(fresh, a.instance_id, web_ip, dst_port=22).disposition == \
        Disposition.ACCEPTED

    # The id survives a second change too (to a group reference), and stays unique.
    ec2.modify_security_group_rules(GroupId=sg, SecurityGroupRules=[{
        "SecurityGroupRuleId": rid, "SecurityGroupRule": {
            "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "ReferencedGroupId": a.sg_id}}])
    (again,) = rules(ec2, sg)
    assert again["SecurityGroupRuleId"] == rid
    assert again["ReferencedGroupInfo"]["GroupId"] == a.sg_id
    assert trace(fresh, a.instance_id, web_ip, dst_port=22).disposition == \
        Disposition.ACCEPTED


def test_modify_rule_errors(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    made = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "IpRanges": [{"CidrIp": "10.1.0.0/16"}, {"CidrIp": "10.2.0.0/16"}]}]
    )["SecurityGroupRules"]
    first = made[0]["SecurityGroupRuleId"]
    rule = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIpv4": "10.3.0.0/16"}
    fails("InvalidSecurityGroupRuleId.NotFound", ec2.modify_security_group_rules, GroupId=sg,
          SecurityGroupRules=[{"SecurityGroupRuleId": "sgr-0123456789abcdef0",
                               "SecurityGroupRule": rule}])
    fails("InvalidSecurityGroupRuleId.Malformed", ec2.modify_security_group_rules,
          GroupId=sg, SecurityGroupRules=[{"SecurityGroupRuleId": "rule-1",
                                           "SecurityGroupRule": rule}])
    fails("InvalidParameterCombination", ec2.modify_security_group_rules, GroupId=sg,
          SecurityGroupRules=[{"SecurityGroupRuleId": first, "SecurityGroupRule": {
              **rule, "CidrIpv6": "2001:db8::/32"}}])
    # Turning the first rule into the second one would duplicate it.
    fails("InvalidPermission.Duplicate", ec2.modify_security_group_rules, GroupId=sg,
          SecurityGroupRules=[{"SecurityGroupRuleId": first, "SecurityGroupRule": {
              **rule, "CidrIpv4": "10.2.0.0/16"}}])
    fails("InvalidGroup.NotFound", ec2.modify_security_group_rules, GroupId=sg,
          SecurityGroupRules=[{"SecurityGroupRuleId": first, "SecurityGroupRule": {
              "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
              "ReferencedGroupId": "sg-0123456789abcdef0"}}])
    # Nothing changed by the failed calls.
    assert sorted(r["CidrIpv4"] for r in rules(ec2, sg)) == ["10.1.0.0/16", "10.2.0.0/16"]


def test_rule_descriptions_by_permission_and_by_id(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "10.1.0.0/16", "Description": "old"}]}])
    ec2.update_security_group_rule_descriptions_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "10.1.0.0/16", "Description": "partner network"}]}])
    (ingress,) = rules(ec2, sg)
    assert ingress["Description"] == "partner network"
    (egress,) = rules(ec2, sg, egress=True)
    ec2.update_security_group_rule_descriptions_egress(GroupId=sg, SecurityGroupRuleDescriptions=[
        {"SecurityGroupRuleId": egress["SecurityGroupRuleId"], "Description": "anywhere"}])
    (egress_after,) = rules(ec2, sg, egress=True)
    assert egress_after["Description"] == "anywhere"
    assert egress_after["SecurityGroupRuleId"] == egress["SecurityGroupRuleId"]
    fails("InvalidPermission.NotFound", ec2.update_security_group_rule_descriptions_ingress,
          GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                      "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])
    fails("InvalidSecurityGroupRuleId.NotFound",
          ec2.update_security_group_rule_descriptions_egress, GroupId=sg,
          SecurityGroupRuleDescriptions=[{"SecurityGroupRuleId": "sgr-0123456789abcdef0",
                                          "Description": "x"}])
    fails("InvalidParameterValue", ec2.update_security_group_rule_descriptions_ingress,
          GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                      "IpRanges": [{"CidrIp": "10.1.0.0/16",
                                                    "Description": "caf\u00e9"}]}])
    assert rules(ec2, sg)[0]["Description"] == "partner network"


# ------------------------------------------------------------------ prefix lists in rules
def test_prefix_list_peers_must_exist_and_count_max_entries_SG14(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    other = fresh.client("ec2", account=OTHER)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    theirs = other.create_managed_prefix_list(PrefixListName="theirs", MaxEntries=1,
                                              AddressFamily="IPv4")["PrefixList"]["PrefixListId"]

    def allow(pl: str) -> Any:
        return ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "PrefixListIds": [{"PrefixListId": pl}]}])

    for missing in ("pl-0123456789abcdef0", theirs):
        msg = fails("InvalidPrefixListID.NotFound", allow, pl=missing)
        assert missing in msg
    big = ec2.create_managed_prefix_list(PrefixListName="big", MaxEntries=60,
                                         AddressFamily="IPv4")["PrefixList"]["PrefixListId"]
    allow(big)  # counts 60 IPv4 rules: the quota is full
    fails("RulesPerSecurityGroupLimitExceeded", ec2.authorize_security_group_ingress,
          GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                      "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])
    # IPv6 rules are counted apart.
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}]}])
    assert len(rules(ec2, sg)) == 2


# ------------------------------------------------------------------ peered references
def test_reference_across_vpcs_needs_peering_then_goes_stale_SG9_SG11(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    a = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    b = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    sg_a = ec2.create_security_group(GroupName="app", Description="a", VpcId=a)["GroupId"]
    sg_b = ec2.create_security_group(GroupName="db", Description="b", VpcId=b)["GroupId"]
    perm = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
            "UserIdGroupPairs": [{"GroupId": sg_b}]}
    msg = fails("InvalidGroup.NotFound", ec2.authorize_security_group_ingress, GroupId=sg_a,
                IpPermissions=[perm])
    assert "different networks" in msg

    pcx = ec2.create_vpc_peering_connection(VpcId=a, PeerVpcId=b)["VpcPeeringConnection"][
        "VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    ec2.authorize_security_group_ingress(GroupId=sg_a, IpPermissions=[perm])
    pair = ec2.describe_security_groups(GroupIds=[sg_a])["SecurityGroups"][0][
        "IpPermissions"][0]["UserIdGroupPairs"][0]
    assert (pair["GroupId"], pair["VpcPeeringConnectionId"]) == (sg_b, pcx)
    refs = ec2.describe_security_group_references(GroupId=[sg_b])["SecurityGroupReferenceSet"]
    assert refs == [{"GroupId": sg_b, "ReferencingVpcId": a, "VpcPeeringConnectionId": pcx}]
    assert ec2.describe_stale_security_groups(VpcId=a)["StaleSecurityGroupSet"] == []

    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert ec2.describe_security_group_references(GroupId=[sg_b])[
        "SecurityGroupReferenceSet"] == []
    (stale,) = ec2.describe_stale_security_groups(VpcId=a)["StaleSecurityGroupSet"]
    assert (stale["GroupId"], stale["VpcId"]) == (sg_a, a)
    (perm_view,) = stale["StaleIpPermissions"]
    assert (perm_view["IpProtocol"], perm_view["FromPort"]) == ("tcp", 5432)
    assert perm_view["UserIdGroupPairs"][0]["GroupId"] == sg_b
    assert perm_view["UserIdGroupPairs"][0]["PeeringStatus"] == "deleted"
    # A group referenced only from another VPC can be deleted; the rule stays stale.
    ec2.delete_security_group(GroupId=sg_b)
    assert ec2.describe_stale_security_groups(VpcId=a)["StaleSecurityGroupSet"][0][
        "GroupId"] == sg_a
    ec2.revoke_security_group_ingress(GroupId=sg_a, IpPermissions=[perm])
    assert ec2.describe_stale_security_groups(VpcId=a)["StaleSecurityGroupSet"] == []
    fails("InvalidVpcID.NotFound", ec2.describe_stale_security_groups,
          VpcId="vpc-0123456789abcdef0")
    fails("InvalidGroup.NotFound", ec2.describe_security_group_references,
          GroupId=["sg-0123456789abcdef0"])


# ------------------------------------------------------------------ VPC associations
def test_security_group_vpc_associations(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    home = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    away = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=away, CidrBlock="10.2.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="shared", Description="s", VpcId=home)["GroupId"]
    fails("InvalidParameter", ec2.create_network_interface, SubnetId=subnet, Groups=[sg])

    assert ec2.associate_security_group_vpc(GroupId=sg, VpcId=away)["State"] == "associating"
    assoc = ec2.describe_security_group_vpc_associations(
        Filters=[{"Name": "group-id", "Values": [sg]}])["SecurityGroupVpcAssociations"]
    assert [(a["VpcId"], a["State"]) for a in assoc] == [(away, "associated")]
    usable = ec2.get_security_groups_for_vpc(VpcId=away)["SecurityGroupForVpcs"]
    mine = next(g for g in usable if g["GroupId"] == sg)
    assert mine["PrimaryVpcId"] == home
    assert {g["GroupName"] for g in usable} == {"shared", "default"}
    only = ec2.get_security_groups_for_vpc(VpcId=away, Filters=[
        {"Name": "primary-vpc-id", "Values": [home]}])["SecurityGroupForVpcs"]
    assert [g["GroupId"] for g in only] == [sg]

    eni = ec2.create_network_interface(SubnetId=subnet, Groups=[sg])["NetworkInterface"]
    assert [g["GroupId"] for g in eni["Groups"]] == [sg]
    fails("DependencyViolation", ec2.disassociate_security_group_vpc, GroupId=sg, VpcId=away)
    fails("DependencyViolation", ec2.delete_security_group, GroupId=sg)
    fails("InvalidParameterValue", ec2.associate_security_group_vpc, GroupId=sg, VpcId=away)
    fails("InvalidParameterValue", ec2.associate_security_group_vpc, GroupId=sg, VpcId=home)
    default_sg = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [home]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    fails("InvalidParameterValue", ec2.associate_security_group_vpc, GroupId=default_sg,
          VpcId=away)
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])[
        "Vpcs"][0]["VpcId"]
    fails("InvalidParameterValue", ec2.associate_security_group_vpc, GroupId=sg,
          VpcId=default_vpc)

    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    assert ec2.disassociate_security_group_vpc(GroupId=sg, VpcId=away)["State"] == \
        "disassociating"
    assert ec2.describe_security_group_vpc_associations()["SecurityGroupVpcAssociations"] == []
    fails("InvalidParameterValue", ec2.disassociate_security_group_vpc, GroupId=sg,
          VpcId=away)


# ------------------------------------------------------------------ Elastic IPs
def test_address_reverse_dns_attribute(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    alloc = ec2.allocate_address(Domain="vpc")
    aid, ip = alloc["AllocationId"], alloc["PublicIp"]
    default = f"ec2-{ip.replace('.', '-')}.compute-1.amazonaws.com."
    shown = ec2.describe_addresses_attribute(AllocationIds=[aid], Attribute="domain-name")
    assert shown["Addresses"] == [{"PublicIp": ip, "AllocationId": aid, "PtrRecord": default}]

    changed = ec2.modify_address_attribute(AllocationId=aid, DomainName="Mail.Example.com")
    assert changed["Address"]["PtrRecord"] == default
    assert changed["Address"]["PtrRecordUpdate"] == {"Value": "mail.example.com.",
                                                     "Status": "PENDING"}
    now = ec2.describe_addresses_attribute(Attribute="domain-name")["Addresses"]
    assert [a["PtrRecord"] for a in now] == ["mail.example.com."]

    reset = ec2.reset_address_attribute(AllocationId=aid, Attribute="domain-name")
    assert reset["Address"]["PtrRecordUpdate"]["Value"] == default
    assert ec2.describe_addresses_attribute(AllocationIds=[aid], Attribute="domain-name")[
        "Addresses"][0]["PtrRecord"] == default
    fails("InvalidParameterValue", ec2.modify_address_attribute, AllocationId=aid,
          DomainName="not a name")
    fails("InvalidAllocationID.NotFound", ec2.modify_address_attribute,
          AllocationId="eipalloc-0123456789abcdef0", DomainName="mail.example.com")
    # Another account does not see the address.
    fails("InvalidAllocationID.NotFound",
          fresh.client("ec2", account=OTHER).describe_addresses_attribute,
          AllocationIds=[aid], Attribute="domain-name")


def test_address_attribute_with_the_aws_cli(fresh: Server) -> None:
    alloc = fresh.aws("ec2", "allocate-address", "--domain", "vpc")
    aid = alloc["AllocationId"]
    out = fresh.aws("ec2", "modify-address-attribute", "--allocation-id", aid,
                    "--domain-name", "www.example.org")
    assert out["Address"]["PtrRecordUpdate"]["Value"] == "www.example.org."
    shown = fresh.aws("ec2", "describe-addresses-attribute", "--allocation-ids", aid,
                      "--attribute", "domain-name")
    assert shown["Addresses"][0]["PtrRecord"] == "www.example.org."


def test_local_zone_addresses_need_the_zone_group(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    fails("OptInRequired", ec2.allocate_address, Domain="vpc",
          NetworkBorderGroup="us-east-1-atl-1")
    fails("InvalidParameterValue", ec2.allocate_address, Domain="vpc",
          NetworkBorderGroup="us-east-1-nowhere-1")
    ec2.modify_availability_zone_group(GroupName="us-east-1-atl-1", OptInStatus="opted-in")
    local = ec2.allocate_address(Domain="vpc", NetworkBorderGroup="us-east-1-atl-1")
    assert local["NetworkBorderGroup"] == "us-east-1-atl-1"
    regional = ec2.allocate_address(Domain="vpc")
    assert regional["NetworkBorderGroup"] == "us-east-1"
    found = ec2.describe_addresses(Filters=[
        {"Name": "network-border-group", "Values": ["us-east-1-atl-1"]}])["Addresses"]
    assert [a["AllocationId"] for a in found] == [local["AllocationId"]]
    # Another account has not opted in.
    fails("OptInRequired", fresh.client("ec2", account=OTHER).allocate_address,
          Domain="vpc", NetworkBorderGroup="us-east-1-atl-1")


def test_changes_survive_a_restart(tmp_path: Path) -> None:
    server = start_server(tmp_path / "state.db")
    try:
        ec2 = server.client("ec2")
        home = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        away = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
        sg = ec2.create_security_group(GroupName="s", Description="s", VpcId=home)["GroupId"]
        rid = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
             "IpRanges": [{"CidrIp": "10.9.0.0/16"}]}])["SecurityGroupRules"][0][
            "SecurityGroupRuleId"]
        ec2.modify_security_group_rules(GroupId=sg, SecurityGroupRules=[{
            "SecurityGroupRuleId": rid, "SecurityGroupRule": {
                "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                "CidrIpv4": "10.8.0.0/16"}}])
        ec2.associate_security_group_vpc(GroupId=sg, VpcId=away)
        aid = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ec2.modify_address_attribute(AllocationId=aid, DomainName="mail.example.com")
    finally:
        stop_server(server)
    server = start_server(tmp_path / "state.db")
    try:
        ec2 = server.client("ec2")
        (rule,) = rules(ec2, sg)
        assert (rule["SecurityGroupRuleId"], rule["FromPort"], rule["CidrIpv4"]) == \
            (rid, 8080, "10.8.0.0/16")
        assert [a["VpcId"] for a in ec2.describe_security_group_vpc_associations()[
            "SecurityGroupVpcAssociations"]] == [away]
        assert ec2.describe_addresses_attribute(AllocationIds=[aid], Attribute="domain-name")[
            "Addresses"][0]["PtrRecord"] == "mail.example.com."
    finally:
        stop_server(server)
