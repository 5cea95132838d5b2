"""VPC flow logs: CreateFlowLogs, DescribeFlowLogs, DeleteFlowLogs.

A subscription names a resource (VPC, subnet, ENI, transit gateway or attachment), a traffic
filter, a format and a destination; ``flowlogs/publish.py`` writes records to it. Resource ids
that do not exist do not fail the call: they come back in ``Unsuccessful``, as in EC2.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    error,
    new_id,
    paginate,
    scoped,
    tags_list,
)
from localvpc.flowlogs.format import (
    DEFAULT_FORMAT,
    TGW_DEFAULT_FORMAT,
    FlowLogFormatError,
    parse_log_format,
)
from localvpc.model.flow_logs import FlowLog

# resource type -> (Network table, NotFound code, noun in the message)
_RESOURCES = {
    "VPC": ("vpcs", "InvalidVpcID.NotFound", "vpc"),
    "Subnet": ("subnets", "InvalidSubnetID.NotFound", "subnet"),
    "NetworkInterface": ("network_interfaces", "InvalidNetworkInterfaceID.NotFound",
                         "network interface"),
    "TransitGateway": ("transit_gateways", "InvalidTransitGatewayID.NotFound",
                       "transit gateway"),
    "TransitGatewayAttachment": ("transit_gateway_attachments",
                                 "InvalidTransitGatewayAttachmentID.NotFound",
                                 "transit gateway attachment"),
}
_TGW_TYPES = ("TransitGateway", "TransitGatewayAttachment")
_FILTERS = {
    "deliver-log-status": lambda f: [f.deliver_logs_status],
    "log-destination-type": lambda f: [f.destination_type],
    "flow-log-id": lambda f: [f.id],
    "log-group-name": lambda f: [f.log_group_name] if f.log_group_name else [],
    "resource-id": lambda f: [f.resource_id],
    "traffic-type": lambda f: [f.traffic_type] if f.traffic_type else [],
}


def _invalid(message: str) -> Any:
    return error("InvalidParameter", message)


def _destination(ctx: RequestContext, params: dict[str, Any], kind: str
                 ) -> tuple[str, str | None]:
    """``(destination ARN, log group name)`` after EC2's checks of the destination."""
    destination = params.get("LogDestination")
    group = params.get("LogGroupName")
    role = params.get("DeliverLogsPermissionArn")
    cross = params.get("DeliverCrossAccountRole")
    if kind == "cloud-watch-logs":
        if destination and group:
            raise _invalid("Please only provide LogGroupName or only provide LogDestination.")
        if not destination and not group:
            raise _invalid("LogDestination or LogGroupName must be provided for "
                           "cloud-watch-logs delivery.")
        if not role:
            # Undocumented wording; the rule (a role is needed to publish to CloudWatch Logs)
            # is AWS's.
            raise _invalid("DeliverLogsPermissionArn must be provided for cloud-watch-logs "
                           "delivery.")
        if destination:
            prefix = "arn:aws:logs:"
            if not destination.startswith(prefix) or ":log-group:" not in destination:
                raise _invalid(f"LogDestination: {destination} is not a valid CloudWatch Logs "
                               "log group ARN.")
            group = destination.split(":log-group:", 1)[1]
            if group.endswith(":*"):
                raise _invalid(f"LogDestination: {destination} must not end with ':*'.")
        else:
            destination = f"arn:aws:logs:{ctx.region}:{ctx.account}:log-group:{group}"
        return destination, group
    if group:
        raise _invalid(f"LogGroupName is not applicable for {kind} delivery")
    if not destination:
        raise _invalid(f"LogDestination must be provided for {kind} delivery.")
    if kind == "s3":
        if role:
            raise _invalid("DeliverLogsPermissionArn is not applicable for s3 delivery")
        rest = destination.removeprefix("arn:aws:s3:::")
        bucket, _, folder = rest.partition("/")
        if rest == destination or not bucket:
            raise _invalid(f"LogDestination: {destination} is not a valid S3 ARN.")
        if folder.strip("/").split("/")[0] == "AWSLogs":
            raise _invalid("LogDestination: AWSLogs is a reserved prefix and cannot be used.")
        if ctx.state.delivery.objects.bucket(bucket) is None:
            raise _invalid(f"LogDestination: {bucket} does not exist")
        return destination, None
    # kinesis-data-firehose
    if bool(role) != bool(cross):
        raise _invalid("When providing a role for cross-account delivery, both the "
                           "DeliverLogsPermissionArn and DeliverCrossAccountRole fields must "
                           "be set.")
    parts = destination.split(":")
    if len(parts) != 6 or parts[2] != "firehose" or not parts[5].startswith("deliverystream/"):
        raise _invalid(f"LogDestination: {destination} is not a valid Firehose delivery "
                       "stream ARN.")
    region, account, name = parts[3], parts[4], parts[5].split("/", 1)[1]
    if ctx.state.meta(f"firehose/{account}/{region}/{name}") is None:
        raise _invalid(f"LogDestination: delivery stream {destination} does not exist.")
    return destination, None


