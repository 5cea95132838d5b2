"""Elastic Load Balancing v2 against a real server: load balancers with their network
interfaces, target groups and target health, listeners and rules, AWS's errors,
pagination, persistence, and a Reachability Analyzer trace through an API-made ALB."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server

ALB_ARN = re.compile(r"^arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/"
                     r"web/[0-9a-f]{16}$")


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def build(ec2: Any) -> dict[str, str]:
    """A VPC with two public subnets (us-east-1a/b, route to an IGW), a security group for
    the load balancer (HTTP from anywhere) and one for the app (HTTP from the load
    balancer's group), and a running app instance in each subnet."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                              AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    sub_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24",
                              AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for sub in (sub_a, sub_b):
        ec2.associate_route_table(RouteTableId=rt, SubnetId=sub)
    lb_sg = ec2.create_security_group(GroupName="lb", Description="lb", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=lb_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 81,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    app_sg = ec2.create_security_group(GroupName="app", Description="app",
                                       VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=app_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "UserIdGroupPairs": [{"GroupId": lb_sg}]}])
    apps = [ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=sub,
                              SecurityGroupIds=[app_sg])["Instances"][0]["InstanceId"]
            for sub in (sub_a, sub_b)]
    return {"vpc": vpc, "sub_a": sub_a, "sub_b": sub_b, "igw": igw, "lb_sg": lb_sg,
            "app_sg": app_sg, "app_a": apps[0], "app_b": apps[1]}


@pytest.fixture
def env(fresh: Server) -> tuple[Any, Any, dict[str, str]]:
    ec2, elb = fresh.client("ec2"), fresh.client("elbv2")
    return ec2, elb, build(ec2)


def make_alb(elb: Any, n: dict[str, str], name: str = "web") -> dict[str, Any]:
    lb: dict[str, Any] = elb.create_load_balancer(
        Name=name, Subnets=[n["sub_a"], n["sub_b"]], SecurityGroups=[n["lb_sg"]],
        Tags=[{"Key": "app", "Value": "wordpress"}])["LoadBalancers"][0]
    return lb


def make_tg(elb: Any, n: dict[str, str], name: str = "web-tg", **extra: Any) -> str:
    params = {"Name": name, "Protocol": "HTTP", "Port": 80, "VpcId": n["vpc"], **extra}
    return str(elb.create_target_group(**params)["TargetGroups"][0]["TargetGroupArn"])


def forward(tg: str) -> list[dict[str, Any]]:
    return [{"Type": "forward", "TargetGroupArn": tg}]


def health(elb: Any, tg: str) -> dict[str, dict[str, Any]]:
    return {d["Target"]["Id"]: d["TargetHealth"]
            for d in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]}


def lb_interfaces(ec2: Any, lb: dict[str, Any]) -> list[dict[str, Any]]:
    suffix = lb["LoadBalancerArn"].split(":loadbalancer/")[1]
    found: list[dict[str, Any]] = ec2.describe_network_interfaces(Filters=[
        {"Name": "description", "Values": [f"ELB {suffix}"]}])["NetworkInterfaces"]
    return found


# ---------------------------------------------------------------------- load balancers
def test_application_load_balancer_nodes_dns_and_describe(env: tuple[Any, Any, dict[str, str]]
                                                          ) -> None:
    ec2, elb, n = env
    lb = make_alb(elb, n)
    assert ALB_ARN.match(lb["LoadBalancerArn"])
    assert re.fullmatch(r"web-\d{10}\.us-east-1\.elb\.amazonaws\.com", lb["DNSName"])
    assert lb["CanonicalHostedZoneId"] == "Z35SXDOTRQ7X7K"
    assert lb["State"] == {"Code": "provisioning"}
    assert (lb["Type"], lb["Scheme"], lb["IpAddressType"]) == (
        "application", "internet-facing", "ipv4")
    assert lb["SecurityGroups"] == [n["lb_sg"]]
    assert {(z["ZoneName"], z["SubnetId"]) for z in lb["AvailabilityZones"]} == {
        ("us-east-1a", n["sub_a"]), ("us-east-1b", n["sub_b"])}
    # One interface per subnet, described and typed as AWS does, with a public address.
    enis = lb_interfaces(ec2, lb)
    assert sorted(e["SubnetId"] for e in enis) == sorted([n["sub_a"], n["sub_b"]])
    for eni in enis:
        assert eni["InterfaceType"] == "interface"
        assert eni["RequesterManaged"] is True
        assert [g["GroupId"] for g in eni["Groups"]] == [n["lb_sg"]]
        assert eni["Association"]["PublicIp"]
        assert eni["PrivateIpAddress"].startswith(("10.0.1.", "10.0.2."))
    (again,) = elb.describe_load_balancers(Names=["web"])["LoadBalancers"]
    assert again["State"] == {"Code": "active"}
    assert again["DNSName"] == lb["DNSName"]
    assert elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])[
        "LoadBalancers"][0]["LoadBalancerName"] == "web"
    # Creating it again with the same settings answers the same load balancer.
    assert make_alb(elb, n)["LoadBalancerArn"] == lb["LoadBalancerArn"]
    elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    assert lb_interfaces(ec2, lb) == []
    assert elb.describe_load_balancers()["LoadBalancers"] == []


