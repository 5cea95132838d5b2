"""Listener attributes against a real ``localvpc serve``: DescribeListenerAttributes and
ModifyListenerAttributes with boto3 and the AWS CLI, the keys each listener protocol has,
AWS's error codes (nothing changes on a bad request), persistence across a restart, and the
TCP idle timeout the NLB proxy takes from the stored model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server
from localvpc.lattice.nlb import TCP_IDLE, idle_timeout
from localvpc.store.sqlstore import Store

CERT = "arn:aws:acm:us-east-1:000000000000:certificate/0c3b7a52-1f7e-4a8f-9d6e-5b2c1e0f9a11"
IDLE = "tcp.idle_timeout.seconds"
SERVER = "routing.http.response.server.enabled"
HSTS = "routing.http.response.strict_transport_security.header_value"
FRAME = "routing.http.response.x_frame_options.header_value"
NOSNIFF = "routing.http.response.x_content_type_options.header_value"
MTLS_LEAF = "routing.http.request.x_amzn_mtls_clientcert_leaf.header_name"


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def attrs(elb: Any, arn: str) -> dict[str, str]:
    got = elb.describe_listener_attributes(ListenerArn=arn)["Attributes"]
    return {a["Key"]: a["Value"] for a in got}


def as_list(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in values.items()]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    state = tmp_path_factory.mktemp("listener-attrs") / "state.db"
    srv = start_server(state, "--no-proxy", "--no-dns")
    ec2, elb = srv.client("ec2"), srv.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    nlb = elb.create_load_balancer(Name="nlb", Type="network", Scheme="internal",
                                   Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    alb = elb.create_load_balancer(Name="alb", Type="application", Scheme="internal",
                                   Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    tcp_tg = elb.create_target_group(Name="tcp", Protocol="TCP", Port=80, VpcId=vpc,
                                     TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    udp_tg = elb.create_target_group(Name="udp", Protocol="UDP", Port=53, VpcId=vpc,
                                     TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    http_tg = elb.create_target_group(Name="http", Protocol="HTTP", Port=80, VpcId=vpc,
                                      TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]

    def listener(lb: str, protocol: str, port: int, tg: str, **extra: Any) -> str:
        return str(elb.create_listener(
            LoadBalancerArn=lb, Protocol=protocol, Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
            **extra)["Listeners"][0]["ListenerArn"])

    cert = {"Certificates": [{"CertificateArn": CERT}]}
    arns = {"tcp": listener(nlb, "TCP", 80, tcp_tg),
            "tls": listener(nlb, "TLS", 443, tcp_tg, **cert),
            "udp": listener(nlb, "UDP", 53, udp_tg),
            "http": listener(alb, "HTTP", 80, http_tg),
            "https": listener(alb, "HTTPS", 443, http_tg, **cert)}
    box = {"server": srv, "state": state, "arns": arns, "nlb": nlb}
    yield box
    stop_server(box["server"])


def test_each_protocol_lists_its_own_keys_with_aws_defaults(lab: dict[str, Any]) -> None:
    elb, arns = lab["server"].client("elbv2"), lab["arns"]
    assert attrs(elb, arns["tcp"]) == {IDLE: "350"}
    # TLS (350 s, fixed) and UDP listeners have no attributes to change.
    assert attrs(elb, arns["tls"]) == {}
    assert attrs(elb, arns["udp"]) == {}
    http = attrs(elb, arns["http"])
    assert http[SERVER] == "true" and http[HSTS] == "" and http[FRAME] == ""
    assert not any(k.startswith("routing.http.request.") for k in http)
    assert IDLE not in http
    https = attrs(elb, arns["https"])
    assert set(http) < set(https)
    assert https[MTLS_LEAF] == "X-Amzn-Mtls-Clientcert-Leaf"
    assert https["routing.http.request.x_amzn_tls_version.header_name"] == "X-Amzn-Tls-Version"


def test_modify_tcp_idle_timeout(lab: dict[str, Any]) -> None:
    srv: Server = lab["server"]
    elb, arn = srv.client("elbv2"), lab["arns"]["tcp"]
    out = elb.modify_listener_attributes(ListenerArn=arn, Attributes=as_list({IDLE: "600"}))
    assert out["Attributes"] == [{"Key": IDLE, "Value": "600"}]
    assert attrs(elb, arn) == {IDLE: "600"}
    # The AWS CLI reads the same (its own serializer and parser).
    cli = srv.aws("elbv2", "describe-listener-attributes", "--listener-arn", arn)
    assert cli["Attributes"] == [{"Key": IDLE, "Value": "600"}]
    # The bounds are allowed.
    for edge in ("60", "6000", "600"):
        elb.modify_listener_attributes(ListenerArn=arn, Attributes=as_list({IDLE: edge}))
        assert attrs(elb, arn)[IDLE] == edge


@pytest.mark.parametrize(("listener", "attributes", "code"), [
    ("tcp", {IDLE: "59"}, "ValidationError"),
    ("tcp", {IDLE: "6001"}, "ValidationError"),
    ("tcp", {IDLE: "ten"}, "ValidationError"),
    ("tcp", {IDLE: ""}, "ValidationError"),
    ("tcp", {"tcp.idle_timeout.minutes": "5"}, "ValidationError"),  # no such key
    ("tcp", {SERVER: "false"}, "InvalidConfigurationRequest"),  # an ALB key
    ("tls", {IDLE: "600"}, "InvalidConfigurationRequest"),  # fixed at 350 s
    ("udp", {IDLE: "600"}, "InvalidConfigurationRequest"),
    ("http", {IDLE: "600"}, "InvalidConfigurationRequest"),
    ("http", {MTLS_LEAF: "X-Leaf"}, "InvalidConfigurationRequest"),  # HTTPS only
    ("https", {MTLS_LEAF: "X Leaf"}, "ValidationError"),
    ("https", {SERVER: "maybe"}, "ValidationError"),
    ("https", {NOSNIFF: "sniff"}, "ValidationError"),
    ("https", {FRAME: "ALLOW-ALL"}, "ValidationError"),
    ("https", {HSTS: "includeSubDomains"}, "ValidationError"),  # max-age is required
    ("https", {"routing.http.response.access_control_max_age.header_value": "86401"},
     "ValidationError"),
    # One bad attribute among good ones: the good ones are not applied either.
    ("tcp", {IDLE: "700", "bogus.key": "1"}, "ValidationError"),
    ("https", {SERVER: "false", FRAME: "DENY", NOSNIFF: "no"}, "ValidationError"),
])
def test_bad_attributes_are_refused_and_change_nothing(
        lab: dict[str, Any], listener: str, attributes: dict[str, str], code: str) -> None:
    elb, arn = lab["server"].client("elbv2"), lab["arns"][listener]
    before = attrs(elb, arn)
    with pytest.raises(ClientError) as exc:
        elb.modify_listener_attributes(ListenerArn=arn, Attributes=as_list(attributes))
    assert code_of(exc) == code
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert attrs(elb, arn) == before


def test_alb_header_attributes_are_stored(lab: dict[str, Any]) -> None:
    elb, arn = lab["server"].client("elbv2"), lab["arns"]["https"]
    wanted = {SERVER: "false", HSTS: "max-age=31536000; includeSubDomains; preload",
              FRAME: "SAMEORIGIN", NOSNIFF: "nosniff", MTLS_LEAF: "X-Client-Leaf",
              "routing.http.response.access_control_allow_origin.header_value":
                  "https://example.com",
              "routing.http.response.access_control_allow_methods.header_value": "GET,POST",
              "routing.http.response.access_control_max_age.header_value": "600"}
    out = elb.modify_listener_attributes(ListenerArn=arn, Attributes=as_list(wanted))
    returned = {a["Key"]: a["Value"] for a in out["Attributes"]}
    assert returned == attrs(elb, arn)
    assert {k: returned[k] for k in wanted} == wanted
    # An empty value takes the header away again.
    elb.modify_listener_attributes(ListenerArn=arn, Attributes=as_list({FRAME: ""}))
    assert attrs(elb, arn)[FRAME] == ""
    assert attrs(elb, arn)[NOSNIFF] == "nosniff"


def test_missing_listener(lab: dict[str, Any]) -> None:
    elb = lab["server"].client("elbv2")
    gone = lab["arns"]["tcp"].rsplit("/", 1)[0] + "/0123456789abcdef"
    for call in (lambda: elb.describe_listener_attributes(ListenerArn=gone),
                 lambda: elb.modify_listener_attributes(
                     ListenerArn=gone, Attributes=as_list({IDLE: "600"}))):
        with pytest.raises(ClientError) as exc:
            call()
        assert code_of(exc) == "ListenerNotFound"


def test_idle_timeout_is_stored_and_read_by_the_nlb_proxy(lab: dict[str, Any]) -> None:
    """The value survives a restart, and ``idle_timeout`` (what the NLB proxy applies to
    each spliced connection) returns it for the stored listener; a 60-6000 s wait is too
    long for a test, so the proxy's clock is not waited on here."""
    srv: Server = lab["server"]
    arns = lab["arns"]
    srv.client("elbv2").modify_listener_attributes(ListenerArn=arns["tcp"],
                                                   Attributes=as_list({IDLE: "900"}))
    stop_server(srv)
    state: Path = lab["state"]
    with Store.open(state) as store:
        network = store.load_network()
    lb = network.load_balancers[lab["nlb"]]
    tcp, tls = lb.listener(arns["tcp"]), lb.listener(arns["tls"])
    assert tcp is not None and tls is not None
    assert tcp.attributes == {IDLE: "900"}
    assert idle_timeout(tcp, "TCP") == 900.0
    assert idle_timeout(tls, "TLS") == TCP_IDLE == 350.0
    lab["server"] = srv = start_server(state, "--no-proxy", "--no-dns")
    assert attrs(srv.client("elbv2"), arns["tcp"]) == {IDLE: "900"}
