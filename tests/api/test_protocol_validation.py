"""Input validation walks the input shape: required, min/max, ranges and enums, answered in
each protocol's own error vocabulary; malformed values and bodies are AWS errors too."""

from __future__ import annotations

from typing import Any

import pytest
from botocore_wire import botocore_parse_error, botocore_request

from localvpc.api.protocols import (
    HttpRequest,
    ServiceError,
    load_service_model,
    parse_request,
    serialize_error,
)


def _reject(service: str, operation: str, params: dict[str, Any]) -> ServiceError:
    request = botocore_request(service, operation, params, client_validation=False)
    with pytest.raises(ServiceError) as caught:
        parse_request(load_service_model(service), request)
    error = caught.value
    # whatever we reject, a botocore client must read the same code back
    response = serialize_error(load_service_model(service), error, "r")
    assert response.status == 400
    assert botocore_parse_error(service, operation, response)["Error"]["Code"] == error.code
    return error


def test_ec2_missing_required_parameter() -> None:
    error = _reject("ec2", "CreateSubnet", {"CidrBlock": "10.0.0.0/24"})
    assert error.code == "MissingParameter"
    assert error.message == "The request must contain the parameter VpcId"


def test_ec2_missing_nested_parameter_uses_wire_path() -> None:
    error = _reject(
        "ec2",
        "CreateManagedPrefixList",
        {
            "PrefixListName": "pl",
            "MaxEntries": 5,
            "AddressFamily": "IPv4",
            "Entries": [{"Cidr": "10.0.0.0/8"}, {"Description": "no cidr"}],
        },
    )
    assert error.code == "MissingParameter"
    assert error.message == "The request must contain the parameter Entry.2.Cidr"


def test_ec2_enum_violation_is_invalid_parameter_value() -> None:
    error = _reject("ec2", "DescribeInstanceTypeOfferings", {"LocationType": "galaxy"})
    assert error.code == "InvalidParameterValue"
    assert "galaxy" in error.message and "LocationType" in error.message


def test_instance_type_names_are_left_to_the_service() -> None:
    """botocore's InstanceType enum lags EC2; the handler answers InvalidInstanceType."""
    request = botocore_request("ec2", "RunInstances",
                               {"ImageId": "ami-1", "MinCount": 1, "MaxCount": 1,
                                "InstanceType": "t3.gigantic"}, client_validation=False)
    _, params = parse_request(load_service_model("ec2"), request)
    assert params["InstanceType"] == "t3.gigantic"


def test_ec2_malformed_integer() -> None:
    request = HttpRequest.build("GET", "/?Action=DescribeVpcs&Version=2016-11-15&MaxResults=lots")
    with pytest.raises(ServiceError) as caught:
        parse_request(load_service_model("ec2"), request)
    assert caught.value.code == "InvalidParameterValue"
    assert "lots" in caught.value.message


def test_query_missing_required_is_validation_error() -> None:
    error = _reject("elbv2", "CreateTargetGroup", {"Protocol": "HTTP"})
    assert error.code == "ValidationError"
    assert error.message == (
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_query_max_length_of_list() -> None:
    attributes = [{"Key": f"k{i}", "Value": "v"} for i in range(21)]
    error = _reject(
        "elbv2", "ModifyLoadBalancerAttributes", {"LoadBalancerArn": "a", "Attributes": attributes}
    )
    assert error.code == "ValidationError"
    assert "Member must have length less than or equal to 20" in error.message


def test_json_range_violation() -> None:
    error = _reject("pricing", "GetProducts", {"ServiceCode": "AmazonEC2", "MaxResults": 500})
    assert error.code == "ValidationException"
    assert error.message == (
        "1 validation error detected: Value 500 at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 100"
    )


def test_json_nested_enum_and_lengths_are_all_reported() -> None:
    error = _reject(
        "pricing",
        "GetProducts",
        {"ServiceCode": "AmazonEC2", "Filters": [{"Type": "FUZZY", "Field": "", "Value": "x"}]},
    )
    assert error.message.startswith("2 validation errors detected: ")
    assert "at 'filters.1.member.type' failed to satisfy constraint: Member must satisfy enum" in (
        error.message
    )
    assert "at 'filters.1.member.field'" in error.message


def test_rest_json_lengths_and_enum() -> None:
    error = _reject(
        "vpc-lattice",
        "CreateListener",
        {
            "serviceIdentifier": "svc-0123456789abcdef0",
            "name": "ab",
            "protocol": "GOPHER",
            "defaultAction": {"fixedResponse": {"statusCode": 404}},
        },
    )
    assert error.code == "ValidationException"
    assert "Value 'ab' at 'name' failed to satisfy constraint: Member must have length " in (
        error.message
    )
    assert "Value 'GOPHER' at 'protocol'" in error.message


def test_rest_xml_route53_uses_invalid_input() -> None:
    error = _reject(
        "route53",
        "ChangeResourceRecordSets",
        {"HostedZoneId": "Z" * 40, "ChangeBatch": {"Changes": []}},
    )
    assert error.code == "InvalidInput"
    assert "hostedZoneId" in error.message and "changeBatch.changes" in error.message


def test_valid_requests_pass() -> None:
    request = botocore_request("pricing", "GetProducts", {"ServiceCode": "x", "MaxResults": 100})
    _, params = parse_request(load_service_model("pricing"), request)
    assert params == {"ServiceCode": "x", "MaxResults": 100}


def test_malformed_json_body_is_serialization_exception() -> None:
    request = HttpRequest.build(
        "POST", "/", {"X-Amz-Target": "AWSPriceListService.GetProducts"}, b"{not json"
    )
    with pytest.raises(ServiceError) as caught:
        parse_request(load_service_model("pricing"), request)
    assert caught.value.code == "SerializationException"


def test_json_type_mismatch_is_serialization_exception() -> None:
    request = HttpRequest.build(
        "POST",
        "/",
        {"X-Amz-Target": "AWSPriceListService.GetProducts"},
        b'{"ServiceCode": "AmazonEC2", "MaxResults": "ten"}',
    )
    with pytest.raises(ServiceError) as caught:
        parse_request(load_service_model("pricing"), request)
    assert caught.value.code == "SerializationException"
    assert "MaxResults" in caught.value.message


def test_malformed_xml_body() -> None:
    request = HttpRequest.build("POST", "/2013-04-01/hostedzone", None, b"<CreateHostedZone")
    with pytest.raises(ServiceError) as caught:
        parse_request(load_service_model("route53"), request)
    assert caught.value.code == "InvalidInput"


def test_rest_uri_label_type_conversion_error() -> None:
    # GetHostedZoneLimit has a string label; ListTrafficPolicyVersions' MaxItems is a string;
    # vpc-lattice ListServices maxResults is an integer in the query string
    request = HttpRequest.build("GET", "/services?maxResults=many")
    with pytest.raises(ServiceError) as caught:
        parse_request(load_service_model("vpc-lattice"), request)
    assert caught.value.code == "ValidationException"
    assert "maxResults" in caught.value.message
