"""PrivateLink against a real server, with two accounts: the OpenSearch managed endpoint
article's self-managed setup. The provider (account P) puts a network load balancer in
front of a search instance and makes it an endpoint service; the consumer (account C), in
a VPC whose CIDR overlaps the provider's, connects through an interface endpoint once the
provider allows and accepts it. Traces go through the Reachability Analyzer API, names
through the server's DNS query route."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server

P, C, T = "111111111111", "222222222222", "333333333333"
REGION = "us-east-1"
SERVICE_NAME = re.compile(r"^com\.amazonaws\.vpce\.us-east-1\.vpce-svc-[0-9a-f]{17}$")
CIDR = "10.0.0.0/16"  # both VPCs: PrivateLink does not care


@pytest.fixture(scope="module")
def privatelink_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # PrivateLink needs no L7 proxies: --no-proxy keeps this server small
    s = start_server(tmp_path_factory.mktemp("privatelink") / "state.db", "--no-proxy")
    yield s
    stop_server(s)


@pytest.fixture
def fresh(privatelink_server: Server) -> Server:
    privatelink_server.reset()
    return privatelink_server


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def subnet(ec2: Any, vpc: str, cidr: str, zone: str) -> str:
    return str(ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)[
        "Subnet"]["SubnetId"])


def group(ec2: Any, vpc: str, name: str, port: int, cidr: str) -> str:
    gid = str(ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)[
        "GroupId"])
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
         "IpRanges": [{"CidrIp": cidr}]}])
    return gid


def instance(ec2: Any, sub: str, sg: str) -> tuple[str, str]:
    i = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=sub,
                          SecurityGroupIds=[sg])["Instances"][0]
    return str(i["InstanceId"]), str(i["PrivateIpAddress"])


def provider(server: Server) -> dict[str, Any]:
    """Account P: a VPC with a search instance on 443 behind an internal NLB in two zones."""
    ec2, elb = server.client("ec2", account=P), server.client("elbv2", account=P)
    vpc = ec2.create_vpc(CidrBlock=CIDR)["Vpc"]["VpcId"]
    sub_a = subnet(ec2, vpc, "10.0.1.0/24", "us-east-1a")
    sub_b = subnet(ec2, vpc, "10.0.2.0/24", "us-east-1b")
    search_sg = group(ec2, vpc, "search", 443, CIDR)  # the NLB's addresses are in the VPC
    search, search_ip = instance(ec2, sub_a, search_sg)
    lb = elb.create_load_balancer(Name="search", Type="network", Scheme="internal",
                                  Subnets=[sub_a, sub_b])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="search", Protocol="TCP", Port=443, VpcId=vpc,
                                 TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": search}])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=443,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    enis = ec2.describe_network_interfaces(Filters=[
        {"Name": "description", "Values": ["ELB net/search/*"]}])["NetworkInterfaces"]
    node_ips = {e["AvailabilityZone"]: e["PrivateIpAddress"] for e in enis}
    return {"ec2": ec2, "vpc": vpc, "sub_a": sub_a, "search": search, "search_ip": search_ip,
            "search_sg": search_sg, "nlb": lb["LoadBalancerArn"], "node_ips": node_ips}


def consumer(server: Server, account: str = C) -> dict[str, Any]:
    """Account C: the same CIDR, DNS host names on, a client and an endpoint group."""
    ec2 = server.client("ec2", account=account)
    vpc = ec2.create_vpc(CidrBlock=CIDR)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    sub_a = subnet(ec2, vpc, "10.0.1.0/24", "us-east-1a")
    client_sg = str(ec2.create_security_group(GroupName="client", Description="client",
                                              VpcId=vpc)["GroupId"])
    client, client_ip = instance(ec2, sub_a, client_sg)
    vpce_sg = group(ec2, vpc, "vpce", 443, CIDR)
    return {"ec2": ec2, "vpc": vpc, "sub_a": sub_a, "client": client, "client_ip": client_ip,
            "vpce_sg": vpce_sg}


def make_service(p: dict[str, Any], **extra: Any) -> dict[str, Any]:
    svc: dict[str, Any] = p["ec2"].create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[p["nlb"]], **extra)["ServiceConfiguration"]
    return svc


def allow(p: dict[str, Any], svc: dict[str, Any], *principals: str) -> None:
    p["ec2"].modify_vpc_endpoint_service_permissions(
        ServiceId=svc["ServiceId"], AddAllowedPrincipals=list(principals))


def make_endpoint(c: dict[str, Any], svc: dict[str, Any], **extra: Any) -> dict[str, Any]:
    ep: dict[str, Any] = c["ec2"].create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=c["vpc"], ServiceName=svc["ServiceName"],
        SubnetIds=[c["sub_a"]], SecurityGroupIds=[c["vpce_sg"]], **extra)["VpcEndpoint"]
    return ep


def endpoint_ip(c: dict[str, Any], ep: dict[str, Any]) -> str:
    eni = c["ec2"].describe_network_interfaces(
        NetworkInterfaceIds=ep["NetworkInterfaceIds"])["NetworkInterfaces"][0]
    return str(eni["PrivateIpAddress"])


def analyze(c: dict[str, Any], ip: str, port: int = 443) -> dict[str, Any]:
    ec2 = c["ec2"]
    path = ec2.create_network_insights_path(Source=c["client"], DestinationIp=ip,
                                            DestinationPort=port, Protocol="tcp")
    analysis: dict[str, Any] = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=path["NetworkInsightsPath"]["NetworkInsightsPathId"])[
        "NetworkInsightsAnalysis"]
    assert analysis["Status"] == "succeeded", analysis
    return analysis


def dns(server: Server, vpc: str, name: str, qtype: str = "A") -> dict[str, Any]:
    query = urllib.parse.urlencode({"vpc": vpc, "name": name, "type": qtype})
    with urllib.request.urlopen(f"{server.url}/_localvpc/dns/query?{query}", timeout=10) as r:
        answer: dict[str, Any] = json.loads(r.read())
    return answer


def addresses(answer: dict[str, Any]) -> list[str]:
    return [a["value"] for a in answer["answers"] if a["type"] in ("A", "AAAA")]


# ---------------------------------------------------------------------- the service
def test_service_configuration_lifecycle(fresh: Server) -> None:
    p = provider(fresh)
    ec2 = p["ec2"]
    svc = make_service(p, TagSpecifications=[{"ResourceType": "vpc-endpoint-service",
                                              "Tags": [{"Key": "team", "Value": "search"}]}])
    assert SERVICE_NAME.match(svc["ServiceName"])
    assert svc["ServiceName"].endswith(svc["ServiceId"])
    assert svc["ServiceState"] == "Available"
    assert svc["AcceptanceRequired"] is True  # AWS's default
    assert svc["ServiceType"] == [{"ServiceType": "Interface"}]
    assert svc["AvailabilityZones"] == ["us-east-1a", "us-east-1b"]  # the NLB's zones
    assert svc["BaseEndpointDnsNames"] == [f"{svc['ServiceId']}.us-east-1.vpce.amazonaws.com"]
    assert svc["NetworkLoadBalancerArns"] == [p["nlb"]]
    assert svc["Tags"] == [{"Key": "team", "Value": "search"}]

    ec2.modify_vpc_endpoint_service_configuration(ServiceId=svc["ServiceId"],
                                                  AcceptanceRequired=False)
    ec2.modify_vpc_endpoint_service_payer_responsibility(ServiceId=svc["ServiceId"],
                                                         PayerResponsibility="ServiceOwner")
    got = ec2.describe_vpc_endpoint_service_configurations(
        ServiceIds=[svc["ServiceId"]])["ServiceConfigurations"][0]
    assert got["AcceptanceRequired"] is False
    assert got["PayerResponsibility"] == "ServiceOwner"
    by_filter = ec2.describe_vpc_endpoint_service_configurations(
        Filters=[{"Name": "tag:team", "Values": ["search"]}])["ServiceConfigurations"]
    assert [s["ServiceId"] for s in by_filter] == [svc["ServiceId"]]

    # one NLB backs one service; bad inputs get AWS's codes
    with pytest.raises(ClientError) as exc:
        make_service(p)
    assert code_of(exc) == "InvalidParameter"
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[
            p["nlb"].replace("search/", "nope/")])
    assert code_of(exc) == "InvalidParameter"
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[p["nlb"]],
                                                      GatewayLoadBalancerArns=[p["nlb"]])
    assert code_of(exc) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as exc:
        ec2.describe_vpc_endpoint_service_configurations(
            ServiceIds=["vpce-svc-0123456789abcdef0"])
    assert code_of(exc) == "InvalidVpcEndpointServiceId.NotFound"
    # another account cannot see or change it
    with pytest.raises(ClientError) as exc:
        fresh.client("ec2", account=C).modify_vpc_endpoint_service_configuration(
            ServiceId=svc["ServiceId"], AcceptanceRequired=True)
    assert code_of(exc) == "InvalidVpcEndpointServiceId.NotFound"

    out = ec2.delete_vpc_endpoint_service_configurations(
        ServiceIds=[svc["ServiceId"], "vpce-svc-0123456789abcdef0"])
    assert out["Unsuccessful"] == [{"ResourceId": "vpce-svc-0123456789abcdef0", "Error": {
        "Code": "InvalidVpcEndpointService.NotFound",
        "Message": "The VpcEndpointService Id 'vpce-svc-0123456789abcdef0' does not exist"}}]
    assert ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"] == []


def test_permissions_decide_who_sees_and_connects(fresh: Server) -> None:
    p, c = provider(fresh), consumer(fresh)
    svc = make_service(p)
    name = svc["ServiceName"]

    def visible(ec2: Any) -> list[str]:
        return [d["ServiceName"] for d in ec2.describe_vpc_endpoint_services()[
            "ServiceDetails"] if d["ServiceName"] == name]

    assert visible(p["ec2"]) == [name]  # the owner always sees its service
    assert visible(c["ec2"]) == []
    with pytest.raises(ClientError) as exc:
        make_endpoint(c, svc)
    assert code_of(exc) == "InvalidServiceName"
    with pytest.raises(ClientError) as exc:
        c["ec2"].describe_vpc_endpoint_services(ServiceNames=[name])
    assert code_of(exc) == "InvalidServiceName"

    with pytest.raises(ClientError) as exc:
        allow(p, svc, f"arn:aws:iam::{C}:role/path/deep")  # ARNs with paths: refused
    assert code_of(exc) == "InvalidPrincipal"
    out = p["ec2"].modify_vpc_endpoint_service_permissions(
        ServiceId=svc["ServiceId"], AddAllowedPrincipals=[f"arn:aws:iam::{C}:root"])
    assert out["ReturnValue"] is True
    assert out["AddedPrincipals"][0]["PrincipalType"] == "Account"
    assert out["AddedPrincipals"][0]["ServicePermissionId"].startswith("vpce-svc-perm-")
    detail = c["ec2"].describe_vpc_endpoint_services(ServiceNames=[name])["ServiceDetails"]
    assert detail[0]["Owner"] == P
    assert detail[0]["AcceptanceRequired"] is True
    assert detail[0]["AvailabilityZones"] == ["us-east-1a", "us-east-1b"]
    assert detail[0]["BaseEndpointDnsNames"] == svc["BaseEndpointDnsNames"]
    assert visible(fresh.client("ec2", account=T)) == []

    allow(p, svc, "*")
    assert visible(fresh.client("ec2", account=T)) == [name]
    perms = p["ec2"].describe_vpc_endpoint_service_permissions(
        ServiceId=svc["ServiceId"])["AllowedPrincipals"]
    assert sorted((x["Principal"], x["PrincipalType"]) for x in perms) == [
        ("*", "All"), (f"arn:aws:iam::{C}:root", "Account")]
    p["ec2"].modify_vpc_endpoint_service_permissions(ServiceId=svc["ServiceId"],
                                                     RemoveAllowedPrincipals=["*"])
    assert visible(fresh.client("ec2", account=T)) == []
    assert visible(c["ec2"]) == [name]


# ---------------------------------------------------------------------- the article
def test_overlapping_consumer_reaches_the_nlb_target_after_acceptance(fresh: Server) -> None:
    p, c = provider(fresh), consumer(fresh)
    svc = make_service(p)
    allow(p, svc, f"arn:aws:iam::{C}:root")
    ep = make_endpoint(c, svc)
    assert ep["State"] == "pendingAcceptance"
    assert ep["OwnerId"] == C
    ip = endpoint_ip(c, ep)
    assert ip.startswith("10.0.1.")  # inside the consumer's copy of 10.0.0.0/16

    conns = p["ec2"].describe_vpc_endpoint_connections(Filters=[
        {"Name": "vpc-endpoint-state", "Values": ["pendingAcceptance"]}])[
        "VpcEndpointConnections"]
    assert [(x["VpcEndpointId"], x["VpcEndpointOwner"], x["ServiceId"]) for x in conns] == [
        (ep["VpcEndpointId"], C, svc["ServiceId"])]
    assert conns[0]["VpcEndpointConnectionId"].startswith("vpce-con-")

    # before acceptance the endpoint drops the packet
    before = analyze(c, ip)
    assert before["NetworkPathFound"] is False
    assert [e["ExplanationCode"] for e in before["Explanations"]] == ["BAD_STATE"]
    assert before["Explanations"][0]["Component"]["Id"] == ep["VpcEndpointId"]

    out = p["ec2"].accept_vpc_endpoint_connections(
        ServiceId=svc["ServiceId"], VpcEndpointIds=[ep["VpcEndpointId"], "vpce-0123456789abcdef0"])
    assert out["Unsuccessful"] == [{"ResourceId": "vpce-0123456789abcdef0", "Error": {
        "Code": "InvalidVpcEndpointId.NotFound",
        "Message": "The Vpc Endpoint Id 'vpce-0123456789abcdef0' does not exist"}}]
    state = c["ec2"].describe_vpc_endpoints(VpcEndpointIds=[ep["VpcEndpointId"]])[
        "VpcEndpoints"][0]["State"]
    assert state == "available"

    after = analyze(c, ip)
    assert after["NetworkPathFound"] is True, after.get("Explanations")
    forward = [x["Component"]["Id"] for x in after["ForwardPathComponents"]]
    assert forward[0] == c["client"]
    assert ep["VpcEndpointId"] in forward
    assert forward[-1] == p["search"]  # the provider's target, in the overlapping VPC
    inbound = after["ForwardPathComponents"][-1]["InboundHeader"]
    # the NLB source-NATs PrivateLink traffic: the target sees the NLB node's address
    assert inbound["SourceAddresses"] == [p["node_ips"]["us-east-1a"]]
    assert inbound["DestinationAddresses"] == [p["search_ip"]]
    assert after["ReturnPathComponents"][-1]["Component"]["Id"] == c["client"]

    # a port the endpoint's group allows but no listener serves ends at the NLB
    c["ec2"].authorize_security_group_ingress(GroupId=c["vpce_sg"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 9200, "ToPort": 9200,
         "IpRanges": [{"CidrIp": CIDR}]}])
    wrong = analyze(c, ip, port=9200)
    assert wrong["NetworkPathFound"] is False
    assert [e["ExplanationCode"] for e in wrong["Explanations"]] == [
        "ELBV2_LISTENERS_MISMATCH"]
    assert wrong["Explanations"][0]["LoadBalancerArn"] == p["nlb"]

    # the endpoint's security group applies
    c["ec2"].revoke_security_group_ingress(GroupId=c["vpce_sg"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": CIDR}]}])
    blocked = analyze(c, ip)
    assert [e["ExplanationCode"] for e in blocked["Explanations"]] == ["ENI_SG_RULES_MISMATCH"]
    c["ec2"].authorize_security_group_ingress(GroupId=c["vpce_sg"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": CIDR}]}])

    # the service cannot go while connected; rejection cuts the path and frees it
    out = p["ec2"].delete_vpc_endpoint_service_configurations(ServiceIds=[svc["ServiceId"]])
    assert out["Unsuccessful"][0]["Error"]["Code"] == "ExistingVpcEndpointConnections"
    p["ec2"].reject_vpc_endpoint_connections(ServiceId=svc["ServiceId"],
                                             VpcEndpointIds=[ep["VpcEndpointId"]])
    assert c["ec2"].describe_vpc_endpoints(VpcEndpointIds=[ep["VpcEndpointId"]])[
        "VpcEndpoints"][0]["State"] == "rejected"
    rejected = analyze(c, ip)
    assert rejected["NetworkPathFound"] is False
    assert [e["ExplanationCode"] for e in rejected["Explanations"]] == ["BAD_STATE"]
    assert p["ec2"].delete_vpc_endpoint_service_configurations(
        ServiceIds=[svc["ServiceId"]])["Unsuccessful"] == []


def test_no_acceptance_needed_and_zones_of_the_service(fresh: Server) -> None:
    p, c = provider(fresh), consumer(fresh)
    svc = make_service(p, AcceptanceRequired=False)
    allow(p, svc, f"arn:aws:iam::{C}:root")
    ep = make_endpoint(c, svc)
    assert ep["State"] == "pending"
    assert c["ec2"].describe_vpc_endpoints(VpcEndpointIds=[ep["VpcEndpointId"]])[
        "VpcEndpoints"][0]["State"] == "available"
    assert analyze(c, endpoint_ip(c, ep))["NetworkPathFound"] is True
    # the NLB has no node in us-east-1c, so the service offers no endpoint there
    sub_c = subnet(c["ec2"], c["vpc"], "10.0.3.0/24", "us-east-1c")
    with pytest.raises(ClientError) as exc:
        c["ec2"].create_vpc_endpoint(VpcEndpointType="Interface", VpcId=c["vpc"],
                                     ServiceName=svc["ServiceName"], SubnetIds=[sub_c])
    assert code_of(exc) == "InvalidParameter"
    with pytest.raises(ClientError) as exc:  # the service has no private DNS name
        make_endpoint(c, svc, PrivateDnsEnabled=True)
    assert code_of(exc) == "InvalidParameter"


# ---------------------------------------------------------------------- DNS
def test_endpoint_names_and_verified_private_dns_name(fresh: Server) -> None:
    p, c = provider(fresh), consumer(fresh)
    svc = make_service(p, AcceptanceRequired=False, PrivateDnsName="search.example.com")
    config = svc["PrivateDnsNameConfiguration"]
    assert config["State"] == "pendingVerification" and config["Type"] == "TXT"
    assert config["Value"].startswith("vpce:") and config["Name"].startswith("_")
    allow(p, svc, f"arn:aws:iam::{C}:root")

    # without the TXT record the verification fails
    p["ec2"].start_vpc_endpoint_service_private_dns_verification(ServiceId=svc["ServiceId"])
    got = p["ec2"].describe_vpc_endpoint_service_configurations(ServiceIds=[svc["ServiceId"]])
    assert got["ServiceConfigurations"][0]["PrivateDnsNameConfiguration"]["State"] == "failed"
    r53 = fresh.client("route53", account=P)
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="x")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": f"{config['Name']}.example.com", "Type": "TXT", "TTL": 300,
            "ResourceRecords": [{"Value": f'"{config["Value"]}"'}]}}]})
    p["ec2"].start_vpc_endpoint_service_private_dns_verification(ServiceId=svc["ServiceId"])
    detail = c["ec2"].describe_vpc_endpoint_services(ServiceNames=[svc["ServiceName"]])[
        "ServiceDetails"][0]
    assert detail["PrivateDnsName"] == "search.example.com"
    assert detail["PrivateDnsNameVerificationState"] == "verified"

    ep = make_endpoint(c, svc)  # private DNS on by default: the service has a name
    ip = endpoint_ip(c, ep)
    names = [d["DnsName"] for d in c["ec2"].describe_vpc_endpoints(
        VpcEndpointIds=[ep["VpcEndpointId"]])["VpcEndpoints"][0]["DnsEntries"]]
    svc_id, vpce = svc["ServiceId"], ep["VpcEndpointId"]
    regional = re.compile(rf"^{vpce}-[a-z0-9]{{8}}\.{svc_id}\.us-east-1\.vpce\.amazonaws\.com$")
    zonal = re.compile(rf"^{vpce}-[a-z0-9]{{8}}-us-east-1a\.{svc_id}\.us-east-1\.vpce\."
                       r"amazonaws\.com$")
    assert regional.match(names[0]) and zonal.match(names[1]), names
    assert names[2] == "search.example.com"

    # the endpoint's own names are public: the same answer in the provider's VPC
    for vpc in (c["vpc"], p["vpc"]):
        assert addresses(dns(fresh, vpc, names[0])) == [ip]
        assert addresses(dns(fresh, vpc, names[1])) == [ip]
    # the private DNS name: the endpoint in the consumer VPC, the public zone elsewhere
    inside = dns(fresh, c["vpc"], "search.example.com")
    assert addresses(inside) == [ip], inside["why"]
    assert addresses(dns(fresh, p["vpc"], "search.example.com")) == []
    c["ec2"].modify_vpc_endpoint(VpcEndpointId=vpce, PrivateDnsEnabled=False)
    assert addresses(dns(fresh, c["vpc"], "search.example.com")) == []


# ---------------------------------------------------------------------- notifications
def test_connection_notifications(fresh: Server) -> None:
    p = provider(fresh)
    svc = make_service(p)
    ec2 = p["ec2"]
    topic = f"arn:aws:sns:us-east-1:{P}:endpoint-events"
    n = ec2.create_vpc_endpoint_connection_notification(
        ServiceId=svc["ServiceId"], ConnectionNotificationArn=topic,
        ConnectionEvents=["Connect", "Accept"])["ConnectionNotification"]
    assert n["ConnectionNotificationId"].startswith("vpce-nfn-")
    assert n["ConnectionNotificationState"] == "Enabled"
    ec2.modify_vpc_endpoint_connection_notification(
        ConnectionNotificationId=n["ConnectionNotificationId"], ConnectionEvents=["Reject"])
    listed = ec2.describe_vpc_endpoint_connection_notifications(Filters=[
        {"Name": "service-id", "Values": [svc["ServiceId"]]}])["ConnectionNotificationSet"]
    assert [(x["ConnectionNotificationArn"], x["ConnectionEvents"]) for x in listed] == [
        (topic, ["Reject"])]
    for bad in ({"ConnectionEvents": ["Explode"]}, {"ConnectionNotificationArn": "nope"}):
        with pytest.raises(ClientError) as exc:
            ec2.create_vpc_endpoint_connection_notification(**{
                "ServiceId": svc["ServiceId"], "ConnectionNotificationArn": topic,
                "ConnectionEvents": ["Connect"], **bad})
        assert code_of(exc) == "InvalidParameter"
    out = ec2.delete_vpc_endpoint_connection_notifications(ConnectionNotificationIds=[
        n["ConnectionNotificationId"], "vpce-nfn-0123456789abcdef0"])
    assert [u["ResourceId"] for u in out["Unsuccessful"]] == ["vpce-nfn-0123456789abcdef0"]
    assert ec2.describe_vpc_endpoint_connection_notifications()[
        "ConnectionNotificationSet"] == []


# ---------------------------------------------------------------------- persistence, CLI
def test_service_and_connection_survive_a_restart(tmp_path: Path) -> None:
    server = start_server(tmp_path / "state.db", "--no-proxy")
    try:
        p, c = provider(server), consumer(server)
        svc = make_service(p)
        allow(p, svc, f"arn:aws:iam::{C}:root")
        ep = make_endpoint(c, svc)
        p["ec2"].accept_vpc_endpoint_connections(ServiceId=svc["ServiceId"],
                                                 VpcEndpointIds=[ep["VpcEndpointId"]])
    finally:
        stop_server(server)
    again = start_server(tmp_path / "state.db", "--no-proxy")
    try:
        ec2p, ec2c = again.client("ec2", account=P), again.client("ec2", account=C)
        perms = ec2p.describe_vpc_endpoint_service_permissions(ServiceId=svc["ServiceId"])
        assert [x["Principal"] for x in perms["AllowedPrincipals"]] == [
            f"arn:aws:iam::{C}:root"]
        conns = ec2p.describe_vpc_endpoint_connections()["VpcEndpointConnections"]
        assert [(x["VpcEndpointId"], x["VpcEndpointState"]) for x in conns] == [
            (ep["VpcEndpointId"], "available")]
        assert ec2c.describe_vpc_endpoints()["VpcEndpoints"][0]["State"] == "available"
    finally:
        stop_server(again)


def test_aws_cli_creates_and_describes_a_service(fresh: Server) -> None:
    ec2, elb = fresh.client("ec2"), fresh.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock=CIDR)["Vpc"]["VpcId"]
    sub = subnet(ec2, vpc, "10.0.1.0/24", "us-east-1a")
    nlb = elb.create_load_balancer(Name="cli", Type="network", Scheme="internal",
                                   Subnets=[sub])["LoadBalancers"][0]["LoadBalancerArn"]
    out = fresh.aws("ec2", "create-vpc-endpoint-service-configuration",
                    "--network-load-balancer-arns", nlb, "--no-acceptance-required")
    svc = out["ServiceConfiguration"]
    assert SERVICE_NAME.match(svc["ServiceName"]) and svc["AcceptanceRequired"] is False
    listed = fresh.aws("ec2", "describe-vpc-endpoint-services", "--service-names",
                       svc["ServiceName"])
    assert listed["ServiceNames"] == [svc["ServiceName"]]
    assert listed["ServiceDetails"][0]["AvailabilityZones"] == ["us-east-1a"]


def test_an_nlb_behind_a_service_cannot_be_deleted(fresh: Server) -> None:
    p = provider(fresh)
    svc = make_service(p, AcceptanceRequired=False)
    elb = fresh.client("elbv2", account=P)
    with pytest.raises(ClientError) as e:
        elb.delete_load_balancer(LoadBalancerArn=p["nlb"])
    assert code_of(e) == "ResourceInUse" and svc["ServiceId"] in str(e.value)
    p["ec2"].delete_vpc_endpoint_service_configurations(ServiceIds=[svc["ServiceId"]])
    elb.delete_load_balancer(LoadBalancerArn=p["nlb"])
    assert elb.describe_load_balancers()["LoadBalancers"] == []
