"""The catalogue of flow-log fields (VPC and transit gateway), one entry per AWS field name.

Everything that parses, generates, types or stores flow-log records asks this table which
fields exist, which version introduced them and whether they are numbers, so there is one
place to update when AWS adds a field (FORMAT.md §4 and §12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["int", "str"]
Scope = Literal["vpc", "tgw", "both"]


@dataclass(frozen=True, slots=True)
class Field:
    """One flow-log field: AWS name, introducing version, value kind and Parquet width."""

    name: str
    version: int
    kind: Kind
    description: str
    scope: Scope = "vpc"
    parquet: Literal["int32", "int64", "string"] = "string"

    @property
    def column(self) -> str:
        """Column name in AWS Parquet files and Athena DDL (hyphens become underscores)."""
        return self.name.replace("-", "_")


def _f(
    name: str,
    version: int,
    kind: Kind,
    description: str,
    scope: Scope = "vpc",
    parquet: Literal["int32", "int64", "string"] | None = None,
) -> Field:
    width = parquet or ("int64" if kind == "int" else "string")
    return Field(name, version, kind, description, scope, width)


_ALL: tuple[Field, ...] = (
    # -- version 2 (the default format) ------------------------------------------------
    _f("version", 2, "int", "Record format version: highest version among the selected fields.",
       "both", "int32"),
    _f("account-id", 2, "str", "Account owning the source ENI (TGW: owner of the source "
       "transit gateway); 'unknown' for some AWS-managed ENIs.", "both"),
    _f("interface-id", 2, "str", "ENI the traffic was recorded on."),
    _f("srcaddr", 2, "str", "Source address (outgoing traffic: the ENI's primary private IP).",
       "both"),
    _f("dstaddr", 2, "str", "Destination address (incoming traffic: the ENI's primary "
       "private IP).", "both"),
    _f("srcport", 2, "int", "Source port (0 for ICMP).", "both", "int32"),
    _f("dstport", 2, "int", "Destination port (0 for ICMP).", "both", "int32"),
    _f("protocol", 2, "int", "IANA protocol number (1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6).",
       "both", "int64"),
    _f("packets", 2, "int", "Packets of the flow in the aggregation interval.", "both"),
    _f("bytes", 2, "int", "Bytes of the flow in the aggregation interval.", "both"),
    _f("start", 2, "int", "Unix seconds of the first packet seen in the interval.", "both"),
    _f("end", 2, "int", "Unix seconds of the last packet seen in the interval.", "both"),
    _f("action", 2, "str", "ACCEPT or REJECT (security group / network ACL); '-' on "
       "NODATA/SKIPDATA."),
    _f("log-status", 2, "str", "OK, NODATA (no traffic) or SKIPDATA (records dropped).",
       "both"),
    # -- version 3 ---------------------------------------------------------------------
    _f("vpc-id", 3, "str", "VPC of the ENI."),
    _f("subnet-id", 3, "str", "Subnet of the ENI."),
    _f("instance-id", 3, "str", "Instance the ENI is attached to, if owned by the account."),
    _f("tcp-flags", 3, "int", "OR of the TCP flags seen: FIN 1, SYN 2, RST 4, SYN-ACK 18.",
       "both", "int32"),
    _f("type", 3, "str", "IPv4, IPv6 or EFA.", "both"),
    _f("pkt-srcaddr", 3, "str", "Packet-level source address (differs from srcaddr through "
       "NAT gateways and other intermediate ENIs)."),
    _f("pkt-dstaddr", 3, "str", "Packet-level destination address."),
    # -- version 4 ---------------------------------------------------------------------
    _f("region", 4, "str", "Region of the ENI (TGW: of the transit gateway).", "both"),
    _f("az-id", 4, "str", "Availability Zone id (use1-az4) of the ENI; '-' in a "
       "sublocation."),
    _f("sublocation-type", 4, "str", "wavelength, outpost or localzone; '-' otherwise."),
    _f("sublocation-id", 4, "str", "Id of the sublocation; '-' otherwise."),
    # -- version 5 ---------------------------------------------------------------------
    _f("pkt-src-aws-service", 5, "str", "ip-ranges.json service of pkt-srcaddr (AMAZON, S3, "
       "EC2...); '-' if none.", "both"),
    _f("pkt-dst-aws-service", 5, "str", "ip-ranges.json service of pkt-dstaddr.", "both"),
    _f("flow-direction", 5, "str", "ingress or egress, relative to the recording ENI.",
       "both"),
    _f("traffic-path", 5, "int", "Egress path code 1-8 (1 same VPC, 2 IGW or gateway "
       "endpoint, 3 VGW, 4 intra-region peering, 5 inter-region peering, 6 local gateway, "
       "7 gateway endpoint (Nitro), 8 IGW (Nitro)); '-' for ingress.", "vpc", "int32"),
    # -- version 7: ECS ----------------------------------------------------------------
    _f("ecs-cluster-arn", 7, "str", "ECS cluster ARN of the task sending the traffic."),
    _f("ecs-cluster-name", 7, "str", "ECS cluster name."),
    _f("ecs-container-instance-arn", 7, "str", "Container instance ARN (EC2 launch type)."),
    _f("ecs-container-instance-id", 7, "str", "Container instance id (EC2 launch type)."),
    _f("ecs-container-id", 7, "str", "Docker id of the task's first container."),
    _f("ecs-second-container-id", 7, "str", "Docker id of the task's second container."),
    _f("ecs-service-name", 7, "str", "ECS service that started the task."),
    _f("ecs-task-definition-arn", 7, "str", "Task definition ARN."),
    _f("ecs-task-arn", 7, "str", "Task ARN."),
    _f("ecs-task-id", 7, "str", "Task id."),
    # -- version 8 and later -------------------------------------------------------------
    _f("reject-reason", 8, "str", "Why traffic was rejected: BPA (Block Public Access), "
       "else '-'."),
    _f("resource-id", 9, "str", "Resource the traffic was recorded for (version not "
       "confirmed by AWS docs)."),
    _f("encryption-status", 10, "int", "0 clear, 1 Nitro-encrypted, 2 application-encrypted, "
       "3 both; '-' unknown.", "vpc", "int32"),
    _f("interface-type", 11, "str", "Type of the recording ENI."),
    _f("next-hop-interface-id", 11, "str", "ENI of the next hop."),
    _f("next-hop-subnet-id", 11, "str", "Subnet of the next hop."),
    _f("next-hop-az-id", 11, "str", "AZ id of the next hop."),
    _f("next-hop-vpc-id", 11, "str", "VPC of the next hop."),
    _f("next-hop-interface-type", 11, "str", "Type of the next hop's ENI "
       "(e.g. regional_nat_gateway)."),
    _f("instance-tag", 11, "str", "Value of the chosen instance tag key."),
    _f("instance-tag-2", 11, "str", "Value of the second chosen instance tag key."),
    _f("interface-tag", 11, "str", "Value of the chosen ENI tag key."),
    _f("interface-tag-2", 11, "str", "Value of the second chosen ENI tag key."),
    _f("asg-tag", 11, "str", "Value of the chosen Auto Scaling group tag key."),
    _f("asg-tag-2", 11, "str", "Value of the second chosen Auto Scaling group tag key."),
    # -- transit gateway (version 6) -----------------------------------------------------
    _f("resource-type", 6, "str", "TransitGateway or TransitGatewayAttachment.", "tgw"),
    _f("tgw-id", 6, "str", "Transit gateway the traffic was recorded on.", "tgw"),
    _f("tgw-attachment-id", 6, "str", "Attachment the traffic was recorded on.", "tgw"),
    _f("tgw-src-vpc-account-id", 6, "str", "Account of the source VPC.", "tgw"),
    _f("tgw-dst-vpc-account-id", 6, "str", "Account of the destination VPC.", "tgw"),
    _f("tgw-src-vpc-id", 6, "str", "Source VPC.", "tgw"),
    _f("tgw-dst-vpc-id", 6, "str", "Destination VPC.", "tgw"),
    _f("tgw-src-subnet-id", 6, "str", "Source subnet.", "tgw"),
    _f("tgw-dst-subnet-id", 6, "str", "Destination subnet.", "tgw"),
    _f("tgw-src-eni", 6, "str", "Source attachment ENI.", "tgw"),
    _f("tgw-dst-eni", 6, "str", "Destination attachment ENI.", "tgw"),
    _f("tgw-src-az-id", 6, "str", "AZ id of the source.", "tgw"),
    _f("tgw-dst-az-id", 6, "str", "AZ id of the destination.", "tgw"),
    _f("tgw-pair-attachment-id", 6, "str", "The other attachment of the flow.", "tgw"),
    _f("packets-lost-no-route", 6, "int", "Packets dropped: no route.", "tgw"),
    _f("packets-lost-blackhole", 6, "int", "Packets dropped: blackhole route.", "tgw"),
    _f("packets-lost-mtu-exceeded", 6, "int", "Packets dropped: larger than the MTU.", "tgw"),
    _f("packets-lost-ttl-expired", 6, "int", "Packets dropped: TTL expired.", "tgw"),
)

FIELDS: dict[str, Field] = {f.name: f for f in _ALL}
"""Every known field by AWS name."""

VPC_FIELDS: tuple[str, ...] = tuple(f.name for f in _ALL if f.scope in ("vpc", "both"))
TGW_FIELDS: tuple[str, ...] = tuple(f.name for f in _ALL if f.scope in ("tgw", "both"))
INT_FIELDS: frozenset[str] = frozenset(f.name for f in _ALL if f.kind == "int")

_BY_COLUMN: dict[str, str] = {f.column: f.name for f in _ALL}


def field(name: str) -> Field:
    """The field called ``name`` (AWS hyphenated spelling); KeyError if unknown."""
    return FIELDS[name]


def canonical_name(token: str) -> str | None:
    """AWS name for a header token or column name (``log_status`` -> ``log-status``), or None.

    Third-party tools (VRL, Parquet, Athena) spell fields with underscores; both spellings
    name the same field.
    """
    if token in FIELDS:
        return token
    return _BY_COLUMN.get(token)


def record_version(fields: list[str] | tuple[str, ...]) -> int:
    """The ``version`` value AWS writes for a format: the highest version among its fields."""
    return max((FIELDS[f].version for f in fields if f in FIELDS), default=2)
