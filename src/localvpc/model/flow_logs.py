"""VPC flow log subscriptions: which traffic of which resource goes to which destination."""

from __future__ import annotations

from dataclasses import dataclass

from localvpc.model.base import Resource


@dataclass(slots=True)
class FlowLog(Resource):
    """One flow log (``fl-...``) on one VPC, subnet, ENI, transit gateway or attachment.

    ``destination`` is the ARN records go to (S3 bucket with optional prefix, log group,
    Firehose delivery stream); ``log_group_name`` is the CloudWatch group for that type.
    ``traffic_type`` is None for transit-gateway flow logs, which take no filter.
    """

    resource_id: str = ""
    resource_type: str = "VPC"
    traffic_type: str | None = "ALL"
    destination_type: str = "cloud-watch-logs"
    destination: str = ""
    log_group_name: str | None = None
    log_format: str = ""
    max_aggregation_interval: int = 600
    deliver_logs_permission_arn: str | None = None
    deliver_cross_account_role: str | None = None
    file_format: str | None = None  # s3 only: plain-text | parquet
    hive_compatible_partitions: bool = False
    per_hour_partition: bool = False
    created: float = 0.0
    deliver_logs_status: str = "SUCCESS"
    deliver_logs_error: str | None = None

    @property
    def s3_bucket(self) -> str:
        """The bucket of an ``arn:aws:s3:::bucket/prefix`` destination."""
        return self.destination.removeprefix("arn:aws:s3:::").split("/", 1)[0]

    @property
    def s3_prefix(self) -> str:
        """The folder inside the bucket ('' when the ARN names only the bucket)."""
        rest = self.destination.removeprefix("arn:aws:s3:::").split("/", 1)
        return rest[1].strip("/") if len(rest) > 1 else ""
