"""VPC sharing: subnets and prefix lists shared through AWS RAM, as EC2 shows and uses them.

Account A owns a VPC (10.20.0.0/16) with subnets ``shared`` (10.20.1.0/24, shared through
RAM) and ``private`` (10.20.2.0/24, not shared). B and C are participants (they accepted the
share); D is an account nothing is shared with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server

A, B, C, D = "111111111111", "222222222222", "333333333333", "444444444444"
DEFAULT = "000000000000"  # the account of the AWS CLI's access key
REGION = "us-east-1"
AMI = "ami-12345678"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def share_with(fresh: Server, arns: list[str], *accounts: str, accept: bool = True) -> str:
    """A shares ``arns`` with ``accounts``, which accept; the share's ARN."""
    out = fresh.client("ram", account=A).create_resource_share(
        name="vpc", resourceArns=arns, principals=list(accounts))
    arn = str(out["resourceShare"]["resourceShareArn"])
    for account in accounts if accept else ():
        ram = fresh.client("ram", account=account)
        inv = ram.get_resource_share_invitations(resourceShareArns=[arn])[
            "resourceShareInvitations"][0]["resourceShareInvitationArn"]
        ram.accept_resource_share_invitation(resourceShareInvitationArn=inv)
    return arn


def arn_of(kind: str, rid: str) -> str:
    return f"arn:aws:ec2:{REGION}:{A}:{kind}/{rid}"


@dataclass
class Shared:
    fresh: Server
    vpc: str
    shared: str
    private: str
    share: str
    main_rt: str
    nacl: str

    def ec2(self, account: str) -> Any:
        return self.fresh.client("ec2", account=account)


def build(fresh: Server, *participants: str, accept: bool = True) -> Shared:
    ec2 = fresh.client("ec2", account=A)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    shared = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24",
                               AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.2.0/24",
                                AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    main_rt = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    nacl = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "NetworkAcls"][0]["NetworkAclId"]
    arn = share_with(fresh, [arn_of("subnet", shared)], *participants, accept=accept)
    return Shared(fresh, vpc, shared, private, arn, main_rt, nacl)


@pytest.fixture
def net(fresh: Server) -> Shared:
    return build(fresh, B, C)


def subnet_ids(ec2: Any, **kwargs: Any) -> list[str]:
    return sorted(s["SubnetId"] for s in ec2.describe_subnets(**kwargs)["Subnets"])


def group(ec2: Any, vpc: str, name: str = "app") -> str:
    return str(ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)[
        "GroupId"])


def launch(ec2: Any, subnet: str, sg: str) -> dict[str, Any]:
    return dict(ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnet,
                                  SecurityGroupIds=[sg])["Instances"][0])


# ------------------------------------------------------------------ visibility
def test_participant_sees_the_shared_subnet_and_its_vpc_read_only(fresh: Server) -> None:
    n = build(fresh, B, accept=False)
    b = n.ec2(B)
    # Invited but not yet accepted: nothing to see.
    with pytest.raises(ClientError) as exc:
        b.describe_subnets(SubnetIds=[n.shared])
    assert code(exc) == "InvalidSubnetID.NotFound"
    ram_b = fresh.client("ram", account=B)
    inv = ram_b.get_resource_share_invitations()["resourceShareInvitations"][0]
    ram_b.accept_resource_share_invitation(
        resourceShareInvitationArn=inv["resourceShareInvitationArn"])

    (subnet,) = b.describe_subnets(SubnetIds=[n.shared])["Subnets"]
    assert (subnet["OwnerId"], subnet["VpcId"], subnet["CidrBlock"]) == (
        A, n.vpc, "10.20.1.0/24")
    assert subnet["SubnetArn"] == arn_of("subnet", n.shared)
    # Only the shared subnet of the VPC, never the owner's other subnets.
    assert subnet_ids(b, Filters=[{"Name": "vpc-id", "Values": [n.vpc]}]) == [n.shared]
    assert subnet_ids(b, Filters=[{"Name": "owner-id", "Values": [A]}]) == [n.shared]
    with pytest.raises(ClientError) as exc:
        b.describe_subnets(SubnetIds=[n.private])
    assert code(exc) == "InvalidSubnetID.NotFound"
    # B's own default VPC subnets are still there beside it.
    assert len(subnet_ids(b)) > 1
    (vpc,) = b.describe_vpcs(VpcIds=[n.vpc])["Vpcs"]
    assert (vpc["OwnerId"], vpc["CidrBlock"]) == (A, "10.20.0.0/16")
    # The VPC's route table and network ACL: described with the owner's OwnerId.
    tables = b.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [n.vpc]}])[
        "RouteTables"]
    assert [(t["RouteTableId"], t["OwnerId"]) for t in tables] == [(n.main_rt, A)]
    acls = b.describe_network_acls(NetworkAclIds=[n.nacl])["NetworkAcls"]
    assert [(x["VpcId"], x["OwnerId"], x["IsDefault"]) for x in acls] == [(n.vpc, A, True)]

    # D, with no share, sees none of it.
    d = n.ec2(D)
    with pytest.raises(ClientError) as exc:
        d.describe_vpcs(VpcIds=[n.vpc])
    assert code(exc) == "InvalidVpcID.NotFound"
    assert d.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [n.vpc]}])[
        "RouteTables"] == []


