"""Auth policies (AU-1..AU-8): SigV4 callers (signed with botocore's SigV4Auth), policy
statements, conditions, both levels, and the 403 the router answers."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from lattice_lab import ACCOUNT, SN, SVC, lattice_request, seed_network, service_host

from localvpc.lattice.auth import (
    ANONYMOUS,
    Authorizer,
    Caller,
    Key,
    evaluate_policy,
    request_context,
)
from localvpc.lattice.request import Request
from localvpc.lattice.routing import LatticeRouter
from localvpc.model.lattice import PolicyDocument
from localvpc.model.network import Network

AKID, SECRET = "AKIAEXAMPLE123456789", "s3cr3t/key+example"
OTHER_ACCOUNT = "444455556666"
KEYS = {AKID: Key(ACCOUNT, SECRET, org_id="o-abc123"),
        "AKIAOTHER": Key(OTHER_ACCOUNT, "other-secret")}


def signed(net: Network, path: str = "/", *, method: str = "GET", query: str = "",
           body: bytes = b"", akid: str = AKID, secret: str = SECRET,
           service: str = "vpc-lattice-svcs", extra: dict[str, str] | None = None,
           unsigned_payload: bool = False) -> Request:
    host = service_host(net)
    url = f"https://{host}{path}" + (f"?{query}" if query else "")
    aws = AWSRequest(method=method, url=url, data=body, headers=dict(extra or {}))
    if unsigned_payload:
        aws.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    SigV4Auth(Credentials(akid, secret), service, "us-west-2").add_auth(aws)
    headers = [("host", host), *((k, str(v)) for k, v in aws.headers.items())]
    parts = urlsplit(url)
    return Request(method, parts.path, parts.query, headers, body, host=host, scheme="https",
                   port=443, client_ip="10.1.0.5", client_port=50000, client_vpc_id="vpc-b",
                   tls=True)


def authorizer(strict: bool = True) -> Authorizer:
    return Authorizer(KEYS.get, strict=strict)


def policy(*statements: dict[str, Any]) -> PolicyDocument:
    return PolicyDocument(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def allow(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": "*", "Action": "vpc-lattice-svcs:Invoke",
            "Resource": "*", **extra}


# ---------------------------------------------------------------------- identity
def test_signature_recomputed_identifies_the_caller() -> None:
    net = seed_network()
    caller = authorizer().identify(signed(net, "/to-instance", query="a=1&b=x%20y"))
    assert caller.authenticated and caller.error is None
    assert (caller.account, caller.principal, caller.org_id) == (
        ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", "o-abc123")


def test_signed_post_with_body_and_unsigned_payload() -> None:
    net = seed_network()
    auth = authorizer()
    assert auth.identify(signed(net, "/p", method="POST", body=b'{"a":1}')).authenticated
    assert auth.identify(signed(net, "/p", method="POST", body=b"xyz",
                                unsigned_payload=True)).authenticated


def test_tampered_requests_fail() -> None:
    net = seed_network()
    auth = authorizer()
    req = signed(net, "/to-instance")
    req.path = "/to-function"
    assert auth.identify(req).error == "the request signature does not match"
    req = signed(net, "/p", method="POST", body=b"abc")
    req.body = b"abd"
    assert auth.identify(req).error is not None
    assert auth.identify(signed(net, secret="wrong")).error is not None
    assert auth.identify(signed(net, service="vpc-lattice")).error is not None
    assert auth.identify(signed(net, akid="AKIAUNKNOWN")).error is not None  # strict
    assert not authorizer(strict=False).identify(signed(net, akid="AKIAUNKNOWN")).error


def test_expired_signature_fails() -> None:
    net = seed_network()
    later = Authorizer(KEYS.get, strict=True,
                       clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20))
    assert later.identify(signed(net)).error == "the request has expired"


def test_unsigned_request_is_anonymous() -> None:
    caller = authorizer().identify(lattice_request())
    assert caller.principal == ANONYMOUS and not caller.authenticated


# ---------------------------------------------------------------------- policy language
def ctx(net: Network, req: Request, caller: Caller) -> dict[str, Any]:
    return request_context(net, req, net.lattice_services[SVC],
                           net.lattice_service_networks[SN], caller)


def test_principal_forms() -> None:
    net = seed_network()
    req = lattice_request(net=net)
    me = Caller(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)
    role = Caller(f"arn:aws:sts::{ACCOUNT}:assumed-role/app/session-1", ACCOUNT)
    anon = Caller()
    by_account = {"Statement": [allow(Principal={"AWS": ACCOUNT})]}
    by_root = {"Statement": [allow(Principal={"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]})]}
    by_role = {"Statement": [allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"})]}
    star_aws = {"Statement": [allow(Principal={"AWS": "*"})]}
    assert evaluate_policy(by_account, ctx(net, req, me)) == "allow"
    assert evaluate_policy(by_account, ctx(net, req, anon)) == "implicit"
    assert evaluate_policy(by_root, ctx(net, req, role)) == "allow"
    assert evaluate_policy(by_role, ctx(net, req, role)) == "allow"
    assert evaluate_policy(by_role, ctx(net, req, me)) == "implicit"
    assert evaluate_policy(star_aws, ctx(net, req, anon)) == "allow"
    other = Caller(f"arn:aws:iam::{OTHER_ACCOUNT}:root", OTHER_ACCOUNT)
    assert evaluate_policy(by_account, ctx(net, req, other)) == "implicit"


def test_action_and_resource_wildcards() -> None:
    net = seed_network()
    svc_arn = net.lattice_services[SVC].arn
    c = ctx(net, lattice_request("/to-instance/x", net=net), Caller())
    assert evaluate_policy({"Statement": [allow(Action="vpc-lattice-svcs:*")]}, c) == "allow"
    assert evaluate_policy({"Statement": [allow(Action="VPC-LATTICE-SVCS:invoke")]}, c) == \
        "allow"
    assert evaluate_policy({"Statement": [allow(Action="vpc-lattice-svcs:Connect")]}, c) == \
        "implicit"
    assert evaluate_policy({"Statement": [allow(Resource=f"{svc_arn}/*")]}, c) == "allow"
    assert evaluate_policy({"Statement": [allow(Resource=f"{svc_arn}/to-instance/*")]}, c) \
        == "allow"
    assert evaluate_policy({"Statement": [allow(Resource=f"{svc_arn}/to-function*")]}, c) \
        == "implicit"
    assert evaluate_policy({"Statement": [allow(Resource=f"{svc_arn}/to-?nstance/x")]}, c) \
        == "allow"


def test_explicit_deny_wins() -> None:
    net = seed_network()
    c = ctx(net, lattice_request("/admin", net=net), Caller())
    deny_admin = {"Effect": "Deny", "Principal": "*", "Action": "*",
                  "Resource": f"{net.lattice_services[SVC].arn}/admin*"}
    assert evaluate_policy({"Statement": [allow(), deny_admin]}, c) == "deny"
    c2 = ctx(net, lattice_request("/public", net=net), Caller())
    assert evaluate_policy({"Statement": [allow(), deny_admin]}, c2) == "allow"
    assert evaluate_policy("not json", c2) == "implicit"


@pytest.mark.parametrize("condition,expected", [
    ({"StringEquals": {"vpc-lattice-svcs:SourceVpc": "vpc-b"}}, "allow"),
    ({"StringEquals": {"vpc-lattice-svcs:SourceVpc": "vpc-a"}}, "implicit"),
    ({"StringEquals": {"vpc-lattice-svcs:SourceVpc": ["vpc-a", "vpc-b"]}}, "allow"),
    ({"StringNotEquals": {"vpc-lattice-svcs:SourceVpc": "vpc-b"}}, "implicit"),
    ({"StringEquals": {"vpc-lattice-svcs:SourceVpcOwnerAccount": ACCOUNT}}, "allow"),
    ({"StringEquals": {"vpc-lattice-svcs:RequestMethod": "GET"}}, "allow"),
    ({"StringEquals": {"vpc-lattice-svcs:RequestMethod": "POST"}}, "implicit"),
    # not an AWS condition key (paths go through the resource ARN): absent, so no match
    ({"StringLike": {"vpc-lattice-svcs:RequestPath": "/orders/*"}}, "implicit"),
    ({"StringEquals": {"vpc-lattice-svcs:RequestHeader/X-Team": "blue"}}, "allow"),
    ({"StringEquals": {"vpc-lattice-svcs:RequestHeader/x-team": "red"}}, "implicit"),
    ({"StringEquals": {"vpc-lattice-svcs:RequestQueryString/id": "7"}}, "allow"),
    ({"StringEqualsIgnoreCase": {"vpc-lattice-svcs:RequestHeader/x-team": "BLUE"}}, "allow"),
    ({"StringEquals": {"vpc-lattice-svcs:RequestHeader/x-missing": "a"}}, "implicit"),
    ({"StringNotEquals": {"vpc-lattice-svcs:RequestHeader/x-missing": "a"}}, "allow"),
    ({"StringEqualsIfExists": {"vpc-lattice-svcs:RequestHeader/x-missing": "a"}}, "allow"),
    ({"Null": {"vpc-lattice-svcs:RequestHeader/x-missing": "true"}}, "allow"),
    ({"Null": {"vpc-lattice-svcs:RequestHeader/x-team": "true"}}, "implicit"),
    ({"ArnLike": {"vpc-lattice-svcs:ServiceNetworkArn": "arn:aws:vpc-lattice:*:*:"
                                                        "servicenetwork/sn-*"}}, "allow"),
    ({"ArnEquals": {"vpc-lattice-svcs:ServiceArn": "arn:aws:vpc-lattice:us-west-2:"
                                                   "111122223333:service/svc-other"}},
     "implicit"),
    ({"IpAddress": {"aws:SourceIp": "10.1.0.0/16"}}, "allow"),
    ({"NotIpAddress": {"aws:SourceIp": "10.1.0.0/16"}}, "implicit"),
    ({"Bool": {"aws:SecureTransport": True}}, "allow"),
    ({"Bool": {"aws:SecureTransport": "false"}}, "implicit"),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, "implicit"),  # anonymous caller
    ({"StringEquals": {"vpc-lattice-svcs:SourceVpc": "vpc-b",
                       "vpc-lattice-svcs:RequestMethod": "POST"}}, "implicit"),  # keys AND
    ({"NumericLessThan": {"vpc-lattice-svcs:Port": "1024"}}, "allow"),
    ({"MadeUpOperator": {"vpc-lattice-svcs:Port": "443"}}, "implicit"),
])
def test_condition_operators_and_keys(condition: dict[str, Any], expected: str) -> None:
    net = seed_network()
    req = lattice_request("/orders/1", net=net, query="id=7", headers=[("X-Team", "blue")])
    assert evaluate_policy({"Statement": [allow(Condition=condition)]},
                           ctx(net, req, Caller())) == expected


def test_principal_org_id_condition_for_a_signed_caller() -> None:
    net = seed_network()
    req = signed(net, "/x")
    caller = authorizer().identify(req)
    cond = {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
    assert evaluate_policy({"Statement": [allow(Condition=cond)]},
                           ctx(net, req, caller)) == "allow"


# ---------------------------------------------------------------------- both levels
def test_seed_allow_all_lets_unsigned_curl_through() -> None:
    net = seed_network()  # AU-8: service AWS_IAM + allow-all, network NONE
    d = LatticeRouter(random.Random(1)).route(net, lattice_request(net=net))
    assert d.kind == "forward" and d.caller is not None and d.caller.principal == ANONYMOUS


def test_service_without_policy_denies_with_service_reason() -> None:
    net = seed_network()
    net.lattice_services[SVC].auth_policy = None
    d = LatticeRouter().route(net, lattice_request(net=net))
    assert (d.kind, d.status, d.auth_denied_reason, d.failure_reason) == (
        "deny", 403, "Service", "AuthDenied")
    assert b"403" in d.response().body


def test_network_with_aws_iam_and_no_policy_denies_with_network_reason() -> None:
    net = seed_network()
    net.lattice_service_networks[SN].auth_type = "AWS_IAM"
    d = LatticeRouter().route(net, lattice_request(net=net))
    assert (d.status, d.auth_denied_reason) == (403, "Network")


def test_both_levels_must_allow() -> None:
    net = seed_network()
    sn, svc = net.lattice_service_networks[SN], net.lattice_services[SVC]
    sn.auth_type = "AWS_IAM"
    sn.auth_policy = policy(allow(Principal={"AWS": ACCOUNT}))  # signed callers only
    router = LatticeRouter(random.Random(3), authorizer())
    assert router.route(net, lattice_request(net=net)).auth_denied_reason == "Network"
    assert router.route(net, signed(net, "/to-instance")).kind == "forward"
    svc.auth_policy = policy(allow(), {"Effect": "Deny", "Principal": "*", "Action": "*",
                                       "Resource": "*", "Condition": {
                                           "StringEquals": {"vpc-lattice-svcs:RequestMethod":
                                                            "DELETE"}}})
    assert router.route(net, signed(net, "/to-instance")).kind == "forward"
    d = router.route(net, signed(net, "/to-instance", method="DELETE"))
    assert (d.status, d.auth_denied_reason) == (403, "Service")


def test_policy_ignored_when_auth_type_none() -> None:
    net = seed_network()
    svc = net.lattice_services[SVC]
    svc.auth_type = "NONE"
    svc.auth_policy = policy({"Effect": "Deny", "Principal": "*", "Action": "*",
                              "Resource": "*"})
    assert LatticeRouter().route(net, lattice_request(net=net)).kind == "forward"


def test_bad_signature_is_denied_where_auth_is_on() -> None:
    net = seed_network()
    router = LatticeRouter(random.Random(1), authorizer())
    d = router.route(net, signed(net, secret="wrong"))
    assert (d.status, d.auth_denied_reason) == (403, "Service")


def test_signed_caller_gets_the_identity_header() -> None:
    net = seed_network()
    d = LatticeRouter(random.Random(1), authorizer()).route(net, signed(net, "/to-instance"))
    assert dict(d.forward_headers)["x-amzn-lattice-identity"] == (
        f"Principal=arn:aws:iam::{ACCOUNT}:root; PrincipalOrgID=o-abc123")
