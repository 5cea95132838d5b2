"""The protocol layer against botocore on both sides, on realistic calls of each family.

(1) botocore serializes a request, our parser must recover exactly the params;
(2) our serializer answers, botocore's parser must recover exactly the result;
(3) our error answers must give botocore the code, the message and the modeled fields.
Plus what AWS's wire format looks like where clients and tools depend on it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from botocore_wire import (
    botocore_parse,
    botocore_parse_error,
    botocore_request,
    utc,
)

from localvpc.api.protocols import (
    Headers,
    HttpRequest,
    ServiceError,
    load_service_model,
    parse_request,
    serialize_error,
    serialize_response,
)

EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "ec2",
        "CreateVpc",
        {
            "CidrBlock": "10.0.0.0/16",
            "AmazonProvidedIpv6CidrBlock": True,
            "InstanceTenancy": "default",
            "TagSpecifications": [
                {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "prod"}]},
            ],
        },
    ),
    (
        "ec2",
        "DescribeSubnets",
        {
            "Filters": [
                {"Name": "vpc-id", "Values": ["vpc-1", "vpc-2"]},
                {"Name": "tag:Name", "Values": ["a b", "c&d=e"]},
            ],
            "SubnetIds": ["subnet-1"],
            "MaxResults": 25,
            "DryRun": False,
        },
    ),
    (
        "ec2",
        "CreateRoute",
        {
            "RouteTableId": "rtb-1",
            "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": "igw-1",
        },
    ),
    (
        "ec2",
        "AuthorizeSecurityGroupIngress",
        {
            "GroupId": "sg-1",
            "IpPermissions": [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}],
                    "UserIdGroupPairs": [
                        {"GroupId": "sg-2", "UserId": "123456789012"},
                        {"GroupId": "sg-3", "Description": "peer"},
                    ],
                },
                {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            ],
        },
    ),
    (
        "ec2",
        "RunInstances",
        {
            "ImageId": "ami-1",
            "MinCount": 1,
            "MaxCount": 2,
            "InstanceType": "t3.micro",
            "NetworkInterfaces": [
                {
                    "DeviceIndex": 0,
                    "SubnetId": "subnet-1",
                    "Groups": ["sg-1", "sg-2"],
                    "AssociatePublicIpAddress": True,
                    "PrivateIpAddresses": [
                        {"PrivateIpAddress": "10.0.0.5", "Primary": True},
                        {"PrivateIpAddress": "10.0.0.6", "Primary": False},
                    ],
                },
            ],
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "k", "Value": "v"}]},
            ],
        },
    ),
    (
        "ec2",
        "CreateTags",
        {
            "Resources": ["vpc-1", "subnet-1"],
            "Tags": [{"Key": "Name", "Value": ""}, {"Key": "env", "Value": "prod"}],
        },
    ),
    (
        "ec2",
        "ModifyAvailabilityZoneGroup",
        {
            "GroupName": "us-west-2-lax-1",
            "OptInStatus": "opted-in",
        },
    ),
    (
        "ec2",
        "DescribeInstanceTypeOfferings",
        {
            "LocationType": "availability-zone",
            "Filters": [{"Name": "instance-type", "Values": ["t3.*"]}],
            "MaxResults": 5,
        },
    ),
    (
        "ec2",
        "DescribeSpotPriceHistory",
        {
            "StartTime": utc(2024, 1, 2, 3, 4, 5),
            "InstanceTypes": ["m5.large"],
        },
    ),
    (
        "elbv2",
        "CreateLoadBalancer",
        {
            "Name": "web",
            "Subnets": ["subnet-1", "subnet-2"],
            "SecurityGroups": ["sg-1"],
            "Scheme": "internet-facing",
            "Type": "application",
            "Tags": [{"Key": "team", "Value": "net"}],
        },
    ),
    (
        "elbv2",
        "CreateTargetGroup",
        {
            "Name": "tg",
            "Protocol": "HTTP",
            "Port": 8080,
            "VpcId": "vpc-1",
            "HealthCheckEnabled": True,
            "HealthCheckIntervalSeconds": 10,
            "Matcher": {"HttpCode": "200-299"},
            "TargetType": "ip",
        },
    ),
    (
        "elbv2",
        "ModifyLoadBalancerAttributes",
        {
            "LoadBalancerArn": "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/web/1",
            "Attributes": [
                {"Key": "idle_timeout.timeout_seconds", "Value": "120"},
                {"Key": "deletion_protection.enabled", "Value": "true"},
            ],
        },
    ),
    ("elbv2", "RemoveTags", {"ResourceArns": ["arn:1"], "TagKeys": []}),
    (
        "pricing",
        "GetProducts",
        {
            "ServiceCode": "AmazonEC2",
            "Filters": [
                {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "t3.micro"},
                {"Type": "TERM_MATCH", "Field": "location", "Value": "EU (Ireland)"},
            ],
            "FormatVersion": "aws_v1",
            "MaxResults": 10,
        },
    ),
    (
        "vpc-lattice",
        "CreateService",
        {
            "name": "billing",
            "authType": "AWS_IAM",
            "tags": {"team": "pay", "env": "prod"},
            "clientToken": "tok",
        },
    ),
    (
        "vpc-lattice",
        "CreateListener",
        {
            "serviceIdentifier": "svc-0123456789abcdef0",
            "name": "https",
            "protocol": "HTTPS",
            "port": 443,
            "defaultAction": {
                "forward": {
                    "targetGroups": [
                        {"targetGroupIdentifier": "tg-0123456789abcdef0", "weight": 80},
                        {"targetGroupIdentifier": "tg-0123456789abcdef1", "weight": 20},
                    ]
                }
            },
        },
    ),
    ("vpc-lattice", "ListServices", {"maxResults": 10, "nextToken": "a/b+c="}),
    (
        "vpc-lattice",
        "UntagResource",
        {
            "resourceArn": "arn:aws:vpc-lattice:eu-west-1:111122223333:service/"
                           "svc-0123456789abcdef0",
            "tagKeys": ["a", "b c"],
        },
    ),
    (
        "route53",
        "ChangeResourceRecordSets",
        {
            "HostedZoneId": "Z0123",
            "ChangeBatch": {
                "Comment": "a <b> & c",
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": "www.example.com.",
                            "Type": "A",
                            "TTL": 300,
                            "ResourceRecords": [{"Value": "192.0.2.1"}, {"Value": "192.0.2.2"}],
                        },
                    },
                    {
                        "Action": "CREATE",
                        "ResourceRecordSet": {
                            "Name": "alias.example.com.",
                            "Type": "A",
                            "AliasTarget": {
                                "HostedZoneId": "Z2",
                                "DNSName": "lb.example.com.",
                                "EvaluateTargetHealth": False,
                            },
                        },
                    },
                ],
            },
        },
    ),
    (
        "route53",
        "CreateHostedZone",
        {
            "Name": "example.com",
            "CallerReference": "ref-1",
            "VPC": {"VPCRegion": "eu-west-1", "VPCId": "vpc-1"},
            "HostedZoneConfig": {"Comment": "private", "PrivateZone": True},
        },
    ),
    (
        "route53",
        "ListResourceRecordSets",
        {
            "HostedZoneId": "Z0123",
            "StartRecordName": "a.example.com.",
            "StartRecordType": "TXT",
            "MaxItems": "10",
        },
    ),
    (
        "s3",
        "PutObject",
        {
            "Bucket": "b",
            "Key": "dir/sub dir/ü%.txt",
            "Body": b"\x00hello",
            "Metadata": {"owner": "me"},
            "ContentType": "text/plain",
            "Expires": utc(2030, 1, 1),
        },
    ),
    ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "dir/", "MaxKeys": 5}),
    ("s3", "ListObjects", {"Bucket": "b", "Prefix": "dir/"}),
    ("s3", "CopyObject", {"Bucket": "b", "Key": "k", "CopySource": "src/k"}),
]


@pytest.mark.parametrize(("service", "operation", "params"), REQUESTS)
def test_parser_recovers_what_botocore_serialized(
    service: str, operation: str, params: dict[str, Any]
) -> None:
    request = botocore_request(service, operation, params)
    op, parsed = parse_request(load_service_model(service), request)
    assert op.name == operation
    if operation == "PutObject":
        assert parsed.pop("ContentLength") == len(params["Body"])
    assert parsed == params


def test_ec2_parse_types_and_wire_names() -> None:
    request = botocore_request("ec2", "DescribeSubnets", REQUESTS[1][2])
    form = request.form()
    assert form["Filter.2.Value.2"] == "c&d=e"
    assert form["SubnetId.1"] == "subnet-1"
    _, parsed = parse_request(load_service_model("ec2"), request)
    assert parsed["MaxResults"] == 25 and parsed["DryRun"] is False


def test_query_protocol_lists_use_member_and_keep_empty_lists() -> None:
    request = botocore_request("elbv2", "RemoveTags", {"ResourceArns": ["a"], "TagKeys": []})
    form = request.form()
    assert form["ResourceArns.member.1"] == "a"
    assert form["TagKeys"] == ""
    _, parsed = parse_request(load_service_model("elbv2"), request)
    assert parsed == {"ResourceArns": ["a"], "TagKeys": []}


def test_query_maps_use_entry_key_value_and_model_names() -> None:
    elbv2 = botocore_request(
        "elbv2",
        "CreateListener",
        {
            "LoadBalancerArn": "arn",
            "DefaultActions": [
                {
                    "Type": "authenticate-oidc",
                    "AuthenticateOidcConfig": {
                        "Issuer": "i",
                        "AuthorizationEndpoint": "a",
                        "TokenEndpoint": "t",
                        "UserInfoEndpoint": "u",
                        "ClientId": "c",
                        "AuthenticationRequestExtraParams": {"display": "page", "prompt": "x"},
                    },
                }
            ],
        },
    )
    prefix = "DefaultActions.member.1.AuthenticateOidcConfig.AuthenticationRequestExtraParams"
    assert elbv2.form()[f"{prefix}.entry.2.key"] == "prompt"
    _, parsed = parse_request(load_service_model("elbv2"), elbv2)
    extra = parsed["DefaultActions"][0]["AuthenticateOidcConfig"]
    assert extra["AuthenticationRequestExtraParams"] == {"display": "page", "prompt": "x"}
    attributes = {"a": {"DataType": "String", "StringValue": "1"}}
    sns = botocore_request("sns", "Publish", {"Message": "m", "MessageAttributes": attributes})
    assert sns.form()["MessageAttributes.entry.1.Name"] == "a"
    assert parse_request(load_service_model("sns"), sns)[1]["MessageAttributes"] == attributes


def test_hand_written_get_request_with_lowercase_booleans() -> None:
    request = HttpRequest.build(
        "GET",
        "/?Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-a&VpcId.2=vpc-b&DryRun=TRUE"
        "&Filter.1.Name=cidr&Filter.1.Value.1=10.0.0.0%2F16",
    )
    op, parsed = parse_request(load_service_model("ec2"), request)
    assert op.name == "DescribeVpcs"
    assert parsed == {
        "VpcIds": ["vpc-a", "vpc-b"],
        "DryRun": True,
        "Filters": [{"Name": "cidr", "Values": ["10.0.0.0/16"]}],
    }


# --- responses -----------------------------------------------------------------------------

RESPONSES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "ec2",
        "CreateVpc",
        {
            "Vpc": {
                "VpcId": "vpc-1",
                "CidrBlock": "10.0.0.0/16",
                "State": "pending",
                "IsDefault": False,
                "CidrBlockAssociationSet": [
                    {
                        "AssociationId": "vpc-cidr-assoc-1",
                        "CidrBlock": "10.0.0.0/16",
                        "CidrBlockState": {"State": "associated"},
                    }
                ],
                "Tags": [{"Key": "Name", "Value": "prod & <test>"}],
            }
        },
    ),
    (
        "ec2",
        "DescribeSubnets",
        {
            "Subnets": [
                {
                    "SubnetId": "subnet-1",
                    "AvailableIpAddressCount": 251,
                    "MapPublicIpOnLaunch": True,
                    "Tags": [],
                },
                {"SubnetId": "subnet-2", "DefaultForAz": False},
            ],
            "NextToken": "n",
        },
    ),
    (
        "ec2",
        "DescribeInstanceTypeOfferings",
        {
            "InstanceTypeOfferings": [
                {"InstanceType": "t3.micro", "LocationType": "availability-zone", "Location": "a"}
            ]
        },
    ),
    (
        "ec2",
        "DescribeSpotPriceHistory",
        {
            "SpotPriceHistory": [
                {"SpotPrice": "0.01", "Timestamp": utc(2024, 5, 6, 7, 8, 9, 123000)}
            ]
        },
    ),
    (
        "elbv2",
        "CreateLoadBalancer",
        {
            "LoadBalancers": [
                {
                    "LoadBalancerArn": "arn:lb",
                    "DNSName": "web-1.eu-west-1.elb.amazonaws.com",
                    "CreatedTime": utc(2024, 1, 1, 12, 0, 0),
                    "State": {"Code": "provisioning"},
                    "AvailabilityZones": [
                        {"ZoneName": "eu-west-1a", "SubnetId": "subnet-1"},
                        {"ZoneName": "eu-west-1b", "SubnetId": "subnet-2"},
                    ],
                    "SecurityGroups": ["sg-1"],
                }
            ]
        },
    ),
    (
        "elbv2",
        "ModifyLoadBalancerAttributes",
        {"Attributes": [{"Key": "idle_timeout.timeout_seconds", "Value": "120"}]},
    ),
    (
        "pricing",
        "GetProducts",
        {
            "FormatVersion": "aws_v1",
            "PriceList": ['{"product": {"sku": "X"}}'],
            "NextToken": "t",
        },
    ),
    (
        "vpc-lattice",
        "CreateService",
        {
            "id": "svc-0123456789abcdef0",
            "arn": "arn:aws:vpc-lattice:eu-west-1:1:service/svc-0123456789abcdef0",
            "name": "billing",
            "status": "CREATE_IN_PROGRESS",
            "dnsEntry": {"domainName": "billing.on.aws", "hostedZoneId": "Z1"},
        },
    ),
    (
        "vpc-lattice",
        "ListServices",
        {
            "items": [
                {"id": "svc-1", "name": "a", "createdAt": utc(2024, 2, 3, 4, 5, 6, 789000)},
                {"id": "svc-2", "name": "b"},
            ]
        },
    ),
    (
        "route53",
        "CreateHostedZone",
        {
            "HostedZone": {
                "Id": "/hostedzone/Z1",
                "Name": "example.com.",
                "CallerReference": "ref",
                "Config": {"PrivateZone": True},
                "ResourceRecordSetCount": 2,
            },
            "ChangeInfo": {"Id": "/change/C1", "Status": "PENDING", "SubmittedAt": utc(2024, 1, 1)},
            "DelegationSet": {"NameServers": ["ns-1.example.", "ns-2.example."]},
            "Location": "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1",
        },
    ),
    (
        "route53",
        "ChangeResourceRecordSets",
        {"ChangeInfo": {"Id": "C2", "Status": "INSYNC", "SubmittedAt": utc(2024, 1, 1, 0, 0, 1)}},
    ),
    (
        "s3",
        "ListObjectsV2",
        {
            "Name": "b",
            "Contents": [{"Key": "a", "Size": 1}, {"Key": "b", "Size": 2}],
            "CommonPrefixes": [{"Prefix": "dir/"}],
            "IsTruncated": False,
        },
    ),
    (
        "s3",
        "HeadObject",
        {
            "ContentLength": 12,
            "LastModified": utc(2024, 1, 2, 3, 4, 5),
            "Metadata": {"owner": "me"},
            "ETag": '"abc"',
        },
    ),
]


@pytest.mark.parametrize(("service", "operation", "result"), RESPONSES)
def test_botocore_recovers_what_we_serialized(
    service: str, operation: str, result: dict[str, Any]
) -> None:
    op = load_service_model(service).operation_model(operation)
    response = serialize_response(op, result, "req-1")
    assert botocore_parse(service, operation, response) == result


def _xml(body: bytes) -> ET.Element:
    return ET.fromstring(body)


def test_ec2_response_wire_format() -> None:
    op = load_service_model("ec2").operation_model("DescribeSubnets")
    response = serialize_response(op, RESPONSES[1][2], "rid-7")
    assert response.status == 200
    root = _xml(response.body)
    assert root.tag == f"{{{EC2_NS}}}DescribeSubnetsResponse"
    assert root.find(f"{{{EC2_NS}}}requestId").text == "rid-7"  # type: ignore[union-attr]
    items = root.findall(f"{{{EC2_NS}}}subnetSet/{{{EC2_NS}}}item")
    assert [i.findtext(f"{{{EC2_NS}}}subnetId") for i in items] == ["subnet-1", "subnet-2"]
    assert items[0].findtext(f"{{{EC2_NS}}}mapPublicIpOnLaunch") == "true"
    assert items[0].find(f"{{{EC2_NS}}}tagSet") is not None  # empty list kept
    assert b"<defaultForAz>false</defaultForAz>" in response.body


def test_xml_timestamps_are_iso8601_with_milliseconds() -> None:
    op = load_service_model("ec2").operation_model("DescribeSpotPriceHistory")
    response = serialize_response(op, RESPONSES[3][2], "r")
    assert b"<timestamp>2024-05-06T07:08:09.123Z</timestamp>" in response.body


def test_query_response_wire_format() -> None:
    op = load_service_model("elbv2").operation_model("CreateLoadBalancer")
    response = serialize_response(op, RESPONSES[4][2], "rid-8")
    ns = "{http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/}"
    root = _xml(response.body)
    assert root.tag == f"{ns}CreateLoadBalancerResponse"
    lbs = root.findall(f"{ns}CreateLoadBalancerResult/{ns}LoadBalancers/{ns}member")
    assert len(lbs) == 1
    assert root.findtext(f"{ns}ResponseMetadata/{ns}RequestId") == "rid-8"


def test_json_response_wire_format() -> None:
    op = load_service_model("pricing").operation_model("GetProducts")
    response = serialize_response(op, RESPONSES[6][2], "rid-9")
    assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert response.headers["x-amzn-RequestId"] == "rid-9"
    assert json.loads(response.body)["FormatVersion"] == "aws_v1"


def test_rest_json_status_and_member_timestamp_format() -> None:
    model = load_service_model("vpc-lattice")
    created = serialize_response(model.operation_model("CreateService"), RESPONSES[7][2], "r")
    assert created.status == 201  # http.responseCode
    listed = serialize_response(model.operation_model("ListServices"), RESPONSES[8][2], "r")
    assert listed.status == 200
    # VPC Lattice models its timestamps as iso8601; the member's format wins over the default
    assert json.loads(listed.body)["items"][0]["createdAt"] == "2024-02-03T04:05:06.789Z"


def test_json_timestamps_default_to_epoch_seconds() -> None:
    op = load_service_model("firehose").operation_model("DescribeDeliveryStream")
    stamp = utc(2024, 2, 3, 4, 5, 6, 789000)
    result = {"DeliveryStreamDescription": {"DeliveryStreamName": "s", "CreateTimestamp": stamp}}
    response = serialize_response(op, result, "r")
    body = json.loads(response.body)
    assert body["DeliveryStreamDescription"]["CreateTimestamp"] == 1706933106.789
    assert botocore_parse("firehose", "DescribeDeliveryStream", response) == result


def test_rest_xml_headers_status_and_root() -> None:
    op = load_service_model("route53").operation_model("CreateHostedZone")
    response = serialize_response(op, RESPONSES[9][2], "r")
    assert response.status == 201
    assert response.headers["Location"].endswith("/hostedzone/Z1")
    root = _xml(response.body)
    assert root.tag == "{https://route53.amazonaws.com/doc/2013-04-01/}CreateHostedZoneResponse"
    assert b"Location" not in response.body


def test_s3_flattened_lists_and_header_members() -> None:
    model = load_service_model("s3")
    listing = serialize_response(model.operation_model("ListObjectsV2"), RESPONSES[11][2], "r")
    root = _xml(listing.body)
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    assert [c.findtext(f"{ns}Key") for c in root.findall(f"{ns}Contents")] == ["a", "b"]
    head = serialize_response(model.operation_model("HeadObject"), RESPONSES[12][2], "r")
    assert head.headers["Last-Modified"] == "Tue, 02 Jan 2024 03:04:05 GMT"
    assert head.headers["x-amz-meta-owner"] == "me"
    assert head.body == b""


def test_none_members_are_left_out() -> None:
    op = load_service_model("ec2").operation_model("CreateVpc")
    response = serialize_response(op, {"Vpc": {"VpcId": "vpc-1", "CidrBlock": None}}, "r")
    assert b"cidrBlock" not in response.body
    assert botocore_parse("ec2", "CreateVpc", response) == {"Vpc": {"VpcId": "vpc-1"}}


def test_xml_text_is_escaped_including_carriage_returns() -> None:
    op = load_service_model("elbv2").operation_model("DescribeTags")
    value = "a\r\nb <&> \"q\" 'x'"
    result = {"TagDescriptions": [{"ResourceArn": "arn", "Tags": [{"Key": "k", "Value": value}]}]}
    response = serialize_response(op, result, "r")
    assert botocore_parse("elbv2", "DescribeTags", response) == result


# --- errors --------------------------------------------------------------------------------

ERROR_CASES = [
    (
        "ec2",
        "DescribeVpcs",
        ServiceError("InvalidVpcID.NotFound", "The vpc ID 'vpc-1' does not exist"),
    ),
    (
        "elbv2",
        "DescribeLoadBalancers",
        ServiceError("LoadBalancerNotFound", "One or more not found"),
    ),
    ("pricing", "GetProducts", ServiceError("InvalidParameterException", "bad filter")),
    ("vpc-lattice", "GetService", ServiceError("ConflictException", "busy", status=409)),
    (
        "route53",
        "GetHostedZone",
        ServiceError("NoSuchHostedZone", "No hosted zone found with ID: Z1"),
    ),
    ("s3", "GetObject", ServiceError("NoSuchKey", "The specified key does not exist.", status=404)),
]


@pytest.mark.parametrize(("service", "operation", "error"), ERROR_CASES)
def test_botocore_reads_our_errors(service: str, operation: str, error: ServiceError) -> None:
    response = serialize_error(load_service_model(service), error, "rid-e")
    assert response.status >= 400
    parsed = botocore_parse_error(service, operation, response)
    assert parsed["Error"]["Code"] == error.code
    assert parsed["Error"]["Message"] == error.message
    assert parsed["ResponseMetadata"]["RequestId"] == "rid-e"


def test_ec2_error_document_shape() -> None:
    error = ServiceError("InvalidSubnetID.NotFound", "nope")
    response = serialize_error(load_service_model("ec2"), error, "rid-1")
    root = _xml(response.body)
    assert root.tag == "Response"
    assert root.findtext("Errors/Error/Code") == "InvalidSubnetID.NotFound"
    assert root.findtext("RequestID") == "rid-1"
    assert response.status == 400


def test_query_error_type_follows_sender_fault() -> None:
    model = load_service_model("elbv2")
    sender = _xml(serialize_error(model, ServiceError("X", "m"), "r").body)
    receiver = _xml(serialize_error(model, ServiceError("Y", "m", sender_fault=False), "r").body)
    ns = "{http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/}"
    assert sender.findtext(f"{ns}Error/{ns}Type") == "Sender"
    assert receiver.findtext(f"{ns}Error/{ns}Type") == "Receiver"


def test_modeled_error_lends_status_and_fields() -> None:
    model = load_service_model("vpc-lattice")
    error = ServiceError(
        "ResourceNotFoundException",
        "Service svc-1 not found",
        fields={"resourceId": "svc-1", "resourceType": "SERVICE"},
    )
    response = serialize_error(model, error, "r")
    assert response.status == 404  # from the model's httpStatusCode
    assert response.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    parsed = botocore_parse_error("vpc-lattice", "GetService", response)
    assert parsed["Modeled"] == {
        "message": "Service svc-1 not found",
        "resourceId": "svc-1",
        "resourceType": "SERVICE",
    }


def test_json_error_carries_type() -> None:
    response = serialize_error(
        load_service_model("pricing"), ServiceError("NotFoundException", "x"), "r"
    )
    body = json.loads(response.body)
    assert body == {"__type": "NotFoundException", "message": "x"}
    assert response.status == 400


def test_unknown_operations_per_protocol() -> None:
    cases = [
        (
            "ec2",
            HttpRequest.build(
                "POST",
                "/",
                {"Content-Type": "application/x-www-form-urlencoded"},
                b"Action=FlyToTheMoon&Version=2016-11-15",
            ),
            "InvalidAction",
            400,
            "The action FlyToTheMoon is not valid for this web service.",
        ),
        (
            "elbv2",
            HttpRequest.build("POST", "/", None, b"Action=FlyToTheMoon&Version=2015-12-01"),
            "InvalidAction",
            400,
            "The action FlyToTheMoon is not valid for this web service.",
        ),
        (
            "pricing",
            HttpRequest.build("POST", "/", {"X-Amz-Target": "AWSPriceListService.Fly"}, b"{}"),
            "UnknownOperationException",
            400,
            None,
        ),
        (
            "vpc-lattice",
            HttpRequest.build("GET", "/no/such/thing"),
            "UnknownOperationException",
            404,
            None,
        ),
        (
            "route53",
            HttpRequest.build("DELETE", "/2013-04-01/hostedzone"),
            "UnknownOperationException",
            404,
            None,
        ),
    ]
    for service, request, code, status, message in cases:
        model = load_service_model(service)
        with pytest.raises(ServiceError) as caught:
            parse_request(model, request)
        assert caught.value.code == code
        if message is not None:
            assert caught.value.message == message
        response = serialize_error(model, caught.value, "r")
        assert response.status == status
        op_name = sorted(model.operation_names)[0]
        assert botocore_parse_error(service, op_name, response)["Error"]["Code"] == code


def test_missing_action_is_an_aws_error() -> None:
    with pytest.raises(ServiceError) as caught:
        parse_request(load_service_model("ec2"), HttpRequest.build("POST", "/", None, b"Foo=1"))
    assert caught.value.code == "MissingAction"


# --- routing -------------------------------------------------------------------------------


def test_greedy_label_keeps_slashes_and_decodes_once() -> None:
    request = botocore_request("s3", "GetObject", {"Bucket": "b", "Key": "a/b%2Fc/ d+e"})
    assert "%252F" in request.path
    op, parsed = parse_request(load_service_model("s3"), request)
    assert op.name == "GetObject"
    assert parsed == {"Bucket": "b", "Key": "a/b%2Fc/ d+e"}


def test_static_query_keys_choose_the_operation() -> None:
    model = load_service_model("s3")
    v2, _ = parse_request(model, HttpRequest.build("GET", "/b?list-type=2&prefix=x"))
    v1, _ = parse_request(model, HttpRequest.build("GET", "/b?prefix=x"))
    tagging, _ = parse_request(model, HttpRequest.build("GET", "/b?tagging"))
    assert (v2.name, v1.name, tagging.name) == ("ListObjectsV2", "ListObjects", "GetBucketTagging")


def test_trailing_slash_is_tolerated() -> None:
    model = load_service_model("route53")
    op, params = parse_request(model, HttpRequest.build("GET", "/2013-04-01/hostedzone/Z1/"))
    assert op.name == "GetHostedZone" and params == {"Id": "Z1"}


# --- request values --------------------------------------------------------------------------


def test_headers_are_case_insensitive_and_keep_spelling() -> None:
    headers = Headers([("X-Amz-Target", "a"), ("x-amz-meta-Owner", "me")])
    assert headers["x-amz-target"] == "a"
    assert "X-AMZ-META-OWNER" in headers
    assert list(headers) == ["X-Amz-Target", "x-amz-meta-Owner"]
    headers.add("x-amz-target", "b")
    assert headers["X-Amz-Target"] == "a, b"


def test_form_merges_query_string_and_body() -> None:
    request = HttpRequest.build(
        "POST",
        "/?Action=DescribeVpcs&Version=1",
        {"content-type": "application/x-www-form-urlencoded"},
        b"Version=2016-11-15&VpcId.1=vpc-1",
    )
    assert request.form() == {"Action": "DescribeVpcs", "Version": "2016-11-15", "VpcId.1": "vpc-1"}


def test_build_keeps_a_double_slash_path() -> None:
    request = HttpRequest.build("GET", "//b/k?x=1")
    assert (request.path, request.query) == ("//b/k", {"x": ["1"]})