def test_internal_alb_and_network_load_balancers(env: tuple[Any, Any, dict[str, str]]) -> None:
    ec2, elb, n = env
    internal = elb.create_load_balancer(Name="inside", Subnets=[n["sub_a"], n["sub_b"]],
                                        Scheme="internal")["LoadBalancers"][0]
    assert re.fullmatch(r"internal-inside-\d{10}\.us-east-1\.elb\.amazonaws\.com",
                        internal["DNSName"])
    default_sg = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [n["vpc"]]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    assert internal["SecurityGroups"] == [default_sg]
    assert all("Association" not in e for e in lb_interfaces(ec2, internal))
    eip = ec2.allocate_address(Domain="vpc")
    nlb = elb.create_load_balancer(
        Name="edge", Type="network",
        SubnetMappings=[{"SubnetId": n["sub_a"], "AllocationId": eip["AllocationId"]}]
    )["LoadBalancers"][0]
    lb_id = nlb["LoadBalancerArn"].rsplit("/", 1)[1]
    assert nlb["DNSName"] == f"edge-{lb_id}.elb.us-east-1.amazonaws.com"
    assert nlb["CanonicalHostedZoneId"] == "Z26RNL4JYFTOTI"
    assert "SecurityGroups" not in nlb
    (zone,) = nlb["AvailabilityZones"]
    assert zone["LoadBalancerAddresses"] == [{"IpAddress": eip["PublicIp"],
                                              "AllocationId": eip["AllocationId"]}]
    (eni,) = lb_interfaces(ec2, nlb)
    assert eni["InterfaceType"] == "network_load_balancer"
    address = ec2.describe_addresses(AllocationIds=[eip["AllocationId"]])["Addresses"][0]
    assert address["NetworkInterfaceId"] == eni["NetworkInterfaceId"]
    private = elb.create_load_balancer(
        Name="db-nlb", Type="network", Scheme="internal",
        SubnetMappings=[{"SubnetId": n["sub_b"], "PrivateIPv4Address": "10.0.2.50"}]
    )["LoadBalancers"][0]
    assert private["AvailabilityZones"][0]["LoadBalancerAddresses"] == [
        {"IpAddress": "10.0.2.50", "PrivateIPv4Address": "10.0.2.50"}]
    # SetSubnets on a network load balancer may add subnets but must keep the old ones.
    out = elb.set_subnets(LoadBalancerArn=private["LoadBalancerArn"],
                          Subnets=[n["sub_a"], n["sub_b"]])
    assert len(out["AvailabilityZones"]) == 2
    with pytest.raises(ClientError) as exc:
        elb.set_subnets(LoadBalancerArn=private["LoadBalancerArn"], Subnets=[n["sub_a"]])
    assert code_of(exc) == "InvalidConfigurationRequest"
    with pytest.raises(ClientError) as exc:
        elb.set_security_groups(LoadBalancerArn=nlb["LoadBalancerArn"],
                                SecurityGroups=[n["lb_sg"]])
    assert code_of(exc) == "InvalidConfigurationRequest"


def test_set_subnets_security_groups_and_ip_address_type(
        env: tuple[Any, Any, dict[str, str]]) -> None:
    ec2, elb, n = env
    lb = make_alb(elb, n)
    arn = lb["LoadBalancerArn"]
    sub_c = ec2.create_subnet(VpcId=n["vpc"], CidrBlock="10.0.3.0/24",
                              AvailabilityZone="us-east-1c")["Subnet"]["SubnetId"]
    out = elb.set_subnets(LoadBalancerArn=arn, Subnets=[n["sub_a"], sub_c])
    assert {z["SubnetId"] for z in out["AvailabilityZones"]} == {n["sub_a"], sub_c}
    assert sorted(e["SubnetId"] for e in lb_interfaces(ec2, lb)) == sorted([n["sub_a"], sub_c])
    assert elb.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[n["app_sg"]])[
        "SecurityGroupIds"] == [n["app_sg"]]
    assert {g["GroupId"] for e in lb_interfaces(ec2, lb) for g in e["Groups"]} == {n["app_sg"]}
    with pytest.raises(ClientError) as exc:
        elb.set_ip_address_type(LoadBalancerArn=arn, IpAddressType="dualstack")
    assert code_of(exc) == "InvalidSubnet"  # the subnets have no IPv6 CIDR
    with pytest.raises(ClientError) as exc:
        elb.set_subnets(LoadBalancerArn=arn, Subnets=[n["sub_a"]])
    assert code_of(exc) == "ValidationError"


