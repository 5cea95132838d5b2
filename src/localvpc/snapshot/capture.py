"""``capture``: write a snapshot folder from a live endpoint (AWS itself, or ``localvpc serve``).

Every ``describe-*``/``list-*`` operation whose output the loader reads is called in each
region, following pagination with botocore's paginators, and written to
``<out>/<region>/<File>.json`` the way the AWS CLI prints it (``--output json``: the
operation's output under its top-level key, indented by four, datetimes as ISO 8601 text).
Some loader inputs have no single operation behind them; they are assembled per parent record
in the shapes the loader reads:

* ``TransitGatewayStaticRoutes``: per TGW route table, ``SearchTransitGatewayRoutes`` with
  ``type=static``: ``{TransitGatewayRouteTableId, Routes, AdditionalRoutesAvailable}``;
* ``TransitGatewayPropagations``: per TGW route table,
  ``GetTransitGatewayRouteTablePropagations``:
  ``{TransitGatewayRouteTableId, TransitGatewayRouteTablePropagations}``;
* ``LoadBalancerListeners`` / ``LoadBalancerAttributes``: per load balancer,
  ``{LoadBalancerArn, Listeners}`` / ``{LoadBalancerArn, Attributes}``;
* ``LoadBalancerTargetHealth``: per target group, ``{TargetGroupArn, TargetHealthDescriptions}``;
* ``Routes`` (``LocalGatewayRoutes.json``): ``SearchLocalGatewayRoutes`` of every local gateway
  route table, concatenated;
* ``ManagedPrefixLists``: ``DescribeManagedPrefixLists`` records, each with the ``Entries`` of
  ``GetManagedPrefixListEntries`` added.

An operation the endpoint does not implement (``InvalidAction``, ``UnknownOperation...``, HTTP
501), or that the caller is not allowed to call, is skipped with a warning and writes no file.
An endpoint that cannot be reached, missing credentials or region, and any other error raise
``CaptureError``. Only botocore is used (boto3 is not needed).
"""

from __future__ import annotations

import base64
import datetime
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from localvpc.model.errors import LocalVpcError

Params = tuple[tuple[str, Any], ...]


class CaptureError(LocalVpcError):
    """The snapshot cannot be captured (endpoint unreachable, no credentials, API error)."""


@dataclass(frozen=True, slots=True)
class Describe:
    """One call per region: ``operation`` of ``service``, whose records are under ``key``.

    The file ``file`` holds them under ``out_key`` (default: ``key``).
    """

    service: str
    operation: str
    key: str
    file: str
    params: Params = ()
    out_key: str = ""

    @property
    def written_key(self) -> str:
        return self.out_key or self.key


@dataclass(frozen=True, slots=True)
class PerParent:
    """One call per record of an earlier :class:`Describe` (its ``written_key`` is ``parent``).

    The parent's ``id_field`` is passed as the request parameter of the same name. The records
    under ``result_key`` are then, by ``shape``:

    * ``group``: one record ``{id_field: id, result_key: records, **extra}`` per parent, in
      ``file`` under ``out_key``;
    * ``flatten``: all concatenated, in ``file`` under ``out_key``;
    * ``embed``: set as field ``out_key`` of the parent record (no file of its own).
    """

    service: str
    operation: str
    parent: str
    id_field: str
    result_key: str
    shape: Literal["group", "flatten", "embed"]
    out_key: str
    file: str = ""
    params: Params = ()
    extra: tuple[str, ...] = ()


_STATIC: Final[Params] = (("Filters", [{"Name": "type", "Values": ["static"]}]),)

