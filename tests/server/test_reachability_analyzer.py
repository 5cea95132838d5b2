"""Reachability Analyzer (network insights paths and analyses) against a real server.

Each test builds its network through the EC2 API, then asks the analyzer; the answers come
from the trace engine on the server's live forwarding plane.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server
from localvpc.dataplane.flow import Hop

PATH_ID = re.compile(r"^nip-[0-9a-f]{17}$")
ANALYSIS_ID = re.compile(r"^nia-[0-9a-f]{17}$")


def build(ec2: Any) -> dict[str, str]:
    """A VPC with a public subnet A (route to the IGW, bastion with a public IP) and a
    private subnet B (main route table, app server that admits SSH from subnet A)."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                              AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    sub_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24",
                              AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=sub_a, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=public_rt, SubnetId=sub_a)
    main_rt = ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc]},
        {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]["RouteTableId"]
    bastion_sg = ec2.create_security_group(GroupName="bastion", Description="bastion",
                                           VpcId=vpc)["GroupId"]
    app_sg = ec2.create_security_group(GroupName="app", Description="app",
                                       VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=app_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "10.0.1.0/24"}]}])
    bastion = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                                SubnetId=sub_a, SecurityGroupIds=[bastion_sg],
                                TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                    {"Key": "Name", "Value": "bastion"}]}]
                                )["Instances"][0]["InstanceId"]
    app = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=sub_b,
                            SecurityGroupIds=[app_sg])["Instances"][0]["InstanceId"]
    return {"vpc": vpc, "sub_a": sub_a, "sub_b": sub_b, "igw": igw, "public_rt": public_rt,
            "main_rt": main_rt, "bastion_sg": bastion_sg, "app_sg": app_sg,
            "bastion": bastion, "app": app}


def analyze(ec2: Any, **path: Any) -> dict[str, Any]:
    nip = ec2.create_network_insights_path(**path)["NetworkInsightsPath"]
    return rerun(ec2, nip["NetworkInsightsPathId"])


def rerun(ec2: Any, path_id: str) -> dict[str, Any]:
    analysis: dict[str, Any] = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=path_id)["NetworkInsightsAnalysis"]
    assert analysis["Status"] == "succeeded", analysis
    return analysis


def ids(components: list[dict[str, Any]]) -> list[str]:
    return [c["Component"]["Id"] for c in components]