def test_participant_cannot_change_what_the_owner_owns(net: Shared) -> None:
    b = net.ec2(B)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("delete_subnet", {"SubnetId": net.shared}),
        ("modify_subnet_attribute", {"SubnetId": net.shared,
                                     "MapPublicIpOnLaunch": {"Value": True}}),
        ("delete_vpc", {"VpcId": net.vpc}),
        ("modify_vpc_attribute", {"VpcId": net.vpc, "EnableDnsHostnames": {"Value": True}}),
        ("create_subnet", {"VpcId": net.vpc, "CidrBlock": "10.20.9.0/24"}),
        ("create_route_table", {"VpcId": net.vpc}),
        ("create_route", {"RouteTableId": net.main_rt, "DestinationCidrBlock": "0.0.0.0/0",
                          "GatewayId": "local"}),
        ("create_network_acl_entry", {"NetworkAclId": net.nacl, "RuleNumber": 5,
                                      "Protocol": "-1", "RuleAction": "deny", "Egress": False,
                                      "CidrBlock": "0.0.0.0/0"}),
    ]
    for name, kwargs in calls:
        with pytest.raises(ClientError) as exc:
            getattr(b, name)(**kwargs)
        assert code(exc) == "UnauthorizedOperation", name
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # Nothing changed, and to an outsider the subnet does not exist at all.
    a = net.ec2(A)
    assert a.describe_subnets(SubnetIds=[net.shared])["Subnets"][0][
        "MapPublicIpOnLaunch"] is False
    assert subnet_ids(a, Filters=[{"Name": "vpc-id", "Values": [net.vpc]}]) == sorted(
        [net.shared, net.private])
    with pytest.raises(ClientError) as exc:
        net.ec2(D).delete_subnet(SubnetId=net.shared)
    assert code(exc) == "InvalidSubnetID.NotFound"


# ------------------------------------------------------------------ participants' resources
def test_participants_launch_into_the_shared_subnet(net: Shared) -> None:
    a, b, c = net.ec2(A), net.ec2(B), net.ec2(C)
    owner_sg = group(a, net.vpc)
    owner_eni = a.create_network_interface(SubnetId=net.shared, Groups=[owner_sg])[
        "NetworkInterface"]["NetworkInterfaceId"]
    # B makes a security group in the shared VPC (same name as A's: names are per account).
    sg = group(b, net.vpc)
    assert b.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["OwnerId"] == B
    inst = launch(b, net.shared, sg)
    assert (inst["SubnetId"], inst["VpcId"]) == (net.shared, net.vpc)
    assert inst["PrivateIpAddress"].startswith("10.20.1.")
    eni = b.create_network_interface(SubnetId=net.shared, Groups=[sg])["NetworkInterface"]
    assert (eni["OwnerId"], eni["SubnetId"]) == (B, net.shared)
    b_enis = {inst["NetworkInterfaces"][0]["NetworkInterfaceId"], eni["NetworkInterfaceId"]}
    # The VPC's default group is the owner's: a participant must bring its own.
    with pytest.raises(ClientError) as exc:
        b.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=net.shared)
    assert code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        b.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=net.shared,
                        SecurityGroupIds=[owner_sg])
    assert code(exc) == "InvalidGroup.NotFound"
    # The subnet not shared with B cannot be used.
    with pytest.raises(ClientError) as exc:
        launch(b, net.private, sg)
    assert code(exc) == "InvalidSubnetID.NotFound"

    def enis(ec2: Any) -> dict[str, str]:
        found = ec2.describe_network_interfaces(Filters=[
            {"Name": "subnet-id", "Values": [net.shared]}])["NetworkInterfaces"]
        return {e["NetworkInterfaceId"]: e["OwnerId"] for e in found}

    # B sees its own interfaces only; the owner sees everyone's in its subnet, B's with
    # B's OwnerId; C, another participant, sees nothing of B's or A's.
    assert enis(b) == dict.fromkeys(b_enis, B)
    assert enis(a) == {owner_eni: A, **dict.fromkeys(b_enis, B)}
    assert enis(c) == {}
    assert c.describe_instances(Filters=[{"Name": "subnet-id", "Values": [net.shared]}])[
        "Reservations"] == []
    # The owner sees B's interfaces but not B's instances or security groups.
    assert a.describe_instances(Filters=[{"Name": "subnet-id", "Values": [net.shared]}])[
        "Reservations"] == []
    assert [g["GroupId"] for g in a.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [net.vpc]}, {"Name": "group-name", "Values": ["app"]}])[
        "SecurityGroups"]] == [owner_sg]
    with pytest.raises(ClientError) as exc:
        a.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    assert code(exc) == "UnauthorizedOperation"
    # ... and cannot delete the subnet while they are in it.
    a.delete_network_interface(NetworkInterfaceId=owner_eni)
    with pytest.raises(ClientError) as exc:
        a.delete_subnet(SubnetId=net.shared)
    assert code(exc) == "DependencyViolation"
    b.terminate_instances(InstanceIds=[inst["InstanceId"]])
    b.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    assert enis(a) == {}
    a.delete_subnet(SubnetId=net.shared)
    assert subnet_ids(b, Filters=[{"Name": "vpc-id", "Values": [net.vpc]}]) == []