def _format(params: dict[str, Any], resource_type: str) -> str:
    text = params.get("LogFormat")
    tgw = resource_type in _TGW_TYPES
    if text is None:
        return TGW_DEFAULT_FORMAT if tgw else DEFAULT_FORMAT
    try:
        parse_log_format(text, resource="tgw" if tgw else "vpc")
    except FlowLogFormatError as e:
        raise error(e.code, e.message) from None
    return str(text)


def flow_log_row(f: FlowLog) -> dict[str, Any]:
    out: dict[str, Any] = {
        "CreationTime": dt.datetime.fromtimestamp(f.created, tz=dt.UTC),
        "DeliverLogsStatus": f.deliver_logs_status,
        "DeliverLogsErrorMessage": f.deliver_logs_error,
        "DeliverLogsPermissionArn": f.deliver_logs_permission_arn,
        "DeliverCrossAccountRole": f.deliver_cross_account_role,
        "FlowLogId": f.id, "FlowLogStatus": "ACTIVE", "LogGroupName": f.log_group_name,
        "ResourceId": f.resource_id, "TrafficType": f.traffic_type,
        "LogDestinationType": f.destination_type, "LogDestination": f.destination,
        "LogFormat": f.log_format, "Tags": tags_list(f.tags),
        "MaxAggregationInterval": f.max_aggregation_interval}
    if f.destination_type == "s3":
        out["DestinationOptions"] = {"FileFormat": f.file_format or "plain-text",
                                     "HiveCompatiblePartitions": f.hive_compatible_partitions,
                                     "PerHourPartition": f.per_hour_partition}
    return out


