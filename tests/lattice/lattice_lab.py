"""The seed's VPC Lattice walk-through as a model (lattice.md "Worked examples"), plus an ALB,
built directly from model dataclasses so the engine tests need no server."""

from __future__ import annotations

import ipaddress
import json

from localvpc.lattice.request import Request
from localvpc.model.elb import (
    Listener,
    ListenerAction,
    ListenerRule,
    LoadBalancer,
    QueryPair,
    RuleCondition,
    Target,
    TargetGroup,
    WeightedTargetGroup,
)
from localvpc.model.interfaces import Instance, NetworkInterface, PrivateIp
from localvpc.model.lattice import (
    HttpMatch,
    LatticeHealthCheck,
    LatticeListener,
    LatticeRule,
    LatticeService,
    LatticeTarget,
    LatticeTargetGroup,
    PathMatch,
    PolicyDocument,
    RuleAction,
    ServiceNetwork,
    ServiceNetworkServiceAssociation,
    ServiceNetworkVpcAssociation,
    generated_domain,
)
from localvpc.model.lattice import WeightedTargetGroup as LatticeWeighted
from localvpc.model.network import Network
from localvpc.model.vpc import Vpc

ACCOUNT = "111122223333"
REGION = "us-west-2"
SVC = "svc-03e92ee54968d87ca"
SN = "sn-0123456789abcdef0"
TG_INSTANCE = "tg-0aaaaaaaaaaaaaaaa"
TG_LAMBDA = "tg-0bbbbbbbbbbbbbbbb"
LISTENER = "listener-0ccccccccccccccc0"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:hello"
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "vpc-lattice-svcs:Invoke", "Resource": "*"}]})
ALB_ARN = (f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/wordpress/"
           "50dc6c495c0c9188")
ALB_TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/wp/73e2d6bc24d8a067"
ALB_TG2 = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/wp2/83e2d6bc24d8a067"


def _kw() -> dict[str, str]:
    return {"account": ACCOUNT, "region": REGION}


def seed_network() -> Network:
    """VPC A (instance i-1 with the Flask app, 10.0.1.10:8080), VPC B (the client), VPC C
    (not associated); service my-service with an HTTPS :443 listener, default action
    20/10 instance/lambda, rules prio 10 /to-instance and 20 /to-function."""
    net = Network()
    for vid, cidr in (("vpc-a", "10.0.0.0/16"), ("vpc-b", "10.1.0.0/16"),
                      ("vpc-c", "10.2.0.0/16")):
        net.vpcs[vid] = Vpc(vid, cidrs=[ipaddress.ip_network(cidr)], **_kw())
    net.network_interfaces["eni-1"] = NetworkInterface(
        "eni-1", vpc_id="vpc-a", private_ips=[PrivateIp(ipaddress.ip_address("10.0.1.10"),
                                                        primary=True)], **_kw())
    net.instances["i-1"] = Instance("i-1", vpc_id="vpc-a", network_interface_ids=["eni-1"],
                                    **_kw())
    net.lattice_service_networks[SN] = ServiceNetwork(SN, network_name="my-sn", **_kw())
    domain = generated_domain("my-service", SVC, ACCOUNT, REGION)
    net.lattice_services[SVC] = LatticeService(
        SVC, service_name="my-service", auth_type="AWS_IAM", domain_name=domain,
        custom_domain_name="api.example.com", auth_policy=PolicyDocument(ALLOW_ALL), **_kw())
    net.lattice_target_groups[TG_INSTANCE] = LatticeTargetGroup(
        TG_INSTANCE, tg_name="instance-tg", tg_type="INSTANCE", port=8080, protocol="HTTP",
        protocol_version="HTTP1", vpc_id="vpc-a", health_check=LatticeHealthCheck(),
        targets=[LatticeTarget("i-1", 8080, status="HEALTHY")], **_kw())
    net.lattice_target_groups[TG_LAMBDA] = LatticeTargetGroup(
        TG_LAMBDA, tg_name="lambda-tg", tg_type="LAMBDA", lambda_event_version="V1",
        targets=[LatticeTarget(FUNCTION_ARN)], **_kw())
    net.lattice_listeners[LISTENER] = LatticeListener(
        LISTENER, service_id=SVC, listener_name="https", protocol="HTTPS", port=443,
        default_action=RuleAction(forward=[LatticeWeighted(TG_INSTANCE, 20),
                                           LatticeWeighted(TG_LAMBDA, 10)]),
        default_rule_id="rule-0default000000000", **_kw())
    for rid, prio, prefix, tg in (("rule-0000000000000010", 10, "/to-instance", TG_INSTANCE),
                                  ("rule-0000000000000020", 20, "/to-function", TG_LAMBDA)):
        net.lattice_rules[rid] = LatticeRule(
            rid, service_id=SVC, listener_id=LISTENER, rule_name=f"r{prio}", priority=prio,
            match=HttpMatch(path=PathMatch("prefix", prefix)),
            action=RuleAction(forward=[LatticeWeighted(tg, 100)]), **_kw())
    net.lattice_service_associations["snsa-1"] = ServiceNetworkServiceAssociation(
        "snsa-1", service_network_id=SN, service_id=SVC, **_kw())
    for vid in ("vpc-a", "vpc-b"):
        net.lattice_vpc_associations[f"snva-{vid}"] = ServiceNetworkVpcAssociation(
            f"snva-{vid}", service_network_id=SN, vpc_id=vid, **_kw())
    return net