def code_of(ec2_error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(ec2_error.value.response["Error"]["Code"])


@pytest.fixture
def net(fresh: Server) -> tuple[Any, dict[str, str]]:
    ec2 = fresh.client("ec2")
    return ec2, build(ec2)


def test_reachable_instance_to_instance_on_ssh(net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    nip = ec2.create_network_insights_path(Source=n["bastion"], Destination=n["app"],
                                           Protocol="tcp", DestinationPort=22)
    path = nip["NetworkInsightsPath"]
    assert PATH_ID.match(path["NetworkInsightsPathId"])
    assert path["NetworkInsightsPathArn"] == (
        f"arn:aws:ec2:us-east-1:000000000000:network-insights-path/"
        f"{path['NetworkInsightsPathId']}")
    assert path["SourceArn"].endswith(f":instance/{n['bastion']}")
    analysis = rerun(ec2, path["NetworkInsightsPathId"])
    assert ANALYSIS_ID.match(analysis["NetworkInsightsAnalysisId"])
    assert analysis["NetworkInsightsPathId"] == path["NetworkInsightsPathId"]
    assert analysis["NetworkPathFound"] is True
    assert "Explanations" not in analysis
    forward = analysis["ForwardPathComponents"]
    assert [c["SequenceNumber"] for c in forward] == list(range(1, len(forward) + 1))
    order = ids(forward)
    assert order[0] == n["bastion"] and order[-1] == n["app"]
    assert order.index(n["sub_a"]) < order.index(n["vpc"]) < order.index(n["sub_b"])
    assert forward[0]["Component"]["Name"] == "bastion"
    assert forward[0]["Subnet"]["Id"] == n["sub_a"]
    # The rules that let the packet through, read from the trace.
    app_rule = next(c for c in forward if c["Component"]["Id"] == n["app_sg"])
    assert app_rule["SecurityGroupRule"] == {
        "Cidr": "10.0.1.0/24", "Direction": "ingress", "Protocol": "tcp",
        "PortRange": {"From": 22, "To": 22}}
    route = next(c for c in forward if "RouteTableRoute" in c)
    assert route["Component"]["Id"] == n["public_rt"]
    assert route["RouteTableRoute"]["DestinationCidr"] == "10.0.0.0/16"
    assert route["RouteTableRoute"]["GatewayId"] == "local"
    assert forward[0]["OutboundHeader"]["DestinationPortRanges"] == [{"From": 22, "To": 22}]
    assert forward[-1]["InboundHeader"]["Protocol"] == "6"
    # The reply walks back from the app server to the bastion.
    back = ids(analysis["ReturnPathComponents"])
    assert back[0] == n["app"] and back[-1] == n["bastion"] and n["sub_b"] in back


def test_security_group_without_the_rule_blocks_until_authorized(
        net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    analysis = analyze(ec2, Source=n["bastion"], Destination=n["app"], Protocol="tcp",
                       DestinationPort=5432)
    assert analysis["NetworkPathFound"] is False
    (exp,) = analysis["Explanations"]
    assert exp["ExplanationCode"] == "ENI_SG_RULES_MISMATCH"
    assert [g["Id"] for g in exp["SecurityGroups"]] == [n["app_sg"]]
    assert exp["SecurityGroup"]["Id"] == n["app_sg"]
    assert exp["Direction"] == "ingress"
    assert exp["Subnet"]["Id"] == n["sub_b"]
    assert ids(analysis["ForwardPathComponents"])[-1] == n["app"]
    # Fix the group; the next analysis of the same path sees the new rule.
    ec2.authorize_security_group_ingress(GroupId=n["app_sg"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
         "UserIdGroupPairs": [{"GroupId": n["bastion_sg"]}]}])
    again = rerun(ec2, analysis["NetworkInsightsPathId"])
    assert again["NetworkPathFound"] is True
    rule = next(c for c in again["ForwardPathComponents"]
                if c["Component"]["Id"] == n["app_sg"])
    assert rule["SecurityGroupRule"]["SecurityGroupId"] == n["bastion_sg"]


def _nacl_for_b(ec2: Any, n: dict[str, str], entries: list[dict[str, Any]]) -> str:
    acl = ec2.create_network_acl(VpcId=n["vpc"])["NetworkAcl"]["NetworkAclId"]
    for entry in entries:
        ec2.create_network_acl_entry(NetworkAclId=acl, **entry)
    current = ec2.describe_network_acls(Filters=[
        {"Name": "association.subnet-id", "Values": [n["sub_b"]]}])["NetworkAcls"][0]
    assoc = next(a["NetworkAclAssociationId"] for a in current["Associations"]
                 if a["SubnetId"] == n["sub_b"])
    ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)
    return str(acl)


def test_network_acl_deny_rule_blocks_inbound(net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    everything = {"Protocol": "-1", "RuleAction": "allow", "CidrBlock": "0.0.0.0/0"}
    acl = _nacl_for_b(ec2, n, [
        {"RuleNumber": 90, "Protocol": "6", "RuleAction": "deny", "Egress": False,
         "CidrBlock": "10.0.1.0/24", "PortRange": {"From": 22, "To": 22}},
        {"RuleNumber": 100, "Egress": False, **everything},
        {"RuleNumber": 100, "Egress": True, **everything}])
    analysis = analyze(ec2, Source=n["bastion"], Destination=n["app"], Protocol="tcp",
                       DestinationPort=22)
    assert analysis["NetworkPathFound"] is False
    (exp,) = analysis["Explanations"]
    assert exp["ExplanationCode"] == "SUBNET_ACL_RESTRICTION"
    assert exp["Acl"]["Id"] == acl and exp["Component"]["Id"] == acl
    assert exp["Direction"] == "ingress"
    assert exp["AclRule"]["RuleNumber"] == 90
    assert exp["AclRule"]["RuleAction"] == "deny"
    assert exp["AclRule"]["Egress"] is False
    assert exp["Subnet"]["Id"] == n["sub_b"]
    # The packet never reached the app server.
    assert n["app"] not in ids(analysis["ForwardPathComponents"])


def test_network_acl_on_the_return_path_blocks_the_reply(
        net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    # Inbound SSH is admitted, but outbound only to port 22: the reply to the client's
    # ephemeral port falls to the default deny (stateless ACLs need both directions).
    acl = _nacl_for_b(ec2, n, [
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": False,
         "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": True,
         "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 22, "To": 22}}])
    analysis = analyze(ec2, Source=n["bastion"], Destination=n["app"], Protocol="tcp",
                       DestinationPort=22)
    assert ids(analysis["ForwardPathComponents"])[-1] == n["app"]
    assert analysis["NetworkPathFound"] is False
    (exp,) = analysis["Explanations"]
    assert exp["ExplanationCode"] == "SUBNET_ACL_RESTRICTION"
    assert exp["Acl"]["Id"] == acl
    assert exp["Direction"] == "egress"
    assert exp["AclRule"]["RuleNumber"] == 32767 and exp["AclRule"]["RuleAction"] == "deny"
    assert n["bastion"] not in ids(analysis["ReturnPathComponents"])


def test_no_route_to_the_internet_gateway(net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    # Subnet B uses the main route table, which has only the local route.
    blocked = analyze(ec2, Source=n["app"], Destination=n["igw"], Protocol="tcp",
                      DestinationPort=443)
    assert blocked["NetworkPathFound"] is False
    (exp,) = blocked["Explanations"]
    assert exp["ExplanationCode"] == "NO_ROUTE_TO_DESTINATION"
    assert exp["RouteTable"]["Id"] == n["main_rt"]
    assert exp["Destination"]["Id"] == n["igw"]
    assert exp["Subnet"]["Id"] == n["sub_b"]
    assert n["igw"] not in ids(blocked["ForwardPathComponents"])
    # Subnet A routes 0.0.0.0/0 to the gateway and the bastion has a public address.
    found = analyze(ec2, Source=n["bastion"], Destination=n["igw"], Protocol="tcp",
                    DestinationPort=443)
    assert found["NetworkPathFound"] is True
    forward = ids(found["ForwardPathComponents"])
    assert forward[-1] == n["igw"]
    route = next(c for c in found["ForwardPathComponents"] if "RouteTableRoute" in c)
    assert route["RouteTableRoute"] == {"DestinationCidr": "0.0.0.0/0", "GatewayId": n["igw"],
                                        "Origin": "CreateRoute", "State": "active"}


def test_nat_gateway_destination_and_component_filters(
        net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=n["sub_a"], AllocationId=eip
                                 )["NatGateway"]["NatGatewayId"]
    path = ec2.create_network_insights_path(Source=n["app"], Destination=nat, Protocol="tcp",
                                            DestinationPort=443)["NetworkInsightsPath"]
    path_id = path["NetworkInsightsPathId"]
    assert rerun(ec2, path_id)["Explanations"][0]["ExplanationCode"] == (
        "NO_ROUTE_TO_DESTINATION")
    ec2.create_route(RouteTableId=n["main_rt"], DestinationCidrBlock="0.0.0.0/0",
                     NatGatewayId=nat)
    found = rerun(ec2, path_id)
    assert found["NetworkPathFound"] is True
    forward = ids(found["ForwardPathComponents"])
    assert forward[0] == n["app"] and nat in forward and n["igw"] not in forward
    # The reply comes back through the NAT gateway's session.
    assert nat in ids(found["ReturnPathComponents"])
    nat_arn = f"arn:aws:ec2:us-east-1:000000000000:natgateway/{nat}"
    vpc_arn = f"arn:aws:ec2:us-east-1:000000000000:vpc/{n['vpc']}"
    kept = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=path_id, FilterInArns=[vpc_arn])["NetworkInsightsAnalysis"]
    assert kept["NetworkPathFound"] is True and kept["FilterInArns"] == [vpc_arn]
    avoided = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=path_id, FilterOutArns=[nat_arn])["NetworkInsightsAnalysis"]
    assert avoided["NetworkPathFound"] is False
    assert [(e["ExplanationCode"], e["Component"]["Id"]) for e in avoided["Explanations"]] == [
        ("COMPONENT_FILTER_RESTRICTION", nat)]


def test_internet_gateway_as_source(net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    path = ec2.create_network_insights_path(Source=n["igw"], Destination=n["bastion"],
                                            Protocol="tcp", DestinationPort=22
                                            )["NetworkInsightsPath"]
    blocked = rerun(ec2, path["NetworkInsightsPathId"])
    assert blocked["NetworkPathFound"] is False
    assert blocked["Explanations"][0]["ExplanationCode"] == "ENI_SG_RULES_MISMATCH"
    assert blocked["Explanations"][0]["SecurityGroup"]["Id"] == n["bastion_sg"]
    ec2.authorize_security_group_ingress(GroupId=n["bastion_sg"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    found = rerun(ec2, path["NetworkInsightsPathId"])
    assert found["NetworkPathFound"] is True
    forward = ids(found["ForwardPathComponents"])
    assert forward[0] == n["igw"] and forward[-1] == n["bastion"]
    public = ec2.describe_instances(InstanceIds=[n["bastion"]])["Reservations"][0][
        "Instances"][0]["PublicIpAddress"]
    assert found["ForwardPathComponents"][0]["OutboundHeader"]["DestinationAddresses"] == [
        public]
    # The app server has no public address: the gateway has nothing to deliver to.
    private = analyze(ec2, Source=n["igw"], Destination=n["app"], Protocol="tcp",
                      DestinationPort=22)
    assert private["NetworkPathFound"] is False
    (exp,) = private["Explanations"]
    assert exp["ExplanationCode"] == "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS"
    assert exp["InternetGateway"]["Id"] == n["igw"] == exp["Component"]["Id"]


def test_describe_filter_paginate_and_delete(net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    made = [ec2.create_network_insights_path(
        Source=n["bastion"], Destination=n["app"], Protocol="tcp", DestinationPort=port,
        TagSpecifications=[{"ResourceType": "network-insights-path",
                            "Tags": [{"Key": "team", "Value": team}]}]
        )["NetworkInsightsPath"]["NetworkInsightsPathId"] for port, team in
        ((22, "ops"), (80, "web"), (443, "web"))]
    listed = ec2.describe_network_insights_paths()["NetworkInsightsPaths"]
    assert sorted(p["NetworkInsightsPathId"] for p in listed) == sorted(made)
    web = ec2.describe_network_insights_paths(Filters=[
        {"Name": "tag:team", "Values": ["web"]}])["NetworkInsightsPaths"]
    assert sorted(p["DestinationPort"] for p in web) == [80, 443]
    by_port = ec2.describe_network_insights_paths(Filters=[
        {"Name": "destination-port", "Values": ["22"]},
        {"Name": "source", "Values": [n["bastion"]]}])["NetworkInsightsPaths"]
    assert [p["NetworkInsightsPathId"] for p in by_port] == [made[0]]
    seen, token = [], None
    while True:
        kwargs: dict[str, Any] = {"MaxResults": 1}
        if token:
            kwargs["NextToken"] = token
        page = ec2.describe_network_insights_paths(**kwargs)
        assert len(page["NetworkInsightsPaths"]) <= 1
        seen += [p["NetworkInsightsPathId"] for p in page["NetworkInsightsPaths"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(made)

    ok = rerun(ec2, made[0])
    bad = rerun(ec2, made[1])
    both = ec2.describe_network_insights_analyses(NetworkInsightsPathId=made[0])
    assert [a["NetworkInsightsAnalysisId"] for a in both["NetworkInsightsAnalyses"]] == [
        ok["NetworkInsightsAnalysisId"]]
    failing = ec2.describe_network_insights_analyses(Filters=[
        {"Name": "path-found", "Values": ["false"]}])["NetworkInsightsAnalyses"]
    assert [a["NetworkInsightsAnalysisId"] for a in failing] == [
        bad["NetworkInsightsAnalysisId"]]

    with pytest.raises(ClientError) as busy:
        ec2.delete_network_insights_path(NetworkInsightsPathId=made[0])
    assert code_of(busy) == "AnalysisExistsForNetworkInsightsPath"
    ec2.delete_network_insights_analysis(NetworkInsightsAnalysisId=ok["NetworkInsightsAnalysisId"])
    out = ec2.delete_network_insights_path(NetworkInsightsPathId=made[0])
    assert out["NetworkInsightsPathId"] == made[0]
    with pytest.raises(ClientError) as gone:
        ec2.describe_network_insights_paths(NetworkInsightsPathIds=[made[0]])
    assert code_of(gone) == "InvalidNetworkInsightsPathId.NotFound"
    with pytest.raises(ClientError) as gone_analysis:
        ec2.delete_network_insights_analysis(
            NetworkInsightsAnalysisId=ok["NetworkInsightsAnalysisId"])
    assert code_of(gone_analysis) == "InvalidNetworkInsightsAnalysisId.NotFound"


def test_errors(net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    cases: list[tuple[dict[str, Any], str]] = [
        ({"Source": "i-0123456789abcdef0", "Destination": n["app"]},
         "InvalidInstanceID.NotFound"),
        ({"Source": n["bastion"], "Destination": "igw-0123456789abcdef0"},
         "InvalidInternetGatewayID.NotFound"),
        ({"Source": n["bastion"], "Destination": "eni-0123456789abcdef0"},
         "InvalidNetworkInterfaceID.NotFound"),
        ({"Source": f"arn:aws:ec2:us-east-1:000000000000:instance/{n['bastion']}",
          "Destination": "pcx-0123456789abcdef0"}, "InvalidVpcPeeringConnectionID.NotFound"),
        ({"Source": n["vpc"], "Destination": n["app"]}, "InvalidParameterValue"),
        ({"Source": n["bastion"], "Destination": n["app"], "Protocol": "icmp"},
         "InvalidParameterValue"),
        ({"Source": n["bastion"], "Destination": n["app"], "SourceIp": "10.0.1.999"},
         "InvalidParameterValue"),
        ({"Source": n["bastion"]}, "MissingParameter"),
        ({"Source": n["bastion"], "Destination": n["app"], "SourceIp": "10.0.1.4",
          "FilterAtSource": {"SourceAddress": "10.0.1.5"}}, "InvalidParameterCombination"),
    ]
    for params, expected in cases:
        with pytest.raises(ClientError) as exc:
            ec2.create_network_insights_path(**{"Protocol": "tcp", **params})
        assert code_of(exc) == expected, params
    assert ec2.describe_network_insights_paths()["NetworkInsightsPaths"] == []
    with pytest.raises(ClientError) as exc:
        ec2.describe_network_insights_analyses(
            NetworkInsightsAnalysisIds=["nia-0123456789abcdef0"])
    assert code_of(exc) == "InvalidNetworkInsightsAnalysisId.NotFound"
    with pytest.raises(ClientError) as exc:
        ec2.start_network_insights_analysis(NetworkInsightsPathId="nip-0123456789abcdef0")
    assert code_of(exc) == "InvalidNetworkInsightsPathId.NotFound"


def test_deleted_destination_and_client_token(net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    first = ec2.create_network_insights_path(Source=n["bastion"], Destination=n["app"],
                                             Protocol="tcp", DestinationPort=22,
                                             ClientToken="same-token")["NetworkInsightsPath"]
    retry = ec2.create_network_insights_path(Source=n["bastion"], Destination=n["app"],
                                             Protocol="tcp", DestinationPort=22,
                                             ClientToken="same-token")["NetworkInsightsPath"]
    assert retry["NetworkInsightsPathId"] == first["NetworkInsightsPathId"]
    assert len(ec2.describe_network_insights_paths()["NetworkInsightsPaths"]) == 1
    ec2.terminate_instances(InstanceIds=[n["app"]])
    analysis = rerun(ec2, first["NetworkInsightsPathId"])
    # A terminated instance keeps its id but has no network interface left.
    assert analysis["NetworkPathFound"] is False
    (exp,) = analysis["Explanations"]
    assert exp["ExplanationCode"] == "UNASSOCIATED_COMPONENT"
    assert exp["Component"]["Id"] == n["app"]


def test_paths_and_analyses_survive_a_restart(tmp_path: Path) -> None:
    server = start_server(tmp_path / "state.db")
    try:
        ec2 = server.client("ec2")
        n = build(ec2)
        analysis = analyze(ec2, Source=n["bastion"], Destination=n["app"], Protocol="tcp",
                           DestinationPort=22)
    finally:
        stop_server(server)
    server = start_server(tmp_path / "state.db")
    try:
        ec2 = server.client("ec2")
        (again,) = ec2.describe_network_insights_analyses()["NetworkInsightsAnalyses"]
        assert again["NetworkInsightsAnalysisId"] == analysis["NetworkInsightsAnalysisId"]
        assert again["NetworkPathFound"] is True
        assert ids(again["ForwardPathComponents"]) == ids(analysis["ForwardPathComponents"])
        (path,) = ec2.describe_network_insights_paths()["NetworkInsightsPaths"]
        assert path["NetworkInsightsPathId"] == analysis["NetworkInsightsPathId"]
    finally:
        stop_server(server)


def test_aws_cli_walkthrough(fresh: Server) -> None:
    n = build(fresh.client("ec2"))
    path = fresh.aws("ec2", "create-network-insights-path", "--source", n["bastion"],
                     "--destination", n["app"], "--protocol", "tcp",
                     "--destination-port", "22",
                     "--tag-specifications",
                     "ResourceType=network-insights-path,Tags=[{Key=Name,Value=ssh}]"
                     )["NetworkInsightsPath"]
    assert PATH_ID.match(path["NetworkInsightsPathId"])
    assert path["Tags"] == [{"Key": "Name", "Value": "ssh"}]
    started = fresh.aws("ec2", "start-network-insights-analysis",
                        "--network-insights-path-id", path["NetworkInsightsPathId"]
                        )["NetworkInsightsAnalysis"]
    out = fresh.aws("ec2", "describe-network-insights-analyses",
                    "--network-insights-analysis-ids", started["NetworkInsightsAnalysisId"])
    (analysis,) = out["NetworkInsightsAnalyses"]
    assert analysis["Status"] == "succeeded" and analysis["NetworkPathFound"] is True
    assert n["sub_b"] in ids(analysis["ForwardPathComponents"])


def test_hop_json_carries_the_code_only_for_drops() -> None:
    assert Hop("i-1", "instance", "received", "delivered").to_json() == {
        "node": "i-1", "type": "instance", "action": "received", "detail": "delivered"}
    dropped = Hop("sg", "instance", "denied", "no rule", code="ENI_SG_RULES_MISMATCH")
    assert dropped.to_json()["code"] == "ENI_SG_RULES_MISMATCH"