def test_load_balancer_attributes_and_deletion_protection(
        env: tuple[Any, Any, dict[str, str]]) -> None:
    _, elb, n = env
    arn = make_alb(elb, n)["LoadBalancerArn"]
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(
        LoadBalancerArn=arn)["Attributes"]}
    assert attrs["idle_timeout.timeout_seconds"] == "60"
    assert attrs["deletion_protection.enabled"] == "false"
    assert attrs["routing.http2.enabled"] == "true"
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "true"},
        {"Key": "idle_timeout.timeout_seconds", "Value": "120"}])
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(
        LoadBalancerArn=arn)["Attributes"]}
    assert (attrs["deletion_protection.enabled"], attrs["idle_timeout.timeout_seconds"]) == (
        "true", "120")
    with pytest.raises(ClientError) as exc:
        elb.delete_load_balancer(LoadBalancerArn=arn)
    assert code_of(exc) == "OperationNotPermitted"
    for bad in ({"Key": "no.such.key", "Value": "1"},
                {"Key": "idle_timeout.timeout_seconds", "Value": "99999"},
                {"Key": "deletion_protection.enabled", "Value": "yes"}):
        with pytest.raises(ClientError) as exc:
            elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[bad])
        assert code_of(exc) == "ValidationError"


def test_load_balancer_errors(env: tuple[Any, Any, dict[str, str]]) -> None:
    ec2, elb, n = env
    make_alb(elb, n)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"Name": "web", "Subnets": [n["sub_a"], n["sub_b"]], "Scheme": "internal"},
         "DuplicateLoadBalancerName"),
        ({"Name": "one", "Subnets": [n["sub_a"]]}, "ValidationError"),
        ({"Name": "bad_name", "Subnets": [n["sub_a"], n["sub_b"]]}, "ValidationError"),
        ({"Name": "-edge", "Subnets": [n["sub_a"], n["sub_b"]]}, "ValidationError"),
        ({"Name": "x" * 33, "Subnets": [n["sub_a"], n["sub_b"]]}, "ValidationError"),
        ({"Name": "ghost", "Subnets": [n["sub_a"], "subnet-0123456789abcdef0"]},
         "SubnetNotFound"),
        ({"Name": "sg", "Subnets": [n["sub_a"], n["sub_b"]],
          "SecurityGroups": ["sg-0123456789abcdef0"]}, "InvalidSecurityGroup"),
        ({"Name": "eip", "SubnetMappings": [
            {"SubnetId": n["sub_a"], "AllocationId": "eipalloc-0123456789abcdef0"},
            {"SubnetId": n["sub_b"]}]}, "InvalidConfigurationRequest"),
        ({"Name": "nlb", "Type": "network", "SubnetMappings": [
            {"SubnetId": n["sub_a"], "AllocationId": "eipalloc-0123456789abcdef0"}]},
         "AllocationIdNotFound"),
    ]
    for params, code in cases:
        with pytest.raises(ClientError) as exc:
            elb.create_load_balancer(**params)
        assert code_of(exc) == code, params
    private_vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subs = [ec2.create_subnet(VpcId=private_vpc, CidrBlock=f"10.9.{i}.0/24",
                              AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
            for i, z in ((1, "a"), (2, "b"))]
    with pytest.raises(ClientError) as exc:
        elb.create_load_balancer(Name="no-igw", Subnets=subs)
    assert code_of(exc) == "InvalidSubnet"
    assert exc.value.response["Error"]["Message"] == f"VPC {private_vpc} has no internet gateway"
    missing = ("arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/nope/"
               "0123456789abcdef")
    for call in (lambda: elb.describe_load_balancers(LoadBalancerArns=[missing]),
                 lambda: elb.describe_load_balancers(Names=["nope"]),
                 lambda: elb.delete_load_balancer(LoadBalancerArn=missing)):
        with pytest.raises(ClientError) as exc:
            call()
        assert code_of(exc) == "LoadBalancerNotFound"


# ---------------------------------------------------------------------- target groups
def test_target_group_defaults_per_protocol(env: tuple[Any, Any, dict[str, str]]) -> None:
    _, elb, n = env
    http = elb.describe_target_groups(TargetGroupArns=[make_tg(elb, n)])["TargetGroups"][0]
    assert (http["HealthCheckProtocol"], http["HealthCheckPort"], http["HealthCheckPath"],
            http["HealthCheckIntervalSeconds"], http["HealthCheckTimeoutSeconds"],
            http["HealthyThresholdCount"], http["UnhealthyThresholdCount"],
            http["Matcher"], http["ProtocolVersion"], http["TargetType"]) == (
        "HTTP", "traffic-port", "/", 30, 5, 5, 2, {"HttpCode": "200"}, "HTTP1", "instance")
    tcp = elb.create_target_group(Name="tcp", Protocol="TCP", Port=5432, VpcId=n["vpc"],
                                  TargetType="ip")["TargetGroups"][0]
    assert (tcp["HealthCheckProtocol"], tcp["HealthCheckTimeoutSeconds"]) == ("TCP", 10)
    assert "HealthCheckPath" not in tcp and "Matcher" not in tcp
    fn = elb.create_target_group(Name="fn", TargetType="lambda")["TargetGroups"][0]
    assert fn["HealthCheckEnabled"] is False and "Protocol" not in fn and "VpcId" not in fn
    grpc = elb.create_target_group(Name="grpc", Protocol="HTTP", Port=50051, VpcId=n["vpc"],
                                   ProtocolVersion="GRPC")["TargetGroups"][0]
    assert grpc["Matcher"] == {"GrpcCode": "12"}
    modified = elb.modify_target_group(TargetGroupArn=http["TargetGroupArn"],
                                       HealthCheckPath="/health", HealthCheckIntervalSeconds=10,
                                       Matcher={"HttpCode": "200-299"})["TargetGroups"][0]
    assert (modified["HealthCheckPath"], modified["HealthCheckIntervalSeconds"],
            modified["Matcher"]) == ("/health", 10, {"HttpCode": "200-299"})
    for params in ({"HealthCheckTimeoutSeconds": 20},  # not below the 10 s interval
                   {"HealthCheckProtocol": "TCP"},  # not for an HTTP group
                   {"HealthCheckEnabled": False}):  # only Lambda groups may turn it off
        with pytest.raises(ClientError) as exc:
            elb.modify_target_group(TargetGroupArn=http["TargetGroupArn"], **params)
        assert code_of(exc) == "ValidationError", params
    unchanged = elb.describe_target_groups(Names=["web-tg"])["TargetGroups"][0]
    assert unchanged["HealthCheckTimeoutSeconds"] == 5
    attrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(
        TargetGroupArn=tcp["TargetGroupArn"])["Attributes"]}
    assert attrs["preserve_client_ip.enabled"] == "false"  # TCP with IP targets
    assert attrs["deregistration_delay.timeout_seconds"] == "300"
    elb.modify_target_group_attributes(TargetGroupArn=http["TargetGroupArn"], Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"}])
    attrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(
        TargetGroupArn=http["TargetGroupArn"])["Attributes"]}
    assert attrs["stickiness.enabled"] == "true" and attrs["stickiness.type"] == "lb_cookie"
    with pytest.raises(ClientError) as exc:
        elb.modify_target_group_attributes(TargetGroupArn=http["TargetGroupArn"], Attributes=[
            {"Key": "proxy_protocol_v2.enabled", "Value": "true"}])  # an NLB group's key
    assert code_of(exc) == "ValidationError"