def service_host(net: Network) -> str:
    return net.lattice_services[SVC].domain_name


def lattice_request(path: str = "/", *, method: str = "GET", vpc: str | None = "vpc-b",
                    host: str | None = None, net: Network | None = None, query: str = "",
                    headers: list[tuple[str, str]] | None = None, body: bytes = b"",
                    port: int = 443, tls: bool = True) -> Request:
    name = host if host is not None else service_host(net or seed_network())
    return Request(method, path, query, [("host", name), *(headers or [])], body, host=name,
                   scheme="https" if tls else "http", port=port, client_ip="10.1.0.5",
                   client_port=50000, client_vpc_id=vpc, tls=tls)


def alb_network() -> Network:
    """An ALB (WordPress of the Local Zones example) with rules of every condition kind."""
    net = Network()
    net.vpcs["vpc-a"] = Vpc("vpc-a", cidrs=[ipaddress.ip_network("10.0.0.0/16")], **_kw())
    net.target_groups[ALB_TG] = TargetGroup(
        ALB_TG, name_="wp", protocol="HTTP", port=80, target_type="ip", vpc_id="vpc-a",
        targets=[Target("10.0.1.20", 80), Target("10.0.1.21", 80)], **_kw())
    net.target_groups[ALB_TG2] = TargetGroup(
        ALB_TG2, name_="wp2", protocol="HTTP", port=8080, target_type="ip", vpc_id="vpc-a",
        targets=[Target("10.0.1.30")], **_kw())

    def fwd(arn: str) -> ListenerAction:
        return ListenerAction("forward", target_groups=[WeightedTargetGroup(arn, 1)])

    def rule(prio: int, conds: list[RuleCondition], actions: list[ListenerAction]
             ) -> ListenerRule:
        return ListenerRule(f"{ALB_ARN}/rule/{prio}", prio, conds, actions)

    rules = [
        rule(1, [RuleCondition("path-pattern", ["/admin/*"])], [ListenerAction(
            "fixed-response", fixed_response={"StatusCode": "403", "ContentType": "text/plain",
                                              "MessageBody": "no admin"})]),
        rule(2, [RuleCondition("host-header", ["old.example.com"])], [ListenerAction(
            "redirect", redirect={"Protocol": "HTTPS", "Port": "443", "Host": "new.example.com",
                                  "Path": "/#{path}", "Query": "#{query}",
                                  "StatusCode": "HTTP_301"})]),
        rule(3, [RuleCondition("http-header", ["beta*"], http_header_name="X-Channel")],
             [fwd(ALB_TG2)]),
        rule(4, [RuleCondition("http-request-method", ["DELETE"])], [ListenerAction(
            "fixed-response", fixed_response={"StatusCode": "405"})]),
        rule(5, [RuleCondition("source-ip", ["192.168.0.0/16"])], [fwd(ALB_TG2)]),
        rule(6, [RuleCondition("host-header", ["*.shop.example.com"]),
                 RuleCondition("path-pattern", ["/cart?"])], [fwd(ALB_TG2)]),
        rule(7, [RuleCondition("query-string", query_pairs=[QueryPair("v2", "version")])],
             [fwd(ALB_TG2)]),
    ]
    listener = Listener(80, "HTTP", [ALB_TG], f"{ALB_ARN.replace('loadbalancer', 'listener')}"
                        "/l80", [fwd(ALB_TG)], rules,
                        default_rule_arn=f"{ALB_ARN}/rule/default")
    net.load_balancers[ALB_ARN] = LoadBalancer(
        ALB_ARN, lb_name="wordpress", lb_type="application", scheme="internet-facing",
        vpc_id="vpc-a", dns_name="wordpress-1.us-west-2.elb.amazonaws.com",
        listeners=[listener], **_kw())
    return net


def alb_request(path: str = "/", *, host: str = "wordpress-1.us-west-2.elb.amazonaws.com",
                method: str = "GET", query: str = "", client_ip: str = "203.0.113.9",
                headers: list[tuple[str, str]] | None = None) -> Request:
    return Request(method, path, query, [("host", host), *(headers or [])], host=host,
                   port=80, client_ip=client_ip, client_port=40000)
