"""Network Access Analyzer (access scopes and their analyses) against a real server.

The network is built through the EC2 API; findings come from the analysis engine tracing
packets on the server's live forwarding plane.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server

SCOPE_ID = re.compile(r"^nis-[0-9a-f]{17}$")
ANALYSIS_ID = re.compile(r"^nisa-[0-9a-f]{17}$")

# AWS's canonical example: every path from an internet gateway to a network interface.
IGW_TO_ENI = [{"Source": {"ResourceStatement": {"ResourceTypes": [
                   "AWS::EC2::InternetGateway"]}},
               "Destination": {"ResourceStatement": {"ResourceTypes": [
                   "AWS::EC2::NetworkInterface"]}}}]
ENI_TO_IGW = [{"Source": {"ResourceStatement": {"ResourceTypes": [
                   "AWS::EC2::NetworkInterface"]}},
               "Destination": {"ResourceStatement": {"ResourceTypes": [
                   "AWS::EC2::InternetGateway"]}}}]


def build(ec2: Any) -> dict[str, str]:
    """A public subnet (route to the IGW, public IPs on launch) with two web servers open on
    443 and a database open on 5432 to the VPC only; a private subnet going out by a NAT
    gateway, with an app server."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    pub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                            AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    priv = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24",
                             AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=pub, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=public_rt, SubnetId=pub)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=pub, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    private_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0",
                     NatGatewayId=nat)
    ec2.associate_route_table(RouteTableId=private_rt, SubnetId=priv)

    def group(name: str, port: int, cidr: str) -> str:
        sg: str = ec2.create_security_group(GroupName=name, Description=name,
                                            VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
             "IpRanges": [{"CidrIp": cidr}]}])
        return sg

    def launch(subnet: str, sg: str) -> str:
        # One call each: instances launched together get one public IP (see the report).
        instance: str = ec2.run_instances(
            ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=subnet,
            SecurityGroupIds=[sg])["Instances"][0]["InstanceId"]
        return instance

    web_sg = group("web", 443, "0.0.0.0/0")
    web1, web2 = launch(pub, web_sg), launch(pub, web_sg)
    db = launch(pub, group("db", 5432, "10.0.0.0/16"))
    app = launch(priv, group("app", 8080, "10.0.0.0/16"))
    return {"vpc": vpc, "igw": igw, "nat": nat, "web1": web1, "web2": web2, "db": db,
            "app": app}


