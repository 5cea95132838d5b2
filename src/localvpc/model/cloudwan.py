"""AWS Cloud WAN (Network Manager): global networks, core networks with their policy versions,
core network attachments, transit gateway registrations and peerings.

The policy *document* is kept as the JSON text the user sent (AWS returns it verbatim); its
parsed and compiled forms live in ``localvpc.cloudwan`` and are rebuilt from this text, so the
store only ever persists what AWS itself keeps. Times are epoch seconds (``float``), as in
``model/dns.py``. Rule ids (``CS-n``, ``AP-n``) refer to ``shared/reference/cloudwan.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import Resource

# ChangeSetState values (botocore ``ChangeSetState``).
PENDING_GENERATION = "PENDING_GENERATION"
FAILED_GENERATION = "FAILED_GENERATION"
READY_TO_EXECUTE = "READY_TO_EXECUTE"
EXECUTING = "EXECUTING"
EXECUTION_SUCCEEDED = "EXECUTION_SUCCEEDED"
OUT_OF_DATE = "OUT_OF_DATE"

# Attachment states (botocore ``AttachmentState``, AP-8).
CREATING = "CREATING"
PENDING_ATTACHMENT_ACCEPTANCE = "PENDING_ATTACHMENT_ACCEPTANCE"
PENDING_TAG_ACCEPTANCE = "PENDING_TAG_ACCEPTANCE"
PENDING_NETWORK_UPDATE = "PENDING_NETWORK_UPDATE"
AVAILABLE = "AVAILABLE"
UPDATING = "UPDATING"
REJECTED = "REJECTED"
FAILED = "FAILED"
DELETING = "DELETING"

# States in which an attachment carries traffic and propagates routes into its segment. An
# attachment waiting for a tag change to be accepted keeps routing in its current segment.
ROUTING_STATES = frozenset({AVAILABLE, UPDATING, PENDING_TAG_ACCEPTANCE, PENDING_NETWORK_UPDATE})

# Attachment types (botocore ``AttachmentType``) and their policy spelling (AP-3).
VPC = "VPC"
SITE_TO_SITE_VPN = "SITE_TO_SITE_VPN"
CONNECT = "CONNECT"
TRANSIT_GATEWAY_ROUTE_TABLE = "TRANSIT_GATEWAY_ROUTE_TABLE"
DIRECT_CONNECT_GATEWAY = "DIRECT_CONNECT_GATEWAY"
POLICY_ATTACHMENT_TYPE = {
    VPC: "vpc",
    SITE_TO_SITE_VPN: "site-to-site-vpn",
    CONNECT: "connect",
    TRANSIT_GATEWAY_ROUTE_TABLE: "transit-gateway-route-table",
    DIRECT_CONNECT_GATEWAY: "direct-connect-gateway",
}


@dataclass(slots=True)
class GlobalNetwork(Resource):
    """A global network (``global-network-...``): the container of core networks and of
    registered transit gateways. Network Manager is global; ``region`` is its home Region."""

    description: str = ""
    state: str = "AVAILABLE"  # PENDING | AVAILABLE | DELETING | UPDATING
    created: float | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:networkmanager::{self.account}:global-network/{self.id}"


@dataclass(slots=True)
class PolicyError:
    """One ``CoreNetworkPolicyError``: AWS's ``ErrorCode``, ``Message`` and JSON ``Path``."""

    code: str
    message: str
    path: str

    def to_api(self) -> dict[str, str]:
        return {"ErrorCode": self.code, "Message": self.message, "Path": self.path}


@dataclass(slots=True)
class PolicyVersion:
    """An immutable policy version (CS-2): the document text exactly as put, its change set
    state and, when generation failed, the errors. ``alias`` is LIVE, LATEST or None; a
    version that is both live and latest reports LIVE (AWS shows one alias per version)."""

    version_id: int
    document: str
    description: str = ""
    alias: str | None = None
    change_set_state: str = PENDING_GENERATION
    created: float | None = None
    errors: list[PolicyError] = field(default_factory=list)


@dataclass(slots=True)
class CoreNetworkEdge:
    """A Core Network Edge (CNE), one per edge location of the LIVE policy (CN-1)."""

    location: str
    asn: int
    inside_cidr_blocks: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CoreNetworkSegmentInfo:
    """A segment as ``GetCoreNetwork`` shows it: its edges and the segments it shares with."""

    name: str
    edge_locations: list[str] = field(default_factory=list)
    shared_segments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CoreNetwork(Resource):
    """A core network (``core-network-...``): all its policy versions, the LIVE one's id and
    the edges and segments computed from the LIVE policy (refreshed on execution, CS-4)."""

    global_network_id: str = ""
    description: str = ""
    state: str = "AVAILABLE"  # CREATING | UPDATING | AVAILABLE | DELETING
    created: float | None = None
    versions: list[PolicyVersion] = field(default_factory=list)
    live_version_id: int | None = None
    edges: list[CoreNetworkEdge] = field(default_factory=list)
    segments: list[CoreNetworkSegmentInfo] = field(default_factory=list)
    network_function_groups: list[str] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return f"arn:aws:networkmanager::{self.account}:core-network/{self.id}"

    def version(self, version_id: int) -> PolicyVersion | None:
        for v in self.versions:
            if v.version_id == version_id:
                return v
        return None

    @property
    def live(self) -> PolicyVersion | None:
        """The version the network runs (None before the first execution)."""
        return None if self.live_version_id is None else self.version(self.live_version_id)

    @property
    def latest(self) -> PolicyVersion | None:
        """The highest-numbered version (alias LATEST unless it is also LIVE)."""
        return max(self.versions, key=lambda v: v.version_id, default=None)

    def next_version_id(self) -> int:
        latest = self.latest
        return 1 if latest is None else latest.version_id + 1


