"""``load_snapshot``: build a Network from a folder of AWS ``describe-*`` JSON outputs.

The folder holds files exactly as ``aws ec2 describe-vpcs`` and friends print them, under any
names; each file is recognised by its top-level keys (``Vpcs``, ``Subnets``, ...). Layout, as
Batfish reads it (relative to the folder, or to its ``aws_configs/`` sub-folder when present):

- ``File.json``: region us-west-2; account from each record's ``OwnerId``, else the owner the
  folder's data names, else ``DEFAULT_ACCOUNT``.
- ``<region>/File.json``: that region; account as above.
- ``accounts/<id>/<region>/File.json``: that region and account ``<id>`` (whatever the data says).

Problems with the data never fail the load: unknown keys, malformed records and dangling
references become ``network.warnings`` (and a route to a missing target becomes
``blackhole``). A missing or unreadable path, or a file that is not valid JSON, raises
``SnapshotError`` naming the file (and the line and column for bad JSON).
"""

from __future__ import annotations

import gc
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from localvpc.model.base import DEFAULT_ACCOUNT
from localvpc.model.errors import SnapshotError
from localvpc.model.network import Network
from localvpc.snapshot import ec2_parsers as ec2
from localvpc.snapshot import elb_parsers as elb
from localvpc.snapshot import gateway_parsers as gw
from localvpc.snapshot import transit_parsers as tgw
from localvpc.snapshot.awsjson import JsonDict, RecordError
from localvpc.snapshot.loadstate import LoadState, SourceContext
from localvpc.snapshot.references import validate

TOP_LEVEL_REGION = "us-west-2"
"""Region of files directly in the snapshot folder (Batfish's default, whatever the data says)."""

CONFIG_FOLDER = "aws_configs"

Handler = Callable[[JsonDict, SourceContext, LoadState], None]

# Every modelled key and its parser, in processing order: a record is parsed after everything
# it may refer to (ENIs before instances, TGW tables before their routes, LBs before listeners).
HANDLERS: tuple[tuple[str, Handler], ...] = (
    ("AvailabilityZones", ec2.parse_availability_zone),
    ("Outposts", ec2.parse_outpost),
    ("Vpcs", ec2.parse_vpc),
    ("DhcpOptions", ec2.parse_dhcp_options),
    ("Subnets", ec2.parse_subnet),
    ("PrefixLists", ec2.parse_prefix_list),
    ("ManagedPrefixLists", ec2.parse_managed_prefix_list),
    ("SecurityGroups", ec2.parse_security_group),
    ("NetworkAcls", ec2.parse_network_acl),
    ("NetworkInterfaces", ec2.parse_network_interface),
    ("Reservations", ec2.parse_reservation),
    ("Addresses", ec2.parse_address),
    ("InternetGateways", gw.parse_internet_gateway),
    ("EgressOnlyInternetGateways", gw.parse_egress_only_internet_gateway),
    ("NatGateways", gw.parse_nat_gateway),
    ("CarrierGateways", gw.parse_carrier_gateway),
    ("VpnGateways", gw.parse_vpn_gateway),
    ("CustomerGateways", gw.parse_customer_gateway),
    ("VpnConnections", gw.parse_vpn_connection),
    ("VpcPeeringConnections", ec2.parse_peering_connection),
    ("TransitGateways", tgw.parse_transit_gateway),
    ("TransitGatewayAttachments", tgw.parse_transit_gateway_attachment),
    ("TransitGatewayVpcAttachments", tgw.parse_transit_gateway_vpc_attachment),
    ("TransitGatewayPeeringAttachments", tgw.parse_transit_gateway_peering_attachment),
    ("TransitGatewayRouteTables", tgw.parse_transit_gateway_route_table),
    ("TransitGatewayStaticRoutes", tgw.parse_transit_gateway_static_routes),
    ("TransitGatewayPropagations", tgw.parse_transit_gateway_propagations),
    ("LocalGateways", gw.parse_local_gateway),
    ("LocalGatewayRouteTables", gw.parse_local_gateway_route_table),
    ("LocalGatewayRouteTableVpcAssociations", gw.parse_local_gateway_vpc_association),
    ("Routes", gw.parse_local_gateway_route),  # search-local-gateway-routes
    ("CoipPools", gw.parse_coip_pool),
    ("VpcEndpoints", ec2.parse_vpc_endpoint),
    ("RouteTables", ec2.parse_route_table),
    ("LoadBalancers", elb.parse_load_balancer),
    ("TargetGroups", elb.parse_target_group),
    ("LoadBalancerListeners", elb.parse_load_balancer_listeners),
    ("Listeners", elb.parse_listener),
    ("LoadBalancerAttributes", elb.parse_load_balancer_attributes),
    ("LoadBalancerTargetHealth", elb.parse_target_health),
)
_ORDER: dict[str, int] = {key: i for i, (key, _) in enumerate(HANDLERS)}
_HANDLER: dict[str, Handler] = dict(HANDLERS)