def test_target_group_errors(env: tuple[Any, Any, dict[str, str]]) -> None:
    _, elb, n = env
    make_tg(elb, n)
    with pytest.raises(ClientError) as exc:
        make_tg(elb, n, Port=8080)
    assert code_of(exc) == "DuplicateTargetGroupName"
    assert make_tg(elb, n) == make_tg(elb, n)  # same settings: the same group
    for params in ({"Name": "no-vpc", "Protocol": "HTTP", "Port": 80},
                   {"Name": "ghost", "Protocol": "HTTP", "Port": 80,
                    "VpcId": "vpc-0123456789abcdef0"},
                   {"Name": "fn", "TargetType": "lambda", "Protocol": "HTTP"}):
        with pytest.raises(ClientError) as exc:
            elb.create_target_group(**params)
        assert code_of(exc) == "ValidationError", params
    missing = ("arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/nope/"
               "0123456789abcdef")
    with pytest.raises(ClientError) as exc:
        elb.describe_target_groups(TargetGroupArns=[missing])
    assert code_of(exc) == "TargetGroupNotFound"
    with pytest.raises(ClientError) as exc:
        elb.delete_target_group(TargetGroupArn=missing)
    assert code_of(exc) == "TargetGroupNotFound"


def test_register_targets_and_their_health(env: tuple[Any, Any, dict[str, str]]) -> None:
    ec2, elb, n = env
    tg = make_tg(elb, n)
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": n["app_a"]}, {"Id": n["app_b"]}])
    # No load balancer uses the group yet.
    assert health(elb, tg)[n["app_a"]] == {
        "State": "unused", "Reason": "Target.NotInUse",
        "Description": "Target group is not configured to receive traffic from the load "
                       "balancer"}
    lb = make_alb(elb, n)
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=forward(tg))
    assert elb.describe_target_groups(TargetGroupArns=[tg])["TargetGroups"][0][
        "LoadBalancerArns"] == [lb["LoadBalancerArn"]]
    # Without the L7 prober a registered, running instance is healthy.
    assert {k: v["State"] for k, v in health(elb, tg).items()} == {
        n["app_a"]: "healthy", n["app_b"]: "healthy"}
    ec2.stop_instances(InstanceIds=[n["app_b"]])
    assert health(elb, tg)[n["app_b"]] == {"State": "unused", "Reason": "Target.InvalidState",
                                           "Description": "Target is in the stopped state"}
    elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": n["app_a"]}])
    assert health(elb, tg)[n["app_a"]]["State"] == "draining"
    assert health(elb, tg)[n["app_a"]]["Reason"] == "Target.DeregistrationInProgress"
    (asked,) = elb.describe_target_health(TargetGroupArn=tg, Targets=[
        {"Id": "i-0123456789abcdef0", "Port": 80}])["TargetHealthDescriptions"]
    assert asked["TargetHealth"]["Reason"] == "Target.NotRegistered"
    with pytest.raises(ClientError) as exc:
        elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "i-0123456789abcdef0"}])
    assert code_of(exc) == "InvalidTarget"
    # Targets must be in the group's VPC (instances) or in its CIDRs / a private range (IPs).
    other_vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    other_sub = ec2.create_subnet(VpcId=other_vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    stranger = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                                 SubnetId=other_sub)["Instances"][0]["InstanceId"]
    with pytest.raises(ClientError) as exc:
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": stranger}])
    assert code_of(exc) == "InvalidTarget"
    assert other_vpc in exc.value.response["Error"]["Message"] or n["vpc"] in \
        exc.value.response["Error"]["Message"]
    ip_tg = make_tg(elb, n, name="ips", TargetType="ip")
    elb.register_targets(TargetGroupArn=ip_tg, Targets=[{"Id": "10.0.1.77", "Port": 8080}])
    elb.register_targets(TargetGroupArn=ip_tg, Targets=[
        {"Id": "192.168.5.5", "AvailabilityZone": "all"}])
    for target, code in (({"Id": "8.8.8.8"}, "InvalidTarget"),
                         ({"Id": "192.168.5.6"}, "ValidationError"),
                         ({"Id": "not-an-ip"}, "InvalidTarget")):
        with pytest.raises(ClientError) as exc:
            elb.register_targets(TargetGroupArn=ip_tg, Targets=[target])
        assert code_of(exc) == code, target
    ports = {d["Target"]["Id"]: d["Target"]["Port"] for d in elb.describe_target_health(
        TargetGroupArn=ip_tg)["TargetHealthDescriptions"]}
    assert ports == {"10.0.1.77": 8080, "192.168.5.5": 80}
    fn = elb.create_target_group(Name="fn", TargetType="lambda")["TargetGroups"][0][
        "TargetGroupArn"]
    elb.register_targets(TargetGroupArn=fn, Targets=[
        {"Id": "arn:aws:lambda:us-east-1:000000000000:function:hello"}])
    assert health(elb, fn)["arn:aws:lambda:us-east-1:000000000000:function:hello"][
        "State"] == "unavailable"
    with pytest.raises(ClientError) as exc:
        elb.register_targets(TargetGroupArn=fn, Targets=[
            {"Id": "arn:aws:lambda:us-east-1:000000000000:function:other"}])
    assert code_of(exc) == "TooManyTargets"


