"""Route 53 Resolver over the API: endpoints with their ENIs, rules shared through RAM and
associated from a spoke account, DNS Firewall lists (incl. ImportFirewallDomains from S3),
rule groups, rules, associations and per-VPC configs."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server

HUB, SPOKE = "111111111111", "222222222222"
REGION = "us-east-1"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def network(fresh: Server, account: str = HUB, cidr: str = "10.0.0.0/16"
            ) -> tuple[str, list[str], str]:
    """A VPC with two subnets in two zones and a security group: (vpc, subnets, sg)."""
    ec2 = fresh.client("ec2", account=account)
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.split(".")
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base[0]}.{base[1]}.{i}.0/24",
                                 AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
               for i, zone in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="dns", Description="dns", VpcId=vpc)["GroupId"]
    return vpc, subnets, sg


def endpoint(r53r: Any, direction: str, subnets: list[str], sg: str, ref: str,
             ips: list[str | None] | None = None) -> dict[str, Any]:
    addresses = [{"SubnetId": s, **({"Ip": ip} if ip else {})}
                 for s, ip in zip(subnets, ips or [None] * len(subnets), strict=True)]
    return dict(r53r.create_resolver_endpoint(
        CreatorRequestId=ref, Name=f"{direction.lower()}-ep", SecurityGroupIds=[sg],
        Direction=direction, IpAddresses=addresses)["ResolverEndpoint"])


def test_endpoints_take_addresses_and_make_enis(fresh: Server) -> None:
    r53r, ec2 = fresh.client("route53resolver", account=HUB), fresh.client("ec2", account=HUB)
    vpc, subnets, sg = network(fresh)
    inbound = endpoint(r53r, "INBOUND", subnets, sg, "in-1", ips=["10.0.1.53", None])
    assert inbound["Id"].startswith("rslvr-in-") and inbound["HostVPCId"] == vpc
    assert inbound["IpAddressCount"] == 2 and inbound["Status"] == "OPERATIONAL"
    assert inbound["Arn"] == f"arn:aws:route53resolver:{REGION}:{HUB}:resolver-endpoint/" \
                             f"{inbound['Id']}"
    ips = r53r.list_resolver_endpoint_ip_addresses(ResolverEndpointId=inbound["Id"])[
        "IpAddresses"]
    by_subnet = {ip["SubnetId"]: ip["Ip"] for ip in ips}
    assert by_subnet[subnets[0]] == "10.0.1.53"
    assert by_subnet[subnets[1]] == "10.0.2.4"   # the first free address after the reserved
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "NetworkInterfaces"]
    assert len(enis) == 2
    for eni in enis:
        assert eni["InterfaceType"] == "interface"
        assert eni["Description"].startswith(f"Route 53 Resolver: {inbound['Id']}:rni-")
        assert eni["Groups"][0]["GroupId"] == sg
    assert sorted(e["PrivateIpAddress"] for e in enis) == ["10.0.1.53", "10.0.2.4"]
    with pytest.raises(ClientError) as exc:   # the address is taken now
        endpoint(r53r, "OUTBOUND", subnets, sg, "out-x", ips=["10.0.1.53", None])
    assert code(exc) == "InvalidRequestException"
    with pytest.raises(ClientError) as exc:
        endpoint(r53r, "INBOUND", subnets, sg, "in-1")
    assert code(exc) == "ResourceExistsException"
    with pytest.raises(ClientError) as exc:   # RR-10: six addresses per endpoint
        endpoint(r53r, "OUTBOUND", [subnets[0]] * 4 + [subnets[1]] * 3, sg, "seven")
    assert code(exc) == "LimitExceededException"
    other_vpc, other_subnets, _ = network(fresh, cidr="10.9.0.0/16")
    with pytest.raises(ClientError) as exc:
        endpoint(r53r, "OUTBOUND", [subnets[0], other_subnets[0]], sg, "two-vpcs")
    assert code(exc) == "InvalidRequestException"
    # Filters, update, delete (which takes the ENIs away).
    listed = r53r.list_resolver_endpoints(Filters=[{"Name": "Direction",
                                                    "Values": ["INBOUND"]}])
    assert [e["Id"] for e in listed["ResolverEndpoints"]] == [inbound["Id"]]
    renamed = r53r.update_resolver_endpoint(ResolverEndpointId=inbound["Id"], Name="onprem-in")
    assert renamed["ResolverEndpoint"]["Name"] == "onprem-in"
    r53r.delete_resolver_endpoint(ResolverEndpointId=inbound["Id"])
    assert ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "NetworkInterfaces"] == []
    with pytest.raises(ClientError) as exc:
        r53r.get_resolver_endpoint(ResolverEndpointId=inbound["Id"])
    assert code(exc) == "ResourceNotFoundException"
    assert other_vpc


def test_rules_validation_and_association(fresh: Server) -> None:
    r53r = fresh.client("route53resolver", account=HUB)
    vpc, subnets, sg = network(fresh)
    inbound = endpoint(r53r, "INBOUND", subnets, sg, "in")
    outbound = endpoint(r53r, "OUTBOUND", subnets, sg, "out")
    target = [{"Ip": "192.168.10.53", "Port": 53}]
    with pytest.raises(ClientError) as exc:
        r53r.create_resolver_rule(CreatorRequestId="r0", RuleType="FORWARD",
                                  DomainName="onprem.example.com", TargetIps=target,
                                  ResolverEndpointId=inbound["Id"])
    assert code(exc) == "InvalidRequestException"   # FORWARD needs an OUTBOUND endpoint
    with pytest.raises(ClientError) as exc:
        r53r.create_resolver_rule(CreatorRequestId="r0", RuleType="FORWARD",
                                  DomainName="onprem.example.com",
                                  ResolverEndpointId=outbound["Id"])
    assert code(exc) == "InvalidRequestException"
    with pytest.raises(ClientError) as exc:
        r53r.create_resolver_rule(CreatorRequestId="r0", RuleType="SYSTEM",
                                  DomainName="x.onprem.example.com", TargetIps=target)
    assert code(exc) == "InvalidRequestException"
    rule = r53r.create_resolver_rule(CreatorRequestId="r1", RuleType="FORWARD",
                                     Name="onprem", DomainName="OnPrem.Example.com",
                                     TargetIps=target,
                                     ResolverEndpointId=outbound["Id"])["ResolverRule"]
    assert rule["DomainName"] == "onprem.example.com." and rule["OwnerId"] == HUB
    assert rule["ShareStatus"] == "NOT_SHARED"
    assert rule["TargetIps"] == [{"Ip": "192.168.10.53", "Port": 53, "Protocol": "Do53"}]
    system = r53r.create_resolver_rule(CreatorRequestId="r2", RuleType="SYSTEM",
                                       DomainName="local.onprem.example.com")["ResolverRule"]
    rules = r53r.list_resolver_rules()["ResolverRules"]
    assert {r["Id"] for r in rules} == {rule["Id"], system["Id"],
                                        "rslvr-autodefined-rr-internet-resolver"}
    internet = r53r.get_resolver_rule(ResolverRuleId="rslvr-autodefined-rr-internet-resolver")
    assert internet["ResolverRule"]["RuleType"] == "RECURSIVE"
    assert internet["ResolverRule"]["DomainName"] == "."
    assoc = r53r.associate_resolver_rule(ResolverRuleId=rule["Id"], VPCId=vpc,
                                         Name="hub")["ResolverRuleAssociation"]
    assert assoc["Id"].startswith("rslvr-rrassoc-") and assoc["VPCId"] == vpc
    assert r53r.get_resolver_rule_association(ResolverRuleAssociationId=assoc["Id"])[
        "ResolverRuleAssociation"]["Status"] == "COMPLETE"
    with pytest.raises(ClientError) as exc:
        r53r.associate_resolver_rule(ResolverRuleId=rule["Id"], VPCId=vpc)
    assert code(exc) == "ResourceExistsException"
    same_domain = r53r.create_resolver_rule(
        CreatorRequestId="r3", RuleType="FORWARD", DomainName="onprem.example.com",
        TargetIps=[{"Ip": "192.168.10.54"}], ResolverEndpointId=outbound["Id"])["ResolverRule"]
    with pytest.raises(ClientError) as exc:   # RR-7
        r53r.associate_resolver_rule(ResolverRuleId=same_domain["Id"], VPCId=vpc)
    assert code(exc) == "InvalidRequestException"
    with pytest.raises(ClientError) as exc:
        r53r.delete_resolver_rule(ResolverRuleId=rule["Id"])
    assert code(exc) == "ResourceInUseException"
    with pytest.raises(ClientError) as exc:
        r53r.delete_resolver_endpoint(ResolverEndpointId=outbound["Id"])
    assert code(exc) == "ResourceInUseException"
    updated = r53r.update_resolver_rule(ResolverRuleId=rule["Id"], Config={
        "TargetIps": [{"Ip": "192.168.10.53"}, {"Ip": "192.168.20.53", "Port": 5353}]})
    assert [t["Port"] for t in updated["ResolverRule"]["TargetIps"]] == [53, 5353]
    with pytest.raises(ClientError) as exc:   # IPv4 and IPv6 targets are not mixed
        r53r.update_resolver_rule(ResolverRuleId=rule["Id"], Config={
            "TargetIps": [{"Ip": "192.168.10.53"}, {"Ipv6": "fd00::53"}]})
    assert code(exc) == "InvalidRequestException"
    filtered = r53r.list_resolver_rule_associations(
        Filters=[{"Name": "VPCId", "Values": [vpc]}])["ResolverRuleAssociations"]
    assert [a["ResolverRuleId"] for a in filtered] == [rule["Id"]]
    r53r.disassociate_resolver_rule(ResolverRuleId=rule["Id"], VPCId=vpc)
    with pytest.raises(ClientError) as exc:
        r53r.disassociate_resolver_rule(ResolverRuleId=rule["Id"], VPCId=vpc)
    assert code(exc) == "ResourceNotFoundException"
    assert r53r.delete_resolver_rule(ResolverRuleId=rule["Id"])["ResolverRule"]["Status"] \
        == "DELETING"
    # Pagination over rules: pages of 1 cover everything once.
    seen, token = [], None
    while True:
        page = r53r.list_resolver_rules(MaxResults=1, **({"NextToken": token} if token else {}))
        seen += [r["Id"] for r in page["ResolverRules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted({system["Id"], same_domain["Id"],
                                   "rslvr-autodefined-rr-internet-resolver"})
    with pytest.raises(ClientError) as exc:
        r53r.list_resolver_rules(NextToken="garbage")
    assert code(exc) == "InvalidNextTokenException"


def test_rule_shared_through_ram_is_associated_by_the_spoke(fresh: Server) -> None:
    """The hybrid DNS article: the hub's forward rule, shared to a spoke account, is
    associated with the spoke's VPC; the spoke cannot change it; unsharing removes it."""
    hub, spoke = (fresh.client("route53resolver", account=HUB),
                  fresh.client("route53resolver", account=SPOKE))
    _, subnets, sg = network(fresh)
    spoke_vpc, _, _ = network(fresh, SPOKE, "10.20.0.0/16")
    outbound = endpoint(hub, "OUTBOUND", subnets, sg, "out")
    rule = hub.create_resolver_rule(CreatorRequestId="fwd", RuleType="FORWARD",
                                    DomainName="corp.example.com",
                                    TargetIps=[{"Ip": "172.16.0.53"}],
                                    ResolverEndpointId=outbound["Id"])["ResolverRule"]
    with pytest.raises(ClientError) as exc:   # not shared yet
        spoke.associate_resolver_rule(ResolverRuleId=rule["Id"], VPCId=spoke_vpc)
    assert code(exc) == "ResourceNotFoundException"
    ram_hub, ram_spoke = fresh.client("ram", account=HUB), fresh.client("ram", account=SPOKE)
    share = ram_hub.create_resource_share(name="dns", resourceArns=[rule["Arn"]],
                                          principals=[SPOKE])["resourceShare"]
    invitation = ram_spoke.get_resource_share_invitations()["resourceShareInvitations"][0]
    ram_spoke.accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    types = {t["resourceType"] for t in ram_hub.list_resource_types()["resourceTypes"]}
    assert "route53resolver:ResolverRule" in types
    seen = spoke.get_resolver_rule(ResolverRuleId=rule["Id"])["ResolverRule"]
    assert seen["ShareStatus"] == "SHARED_WITH_ME" and seen["OwnerId"] == HUB
    assert hub.get_resolver_rule(ResolverRuleId=rule["Id"])["ResolverRule"][
        "ShareStatus"] == "SHARED_BY_ME"
    assoc = spoke.associate_resolver_rule(ResolverRuleId=rule["Id"], VPCId=spoke_vpc)[
        "ResolverRuleAssociation"]
    assert assoc["VPCId"] == spoke_vpc
    with pytest.raises(ClientError) as exc:
        spoke.update_resolver_rule(ResolverRuleId=rule["Id"], Config={"Name": "mine"})
    assert code(exc) == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:
        spoke.delete_resolver_rule(ResolverRuleId=rule["Id"])
    assert code(exc) == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:   # the spoke's association keeps it in use
        hub.delete_resolver_rule(ResolverRuleId=rule["Id"])
    assert code(exc) == "ResourceInUseException"
    # The hub only associates its own VPCs; a VPC of the spoke is not valid for it.
    with pytest.raises(ClientError) as exc:
        hub.associate_resolver_rule(ResolverRuleId=rule["Id"], VPCId=spoke_vpc)
    assert code(exc) == "InvalidParameterException"
    ram_hub.delete_resource_share(resourceShareArn=share["resourceShareArn"])
    assert spoke.list_resolver_rule_associations()["ResolverRuleAssociations"] == []
    hub.delete_resolver_rule(ResolverRuleId=rule["Id"])


