"""The proof that the protocol layer is generic: for operations of all five protocol families,
random values generated from the botocore shapes survive

* botocore's request serializer -> our parser (same params back, validation passes), and
* our response serializer -> botocore's response parser (same result back).

The operations were picked for breadth (nested lists of structures, maps, flattened lists,
URI labels incl. greedy ones, query-string lists and maps, header lists, header maps,
timestamps in bodies and headers, blobs, unions), not for any per-operation code path.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest
from botocore_wire import botocore_parse, botocore_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shape_strategies import ShapeStrategies

from localvpc.api.protocols import load_service_model, parse_request, serialize_response

REQUEST_OPERATIONS = [
    # ec2
    ("ec2", "CreateVpc"),
    ("ec2", "DescribeSubnets"),
    ("ec2", "CreateRoute"),
    ("ec2", "AuthorizeSecurityGroupIngress"),
    ("ec2", "RunInstances"),
    ("ec2", "CreateTags"),
    ("ec2", "ModifyAvailabilityZoneGroup"),
    ("ec2", "DescribeInstanceTypeOfferings"),
    # query
    ("elbv2", "CreateLoadBalancer"),
    ("elbv2", "CreateTargetGroup"),
    ("elbv2", "ModifyLoadBalancerAttributes"),
    ("elbv2", "CreateListener"),
    ("sns", "Publish"),  # not served; shows the walk is generic (map entry names Name/Value)
    # json
    ("pricing", "GetProducts"),
    ("route53resolver", "CreateResolverEndpoint"),
    ("logs", "PutLogEvents"),
    ("firehose", "PutRecordBatch"),
    # rest-json
    ("vpc-lattice", "CreateService"),
    ("vpc-lattice", "CreateListener"),
    ("vpc-lattice", "ListServices"),
    ("vpc-lattice", "UntagResource"),
    ("vpc-lattice", "CreateRule"),
    ("networkmanager", "GetNetworkRoutes"),
    # rest-xml
    ("route53", "ChangeResourceRecordSets"),
    ("route53", "CreateHostedZone"),
    ("route53", "ListResourceRecordSets"),
    ("s3", "PutObject"),
    ("s3", "DeleteObjects"),
    ("s3", "PutBucketTagging"),
    ("s3", "ListObjectsV2"),
]

RESPONSE_OPERATIONS = [
    ("ec2", "CreateVpc"),
    ("ec2", "DescribeSubnets"),
    ("ec2", "DescribeSecurityGroups"),
    ("ec2", "RunInstances"),
    ("ec2", "DescribeInstanceTypeOfferings"),
    ("ec2", "DescribeRouteTables"),
    ("elbv2", "CreateLoadBalancer"),
    ("elbv2", "DescribeTargetHealth"),
    ("elbv2", "DescribeTags"),
    ("elbv2", "DescribeLoadBalancerAttributes"),
    ("elbv2", "DescribeListeners"),
    ("sns", "GetTopicAttributes"),
    ("pricing", "GetProducts"),
    ("route53resolver", "ListResolverEndpoints"),
    ("logs", "DescribeLogGroups"),
    ("firehose", "DescribeDeliveryStream"),
    ("vpc-lattice", "CreateService"),
    ("vpc-lattice", "GetListener"),
    ("vpc-lattice", "ListServices"),
    ("vpc-lattice", "GetRule"),
    ("networkmanager", "GetNetworkRoutes"),
    ("route53", "ChangeResourceRecordSets"),
    ("route53", "CreateHostedZone"),
    ("route53", "ListResourceRecordSets"),
    ("s3", "ListObjectsV2"),
    ("s3", "HeadObject"),
    ("s3", "GetBucketTagging"),
    ("s3", "ListBuckets"),
]

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@functools.cache
def _strategy(service: str, operation: str, output: bool) -> st.SearchStrategy[dict[str, Any]]:
    op = load_service_model(service).operation_model(operation)
    return ShapeStrategies(output=output).for_operation(op)


def _transport_members(op: Any) -> list[str]:
    """Members bound to headers the HTTP layer sets by itself (S3's ``ContentLength``)."""
    return [
        name
        for name, member in op.input_shape.members.items()
        if member.serialization.get("location") == "header"
        and member.serialization.get("name", "").lower() in ("content-length", "content-type")
    ]


def canon(value: Any) -> Any:
    """Compare what the wire can carry: ``None`` and empty containers are absent (EC2 and
    query drop empty lists and structures; headers drop empty lists), timestamps are UTC."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = canon(item)
            if item is None or item == {} or item == []:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        items = [canon(item) for item in value]
        return [item for item in items if item is not None and item != {} and item != []]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return value


@pytest.mark.parametrize(("service", "operation"), REQUEST_OPERATIONS)
@SETTINGS
@given(data=st.data())
def test_botocore_requests_parse_back_to_the_same_params(
    service: str, operation: str, data: st.DataObject
) -> None:
    params = data.draw(_strategy(service, operation, False), label="params")
    request = botocore_request(service, operation, params)
    op, parsed = parse_request(load_service_model(service), request)
    assert op.name == operation
    for name in _transport_members(op):
        if name not in params:
            parsed.pop(name, None)
    assert canon(parsed) == canon(params)


@pytest.mark.parametrize(("service", "operation"), RESPONSE_OPERATIONS)
@SETTINGS
@given(data=st.data())
def test_our_responses_parse_back_in_botocore(
    service: str, operation: str, data: st.DataObject
) -> None:
    result = data.draw(_strategy(service, operation, True), label="result")
    op = load_service_model(service).operation_model(operation)
    response = serialize_response(op, result, "req-0001")
    assert canon(botocore_parse(service, operation, response)) == canon(result)