# ---------------------------------------------------------------------- listeners and rules
def test_listeners_rules_and_actions(env: tuple[Any, Any, dict[str, str]]) -> None:
    _, elb, n = env
    lb = make_alb(elb, n)["LoadBalancerArn"]
    blue, green = make_tg(elb, n, "blue"), make_tg(elb, n, "green")
    li = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{
        "Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": blue, "Weight": 20}, {"TargetGroupArn": green, "Weight": 10}]}}]
    )["Listeners"][0]
    assert li["ListenerArn"].startswith(lb.replace(":loadbalancer/", ":listener/") + "/")
    weights = li["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    assert [(w["TargetGroupArn"], w["Weight"]) for w in weights] == [(blue, 20), (green, 10)]
    arn = li["ListenerArn"]
    r10 = elb.create_rule(ListenerArn=arn, Priority=10, Conditions=[
        {"Field": "path-pattern", "Values": ["/blue/*"]}], Actions=forward(blue))["Rules"][0]
    assert r10["Priority"] == "10" and r10["IsDefault"] is False
    assert r10["Conditions"][0]["PathPatternConfig"] == {"Values": ["/blue/*"]}
    elb.create_rule(ListenerArn=arn, Priority=20, Conditions=[
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["www.example.com"]}},
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env",
                                                      "Values": ["beta"]}},
        {"Field": "query-string", "QueryStringConfig": {"Values": [
            {"Key": "v", "Value": "2"}]}},
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["192.0.2.0/24"]}},
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "503", "ContentType": "text/plain", "MessageBody": "maintenance"}}])
    elb.create_rule(ListenerArn=arn, Priority=5, Conditions=[
        {"Field": "path-pattern", "Values": ["/old"]}], Actions=[{
            "Type": "redirect", "RedirectConfig": {"Path": "/new", "StatusCode": "HTTP_301"}}])
    rules = elb.describe_rules(ListenerArn=arn)["Rules"]
    assert [r["Priority"] for r in rules] == ["5", "10", "20", "default"]
    assert rules[-1]["IsDefault"] is True and rules[-1]["Conditions"] == []
    assert rules[0]["Actions"][0]["RedirectConfig"] == {
        "Protocol": "#{protocol}", "Port": "#{port}", "Host": "#{host}", "Path": "/new",
        "Query": "#{query}", "StatusCode": "HTTP_301"}
    assert rules[2]["Conditions"][1]["HttpHeaderConfig"] == {"HttpHeaderName": "X-Env",
                                                             "Values": ["beta"]}
    with pytest.raises(ClientError) as exc:
        elb.create_rule(ListenerArn=arn, Priority=10, Conditions=[
            {"Field": "path-pattern", "Values": ["/x"]}], Actions=forward(blue))
    assert code_of(exc) == "PriorityInUse"
    moved = elb.set_rule_priorities(RulePriorities=[
        {"RuleArn": r10["RuleArn"], "Priority": 30}])["Rules"]
    assert moved[0]["Priority"] == "30"
    with pytest.raises(ClientError) as exc:
        elb.set_rule_priorities(RulePriorities=[{"RuleArn": r10["RuleArn"], "Priority": 5}])
    assert code_of(exc) == "PriorityInUse"
    modified = elb.modify_rule(RuleArn=r10["RuleArn"], Conditions=[
        {"Field": "path-pattern", "Values": ["/b/*"]}])["Rules"][0]
    assert modified["Conditions"][0]["Values"] == ["/b/*"]
    with pytest.raises(ClientError) as exc:
        elb.delete_rule(RuleArn=rules[-1]["RuleArn"])
    assert code_of(exc) == "OperationNotPermitted"
    # A target group in use by a listener or a rule cannot be deleted.
    with pytest.raises(ClientError) as exc:
        elb.delete_target_group(TargetGroupArn=blue)
    assert code_of(exc) == "ResourceInUse"
    elb.modify_listener(ListenerArn=arn, DefaultActions=forward(green))
    elb.delete_rule(RuleArn=r10["RuleArn"])
    elb.delete_target_group(TargetGroupArn=blue)
    assert elb.describe_target_groups(Names=["green"])["TargetGroups"][0][
        "LoadBalancerArns"] == [lb]
    elb.delete_listener(ListenerArn=arn)
    assert elb.describe_target_groups(Names=["green"])["TargetGroups"][0][
        "LoadBalancerArns"] == []
    with pytest.raises(ClientError) as exc:
        elb.describe_listeners(ListenerArns=[arn])
    assert code_of(exc) == "ListenerNotFound"