RECOGNISED_NOT_MODELLED = frozenset(
    {
        "ClassicLinkInstances",
        "ClientVpnEndpoints",
        "Connections",
        "DBInstances",
        "DirectConnectGatewayAssociationProposals",
        "DirectConnectGatewayAssociations",
        "DirectConnectGatewayAttachments",
        "DirectConnectGateways",
        "DomainStatusList",
        "FlowLogs",
        "Interconnects",
        "Lags",
        "LoadBalancerDescriptions",
        "NetworkInsightsAnalyses",
        "NetworkInsightsPaths",
        "SecurityGroupRules",
        "ServiceDetails",
        "ServiceNames",
        "TrafficMirrorFilters",
        "TrafficMirrorSessions",
        "TrafficMirrorTargets",
        "TransitGatewayConnectPeers",
        "TransitGatewayConnects",
        "TransitGatewayMulticastDomains",
        "TransitGatewayPolicyTables",
        "VirtualGateways",
        "VirtualInterfaces",
        "VpcEndpointConnections",
        "VpcEndpointServiceConfigurations",
        "VpcEndpointServices",
    }
)
# Pagination and request bookkeeping that the CLI may print next to the data.
_SILENT_KEYS = frozenset({"NextToken", "NextMarker", "Marker", "ResponseMetadata"})

_REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def load_snapshot(path: str | Path) -> Network:
    """Load the snapshot folder ``path`` (or a single describe-* JSON file) into a Network."""
    # Loading allocates many small objects and frees almost none: the cyclic garbage
    # collector would rescan them again and again, so it is paused for the load.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load(Path(path))
    finally:
        if collecting:
            gc.enable()


def _load(root: Path) -> Network:
    base, files = _discover(root)
    st = LoadState()
    documents: list[tuple[str, tuple[str, ...], JsonDict]] = []
    for file in files:
        display = _display_name(file, root)
        doc = _read_json(file)
        if doc is None:
            continue
        if not isinstance(doc, dict):
            st.warn(
                f"file {display} holds a JSON {type(doc).__name__}, not an object of "
                "describe-* results; ignored"
            )
            continue
        folders = file.parent.relative_to(base).parts if file != base else ()
        documents.append((display, folders, doc))

    default_accounts = _default_accounts(documents)
    sections: list[tuple[int, int, SourceContext, str, list[object]]] = []
    for display, folders, doc in documents:
        region, folder_account = _placement(folders, display, st)
        ctx = SourceContext(
            file=display,
            region=region,
            default_account=default_accounts.get(folders, DEFAULT_ACCOUNT),
            folder_account=folder_account,
        )
        for key, value in doc.items():
            order = _ORDER.get(key)
            if order is None:
                if key in RECOGNISED_NOT_MODELLED:
                    st.warn(
                        f"key {key} in file {display} is recognised but not modelled yet; ignored"
                    )
                elif key not in _SILENT_KEYS:
                    st.warn(f"unknown key {key} in file {display}; ignored")
                continue
            if not isinstance(value, list):
                st.warn(
                    f"key {key} in file {display} holds a JSON {type(value).__name__}, "
                    "expected a list of records; ignored"
                )
                continue
            st.loaded_keys.add(key)
            sections.append((order, len(sections), ctx, key, value))

    sections.sort(key=lambda s: (s[0], s[1]))
    for _, _, ctx, key, records in sections:
        _parse_records(st, ctx, key, records)
    tgw.record_associations(st)
    elb.fill_load_balancer_addresses(st)
    validate(st)
    return st.network


