"""EC2 CreateFlowLogs / DescribeFlowLogs / DeleteFlowLogs over the API."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server
from localvpc.flowlogs.format import DEFAULT_FORMAT, SEED_FORMAT

ROLE = "arn:aws:iam::000000000000:role/flow-logs"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def setup(server: Server) -> tuple[Any, str, str]:
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    server.client("s3").create_bucket(Bucket="flow-bucket")
    return ec2, vpc, subnet


def test_s3_flow_log_with_options_and_unsuccessful_ids(fresh: Server) -> None:
    ec2, vpc, subnet = setup(fresh)
    out = ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[vpc, "vpc-0123456789abcdef0"], TrafficType="REJECT",
        LogDestinationType="s3", LogDestination="arn:aws:s3:::flow-bucket/team-a",
        LogFormat=SEED_FORMAT, MaxAggregationInterval=60,
        DestinationOptions={"FileFormat": "parquet", "HiveCompatiblePartitions": True,
                            "PerHourPartition": True},
        TagSpecifications=[{"ResourceType": "vpc-flow-log",
                            "Tags": [{"Key": "Name", "Value": "rejects"}]}])
    assert len(out["FlowLogIds"]) == 1 and out["FlowLogIds"][0].startswith("fl-")
    assert out["Unsuccessful"] == [{"ResourceId": "vpc-0123456789abcdef0", "Error": {
        "Code": "InvalidVpcID.NotFound",
        "Message": "The vpc ID 'vpc-0123456789abcdef0' does not exist"}}]
    flow = ec2.describe_flow_logs(FlowLogIds=out["FlowLogIds"])["FlowLogs"][0]
    assert flow["ResourceId"] == vpc and flow["TrafficType"] == "REJECT"
    assert flow["LogDestination"] == "arn:aws:s3:::flow-bucket/team-a"
    assert flow["LogFormat"] == SEED_FORMAT and flow["MaxAggregationInterval"] == 60
    assert flow["DestinationOptions"] == {"FileFormat": "parquet",
                                          "HiveCompatiblePartitions": True,
                                          "PerHourPartition": True}
    assert flow["Tags"] == [{"Key": "Name", "Value": "rejects"}]
    assert flow["FlowLogStatus"] == "ACTIVE" and flow["DeliverLogsStatus"] == "SUCCESS"
    again = ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="REJECT",
                                 LogDestinationType="s3",
                                 LogDestination="arn:aws:s3:::flow-bucket/team-a")
    assert again["FlowLogIds"] == []
    assert again["Unsuccessful"][0]["Error"]["Code"] == "FlowLogAlreadyExists"
    # Defaults: ALL traffic needs to be given; the default format and 600 s.
    default = ec2.create_flow_logs(ResourceType="Subnet", ResourceIds=[subnet],
                                   TrafficType="ALL", LogDestinationType="s3",
                                   LogDestination="arn:aws:s3:::flow-bucket")["FlowLogIds"][0]
    row = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [subnet]}])
    assert [f["FlowLogId"] for f in row["FlowLogs"]] == [default]
    assert row["FlowLogs"][0]["LogFormat"] == DEFAULT_FORMAT
    assert row["FlowLogs"][0]["MaxAggregationInterval"] == 600
    assert row["FlowLogs"][0]["DestinationOptions"]["FileFormat"] == "plain-text"


def test_cloudwatch_and_firehose_destinations(fresh: Server) -> None:
    ec2, vpc, _ = setup(fresh)
    cwl = ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
                               LogGroupName="/vpc/flow", DeliverLogsPermissionArn=ROLE)
    flow = ec2.describe_flow_logs(FlowLogIds=cwl["FlowLogIds"])["FlowLogs"][0]
    assert flow["LogDestinationType"] == "cloud-watch-logs"
    assert flow["LogGroupName"] == "/vpc/flow"
    assert flow["LogDestination"] == "arn:aws:logs:us-east-1:000000000000:log-group:/vpc/flow"
    fresh.client("firehose").create_delivery_stream(
        DeliveryStreamName="PUT-Kinesis-Demo-Stream",
        ExtendedS3DestinationConfiguration={"RoleARN": ROLE,
                                            "BucketARN": "arn:aws:s3:::flow-bucket"})
    # The seed's command, through the AWS CLI.
    out = fresh.aws(
        "ec2", "create-flow-logs", "--resource-type", "VPC", "--resource-ids", vpc,
        "--traffic-type", "ALL", "--log-destination-type", "kinesis-data-firehose",
        "--log-destination",
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/PUT-Kinesis-Demo-Stream",
        "--max-aggregation-interval", "60", "--log-format", SEED_FORMAT)
    assert out["Unsuccessful"] == [] and len(out["FlowLogIds"]) == 1
    listed = ec2.describe_flow_logs(Filters=[{"Name": "log-destination-type",
                                              "Values": ["kinesis-data-firehose"]}])
    assert [f["FlowLogId"] for f in listed["FlowLogs"]] == out["FlowLogIds"]


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::flow-bucket",
      "DeliverLogsPermissionArn": ROLE}, "InvalidParameter"),
    ({"LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::no-such-bucket"},
     "InvalidParameter"),
    ({"LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::flow-bucket/AWSLogs"},
     "InvalidParameter"),
    ({"LogGroupName": "/g"}, "InvalidParameter"),  # no role for CloudWatch Logs
    ({"LogGroupName": "/g", "DeliverLogsPermissionArn": ROLE,
      "LogDestination": "arn:aws:logs:us-east-1:000000000000:log-group:/g"},
     "InvalidParameter"),
    ({"LogDestinationType": "kinesis-data-firehose",
      "LogDestination": "arn:aws:firehose:us-east-1:000000000000:deliverystream/none"},
     "InvalidParameter"),
    ({"LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::flow-bucket",
      "LogFormat": "${version} ${no-such-field}"}, "InvalidParameter"),
    ({"LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::flow-bucket",
      "LogFormat": "version srcaddr"}, "InvalidParameter"),
    ({"LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::flow-bucket",
      "MaxAggregationInterval": 300}, "InvalidParameter"),
    ({"LogGroupName": "/g", "DeliverLogsPermissionArn": ROLE,
      "DestinationOptions": {"FileFormat": "parquet"}}, "InvalidParameter"),
])
def test_create_flow_logs_rejects_bad_input(fresh: Server, kwargs: dict[str, Any],
                                            expected: str) -> None:
    ec2, vpc, _ = setup(fresh)
    with pytest.raises(ClientError) as e:
        ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
                             **kwargs)
    assert code(e) == expected
    assert ec2.describe_flow_logs()["FlowLogs"] == []


def test_transit_gateway_flow_logs_take_no_traffic_type(fresh: Server) -> None:
    ec2, _, _ = setup(fresh)
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    with pytest.raises(ClientError) as e:
        ec2.create_flow_logs(ResourceType="TransitGateway", ResourceIds=[tgw],
                             TrafficType="ALL", LogDestinationType="s3",
                             LogDestination="arn:aws:s3:::flow-bucket")
    assert code(e) == "InvalidParameter"
    with pytest.raises(ClientError) as e:
        ec2.create_flow_logs(ResourceType="TransitGateway", ResourceIds=[tgw],
                             LogDestinationType="s3", LogDestination="arn:aws:s3:::flow-bucket",
                             MaxAggregationInterval=600)
    assert code(e) == "InvalidParameter"
    made = ec2.create_flow_logs(ResourceType="TransitGateway", ResourceIds=[tgw],
                                LogDestinationType="s3",
                                LogDestination="arn:aws:s3:::flow-bucket")["FlowLogIds"]
    flow = ec2.describe_flow_logs(FlowLogIds=made)["FlowLogs"][0]
    assert flow["MaxAggregationInterval"] == 60 and "TrafficType" not in flow
    assert flow["LogFormat"].startswith("${version} ${resource-type} ${account-id} ${tgw-id}")


def test_delete_flow_logs(fresh: Server) -> None:
    ec2, vpc, _ = setup(fresh)
    made = ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
                                LogDestinationType="s3",
                                LogDestination="arn:aws:s3:::flow-bucket")["FlowLogIds"]
    out = ec2.delete_flow_logs(FlowLogIds=[*made, "fl-0000000000000000a"])
    assert out["Unsuccessful"] == [{"ResourceId": "fl-0000000000000000a", "Error": {
        "Code": "InvalidFlowLogId.NotFound",
        "Message": "These flow log ids in the input list are not found: "
                   "[TotalCount: 1] fl-0000000000000000a"}}]
    assert ec2.describe_flow_logs()["FlowLogs"] == []