def test_listener_and_rule_errors(env: tuple[Any, Any, dict[str, str]]) -> None:
    _, elb, n = env
    lb = make_alb(elb, n)["LoadBalancerArn"]
    tg = make_tg(elb, n)
    tcp = elb.create_target_group(Name="tcp", Protocol="TCP", Port=80,
                                  VpcId=n["vpc"])["TargetGroups"][0]["TargetGroupArn"]
    arn = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                              DefaultActions=forward(tg))["Listeners"][0]["ListenerArn"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"Protocol": "HTTP", "Port": 80, "DefaultActions": forward(make_tg(elb, n, "x"))},
         "DuplicateListener"),
        ({"Protocol": "TCP", "Port": 81, "DefaultActions": forward(tg)}, "ValidationError"),
        ({"Protocol": "HTTP", "Port": 82, "DefaultActions": forward(tcp)},
         "IncompatibleProtocols"),
        ({"Protocol": "HTTPS", "Port": 443, "DefaultActions": forward(tg)},
         "CertificateNotFound"),
        ({"Protocol": "HTTP", "Port": 83, "DefaultActions": [{
            "Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_302"}}]},
         "InvalidLoadBalancerAction"),
        ({"Protocol": "HTTP", "Port": 84, "DefaultActions": [{
            "Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": tg, "Weight": 1000}]}}]}, "ValidationError"),
    ]
    for params, code in cases:
        with pytest.raises(ClientError) as exc:
            elb.create_listener(LoadBalancerArn=lb, **params)
        assert code_of(exc) == code, params
    https = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                                Certificates=[{"CertificateArn": "arn:aws:acm:us-east-1:"
                                               "000000000000:certificate/abc"}],
                                DefaultActions=forward(tg))["Listeners"][0]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-")
    too_many = [{"Field": "path-pattern", "Values": ["/a", "/b", "/c"]},
                {"Field": "host-header", "Values": ["a.example", "b.example", "c.example"]}]
    for conditions in (too_many,
                       [{"Field": "path-pattern", "Values": ["/a"]},
                        {"Field": "path-pattern", "Values": ["/b"]}],
                       [{"Field": "cookie", "Values": ["x"]}],
                       [{"Field": "path-pattern", "Values": ["/" + "a" * 128]}],
                       [{"Field": "source-ip", "SourceIpConfig": {"Values": ["300.1.1.1/8"]}}],
                       []):
        with pytest.raises(ClientError) as exc:
            elb.create_rule(ListenerArn=arn, Priority=1, Conditions=conditions,
                            Actions=forward(tg))
        assert code_of(exc) == "ValidationError", conditions
    nlb = elb.create_load_balancer(Name="nlb", Type="network", Subnets=[n["sub_a"]])[
        "LoadBalancers"][0]["LoadBalancerArn"]
    li = elb.create_listener(LoadBalancerArn=nlb, Protocol="TCP", Port=80,
                             DefaultActions=forward(tcp))["Listeners"][0]
    assert (li["Protocol"], li["Port"]) == ("TCP", 80)
    with pytest.raises(ClientError) as exc:  # TLS needs a certificate
        elb.create_listener(LoadBalancerArn=nlb, Protocol="TLS", Port=443,
                            DefaultActions=forward(tcp))
    assert code_of(exc) == "CertificateNotFound"
    # A target group serves one load balancer.
    other = make_alb(elb, n, "web2")["LoadBalancerArn"]
    with pytest.raises(ClientError) as exc:
        elb.create_listener(LoadBalancerArn=other, Protocol="HTTP", Port=80,
                            DefaultActions=forward(tg))
    assert code_of(exc) == "TargetGroupAssociationLimit"
    with pytest.raises(ClientError) as exc:
        elb.create_rule(ListenerArn=li["ListenerArn"], Priority=1, Conditions=[
            {"Field": "path-pattern", "Values": ["/a"]}], Actions=forward(tcp))
    assert code_of(exc) == "ValidationError"