def test_firewall_lists_groups_rules_and_associations(fresh: Server) -> None:
    r53r = fresh.client("route53resolver", account=HUB)
    vpc, _, _ = network(fresh)
    dl = r53r.create_firewall_domain_list(CreatorRequestId="l1", Name="blocked")[
        "FirewallDomainList"]
    assert dl["Id"].startswith("rslvr-fdl-") and dl["DomainCount"] == 0
    out = r53r.update_firewall_domains(FirewallDomainListId=dl["Id"], Operation="ADD",
                                       Domains=["Bad.com.", "*.bad.com", "evil.net"])
    assert out["Id"] == dl["Id"] and out["Status"] == "UPDATING"
    r53r.update_firewall_domains(FirewallDomainListId=dl["Id"], Operation="REMOVE",
                                 Domains=["evil.net"])
    assert r53r.list_firewall_domains(FirewallDomainListId=dl["Id"])["Domains"] == [
        "bad.com", "*.bad.com"]
    with pytest.raises(ClientError) as exc:
        r53r.update_firewall_domains(FirewallDomainListId=dl["Id"], Operation="ADD",
                                     Domains=["bad domain!"])
    assert code(exc) == "ValidationException"
    r53r.update_firewall_domains(FirewallDomainListId=dl["Id"], Operation="REPLACE",
                                 Domains=[f"d{i}.example" for i in range(25)])
    pages, domains, token = 0, [], None
    while True:
        page = r53r.list_firewall_domains(FirewallDomainListId=dl["Id"], MaxResults=10,
                                          **({"NextToken": token} if token else {}))
        pages += 1
        domains += page["Domains"]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3 and domains == [f"d{i}.example" for i in range(25)]
    assert r53r.get_firewall_domain_list(FirewallDomainListId=dl["Id"])[
        "FirewallDomainList"]["DomainCount"] == 25
    group = r53r.create_firewall_rule_group(CreatorRequestId="g1", Name="g")[
        "FirewallRuleGroup"]
    with pytest.raises(ClientError) as exc:   # BLOCK needs a response
        r53r.create_firewall_rule(CreatorRequestId="x", FirewallRuleGroupId=group["Id"],
                                  FirewallDomainListId=dl["Id"], Priority=10,
                                  Action="BLOCK", Name="r")
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:   # OVERRIDE needs domain, type and TTL
        r53r.create_firewall_rule(CreatorRequestId="x", FirewallRuleGroupId=group["Id"],
                                  FirewallDomainListId=dl["Id"], Priority=10,
                                  Action="BLOCK", BlockResponse="OVERRIDE", Name="r",
                                  BlockOverrideDomain="blocked.example.internal")
    assert code(exc) == "ValidationException"
    rule = r53r.create_firewall_rule(
        CreatorRequestId="fr1", FirewallRuleGroupId=group["Id"], FirewallDomainListId=dl["Id"],
        Priority=10, Action="BLOCK", BlockResponse="OVERRIDE", Name="override",
        BlockOverrideDomain="blocked.example.internal", BlockOverrideDnsType="CNAME",
        BlockOverrideTtl=60)["FirewallRule"]
    assert rule["BlockOverrideDomain"] == "blocked.example.internal."
    with pytest.raises(ClientError) as exc:
        r53r.create_firewall_rule(CreatorRequestId="fr2", FirewallRuleGroupId=group["Id"],
                                  FirewallDomainListId=dl["Id"], Priority=20,
                                  Action="ALLOW", Name="dup")
    assert code(exc) == "ResourceExistsException"
    changed = r53r.update_firewall_rule(FirewallRuleGroupId=group["Id"],
                                        FirewallDomainListId=dl["Id"], Action="BLOCK",
                                        BlockResponse="NXDOMAIN")["FirewallRule"]
    assert changed["BlockResponse"] == "NXDOMAIN" and "BlockOverrideDomain" not in changed
    assert [r["Priority"] for r in r53r.list_firewall_rules(
        FirewallRuleGroupId=group["Id"])["FirewallRules"]] == [10]
    assert r53r.get_firewall_rule_group(FirewallRuleGroupId=group["Id"])[
        "FirewallRuleGroup"]["RuleCount"] == 1
    with pytest.raises(ClientError) as exc:
        r53r.delete_firewall_domain_list(FirewallDomainListId=dl["Id"])
    assert code(exc) == "ConflictException"
    with pytest.raises(ClientError) as exc:
        r53r.associate_firewall_rule_group(CreatorRequestId="a0", Name="a",
                                           FirewallRuleGroupId=group["Id"], VpcId=vpc,
                                           Priority=50)
    assert code(exc) == "ValidationException"   # FW-2: 100..9900
    assoc = r53r.associate_firewall_rule_group(
        CreatorRequestId="a1", Name="a", FirewallRuleGroupId=group["Id"], VpcId=vpc,
        Priority=100, MutationProtection="ENABLED")["FirewallRuleGroupAssociation"]
    assert assoc["Id"].startswith("rslvr-frgassoc-")
    got = r53r.get_firewall_rule_group_association(FirewallRuleGroupAssociationId=assoc["Id"])
    assert got["FirewallRuleGroupAssociation"]["Status"] == "COMPLETE"
    group2 = r53r.create_firewall_rule_group(CreatorRequestId="g2", Name="g2")[
        "FirewallRuleGroup"]
    with pytest.raises(ClientError) as exc:
        r53r.associate_firewall_rule_group(CreatorRequestId="a2", Name="b",
                                           FirewallRuleGroupId=group2["Id"], VpcId=vpc,
                                           Priority=100)
    assert code(exc) == "ConflictException"   # priorities are unique per VPC
    with pytest.raises(ClientError) as exc:
        r53r.disassociate_firewall_rule_group(FirewallRuleGroupAssociationId=assoc["Id"])
    assert code(exc) == "ValidationException"   # mutation protection
    with pytest.raises(ClientError) as exc:
        r53r.delete_firewall_rule_group(FirewallRuleGroupId=group["Id"])
    assert code(exc) == "ConflictException"
    r53r.update_firewall_rule_group_association(FirewallRuleGroupAssociationId=assoc["Id"],
                                                MutationProtection="DISABLED", Priority=200)
    listed = r53r.list_firewall_rule_group_associations(VpcId=vpc)[
        "FirewallRuleGroupAssociations"]
    assert [(a["Priority"], a["MutationProtection"]) for a in listed] == [(200, "DISABLED")]
    r53r.disassociate_firewall_rule_group(FirewallRuleGroupAssociationId=assoc["Id"])
    r53r.delete_firewall_rule(FirewallRuleGroupId=group["Id"], FirewallDomainListId=dl["Id"])
    r53r.delete_firewall_domain_list(FirewallDomainListId=dl["Id"])
    assert r53r.list_firewall_domain_lists()["FirewallDomainLists"] == []


