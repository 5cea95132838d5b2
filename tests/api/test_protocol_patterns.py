"""Opt-in ``pattern`` checks and the ``reason``/``fieldList`` members of Smithy-style
ValidationExceptions (VPC Lattice): what a botocore client reads back."""

from __future__ import annotations

from typing import Any

import pytest
from botocore_wire import botocore_parse_error, botocore_request

from localvpc.api.protocols import (
    ServiceError,
    load_service_model,
    parse_request,
    serialize_error,
)


def _reject(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    request = botocore_request(service, operation, params, client_validation=False)
    with pytest.raises(ServiceError) as caught:
        parse_request(load_service_model(service), request)
    response = serialize_error(load_service_model(service), caught.value, "r")
    assert response.status == 400
    parsed = botocore_parse_error(service, operation, response)
    return {**parsed, **parsed.get("Modeled", {})}


def test_lattice_pattern_mismatch_names_the_field() -> None:
    parsed = _reject("vpc-lattice", "CreateServiceNetwork", {"name": "-bad"})
    assert parsed["Error"]["Code"] == "ValidationException"
    assert parsed["reason"] == "fieldValidationFailed"
    field = parsed["fieldList"][0]
    assert field["name"] == "name"
    assert field["message"].startswith("Member must satisfy regular expression pattern: ^")


def test_nested_pattern_and_range_problems_are_all_listed() -> None:
    parsed = _reject("vpc-lattice", "CreateRule", {
        "serviceIdentifier": "svc-0123456789abcdef0",
        "listenerIdentifier": "listener-0123456789abcdef0", "name": "r-1", "priority": 5000,
        "match": {"httpMatch": {"pathMatch": {"match": {"prefix": "no-slash"}}}},
        "action": {"fixedResponse": {"statusCode": 404}}})
    names = sorted(f["name"] for f in parsed["fieldList"])
    assert names == ["match.httpMatch.pathMatch.match.prefix", "priority"]
    assert parsed["Error"]["Message"].startswith("2 validation errors detected")


def test_identifier_patterns_accept_ids_and_arns() -> None:
    model = load_service_model("vpc-lattice")
    arn = "arn:aws:vpc-lattice:us-west-2:111122223333:service/svc-0123456789abcdef0"
    for identifier in ("svc-0123456789abcdef0", arn):
        request = botocore_request("vpc-lattice", "GetService",
                                   {"serviceIdentifier": identifier}, client_validation=False)
        operation, params = parse_request(model, request)
        assert operation.name == "GetService" and params["serviceIdentifier"] == identifier
    parsed = _reject("vpc-lattice", "GetService", {"serviceIdentifier": "sn-0123456789abcdef0"})
    assert parsed["fieldList"][0]["name"] == "serviceIdentifier"


def test_multiline_policy_text_matches_dot_patterns() -> None:
    request = botocore_request("vpc-lattice", "PutResourcePolicy", {
        "resourceArn": "arn:aws:vpc-lattice:us-west-2:111122223333:service/"
                       "svc-0123456789abcdef0", "policy": '{\n  "Statement": []\n}'},
        client_validation=False)
    _, params = parse_request(load_service_model("vpc-lattice"), request)
    assert params["policy"].count("\n") == 2


def test_services_without_opt_in_ignore_patterns() -> None:
    """EC2's model has patterns its service does not enforce this way: no new errors."""
    request = botocore_request("ec2", "CreateVpc", {"CidrBlock": "10.0.0.0/16"},
                               client_validation=False)
    operation, params = parse_request(load_service_model("ec2"), request)
    assert operation.name == "CreateVpc" and params["CidrBlock"] == "10.0.0.0/16"