def test_tags(env: tuple[Any, Any, dict[str, str]]) -> None:
    _, elb, n = env
    lb = make_alb(elb, n)["LoadBalancerArn"]
    tg = make_tg(elb, n)
    li = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                             DefaultActions=forward(tg))["Listeners"][0]["ListenerArn"]
    elb.add_tags(ResourceArns=[lb, tg, li], Tags=[{"Key": "team", "Value": "web"}])
    elb.remove_tags(ResourceArns=[lb], TagKeys=["app"])
    described = {d["ResourceArn"]: {t["Key"]: t["Value"] for t in d["Tags"]}
                 for d in elb.describe_tags(ResourceArns=[lb, tg, li])["TagDescriptions"]}
    assert described == {lb: {"team": "web"}, tg: {"team": "web"}, li: {"team": "web"}}
    with pytest.raises(ClientError) as exc:
        elb.add_tags(ResourceArns=[lb], Tags=[{"Key": f"k{i}", "Value": "v"}
                                              for i in range(50)])
    assert code_of(exc) == "TooManyTags"


# ---------------------------------------------------------------------- pagination, restart
def test_pagination_with_markers(env: tuple[Any, Any, dict[str, str]]) -> None:
    _, elb, n = env
    names = [f"tg-{i}" for i in range(5)]
    for name in names:
        make_tg(elb, n, name)
    seen: list[str] = []
    marker = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"PageSize": 2} | ({"Marker": marker} if marker else {})
        out = elb.describe_target_groups(**kwargs)
        seen += [tg["TargetGroupName"] for tg in out["TargetGroups"]]
        pages += 1
        marker = out.get("NextMarker")
        if not marker:
            break
    assert (seen, pages) == (names, 3)
    paginator = elb.get_paginator("describe_target_groups")
    assert [len(p["TargetGroups"]) for p in paginator.paginate(
        PaginationConfig={"PageSize": 4})] == [4, 1]
    with pytest.raises(ClientError) as exc:
        elb.describe_target_groups(PageSize=401)
    assert code_of(exc) == "ValidationError"
    with pytest.raises(ClientError) as exc:
        elb.describe_load_balancers(Marker="bogus")
    assert code_of(exc) == "ValidationError"


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    server = start_server(tmp_path / "state.db")
    try:
        ec2, elb = server.client("ec2"), server.client("elbv2")
        n = build(ec2)
        lb = make_alb(elb, n)
        tg = make_tg(elb, n)
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": n["app_a"]}])
        li = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP",
                                 Port=80, DefaultActions=forward(tg))["Listeners"][0]
        rule = elb.create_rule(ListenerArn=li["ListenerArn"], Priority=7, Conditions=[
            {"Field": "path-pattern", "Values": ["/api/*"]}], Actions=forward(tg),
            Tags=[{"Key": "k", "Value": "v"}])["Rules"][0]
    finally:
        stop_server(server)
    server = start_server(tmp_path / "state.db")
    try:
        elb = server.client("elbv2")
        (again,) = elb.describe_load_balancers()["LoadBalancers"]
        assert (again["DNSName"], again["LoadBalancerArn"]) == (lb["DNSName"],
                                                                lb["LoadBalancerArn"])
        assert elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"] == [li]
        rules = elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]
        assert rules[0] == rule and rules[1]["IsDefault"] is True
        assert health(elb, tg) == {n["app_a"]: {"State": "healthy"}}
        assert elb.describe_tags(ResourceArns=[rule["RuleArn"]])["TagDescriptions"][0][
            "Tags"] == [{"Key": "k", "Value": "v"}]
    finally:
        stop_server(server)