@dataclass(slots=True)
class ProposedSegmentChange:
    """A mapping waiting for acceptance (AP-4, AP-6): the segment (or network function group)
    the attachment would join, by which rule, and the tags that decided it."""

    segment_name: str | None = None
    network_function_group_name: str | None = None
    rule_number: int | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class CoreNetworkAttachment(Resource):
    """A core network attachment (``attachment-...``). ``account`` is the owner account,
    ``region`` the edge location, ``tags`` the attachment's own tags (AP-4: policies read
    these, not the VPC's). ``resource_id`` is the short id the policies match (``vpc-...``,
    ``vpn-...``, ``tgw-rtb-...``, or the transport attachment of a Connect attachment)."""

    core_network_id: str = ""
    attachment_type: str = VPC  # botocore AttachmentType
    resource_arn: str = ""
    resource_id: str = ""
    state: str = CREATING
    segment_name: str | None = None
    network_function_group_name: str | None = None
    attachment_policy_rule_number: int | None = None
    proposed_segment_change: ProposedSegmentChange | None = None
    created: float | None = None
    updated: float | None = None
    # VPC attachments: the subnets (ARNs) and VpcOptions as AWS spells them (Ipv6Support,
    # ApplianceModeSupport, DnsSupport, SecurityGroupReferencingSupport).
    subnet_arns: list[str] = field(default_factory=list)
    options: dict[str, bool] = field(default_factory=dict)
    # Connect attachments: the transport attachment and the tunnel protocol (GRE | NO_ENCAP).
    transport_attachment_id: str | None = None
    protocol: str | None = None
    # Transit gateway route table attachments: the peering they ride on.
    peering_id: str | None = None
    # Direct Connect gateway attachments span several edge locations (AWS answers
    # ``EdgeLocations`` for them instead of ``EdgeLocation``); ``region`` is the first.
    edge_locations: list[str] = field(default_factory=list)

    @property
    def edge_location(self) -> str:
        return self.region

    @property
    def edges(self) -> list[str]:
        """Every edge location the attachment is placed at (one, except for DX gateways)."""
        return list(self.edge_locations) or [self.region]

    @property
    def policy_type(self) -> str:
        """The type as attachment policies spell it (``vpc``, ``site-to-site-vpn``...)."""
        return POLICY_ATTACHMENT_TYPE.get(self.attachment_type, self.attachment_type.lower())

    @property
    def routes_traffic(self) -> bool:
        return self.state in ROUTING_STATES and self.segment_name is not None


@dataclass(slots=True)
class TransitGatewayRegistration(Resource):
    """A transit gateway registered with a global network (the article's fourth step).
    ``id`` is ``<global network id>|<transit gateway ARN>`` (AWS has no id of its own)."""

    global_network_id: str = ""
    transit_gateway_arn: str = ""
    state: str = "AVAILABLE"  # PENDING | AVAILABLE | DELETING | DELETED | FAILED
    message: str = ""


@dataclass(slots=True)
class CoreNetworkPeering(Resource):
    """A core network <-> transit gateway peering (``peering-...``) at one edge location
    (``region``); transit gateway route table attachments ride on it. ``account`` owns it."""

    core_network_id: str = ""
    transit_gateway_arn: str = ""
    peering_type: str = "TRANSIT_GATEWAY"
    state: str = "AVAILABLE"  # CREATING | FAILED | AVAILABLE | DELETING
    transit_gateway_peering_attachment_id: str | None = None
    created: float | None = None

    @property
    def edge_location(self) -> str:
        return self.region


# The brief's name for the core network <-> transit gateway peering.
PeeringTransitGateway = CoreNetworkPeering


@dataclass(slots=True)
class ConnectPeerBgpConfiguration:
    """One BGP session of a Connect peer (botocore ``ConnectPeerBgpConfiguration``)."""

    core_network_asn: int
    peer_asn: int
    core_network_address: str
    peer_address: str


@dataclass(slots=True)
class ConnectPeerError:
    """Why a Connect peer failed (botocore ``ConnectPeerError``: ``ConnectPeerErrorCode``)."""

    code: str
    message: str


@dataclass(slots=True)
class ConnectPeer(Resource):
    """A Connect peer (``connect-peer-...``) on a Connect attachment, at the attachment's edge
    location (``region``). GRE peers carry a tunnel (``core_network_address`` from the edge's
    inside CIDR blocks, ``inside_cidr_blocks`` for BGP); tunnel-less (NO_ENCAP) peers sit in
    ``subnet_arn`` of the transport VPC. A peer whose checks failed stays ``FAILED`` with
    ``errors``, as AWS reports them (``LastModificationErrors``)."""

    connect_attachment_id: str = ""
    core_network_id: str = ""
    state: str = "AVAILABLE"  # CREATING | FAILED | AVAILABLE | DELETING
    protocol: str = "GRE"
    core_network_address: str | None = None
    peer_address: str = ""
    inside_cidr_blocks: list[str] = field(default_factory=list)
    subnet_arn: str | None = None
    bgp_configurations: list[ConnectPeerBgpConfiguration] = field(default_factory=list)
    errors: list[ConnectPeerError] = field(default_factory=list)
    created: float | None = None

    @property
    def edge_location(self) -> str:
        return self.region