#: Every whole-region call, in the order they run.
DESCRIBES: Final[tuple[Describe, ...]] = (
    Describe("ec2", "DescribeAvailabilityZones", "AvailabilityZones", "AvailabilityZones.json"),
    Describe("outposts", "ListOutposts", "Outposts", "Outposts.json"),
    Describe("ec2", "DescribeVpcs", "Vpcs", "Vpcs.json"),
    Describe("ec2", "DescribeSubnets", "Subnets", "Subnets.json"),
    Describe("ec2", "DescribeDhcpOptions", "DhcpOptions", "DhcpOptions.json"),
    Describe("ec2", "DescribePrefixLists", "PrefixLists", "PrefixLists.json"),
    Describe("ec2", "DescribeManagedPrefixLists", "PrefixLists", "ManagedPrefixLists.json",
             out_key="ManagedPrefixLists"),
    Describe("ec2", "DescribeSecurityGroups", "SecurityGroups", "SecurityGroups.json"),
    Describe("ec2", "DescribeNetworkAcls", "NetworkAcls", "NetworkAcls.json"),
    Describe("ec2", "DescribeNetworkInterfaces", "NetworkInterfaces", "NetworkInterfaces.json"),
    Describe("ec2", "DescribeInstances", "Reservations", "Reservations.json"),
    Describe("ec2", "DescribeAddresses", "Addresses", "Addresses.json"),
    Describe("ec2", "DescribeInternetGateways", "InternetGateways", "InternetGateways.json"),
    Describe("ec2", "DescribeEgressOnlyInternetGateways", "EgressOnlyInternetGateways",
             "EgressOnlyInternetGateways.json"),
    Describe("ec2", "DescribeNatGateways", "NatGateways", "NatGateways.json"),
    Describe("ec2", "DescribeCarrierGateways", "CarrierGateways", "CarrierGateways.json"),
    Describe("ec2", "DescribeVpnGateways", "VpnGateways", "VpnGateways.json"),
    Describe("ec2", "DescribeCustomerGateways", "CustomerGateways", "CustomerGateways.json"),
    Describe("ec2", "DescribeVpnConnections", "VpnConnections", "VpnConnections.json"),
    Describe("ec2", "DescribeVpcPeeringConnections", "VpcPeeringConnections",
             "VpcPeeringConnections.json"),
    Describe("ec2", "DescribeTransitGateways", "TransitGateways", "TransitGateways.json"),
    Describe("ec2", "DescribeTransitGatewayAttachments", "TransitGatewayAttachments",
             "TransitGatewayAttachments.json"),
    Describe("ec2", "DescribeTransitGatewayVpcAttachments", "TransitGatewayVpcAttachments",
             "TransitGatewayVpcAttachments.json"),
    Describe("ec2", "DescribeTransitGatewayPeeringAttachments",
             "TransitGatewayPeeringAttachments", "TransitGatewayPeeringAttachments.json"),
    Describe("ec2", "DescribeTransitGatewayRouteTables", "TransitGatewayRouteTables",
             "TransitGatewayRouteTables.json"),
    Describe("ec2", "DescribeLocalGateways", "LocalGateways", "LocalGateways.json"),
    Describe("ec2", "DescribeLocalGatewayRouteTables", "LocalGatewayRouteTables",
             "LocalGatewayRouteTables.json"),
    Describe("ec2", "DescribeLocalGatewayRouteTableVpcAssociations",
             "LocalGatewayRouteTableVpcAssociations",
             "LocalGatewayRouteTableVpcAssociations.json"),
    Describe("ec2", "DescribeCoipPools", "CoipPools", "CoipPools.json"),
    Describe("ec2", "DescribeVpcEndpoints", "VpcEndpoints", "VpcEndpoints.json"),
    Describe("ec2", "DescribeRouteTables", "RouteTables", "RouteTables.json"),
    Describe("elbv2", "DescribeLoadBalancers", "LoadBalancers", "LoadBalancers.json"),
    Describe("elbv2", "DescribeTargetGroups", "TargetGroups", "TargetGroups.json"),
)