def _parse_records(st: LoadState, ctx: SourceContext, key: str, records: list[object]) -> None:
    handler = _HANDLER[key]
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            st.warn(
                f"skipped malformed {key} record #{i} in {ctx.file}: "
                f"a JSON {type(rec).__name__}, not an object"
            )
            continue
        try:
            handler(rec, ctx, st)
        except RecordError as exc:
            st.warn(f"skipped malformed {key} record #{i} in {ctx.file}: {exc}")
        except Exception as exc:  # a parser bug must cost one record, never the whole load
            st.warn(
                f"skipped {key} record #{i} in {ctx.file}: internal error "
                f"{type(exc).__name__}: {exc}"
            )


# --------------------------------------------------------------------------- files


def _discover(root: Path) -> tuple[Path, list[Path]]:
    """(folder that layouts are relative to, every ``*.json`` file under it, sorted)."""
    try:
        if root.is_file():
            return root, [root]
        if not root.is_dir():
            raise SnapshotError(f"snapshot path {root} does not exist or is not a folder")
        base = root / CONFIG_FOLDER if (root / CONFIG_FOLDER).is_dir() else root
    except OSError as exc:
        raise SnapshotError(f"cannot access snapshot path {root}: {exc}") from exc

    def fail(exc: OSError) -> None:
        raise SnapshotError(f"cannot read snapshot folder {exc.filename}: {exc.strerror}")

    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base, onerror=fail):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        files.extend(
            Path(dirpath) / name
            for name in sorted(filenames)
            if name.lower().endswith(".json") and not name.startswith(".")
        )
    return base, files


def _display_name(file: Path, root: Path) -> str:
    try:
        relative = file.relative_to(root)
    except ValueError:
        return str(file)
    return relative.as_posix() if relative.parts else file.name


def _read_json(file: Path) -> object | None:
    """The parsed document, or None for an empty file."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"cannot read snapshot file {file}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SnapshotError(
            f"snapshot file {file} is not UTF-8 text (bad byte at offset {exc.start})"
        ) from exc
    if not text.strip():
        return None
    try:
        doc: object = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(
            f"malformed JSON in {file}: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise SnapshotError(f"malformed JSON in {file}: {exc}") from exc
    return doc


def _placement(folders: tuple[str, ...], display: str, st: LoadState) -> tuple[str, str | None]:
    """(region, account named by the folder or None) of a file in ``folders``."""
    if not folders:
        return TOP_LEVEL_REGION, None
    if folders[0] == "accounts" and len(folders) >= 2:
        region = folders[2] if len(folders) >= 3 else TOP_LEVEL_REGION
        if len(folders) != 3:
            st.warn(
                f"file {display} is not in accounts/<account>/<region>/; "
                f"using account {folders[1]} and region {region}"
            )
        return region, folders[1]
    if len(folders) == 1:
        if not _REGION_NAME.match(folders[0]):
            st.warn(f"folder {folders[0]} of file {display} does not look like a region name")
        return folders[0], None
    region = next((f for f in reversed(folders) if _REGION_NAME.match(f)), TOP_LEVEL_REGION)
    st.warn(
        f"file {display} is not in <region>/ or accounts/<account>/<region>/; using region {region}"
    )
    return region, None


def _default_accounts(
    documents: list[tuple[str, tuple[str, ...], JsonDict]],
) -> dict[tuple[str, ...], str]:
    """Per folder: the owner its data names (a VPC's ``OwnerId`` first, else any record's)."""
    vpc_owner: dict[tuple[str, ...], str] = {}
    any_owner: dict[tuple[str, ...], str] = {}
    for _, folders, doc in documents:
        for key, value in doc.items():
            if not isinstance(value, list) or folders in vpc_owner:
                continue
            if key != "Vpcs" and folders in any_owner:
                continue
            for rec in value:
                owner = rec.get("OwnerId") if isinstance(rec, dict) else None
                if isinstance(owner, str) and owner.isdigit():
                    (vpc_owner if key == "Vpcs" else any_owner).setdefault(folders, owner)
                    break
    return {**any_owner, **vpc_owner}