def test_import_firewall_domains_from_s3(fresh: Server, tmp_path: Any) -> None:
    """E4: REPLACE from an S3 object; other operations and bad files are refused."""
    r53r, s3 = fresh.client("route53resolver"), fresh.client("s3")
    s3.create_bucket(Bucket="dnsfw-bucket")
    s3.put_object(Bucket="dnsfw-bucket", Key="list.txt", Body=b"c.com\nD.com\n\nc.com\n")
    dl = r53r.create_firewall_domain_list(CreatorRequestId="imp", Name="urlhaus")[
        "FirewallDomainList"]
    r53r.update_firewall_domains(FirewallDomainListId=dl["Id"], Operation="ADD",
                                 Domains=["a.com", "b.com"])
    with pytest.raises(ClientError) as exc:
        r53r.import_firewall_domains(FirewallDomainListId=dl["Id"], Operation="ADD",
                                     DomainFileUrl="s3://dnsfw-bucket/list.txt")
    assert code(exc) == "ValidationException"
    out = r53r.import_firewall_domains(FirewallDomainListId=dl["Id"], Operation="REPLACE",
                                       DomainFileUrl="s3://dnsfw-bucket/list.txt")
    assert out["Status"] == "IMPORTING" and out["Name"] == "urlhaus"
    got = r53r.get_firewall_domain_list(FirewallDomainListId=dl["Id"])["FirewallDomainList"]
    assert got["Status"] == "COMPLETE" and got["DomainCount"] == 2
    assert r53r.list_firewall_domains(FirewallDomainListId=dl["Id"])["Domains"] == [
        "c.com", "d.com"]
    # A file with a bad line fails the import and leaves the list as it was.
    s3.put_object(Bucket="dnsfw-bucket", Key="bad.txt", Body=b"ok.com\nnot a domain\n")
    r53r.import_firewall_domains(FirewallDomainListId=dl["Id"], Operation="REPLACE",
                                 DomainFileUrl="s3://dnsfw-bucket/bad.txt")
    got = r53r.get_firewall_domain_list(FirewallDomainListId=dl["Id"])["FirewallDomainList"]
    assert got["Status"] == "COMPLETE_IMPORT_FAILED" and "Line 2" in got["StatusMessage"]
    assert got["DomainCount"] == 2
    r53r.import_firewall_domains(FirewallDomainListId=dl["Id"], Operation="REPLACE",
                                 DomainFileUrl="s3://no-such-bucket/list.txt")
    got = r53r.get_firewall_domain_list(FirewallDomainListId=dl["Id"])["FirewallDomainList"]
    assert got["Status"] == "COMPLETE_IMPORT_FAILED" and "no-such-bucket" in \
        got["StatusMessage"]
    # The AWS CLI, as the seed's automation would call it; a re-import replaces the list.
    s3.put_object(Bucket="dnsfw-bucket", Key="1700000000-urlhause-domain-list.txt",
                  Body=b"1008691.com\nbad-host.example\n")
    fresh.aws("route53resolver", "import-firewall-domains", "--firewall-domain-list-id",
              dl["Id"], "--operation", "REPLACE", "--domain-file-url",
              "s3://dnsfw-bucket/1700000000-urlhause-domain-list.txt")
    listed = fresh.aws("route53resolver", "list-firewall-domains",
                       "--firewall-domain-list-id", dl["Id"])
    assert listed["Domains"] == ["1008691.com", "bad-host.example"]