class FlowLogOperations:
    def CreateFlowLogs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource_type = params.get("ResourceType")
        ids = list(params.get("ResourceIds") or [])
        if resource_type is None:
            raise error("MissingParameter", "The request must contain the parameter "
                        "ResourceType")
        if resource_type not in _RESOURCES:
            raise _invalid(f"Invalid resource type: {resource_type}")
        if not ids:
            raise error("MissingParameter", "The request must contain the parameter "
                        "ResourceIds")
        tgw = resource_type in _TGW_TYPES
        if tgw and len(ids) > 25:
            raise _invalid("You can specify at most 25 resource ids for transit gateway "
                           "resource types.")
        traffic = params.get("TrafficType")
        if tgw and traffic is not None:
            raise _invalid("TrafficType is not supported for transit gateway resource types.")
        if not tgw:
            if traffic is None:
                raise error("MissingParameter", "The request must contain the parameter "
                            "TrafficType")
            if traffic not in ("ACCEPT", "REJECT", "ALL"):
                raise _invalid(f"Invalid traffic type: {traffic}")
        interval = params.get("MaxAggregationInterval", 60 if tgw else 600)
        if interval not in (60, 600) or (tgw and interval != 60):
            raise _invalid("Invalid Flow Log Max Aggregation Interval")
        kind = params.get("LogDestinationType") or "cloud-watch-logs"
        if kind not in ("cloud-watch-logs", "s3", "kinesis-data-firehose"):
            raise _invalid(f"Invalid log destination type: {kind}")
        destination, group = _destination(ctx, params, kind)
        log_format = _format(params, resource_type)
        options = params.get("DestinationOptions") or {}
        if options and kind != "s3":
            raise _invalid("DestinationOptions is only supported for s3 delivery.")
        file_format = options.get("FileFormat") if kind == "s3" else None
        if file_format not in (None, "plain-text", "parquet"):
            raise _invalid(f"Invalid FileFormat: {file_format}")

        table, code, noun = _RESOURCES[resource_type]
        resources = scoped(getattr(ctx.state.network, table), ctx.account, ctx.region)
        existing = scoped(ctx.state.network.flow_logs, ctx.account, ctx.region).values()
        created: list[FlowLog] = []
        unsuccessful: list[dict[str, Any]] = []
        for rid in dict.fromkeys(ids):
            if rid not in resources:
                unsuccessful.append({"ResourceId": rid, "Error": {
                    "Code": code, "Message": f"The {noun} ID '{rid}' does not exist"}})
                continue
            if any(f.resource_id == rid and f.traffic_type == traffic
                   and f.destination_type == kind and f.destination == destination
                   for f in [*existing, *created]):
                unsuccessful.append({"ResourceId": rid, "Error": {
                    "Code": "FlowLogAlreadyExists", "Message": "Error. There is an existing "
                    "Flow Log with the same configuration and log destination."}})
                continue
            flow_log = FlowLog(
                id=new_id("fl"), account=ctx.account, region=ctx.region, resource_id=rid,
                resource_type=resource_type, traffic_type=traffic, destination_type=kind,
                destination=destination, log_group_name=group, log_format=log_format,
                max_aggregation_interval=interval,
                deliver_logs_permission_arn=params.get("DeliverLogsPermissionArn"),
                deliver_cross_account_role=params.get("DeliverCrossAccountRole"),
                file_format=(file_format or "plain-text") if kind == "s3" else None,
                hive_compatible_partitions=bool(options.get("HiveCompatiblePartitions")),
                per_hour_partition=bool(options.get("PerHourPartition")),
                created=time.time())
            apply_tag_specs(flow_log, params, "vpc-flow-log")
            created.append(flow_log)
        if created:
            with ctx.state.write() as w:
                for flow_log in created:
                    ctx.state.network.add(flow_log)
                    w.save(flow_log)
        out: dict[str, Any] = {"FlowLogIds": [f.id for f in created],
                               "Unsuccessful": unsuccessful}
        if params.get("ClientToken"):
            out["ClientToken"] = params["ClientToken"]
        return out

    def DescribeFlowLogs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        items = list(scoped(ctx.state.network.flow_logs, ctx.account, ctx.region).values())
        wanted = params.get("FlowLogIds")
        if wanted:
            # EC2 answers unknown flow log ids with an empty list, not an error.
            items = [f for f in items if f.id in set(wanted)]
        items = apply_filters(items, params.get("Filter"), _FILTERS)
        page, token = paginate(items, params, lambda f: f.id)
        return {"FlowLogs": [flow_log_row(f) for f in page], "NextToken": token}

    def DeleteFlowLogs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = list(dict.fromkeys(params.get("FlowLogIds") or []))
        if not ids:
            raise error("MissingParameter", "The request must contain the parameter "
                        "FlowLogIds")
        mine = scoped(ctx.state.network.flow_logs, ctx.account, ctx.region)
        missing = [i for i in ids if i not in mine]
        found = [i for i in ids if i in mine]
        if found:
            with ctx.state.write() as w:
                for fid in found:
                    del ctx.state.network.flow_logs[fid]
                    w.deleted.append(("flow_logs", fid))
        unsuccessful = [{"ResourceId": i, "Error": {
            "Code": "InvalidFlowLogId.NotFound",
            "Message": f"These flow log ids in the input list are not found: "
                       f"[TotalCount: {len(missing)}] {' '.join(missing)}"}} for i in missing]
        return {"Unsuccessful": unsuccessful}