#: Every per-parent call, run after the whole-region calls.
PER_PARENT: Final[tuple[PerParent, ...]] = (
    PerParent("ec2", "GetManagedPrefixListEntries", "ManagedPrefixLists", "PrefixListId",
              "Entries", "embed", "Entries"),
    PerParent("ec2", "SearchTransitGatewayRoutes", "TransitGatewayRouteTables",
              "TransitGatewayRouteTableId", "Routes", "group", "TransitGatewayStaticRoutes",
              "TransitGatewayStaticRoutes.json", params=_STATIC,
              extra=("AdditionalRoutesAvailable",)),
    PerParent("ec2", "GetTransitGatewayRouteTablePropagations", "TransitGatewayRouteTables",
              "TransitGatewayRouteTableId", "TransitGatewayRouteTablePropagations", "group",
              "TransitGatewayPropagations", "TransitGatewayPropagations.json"),
    PerParent("ec2", "SearchLocalGatewayRoutes", "LocalGatewayRouteTables",
              "LocalGatewayRouteTableId", "Routes", "flatten", "Routes",
              "LocalGatewayRoutes.json"),
    PerParent("elbv2", "DescribeListeners", "LoadBalancers", "LoadBalancerArn", "Listeners",
              "group", "LoadBalancerListeners", "LoadBalancerListeners.json"),
    PerParent("elbv2", "DescribeLoadBalancerAttributes", "LoadBalancers", "LoadBalancerArn",
              "Attributes", "group", "LoadBalancerAttributes", "LoadBalancerAttributes.json"),
    PerParent("elbv2", "DescribeTargetHealth", "TargetGroups", "TargetGroupArn",
              "TargetHealthDescriptions", "group", "LoadBalancerTargetHealth",
              "LoadBalancerTargetHealth.json"),
)

#: Error codes (and HTTP statuses) of an operation the endpoint does not have.
NOT_IMPLEMENTED_CODES: Final = frozenset({
    "InvalidAction", "UnknownOperation", "UnknownOperationException", "UnsupportedOperation",
    "NotImplemented", "UnknownServiceException",
})
NOT_IMPLEMENTED_STATUS: Final = 501
#: Error codes of an operation the caller may not call (a partial snapshot is still useful).
ACCESS_DENIED_CODES: Final = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException",
})
#: Output keys that only carry pagination or request bookkeeping.
_BOOKKEEPING: Final = frozenset({"ResponseMetadata", "NextToken", "NextMarker", "Marker"})
#: The probe that tells a reachable endpoint from an unreadable one.
_PROBE: Final = ("ec2", "DescribeVpcs")

_RETRIES: Final = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10,
                         read_timeout=120, user_agent_extra="localvpc-capture")
_NO_RETRIES: Final = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=10,
                            read_timeout=60, user_agent_extra="localvpc-capture")


