"""Which service a request is for: SigV4 scope (signing names differ from service names),
X-Amz-Target, host names, form Action and REST paths; and the model loading behind it."""

from __future__ import annotations

import pytest
from botocore_wire import ACCESS_KEY, botocore_request

from localvpc.api.protocols import (
    SUPPORTED_SERVICES,
    HttpRequest,
    ServiceTarget,
    load_service_model,
    resolve_service,
)
from localvpc.api.protocols.specs import resolve_request, service_index, signing_name

SIGNED_CALLS = [
    ("ec2", "DescribeVpcs", {}),
    ("elbv2", "DescribeLoadBalancers", {}),
    ("pricing", "DescribeServices", {}),
    ("route53", "ListHostedZones", {}),
    ("route53resolver", "ListResolverEndpoints", {}),
    ("vpc-lattice", "ListServices", {}),
    ("networkmanager", "DescribeGlobalNetworks", {}),
    ("logs", "DescribeLogGroups", {}),
    ("firehose", "ListDeliveryStreams", {}),
    ("s3", "ListBuckets", {}),
]


@pytest.mark.parametrize(("service", "operation", "params"), SIGNED_CALLS)
def test_signed_requests_resolve_to_their_service(
    service: str, operation: str, params: dict[str, object]
) -> None:
    request = botocore_request(service, operation, params, region="ap-southeast-2")
    action = request.form().get("Action")
    found = resolve_service(request.method, request.path, request.headers, action)
    assert found == ServiceTarget(service, "ap-southeast-2", ACCESS_KEY)
    assert resolve_request(request) == found


def test_signing_names_come_from_the_models() -> None:
    assert signing_name(load_service_model("elbv2")) == "elasticloadbalancing"
    assert signing_name(load_service_model("pricing")) == "pricing"
    assert load_service_model("pricing").metadata["endpointPrefix"] == "api.pricing"
    assert signing_name(load_service_model("vpc-lattice")) == "vpc-lattice"
    index = service_index(SUPPORTED_SERVICES)
    assert index.by_signing["elasticloadbalancing"] == ["elbv2"]
    assert index.by_target["AWSPriceListService"] == "pricing"


def test_newest_api_version_is_loaded_once() -> None:
    assert load_service_model("ec2").api_version == "2016-11-15"
    assert load_service_model("elbv2").api_version == "2015-12-01"  # not elb's 2012-06-01
    assert load_service_model("ec2") is load_service_model("ec2")


def test_unknown_signing_name_is_none() -> None:
    headers = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=x"
    }
    assert resolve_service("POST", "/", headers) is None


def test_presigned_query_credential() -> None:
    query = {"X-Amz-Credential": ["AK2/20240101/eu-central-1/s3/aws4_request"]}
    found = resolve_service("GET", "/bucket/key", {}, query=query)
    assert found == ServiceTarget("s3", "eu-central-1", "AK2")


def test_unsigned_target_header() -> None:
    found = resolve_service("POST", "/", {"X-Amz-Target": "Route53Resolver.ListResolverRules"})
    assert found == ServiceTarget("route53resolver", "us-east-1", None)


def test_unsigned_host_name_gives_service_and_region() -> None:
    found = resolve_service("POST", "/", {"Host": "elasticloadbalancing.eu-west-3.amazonaws.com"})
    assert found == ServiceTarget("elbv2", "eu-west-3", None)
    pricing = resolve_service("POST", "/", {"host": "api.pricing.us-east-1.amazonaws.com:443"})
    assert pricing == ServiceTarget("pricing", "us-east-1", None)


def test_unsigned_form_action() -> None:
    assert resolve_service("POST", "/", {}, "CreateVpc") == ServiceTarget("ec2", "us-east-1", None)
    assert resolve_service("POST", "/", {}, "CreateTargetGroup").service == "elbv2"  # type: ignore[union-attr]


def test_unsigned_rest_paths() -> None:
    assert resolve_service("GET", "/2013-04-01/hostedzone", {}).service == "route53"  # type: ignore[union-attr]
    assert resolve_service("GET", "/services", {}).service == "vpc-lattice"  # type: ignore[union-attr]
    # anything else that looks like a bucket falls to S3, tried last
    assert resolve_service("GET", "/my-bucket", {}).service == "s3"  # type: ignore[union-attr]


def test_nothing_to_go_on_is_none() -> None:
    assert resolve_service("POST", "/", {}) is None


def test_resolve_request_reads_the_form() -> None:
    request = HttpRequest.build(
        "POST",
        "/",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"Action=DescribeSubnets&Version=2016-11-15",
    )
    assert resolve_request(request) == ServiceTarget("ec2", "us-east-1", None)