# ---------------------------------------------------------------------- traces
def test_trace_from_the_internet_through_the_alb(env: tuple[Any, Any, dict[str, str]]) -> None:
    """The Reachability Analyzer sees the API-made ALB as it sees a snapshot's: from the
    internet gateway to the ALB's public address on the listener port, the packet reaches
    a registered target; on a port without a listener it is dropped at the load balancer."""
    ec2, elb, n = env
    lb = make_alb(elb, n)
    tg = make_tg(elb, n)
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": n["app_a"]}])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=forward(tg))
    node = next(e for e in lb_interfaces(ec2, lb) if e["SubnetId"] == n["sub_a"])
    public = node["Association"]["PublicIp"]

    def analyze(port: int) -> dict[str, Any]:
        path = ec2.create_network_insights_path(
            Source=n["igw"], Destination=n["app_a"], DestinationIp=public, Protocol="tcp",
            DestinationPort=port)["NetworkInsightsPath"]
        out: dict[str, Any] = ec2.start_network_insights_analysis(
            NetworkInsightsPathId=path["NetworkInsightsPathId"])["NetworkInsightsAnalysis"]
        return out

    found = analyze(80)
    assert found["NetworkPathFound"] is True
    hops = [c["Component"]["Id"] for c in found["ForwardPathComponents"]]
    assert hops[0] == n["igw"] and hops[-1] == n["app_a"]
    assert lb["LoadBalancerArn"] in hops
    assert hops.index(lb["LoadBalancerArn"]) < hops.index(n["app_sg"])
    dropped = analyze(81)  # the load balancer's group admits 81, but nothing listens there
    assert dropped["NetworkPathFound"] is False
    hops = [c["Component"]["Id"] for c in dropped["ForwardPathComponents"]]
    assert lb["LoadBalancerArn"] in hops and n["app_a"] not in hops
    (why,) = dropped["Explanations"]
    assert why["ExplanationCode"] == "ELBV2_LISTENERS_MISMATCH"
    assert (why["LoadBalancerArn"], why["LoadBalancerListenerPort"]) == (
        lb["LoadBalancerArn"], 81)


# ---------------------------------------------------------------------- the seed, by CLI
def test_local_zone_wordpress_alb_with_the_cli(fresh: Server) -> None:
    """The Local Zones article's stack (VPC 172.31.100.0/24, a /26 public subnet in
    us-east-1-atl-1a, an ALB in front of WordPress), its ALB made with the AWS CLI. In a
    Local Zone one subnet is enough for an application load balancer."""
    aws = fresh.aws
    aws("ec2", "modify-availability-zone-group", "--group-name", "us-east-1-atl-1",
        "--opt-in-status", "opted-in")
    vpc = aws("ec2", "create-vpc", "--cidr-block", "172.31.100.0/24")["Vpc"]["VpcId"]
    public = aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "172.31.100.0/26",
                 "--availability-zone", "us-east-1-atl-1a")["Subnet"]["SubnetId"]
    private = aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block",
                  "172.31.100.64/26", "--availability-zone",
                  "us-east-1-atl-1a")["Subnet"]["SubnetId"]
    igw = aws("ec2", "create-internet-gateway")["InternetGateway"]["InternetGatewayId"]
    aws("ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc)
    wordpress = aws("ec2", "run-instances", "--image-id", "ami-12345678", "--instance-type",
                    "t3.medium", "--subnet-id", private)["Instances"][0]["InstanceId"]
    lb = aws("elbv2", "create-load-balancer", "--name", "wordpress-alb", "--subnets",
             public)["LoadBalancers"][0]
    assert lb["AvailabilityZones"] == [{"ZoneName": "us-east-1-atl-1a", "SubnetId": public,
                                        "LoadBalancerAddresses": []}]
    tg = aws("elbv2", "create-target-group", "--name", "wordpress", "--protocol", "HTTP",
             "--port", "80", "--vpc-id", vpc)["TargetGroups"][0]["TargetGroupArn"]
    aws("elbv2", "register-targets", "--target-group-arn", tg, "--targets",
        f"Id={wordpress}")
    aws("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"],
        "--protocol", "HTTP", "--port", "80", "--default-actions",
        f"Type=forward,TargetGroupArn={tg}")
    (described,) = aws("elbv2", "describe-target-health", "--target-group-arn", tg)[
        "TargetHealthDescriptions"]
    assert described["Target"] == {"Id": wordpress, "Port": 80}
    assert described["TargetHealth"] == {"State": "healthy"}
    # An ALB in Availability Zones still needs two of them.
    az_sub = aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "172.31.100.128/26",
                 "--availability-zone", "us-east-1a")["Subnet"]["SubnetId"]
    with pytest.raises(AssertionError, match="ValidationError"):
        aws("elbv2", "create-load-balancer", "--name", "single-az", "--subnets", az_sub)
    with pytest.raises(AssertionError, match="InvalidConfigurationRequest"):
        aws("elbv2", "create-load-balancer", "--name", "mixed", "--subnets", az_sub, public)