def test_vpc_configs_and_tags(fresh: Server) -> None:
    r53r = fresh.client("route53resolver", account=HUB)
    vpc, _, _ = network(fresh)
    fc = r53r.get_firewall_config(ResourceId=vpc)["FirewallConfig"]
    assert fc["FirewallFailOpen"] == "DISABLED" and fc["OwnerId"] == HUB
    assert fc["Id"].startswith("rslvr-fc-")
    updated = r53r.update_firewall_config(ResourceId=vpc, FirewallFailOpen="ENABLED")
    assert updated["FirewallConfig"] == {**fc, "FirewallFailOpen": "ENABLED"}
    listed = {c["ResourceId"]: c["FirewallFailOpen"]
              for c in r53r.list_firewall_configs()["FirewallConfigs"]}
    assert listed[vpc] == "ENABLED"   # other VPCs (the default one) keep the default
    assert set(listed.values()) - {"ENABLED"} <= {"DISABLED"}
    rc = r53r.get_resolver_config(ResourceId=vpc)["ResolverConfig"]
    assert rc["AutodefinedReverse"] == "ENABLED"
    rc2 = r53r.update_resolver_config(ResourceId=vpc, AutodefinedReverseFlag="DISABLE")
    assert rc2["ResolverConfig"]["AutodefinedReverse"] == "DISABLED"
    assert r53r.get_resolver_config(ResourceId=vpc)["ResolverConfig"]["Id"] == rc["Id"]
    with pytest.raises(ClientError) as exc:
        r53r.get_firewall_config(ResourceId="vpc-0000000000000000f")
    assert code(exc) == "InvalidParameterException"
    dl = r53r.create_firewall_domain_list(CreatorRequestId="t", Name="t",
                                          Tags=[{"Key": "a", "Value": "1"}])[
        "FirewallDomainList"]
    r53r.tag_resource(ResourceArn=dl["Arn"], Tags=[{"Key": "b", "Value": "2"}])
    r53r.untag_resource(ResourceArn=dl["Arn"], TagKeys=["a"])
    assert r53r.list_tags_for_resource(ResourceArn=dl["Arn"])["Tags"] == [
        {"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as exc:
        r53r.list_tags_for_resource(ResourceArn=dl["Arn"].replace(HUB, SPOKE))
    assert code(exc) == "ResourceNotFoundException"