@dataclass(slots=True)
class CaptureReport:
    """What a capture wrote (``(path, records)`` per file) and what it skipped, and why."""

    files: list[tuple[Path, int]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class _Skip(Exception):
    """An operation to leave out, with the warning that says why."""


def capture(out: str | Path, regions: Sequence[str] = (), endpoint_url: str | None = None,
            profile: str | None = None, warn: Callable[[str], None] | None = None
            ) -> CaptureReport:
    """Capture every region of ``regions`` (default: the profile's region) into ``out``.

    ``warn`` receives one line per skipped operation. Raises ``CaptureError``.
    """
    root = Path(out)
    report = CaptureReport()

    def skipped(message: str) -> None:
        report.skipped.append(message)
        if warn is not None:
            warn(message)

    try:
        session = botocore.session.Session(profile=profile)
        chosen = list(dict.fromkeys(regions)) or [_default_region(session)]
        for region in chosen:
            _Region(session, region, endpoint_url, root / region, report, skipped).run()
    except NoCredentialsError as exc:
        raise CaptureError("no AWS credentials: use --profile, or set AWS_ACCESS_KEY_ID and "
                           "AWS_SECRET_ACCESS_KEY (any values for localvpc serve)") from exc
    except BotoCoreError as exc:
        raise CaptureError(_one_line(str(exc))) from exc
    return report


def _default_region(session: Any) -> str:
    region = session.get_config_variable("region")
    if not region:
        raise CaptureError("no region: pass --region (or configure one for the profile)")
    return str(region)


class _Region:
    """The capture of one region into ``folder``."""

    def __init__(self, session: Any, region: str, endpoint_url: str | None, folder: Path,
                 report: CaptureReport, skipped: Callable[[str], None]) -> None:
        self.session = session
        self.region = region
        self.endpoint_url = endpoint_url
        self.folder = folder
        self.report = report
        self.skipped = skipped
        self.clients: dict[str, Any] = {}
        self.unreachable: set[str] = set()
        # Written key -> records, for every operation that answered.
        self.records: dict[str, list[Any]] = {}
        # File name -> document, in writing order.
        self.documents: dict[str, dict[str, Any]] = {}

    def client(self, service: str, config: Config = _RETRIES) -> Any:
        key = f"{service}/{id(config)}"
        if key not in self.clients:
            try:
                self.clients[key] = self.session.create_client(
                    service, region_name=self.region, endpoint_url=self.endpoint_url,
                    config=config)
            except ValueError as exc:  # a malformed endpoint URL
                raise CaptureError(f"cannot use endpoint {self.endpoint_url}: {exc}") from exc
        return self.clients[key]

    def run(self) -> None:
        self.probe()
        for describe in DESCRIBES:
            try:
                doc = self.describe(describe)
            except _Skip as skip:
                self.skipped(str(skip))
                continue
            self.records[describe.written_key] = doc[describe.written_key]
            self.documents[describe.file] = doc
        for per in PER_PARENT:
            try:
                self.per_parent(per)
            except _Skip as skip:
                self.skipped(str(skip))
        self.write()

    # ------------------------------------------------------------------ calls

    def probe(self) -> None:
        """Fail fast, without retries, when the endpoint cannot be read at all."""
        service, operation = _PROBE
        where = self.endpoint_url or f"AWS in {self.region}"
        try:
            self.client(service, _NO_RETRIES).describe_vpcs(MaxResults=5)
        except BotoConnectionError as exc:
            raise CaptureError(f"cannot reach {where}: {_one_line(str(exc))}") from exc
        except ResponseParserError as exc:
            raise CaptureError(f"{where} does not answer like the EC2 API: "
                               f"{_one_line(str(exc))}") from exc
        except ClientError as exc:
            code, status = _error_of(exc)
            if code not in NOT_IMPLEMENTED_CODES and status != NOT_IMPLEMENTED_STATUS:
                raise CaptureError(f"{where}: {service} {operation} failed: {code}: "
                                   f"{_message_of(exc)}") from exc

    def describe(self, describe: Describe) -> dict[str, Any]:
        """The file's document: ``{written_key: records}``, plus the rest of the output of an
        unpaginated operation (the CLI prints only the merged records of a paginated one)."""
        records, last = self.call_all(describe.service, describe.operation, describe.key,
                                      dict(describe.params))
        doc: dict[str, Any] = {describe.written_key: records}
        if not self.client(describe.service).can_paginate(xform_name(describe.operation)):
            for key, value in last.items():
                if key not in _BOOKKEEPING and key != describe.key:
                    doc[key] = value
        return doc

    def per_parent(self, per: PerParent) -> None:
        parents = self.records.get(per.parent)
        if parents is None:  # the parent's operation was skipped: nothing to say either way
            return
        grouped: list[Any] = []
        for parent in parents:
            if not isinstance(parent, dict) or not isinstance(parent.get(per.id_field), str):
                continue
            if _state_of(parent) == "deleted":
                continue
            ident: str = parent[per.id_field]
            params = {**dict(per.params), per.id_field: ident}
            try:
                records, last = self.call_all(per.service, per.operation, per.result_key,
                                              params)
            except _Gone:
                continue
            if per.shape == "embed":
                parent[per.out_key] = records
            elif per.shape == "flatten":
                grouped.extend(records)
            else:
                group: dict[str, Any] = {per.id_field: ident, per.result_key: records}
                for key in per.extra:
                    group[key] = last.get(key, False)
                grouped.append(group)
        if per.shape != "embed":
            self.documents[per.file] = {per.out_key: grouped}

    def call_all(self, service: str, operation: str, result_key: str,
                 params: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Every record of ``result_key`` over all pages, and the last page's output."""
        label = f"{service} {operation}"
        if service in self.unreachable:
            raise _Skip(f"{self.region}: {label}: skipped, {service} is not reachable")
        client = self.client(service)
        try:
            records: list[Any] = []
            last: dict[str, Any] = {}
            for page in _pages(client, operation, params):
                value = page.get(result_key)
                if isinstance(value, list):
                    records.extend(value)
                last = page
            if last.get("AdditionalRoutesAvailable") is True:
                self.skipped(f"{self.region}: {label} {_ids(params)}: the endpoint has more "
                             "routes than it returned; the rest are missing")
            return records, last
        except ClientError as exc:
            code, status = _error_of(exc)
            if code in NOT_IMPLEMENTED_CODES or status == NOT_IMPLEMENTED_STATUS:
                raise _Skip(f"{self.region}: {label}: not implemented by the endpoint "
                            f"({code or status}); skipped") from exc
            if code in ACCESS_DENIED_CODES:
                raise _Skip(f"{self.region}: {label}: not allowed ({code}); skipped") from exc
            if code.endswith(".NotFound") and params:  # deleted since its parent was listed
                raise _Gone() from exc
            raise CaptureError(f"{self.region}: {label} failed: {code}: {_message_of(exc)}"
                               ) from exc
        except BotoConnectionError as exc:
            if service == _PROBE[0]:
                raise CaptureError(f"{self.region}: {label}: {_one_line(str(exc))}") from exc
            # AWS does not offer every service in every region (Outposts, for one).
            self.unreachable.add(service)
            raise _Skip(f"{self.region}: {label}: {service} is not reachable "
                        f"({_one_line(str(exc))}); skipped") from exc
        except ResponseParserError as exc:
            raise CaptureError(f"{self.region}: {label}: unreadable answer: "
                               f"{_one_line(str(exc))}") from exc

    # ------------------------------------------------------------------ files

    def write(self) -> None:
        """Write every document, and remove files of this capture's own names that a
        skipped operation would otherwise leave over from an earlier capture."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for name, doc in self.documents.items():
                path = self.folder / name
                _write_json(path, doc)
                records = next(iter(doc.values()))
                self.report.files.append((path, len(records)))
            owned = {d.file for d in DESCRIBES} | {p.file for p in PER_PARENT if p.file}
            for name in sorted(owned - set(self.documents)):
                (self.folder / name).unlink(missing_ok=True)
        except OSError as exc:
            raise CaptureError(f"cannot write {exc.filename or self.folder}: "
                               f"{exc.strerror or exc}") from exc


class _Gone(Exception):
    """The parent record no longer exists."""


def _pages(client: Any, operation: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    name = xform_name(operation)
    if client.can_paginate(name):
        yield from client.get_paginator(name).paginate(**params)
    else:
        yield getattr(client, name)(**params)


def _error_of(exc: ClientError) -> tuple[str, int]:
    response: Mapping[str, Any] = exc.response
    code = str(response.get("Error", {}).get("Code") or "")
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return code, status


def _message_of(exc: ClientError) -> str:
    return _one_line(str(exc.response.get("Error", {}).get("Message") or exc))


def _state_of(rec: Mapping[str, Any]) -> str | None:
    state = rec.get("State")
    if isinstance(state, dict):
        state = state.get("Code")
    return state if isinstance(state, str) else None


def _ids(params: Mapping[str, Any]) -> str:
    return " ".join(str(v) for k, v in params.items() if k.endswith(("Id", "Arn")))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _encode(value: object) -> object:
    """What the AWS CLI prints for values JSON lacks: ISO 8601 times and base64 blobs."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def to_cli_json(doc: Mapping[str, Any]) -> str:
    """``doc`` as ``aws ... --output json`` prints it."""
    return json.dumps(doc, indent=4, ensure_ascii=False, default=_encode) + "\n"


def _write_json(path: Path, doc: Mapping[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(to_cli_json(doc), encoding="utf-8")
    os.replace(temporary, path)