def ids(components: list[dict[str, Any]]) -> list[str]:
    return [c["Component"]["Id"] for c in components]


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def all_findings(ec2: Any, analysis_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in ec2.get_paginator(
            "get_network_insights_access_scope_analysis_findings").paginate(
            NetworkInsightsAccessScopeAnalysisId=analysis_id,
            PaginationConfig={"PageSize": 1}):
        assert len(page["AnalysisFindings"]) <= 1
        out += page["AnalysisFindings"]
    return out


@pytest.fixture
def net(fresh: Server) -> tuple[Any, dict[str, str]]:
    ec2 = fresh.client("ec2")
    return ec2, build(ec2)


def test_canonical_igw_to_eni_scope_from_creation_to_deletion(
        net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    created = ec2.create_network_insights_access_scope(
        MatchPaths=IGW_TO_ENI, TagSpecifications=[{
            "ResourceType": "network-insights-access-scope",
            "Tags": [{"Key": "Name", "Value": "internet-ingress"}]}])
    scope = created["NetworkInsightsAccessScope"]
    scope_id = scope["NetworkInsightsAccessScopeId"]
    assert SCOPE_ID.match(scope_id)
    assert scope["NetworkInsightsAccessScopeArn"] == (
        f"arn:aws:ec2:us-east-1:000000000000:network-insights-access-scope/{scope_id}")
    assert scope["Tags"] == [{"Key": "Name", "Value": "internet-ingress"}]
    assert isinstance(scope["CreatedDate"], datetime)
    assert created["NetworkInsightsAccessScopeContent"]["MatchPaths"] == IGW_TO_ENI

    described = ec2.describe_network_insights_access_scopes(
        Filters=[{"Name": "tag:Name", "Values": ["internet-ingress"]}])
    assert [s["NetworkInsightsAccessScopeId"]
            for s in described["NetworkInsightsAccessScopes"]] == [scope_id]
    content = ec2.get_network_insights_access_scope_content(
        NetworkInsightsAccessScopeId=scope_id)["NetworkInsightsAccessScopeContent"]
    assert content == {"NetworkInsightsAccessScopeId": scope_id, "MatchPaths": IGW_TO_ENI}

    analysis = ec2.start_network_insights_access_scope_analysis(
        NetworkInsightsAccessScopeId=scope_id)["NetworkInsightsAccessScopeAnalysis"]
    analysis_id = analysis["NetworkInsightsAccessScopeAnalysisId"]
    assert ANALYSIS_ID.match(analysis_id)
    assert analysis["Status"] == "succeeded"
    assert analysis["FindingsFound"] == "true"
    assert analysis["NetworkInsightsAccessScopeId"] == scope_id
    assert analysis["AnalyzedEniCount"] >= 4  # the four instances (the NAT is no target)
    assert analysis["EndDate"] >= analysis["StartDate"]
    assert "WarningMessage" not in analysis

    findings = all_findings(ec2, analysis_id)
    # The two web servers, nothing else: the DB admits only the VPC, the app server has no
    # public address.
    assert {ids(f["FindingComponents"])[-1] for f in findings} == {n["web1"], n["web2"]}
    for f in findings:
        assert f["NetworkInsightsAccessScopeId"] == scope_id
        assert f["NetworkInsightsAccessScopeAnalysisId"] == analysis_id
        comps = f["FindingComponents"]
        assert ids(comps)[0] == n["igw"]
        assert comps[0]["OutboundHeader"]["DestinationPortRanges"] == [{"From": 443, "To": 443}]
        assert comps[-1]["InboundHeader"]["DestinationAddresses"][0].startswith("10.0.1.")
    assert len({f["FindingId"] for f in findings}) == 2
    whole = ec2.get_network_insights_access_scope_analysis_findings(
        NetworkInsightsAccessScopeAnalysisId=analysis_id)
    assert whole["AnalysisStatus"] == "succeeded" and len(whole["AnalysisFindings"]) == 2

    listed = ec2.describe_network_insights_access_scope_analyses(
        NetworkInsightsAccessScopeId=scope_id)["NetworkInsightsAccessScopeAnalyses"]
    assert [a["NetworkInsightsAccessScopeAnalysisId"] for a in listed] == [analysis_id]
    later = datetime.now(UTC) + timedelta(hours=1)
    assert ec2.describe_network_insights_access_scope_analyses(
        AnalysisStartTimeBegin=later)["NetworkInsightsAccessScopeAnalyses"] == []
    assert len(ec2.describe_network_insights_access_scope_analyses(
        AnalysisStartTimeEnd=later)["NetworkInsightsAccessScopeAnalyses"]) == 1

    with pytest.raises(ClientError) as exc:
        ec2.delete_network_insights_access_scope(NetworkInsightsAccessScopeId=scope_id)
    assert code_of(exc) == "AnalysisExistsForNetworkInsightsAccessScope"
    assert ec2.delete_network_insights_access_scope_analysis(
        NetworkInsightsAccessScopeAnalysisId=analysis_id
    )["NetworkInsightsAccessScopeAnalysisId"] == analysis_id
    assert ec2.delete_network_insights_access_scope(
        NetworkInsightsAccessScopeId=scope_id)["NetworkInsightsAccessScopeId"] == scope_id
    with pytest.raises(ClientError) as exc:
        ec2.get_network_insights_access_scope_content(NetworkInsightsAccessScopeId=scope_id)
    assert code_of(exc) == "InvalidNetworkInsightsAccessScopeId.NotFound"


def test_exclude_path_through_the_nat_gateway(net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net

    def outbound(**extra: Any) -> dict[str, list[str]]:
        scope_id = ec2.create_network_insights_access_scope(
            MatchPaths=ENI_TO_IGW, **extra
        )["NetworkInsightsAccessScope"]["NetworkInsightsAccessScopeId"]
        analysis_id = ec2.start_network_insights_access_scope_analysis(
            NetworkInsightsAccessScopeId=scope_id
        )["NetworkInsightsAccessScopeAnalysis"]["NetworkInsightsAccessScopeAnalysisId"]
        return {ids(f["FindingComponents"])[0]: ids(f["FindingComponents"])
                for f in all_findings(ec2, analysis_id)}

    paths = outbound()
    assert set(paths) == {n["web1"], n["web2"], n["db"], n["app"]}
    assert n["nat"] in paths[n["app"]] and paths[n["app"]][-1] == n["igw"]
    assert n["nat"] not in paths[n["web1"]]
    excluded = outbound(ExcludePaths=[{"ThroughResources": [
        {"ResourceStatement": {"ResourceTypes": ["AWS::EC2::NatGateway"]}}]}])
    assert set(excluded) == {n["web1"], n["web2"], n["db"]}


def test_packet_header_statement_narrows_the_findings(net: tuple[Any, dict[str, str]]) -> None:
    ec2, n = net
    to_db = [{"Source": {"PacketHeaderStatement": {"SourceAddresses": ["10.0.2.0/24"]}},
              "Destination": {"ResourceStatement": {"Resources": [n["db"]]},
                              "PacketHeaderStatement": {"DestinationPorts": ["5432"],
                                                        "Protocols": ["tcp"]}}}]
    scope_id = ec2.create_network_insights_access_scope(
        MatchPaths=to_db)["NetworkInsightsAccessScope"]["NetworkInsightsAccessScopeId"]
    analysis_id = ec2.start_network_insights_access_scope_analysis(
        NetworkInsightsAccessScopeId=scope_id
    )["NetworkInsightsAccessScopeAnalysis"]["NetworkInsightsAccessScopeAnalysisId"]
    findings = all_findings(ec2, analysis_id)
    assert [(ids(f["FindingComponents"])[0], ids(f["FindingComponents"])[-1])
            for f in findings] == [(n["app"], n["db"])]


def test_errors_for_unknown_ids_and_bad_scopes(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    missing_scope, missing_analysis = "nis-0123456789abcdef0", "nisa-0123456789abcdef0"
    for call, kwargs, code in [
        (ec2.get_network_insights_access_scope_content,
         {"NetworkInsightsAccessScopeId": missing_scope},
         "InvalidNetworkInsightsAccessScopeId.NotFound"),
        (ec2.start_network_insights_access_scope_analysis,
         {"NetworkInsightsAccessScopeId": missing_scope},
         "InvalidNetworkInsightsAccessScopeId.NotFound"),
        (ec2.delete_network_insights_access_scope,
         {"NetworkInsightsAccessScopeId": missing_scope},
         "InvalidNetworkInsightsAccessScopeId.NotFound"),
        (ec2.describe_network_insights_access_scopes,
         {"NetworkInsightsAccessScopeIds": [missing_scope]},
         "InvalidNetworkInsightsAccessScopeId.NotFound"),
        (ec2.get_network_insights_access_scope_analysis_findings,
         {"NetworkInsightsAccessScopeAnalysisId": missing_analysis},
         "InvalidNetworkInsightsAccessScopeAnalysisId.NotFound"),
        (ec2.delete_network_insights_access_scope_analysis,
         {"NetworkInsightsAccessScopeAnalysisId": missing_analysis},
         "InvalidNetworkInsightsAccessScopeAnalysisId.NotFound"),
        (ec2.describe_network_insights_access_scope_analyses,
         {"NetworkInsightsAccessScopeAnalysisIds": [missing_analysis]},
         "InvalidNetworkInsightsAccessScopeAnalysisId.NotFound"),
    ]:
        with pytest.raises(ClientError) as exc:
            call(**kwargs)
        assert code_of(exc) == code, call

    def create_fails(match_paths: list[dict[str, Any]]) -> str:
        with pytest.raises(ClientError) as exc:
            ec2.create_network_insights_access_scope(MatchPaths=match_paths)
        return code_of(exc)

    by_type = {"ResourceStatement": {"ResourceTypes": ["AWS::EC2::NatGateway"]}}
    assert create_fails([{"Source": by_type}]) == "InvalidParameterValue"  # through only
    assert create_fails([{"Source": {"ResourceStatement": {
        "ResourceTypes": ["AWS::EC2::Unknown"]}}}]) == "InvalidParameterValue"
    assert create_fails([{"Source": {"ResourceStatement": {
        "Resources": ["igw-0123456789abcdef0"],
        "ResourceTypes": ["AWS::EC2::InternetGateway"]}}}]) == "InvalidParameterValue"
    assert create_fails([{"Destination": {"PacketHeaderStatement": {
        "DestinationPorts": ["70000"]}}}]) == "InvalidParameterValue"
    assert create_fails([{"Destination": {"PacketHeaderStatement": {
        "DestinationAddresses": ["10.0.0.0/99"]}}}]) == "InvalidParameterValue"
    assert create_fails([{"Source": {"PacketHeaderStatement": {
        "SourceAddresses": ["10.0.0.0/8"], "SourcePrefixLists": ["pl-0123456789abcdef0"]}}}]
    ) == "InvalidParameterCombination"
    assert create_fails([{"ThroughResources": [{"ResourceStatement": {
        "ResourceTypes": ["AWS::EC2::InternetGateway"]}}]}]) == "InvalidParameterValue"
    assert ec2.describe_network_insights_access_scopes()["NetworkInsightsAccessScopes"] == []


def test_describe_scopes_pages_and_analyses_stay_after_restart_of_the_view(
        fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    made = sorted(ec2.create_network_insights_access_scope(MatchPaths=IGW_TO_ENI)[
        "NetworkInsightsAccessScope"]["NetworkInsightsAccessScopeId"] for _ in range(3))
    seen: list[str] = []
    for page in ec2.get_paginator("describe_network_insights_access_scopes").paginate(
            PaginationConfig={"PageSize": 2}):
        assert len(page["NetworkInsightsAccessScopes"]) <= 2
        seen += [s["NetworkInsightsAccessScopeId"] for s in page["NetworkInsightsAccessScopes"]]
    assert seen == made
    # No network at all: the analysis succeeds with nothing found.
    analysis = ec2.start_network_insights_access_scope_analysis(
        NetworkInsightsAccessScopeId=made[0])["NetworkInsightsAccessScopeAnalysis"]
    assert analysis["FindingsFound"] == "false"
    other = fresh.client("ec2", account="111111111111")
    assert other.describe_network_insights_access_scopes()["NetworkInsightsAccessScopes"] == []