def test_unsharing_hides_the_subnet_but_keeps_what_was_launched(net: Shared) -> None:
    b = net.ec2(B)
    sg = group(b, net.vpc)
    inst = launch(b, net.shared, sg)
    net.fresh.client("ram", account=A).disassociate_resource_share(
        resourceShareArn=net.share, resourceArns=[arn_of("subnet", net.shared)])
    with pytest.raises(ClientError) as exc:
        b.describe_subnets(SubnetIds=[net.shared])
    assert code(exc) == "InvalidSubnetID.NotFound"
    assert b.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [net.vpc]}])["Vpcs"] == []
    with pytest.raises(ClientError) as exc:
        launch(b, net.shared, sg)
    assert code(exc) == "InvalidSubnetID.NotFound"
    # B's instance and interface stay where they were, and the owner still sees the ENI.
    (kept,) = b.describe_instances(InstanceIds=[inst["InstanceId"]])["Reservations"][0][
        "Instances"]
    assert (kept["State"]["Name"], kept["SubnetId"]) == ("running", net.shared)
    eni_id = inst["NetworkInterfaces"][0]["NetworkInterfaceId"]
    (eni,) = net.ec2(A).describe_network_interfaces(NetworkInterfaceIds=[eni_id])[
        "NetworkInterfaces"]
    assert eni["OwnerId"] == B


