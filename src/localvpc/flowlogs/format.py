"""Flow-log format strings: parse AWS's ``${field}`` syntax, write record lines and headers.

Generators, delivery paths and the reader all agree on one record shape (a dict keyed by AWS
field names, ints for numeric fields, None for ``-``); this module is the single place that
turns a format string into a field list and a record into a line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from localvpc.flowlogs.fields import FIELDS, TGW_FIELDS, VPC_FIELDS, canonical_name
from localvpc.model.errors import LocalVpcError

DEFAULT_FIELDS: tuple[str, ...] = (
    "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "action", "log-status",
)
DEFAULT_FORMAT = " ".join(f"${{{f}}}" for f in DEFAULT_FIELDS)
"""The fixed version-2 default format of VPC flow logs."""

TGW_DEFAULT_FIELDS: tuple[str, ...] = (
    "version", "resource-type", "account-id", "tgw-id", "tgw-attachment-id",
    "tgw-src-vpc-account-id", "tgw-dst-vpc-account-id", "tgw-src-vpc-id", "tgw-dst-vpc-id",
    "tgw-src-subnet-id", "tgw-dst-subnet-id", "tgw-src-eni", "tgw-dst-eni", "tgw-src-az-id",
    "tgw-dst-az-id", "tgw-pair-attachment-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "log-status", "type",
    "packets-lost-no-route", "packets-lost-blackhole", "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired", "tcp-flags", "region", "flow-direction",
    "pkt-src-aws-service", "pkt-dst-aws-service",
)
TGW_DEFAULT_FORMAT = " ".join(f"${{{f}}}" for f in TGW_DEFAULT_FIELDS)
"""Transit-gateway flow logs created without a format get every TGW field (v2-v6)."""

ALL_V5_FIELDS: tuple[str, ...] = VPC_FIELDS[: VPC_FIELDS.index("traffic-path") + 1]
"""The 29 fields of versions 2-5 in AWS's table order."""

SEED_FIELDS: tuple[str, ...] = tuple(sorted(ALL_V5_FIELDS))
"""The enrich article's custom format: the 29 v2-v5 fields in alphabetical order."""
SEED_FORMAT = " ".join(f"${{{f}}}" for f in SEED_FIELDS)

_TOKEN = re.compile(r"\$\{([^}]*)\}")


class FlowLogFormatError(LocalVpcError):
    """A ``LogFormat`` string is invalid; ``code``/``message`` are what EC2 answers."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _invalid(text: str) -> FlowLogFormatError:
    # The wording EC2 uses for a malformed LogFormat (observed through CloudFormation,
    # aws-cloudformation/rain#288).
    return FlowLogFormatError(
        "InvalidParameter",
        f"1 validation error detected: Value '{text}' at 'logFormat' has an invalid format",
    )


def _unknown(names: Sequence[str]) -> FlowLogFormatError:
    # AWS does not document this message; we name the offending fields as written.
    return FlowLogFormatError(
        "InvalidParameter", "Unknown fields provided: " + ", ".join(f"${{{n}}}" for n in names)
    )


def parse_log_format(
    text: str, *, resource: Literal["vpc", "tgw"] | None = None
) -> list[str]:
    """Field names of an AWS ``LogFormat`` string (``'${version} ${srcaddr}'``).

    Strict like CreateFlowLogs: fields separated by single spaces, nothing else. With
    ``resource`` the fields must belong to that kind of flow log (TGW fields only on transit
    gateway flow logs); without it any known field is accepted.
    """
    tokens = text.split(" ")
    if not text or any(_TOKEN.fullmatch(t) is None for t in tokens):
        raise _invalid(text)
    names = [t[2:-1] for t in tokens]
    allowed: Sequence[str] | Mapping[str, Any]
    allowed = FIELDS if resource is None else (VPC_FIELDS if resource == "vpc" else TGW_FIELDS)
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise _unknown(unknown)
    return names


def parse_fields_lenient(text: str) -> list[str]:
    """Field names from any spelling users and tools write a format in.

    Accepts ``${log-status}``, a header line (``log-status``), and the underscore spelling of
    Parquet/VRL (``log_status``), separated by runs of whitespace. Unknown names raise
    FlowLogFormatError like :func:`parse_log_format`.
    """
    names: list[str] = []
    unknown: list[str] = []
    for raw in text.split():
        token = raw[2:-1] if raw.startswith("${") and raw.endswith("}") else raw
        name = canonical_name(token)
        if name is None:
            unknown.append(token)
        else:
            names.append(name)
    if unknown or not names:
        raise _unknown(unknown) if unknown else _invalid(text)
    return names


def to_log_format(fields: Sequence[str]) -> str:
    """The AWS ``LogFormat`` string for a field list (inverse of parse_log_format)."""
    return " ".join(f"${{{f}}}" for f in fields)


def header_line(fields: Sequence[str]) -> str:
    """The first line of an S3 text object: field names, space separated, no ``${}``."""
    return " ".join(fields)


def format_value(value: Any) -> str:
    """One field as AWS writes it: ``-`` for None, decimal for ints, text otherwise."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        raise TypeError("flow-log fields are never booleans")
    return str(value)


def format_record(record: Mapping[str, Any], fields: Sequence[str]) -> str:
    """A record as one log line in the order of ``fields`` (a missing key is written ``-``)."""
    return " ".join(format_value(record.get(f)) for f in fields)