# ------------------------------------------------------------------ prefix lists
def test_shared_prefix_list_is_readable_and_referenced_not_changed(fresh: Server) -> None:
    a, b = fresh.client("ec2", account=A), fresh.client("ec2", account=B)
    pl = a.create_managed_prefix_list(PrefixListName="corp", AddressFamily="IPv4",
                                      MaxEntries=5, Entries=[
                                          {"Cidr": "192.168.0.0/16", "Description": "hq"}])[
        "PrefixList"]["PrefixListId"]
    b_vpc = b.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    sg = group(b, b_vpc)
    ingress = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                "PrefixListIds": [{"PrefixListId": pl}]}]
    with pytest.raises(ClientError) as exc:  # not shared yet
        b.authorize_security_group_ingress(GroupId=sg, IpPermissions=ingress)
    assert code(exc) == "InvalidPrefixListID.NotFound"

    share_with(fresh, [arn_of("prefix-list", pl)], B)
    (seen,) = b.describe_managed_prefix_lists(PrefixListIds=[pl])["PrefixLists"]
    assert (seen["OwnerId"], seen["PrefixListName"], seen["Version"]) == (A, "corp", 1)
    assert seen["PrefixListArn"] == arn_of("prefix-list", pl)
    assert [p["PrefixListId"] for p in b.describe_managed_prefix_lists(Filters=[
        {"Name": "owner-id", "Values": [A]}])["PrefixLists"]] == [pl]
    assert b.get_managed_prefix_list_entries(PrefixListId=pl)["Entries"] == [
        {"Cidr": "192.168.0.0/16", "Description": "hq"}]
    # B references it in its security group and its route table.
    b.authorize_security_group_ingress(GroupId=sg, IpPermissions=ingress)
    rules = b.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"]
    assert rules[0]["PrefixListIds"] == [{"PrefixListId": pl}]
    rt = b.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [b_vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    igw = b.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    b.attach_internet_gateway(InternetGatewayId=igw, VpcId=b_vpc)
    b.create_route(RouteTableId=rt, DestinationPrefixListId=pl, GatewayId=igw)
    routes = b.describe_route_tables(RouteTableIds=[rt])["RouteTables"][0]["Routes"]
    assert [(r.get("DestinationPrefixListId"), r.get("GatewayId")) for r in routes
            if r.get("DestinationPrefixListId")] == [(pl, igw)]
    # B cannot change, restore or delete A's list, nor list its users.
    for name, kwargs in [
            ("modify_managed_prefix_list", {"PrefixListId": pl, "CurrentVersion": 1,
                                            "AddEntries": [{"Cidr": "10.0.0.0/8"}]}),
            ("delete_managed_prefix_list", {"PrefixListId": pl}),
            ("get_managed_prefix_list_associations", {"PrefixListId": pl})]:
        with pytest.raises(ClientError) as exc:
            getattr(b, name)(**kwargs)
        assert code(exc) == "UnauthorizedOperation", name
    # The owner sees B's references and cannot delete the list under them.
    users = a.get_managed_prefix_list_associations(PrefixListId=pl)["PrefixListAssociations"]
    assert sorted((u["ResourceId"], u["ResourceOwner"]) for u in users) == sorted(
        [(sg, B), (rt, B)])
    with pytest.raises(ClientError) as exc:
        a.delete_managed_prefix_list(PrefixListId=pl)
    assert code(exc) == "DependencyViolation"
    # A changes an entry: B reads the new version.
    a.modify_managed_prefix_list(PrefixListId=pl, CurrentVersion=1,
                                 AddEntries=[{"Cidr": "172.16.0.0/12"}])
    assert sorted(e["Cidr"] for e in b.get_managed_prefix_list_entries(PrefixListId=pl)[
        "Entries"]) == ["172.16.0.0/12", "192.168.0.0/16"]
    # Another account does not see it.
    with pytest.raises(ClientError) as exc:
        fresh.client("ec2", account=D).get_managed_prefix_list_entries(PrefixListId=pl)
    assert code(exc) == "InvalidPrefixListID.NotFound"


# ------------------------------------------------------------------ data plane
def analyze(ec2: Any, **path: Any) -> dict[str, Any]:
    path_id = ec2.create_network_insights_path(**path)["NetworkInsightsPath"][
        "NetworkInsightsPathId"]
    analysis: dict[str, Any] = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=path_id)["NetworkInsightsAnalysis"]
    assert analysis["Status"] == "succeeded", analysis
    return analysis


def test_participant_traffic_follows_the_owners_routes_and_acls(net: Shared) -> None:
    a, b = net.ec2(A), net.ec2(B)
    app_sg = group(a, net.vpc)
    a.authorize_security_group_ingress(GroupId=app_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "10.20.1.0/24"}]}])
    app = launch(a, net.private, app_sg)
    client = launch(b, net.shared, group(b, net.vpc, "client"))
    path = {"Source": client["InstanceId"], "DestinationIp": app["PrivateIpAddress"],
            "Protocol": "tcp", "DestinationPort": 443}

    found = analyze(b, **path)
    assert found["NetworkPathFound"] is True
    hops = [c["Component"]["Id"] for c in found["ForwardPathComponents"]]
    assert hops[0] == client["InstanceId"]
    assert hops.index(net.shared) < hops.index(net.vpc) < hops.index(net.private)
    route = next(c for c in found["ForwardPathComponents"] if "RouteTableRoute" in c)
    assert route["Component"]["Id"] == net.main_rt  # the owner's route table decides

    # The owner denies the shared subnet in its network ACL: B's traffic stops there.
    a.create_network_acl_entry(NetworkAclId=net.nacl, RuleNumber=10, Protocol="6",
                               RuleAction="deny", Egress=False, CidrBlock="10.20.1.0/24",
                               PortRange={"From": 443, "To": 443})
    blocked = analyze(b, **path)
    assert blocked["NetworkPathFound"] is False
    (exp,) = blocked["Explanations"]
    assert exp["ExplanationCode"] == "SUBNET_ACL_RESTRICTION"
    assert exp["Acl"]["Id"] == net.nacl


# ------------------------------------------------------------------ AWS CLI
def test_aws_cli_participant_lists_the_shared_subnet(fresh: Server) -> None:
    n = build(fresh, DEFAULT)
    out = fresh.aws("ec2", "describe-subnets", "--filters", f"Name=vpc-id,Values={n.vpc}")
    assert [(s["SubnetId"], s["OwnerId"]) for s in out["Subnets"]] == [(n.shared, A)]
    err = fresh_cli_error(fresh, "ec2", "delete-subnet", "--subnet-id", n.shared)
    assert "UnauthorizedOperation" in err


def fresh_cli_error(fresh: Server, *args: str) -> str:
    with pytest.raises(AssertionError) as exc:
        fresh.aws(*args)
    return str(exc.value)
